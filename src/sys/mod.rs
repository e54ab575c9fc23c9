//! The operating system's primitives that need `unsafe`: futexes, process-shared locks and
//! state, and signal handling; and helper programs run with a deadline.

pub mod command;
pub mod exe;
pub mod futex;
pub mod shared;
pub mod signals;
