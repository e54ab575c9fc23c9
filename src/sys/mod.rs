//! The operating system's primitives that need `unsafe`: memory mappings, futexes, process-shared locks and
//! state, signal handling and threads started with `pthread_create`; and helper programs run
//! with a deadline.

pub mod command;
pub mod exe;
pub mod futex;
pub mod mmap;
pub mod shared;
pub mod signals;
pub mod stdout;
pub mod thread;
