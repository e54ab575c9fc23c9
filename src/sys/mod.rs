//! The operating system's primitives that need `unsafe`: futexes, process-shared locks and
//! state, and signal handling.

pub mod futex;
pub mod shared;
pub mod signals;
