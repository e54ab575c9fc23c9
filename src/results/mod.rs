//! The results file, schema `threadfork/results/v2`: its types, atomic writing and checked
//! loading (v1 files are upgraded), and the figures derived from a run.

pub mod compact;
pub mod derived;
mod facets;
pub mod io;
pub mod metric;
pub mod schema;
pub mod usl;

pub use io::{LoadError, load, parse, timestamps, write_atomic};
pub use metric::{Better, Metric};
pub use schema::*;
