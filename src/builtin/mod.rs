//! The built-in workloads, each written against the public API exactly as a user's would be,
//! and the sequence study. Adding one is one file here and one line in [`registry`].

pub mod counter;
pub mod empty;
pub mod sequence;
pub mod square;

use crate::api::Registry;

/// Every built-in, in the order runs measure and report them.
pub fn registry() -> Registry {
    Registry::new()
        .with(square::Square)
        .with(counter::Counter::default())
        .with(empty::Empty)
        .with_study(sequence::Sequence)
}
