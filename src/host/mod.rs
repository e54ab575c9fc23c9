//! The modes a host binary (threadfork, or a user's bench binary) is re-entered in besides
//! its command line: `lean`, the fresh parent that start-up cases are measured from, and
//! `serve`, one side of an A/B job.

pub mod lean;
pub mod protocol;
pub mod serve;
