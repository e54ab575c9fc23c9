//! Clocks, memory readings, the core-speed probe and the calibration loops: what every model
//! measures with.

pub mod alloc;
pub mod ballast;
pub mod calibration;
pub mod clock;
pub mod meminfo;
pub mod probe;
pub mod rss;
