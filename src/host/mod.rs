//! `serve`, the mode a host binary (threadfork, or a user's bench binary) is re-entered in as
//! one side of an A/B job, and the line protocol it speaks. (The other re-entry, the lean
//! start-up parent, is part of measuring: `sweep::lean`.)

pub mod protocol;
pub mod serve;
