//! The workloads: what one task computes and how its result is verified. Nothing here knows
//! about threads, processes, files or charts.

pub mod counter;
pub mod sequence;
pub mod square;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use counter::{CounterVariant, Hold};

/// The workloads threadfork knows, by the name used on the command line and in results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    Square,
    Counter,
    Sequence,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Square,
        WorkloadKind::Counter,
        WorkloadKind::Sequence,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Square => "square",
            WorkloadKind::Counter => "counter",
            WorkloadKind::Sequence => "sequence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == s)
    }

    /// The unit of one operation, as printed in summaries.
    pub fn op_name(self) -> &'static str {
        match self {
            WorkloadKind::Square => "squares",
            WorkloadKind::Counter => "increments",
            WorkloadKind::Sequence => "items",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one worker is asked to do in one sample. Plain data with a fixed layout: the parent
/// writes it into shared memory and a forked or spawned worker reads it from there.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Start and finish at once: what startup and roundtrip measure.
    Empty,
    /// `tasks` runs of `square_numbers(work)`.
    Square { work: u64, tasks: u64 },
    /// `increments` locked read-modify-writes of the shared counter.
    Counter {
        increments: u64,
        hold: Hold,
        variant: CounterVariant,
    },
}

impl Job {
    /// Worker `k`'s share of this job when `workers` workers split `self` between them:
    /// square tasks are divided as evenly as possible; counter increments are per worker.
    pub fn share(&self, k: usize, workers: usize) -> Job {
        match *self {
            Job::Square { work, tasks } => {
                let n = workers.max(1) as u64;
                let extra = u64::from((k as u64) < tasks % n);
                Job::Square {
                    work,
                    tasks: tasks / n + extra,
                }
            }
            other => other,
        }
    }

    /// Operations this job performs once done.
    pub fn ops(&self) -> u64 {
        match *self {
            Job::Empty => 0,
            Job::Square { work, tasks } => work * tasks,
            Job::Counter { increments, .. } => increments,
        }
    }
}

/// A result that does not match what the workload must produce: an error, never a number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("square checksum mismatch: got {got}, expected {expected} ({tasks} tasks of {work})")]
    Checksum {
        got: u64,
        expected: u64,
        work: u64,
        tasks: u64,
    },
    #[error("counter ended at {got}, expected exactly {expected}: the lock did not protect it")]
    CounterTotal { got: u64, expected: u64 },
    #[error("counter ended at {got}, above the {expected} increments requested")]
    CounterOverflow { got: u64, expected: u64 },
    #[error("sequence sum mismatch: got {got}, expected {expected}")]
    SequenceSum { got: u64, expected: u64 },
    #[error("{what}: expected {expected} operations, {got} were reported")]
    OpCount {
        what: &'static str,
        got: u64,
        expected: u64,
    },
}
