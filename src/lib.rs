//! threadfork: what threads, processes and lazy pipelines really cost on this machine.
//!
//! The binary is a thin shell over this library, so that `cargo bench` and the tests run
//! exactly the code `threadfork run` runs.

pub mod cli;
pub mod compare;
pub mod error;
pub mod machine;
pub mod measure;
pub mod model;
pub mod plan;
pub mod report;
pub mod results;
pub mod sequence_case;
pub mod signals;
pub mod stats;
pub mod sweep;
pub mod sync;
pub mod workload;
