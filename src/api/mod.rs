//! The public API: what a user implements ([`Workload`]), the state workers share
//! ([`crate::Shared`], [`crate::Mutex`]) and the registry a bench binary hands to
//! [`crate::run_main`].

pub mod answers;
pub mod model;
pub mod params;
pub mod registry;
pub mod rounds;
pub mod study;
pub mod workload;

pub use crate::results::metric::Metric;
pub use model::Model;
pub use registry::Registry;
pub use workload::{
    Ctx, Output, Param, ParamValues, Params, Sample, Size, Verdict, Workload, split,
};
