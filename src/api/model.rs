//! The execution models a workload can run on, by the names used on the command line.

use std::fmt;

/// How a case's workers are run. Every model runs every workload that supports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// The calling thread runs every worker's share, one after another.
    Sequential,
    /// One OS thread per worker, per sample.
    Threads,
    /// One `fork()`ed child per worker, per sample, in a `MAP_SHARED` region.
    Fork,
    /// The host executable started afresh per worker (`posix_spawn`), mapping the region.
    Spawn,
}

impl Model {
    pub const ALL: [Model; 4] = [Model::Sequential, Model::Threads, Model::Fork, Model::Spawn];

    pub fn name(self) -> &'static str {
        match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Fork => "fork",
            Model::Spawn => "spawn",
        }
    }

    pub fn parse(s: &str) -> Option<Model> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Whether workers are separate processes (their shared state must be [`crate::Shared`]
    /// in the region; anything else in the workload is a private copy per process).
    pub fn is_process(self) -> bool {
        matches!(self, Model::Fork | Model::Spawn)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
