//! Clocks, memory readings, the core-speed probe, the calibration loops and callgrind counts:
//! what every model measures with.

pub mod alloc;
pub mod ballast;
pub mod calibration;
pub mod clock;
pub mod instructions;
pub mod meminfo;
pub mod probe;
pub mod rss;
pub mod sched;
