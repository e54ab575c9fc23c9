//! The modes a host binary (threadfork, or a user's bench binary) is re-entered in besides
//! its command line: for now `serve`, one side of an A/B job.

pub mod protocol;
pub mod serve;
