//! Clocks, memory readings and the calibration loops: what every model measures with.

pub mod alloc;
pub mod ballast;
pub mod calibration;
pub mod clock;
pub mod rss;
