//! Studies: kinds of case with models of their own that do not fit the worker model (the
//! sequence study's lazy iterator, eager Vec and pipeline), run by the sweep beside the
//! workloads and written to the same results. threadfork's `sequence` is one, registered
//! with [`crate::Registry::with_study`] as a user's study is.
//!
//! ```
//! use std::collections::BTreeMap;
//! use threadfork::study::tools::{now_ns, probe};
//! use threadfork::study::{CaseId, CaseOutcome, Measurement, Rounds, Study, StudyPlan, StudyRun};
//! use threadfork::study::{StudySample, rounds};
//!
//! /// How long sorting `n` numbers takes, one case per size, on the calling thread.
//! struct Sorting;
//!
//! impl Study for Sorting {
//!     fn name(&self) -> &'static str { "sorting" }
//!     fn op(&self) -> &'static str { "numbers" }
//!     fn describe(&self) -> &'static str { "sort_unstable of n shuffled numbers" }
//!     fn models(&self) -> &'static [&'static str] { &["sort-unstable"] }
//!     fn steps(&self, plan: &StudyPlan<'_>) -> u64 { (Rounds::of(plan).total() * 2) as u64 }
//!     fn estimate_s(&self, plan: &StudyPlan<'_>) -> f64 { 0.01 * plan.samples as f64 }
//!     fn run(&self, plan: &StudyPlan<'_>, run: &mut StudyRun<'_>) -> Vec<(CaseId, CaseOutcome)> {
//!         let cases: Vec<(CaseId, u64)> = [1_000u64, 100_000]
//!             .into_iter()
//!             .map(|n| {
//!                 let id = CaseId {
//!                     workload: "sorting".into(),
//!                     model: "sort-unstable".into(),
//!                     variant: "shuffled".into(),
//!                     workers: 1,
//!                     params: BTreeMap::from([("n".to_string(), n)]),
//!                 };
//!                 (id, n)
//!             })
//!             .collect();
//!         // threadfork's round loop: one sample of each case per round, a progress step
//!         // each, Ctrl-C between samples, throughput and the other figures assembled.
//!         rounds(Rounds::of(plan), run, cases, self.op(), |&n| {
//!             let p = probe();
//!             let mut v: Vec<u64> = (0..n).map(|i| i.wrapping_mul(2654435761) % n).collect();
//!             let t0 = now_ns();
//!             v.sort_unstable();
//!             let dt = now_ns().saturating_sub(t0);
//!             if !v.windows(2).all(|w| w[0] <= w[1]) {
//!                 return Err(format!("{n} numbers came out unsorted"));
//!             }
//!             Ok(StudySample::new(n, dt).with_probe(p))
//!         })
//!     }
//!     fn findings(&self, _: &[&Measurement]) -> Vec<String> { Vec::new() }
//! }
//!
//! let registry = threadfork::Registry::new().with_study(Sorting);
//! assert_eq!(registry.studies().len(), 1);
//! ```

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;

use crate::api::rounds::{Gathered, round_robin};
pub use crate::api::rounds::{Rounds, StudySample};
pub use crate::results::{CaseId, Measurement};

/// The measuring tools a study runs its cases with — the ones threadfork's own `sequence`
/// study uses: the clock, the heap counter of threadfork's allocator, the window of a peak
/// RSS, the frozen core-speed probe taken beside each sample, the memory this machine has
/// free, and the stop flag Ctrl-C raises.
pub mod tools {
    pub use crate::measure::clock::now_ns;
    pub use crate::measure::meminfo::available_memory_bytes;
    pub use crate::measure::probe::probe;
    pub use crate::measure::rss::PeakRssWindow;
    pub use crate::sys::signals::stop_requested;

    /// The heap as threadfork's counting allocator sees it (installed by [`crate::main!`]).
    pub mod heap {
        pub use crate::measure::alloc::{is_installed, peak_bytes, reset_peak};
    }
}

/// What a case gave: its measurements, or the reason it gave none.
pub type CaseOutcome = Result<Vec<Measurement>, String>;

/// What a study is asked to run.
pub struct StudyPlan<'a> {
    /// The study's own models that were chosen.
    pub models: &'a [&'static str],
    /// Sizes asked for on the command line; empty: the study's defaults.
    pub sizes: &'a [u64],
    pub quick: bool,
    pub workers: &'a [usize],
    pub samples: usize,
    pub warmup: usize,
    /// How long a time-sized sample should last.
    pub sample_ns: u64,
    /// The longest one sample may take (`--case-timeout`).
    pub timeout: std::time::Duration,
}

/// What a running study reports to: the stop flag (checked between samples), the progress
/// bar, and the run's notes (cases skipped on purpose).
pub struct StudyRun<'a> {
    pub(crate) stop: &'a AtomicBool,
    pub(crate) bar: &'a ProgressBar,
    pub(crate) notes: &'a mut Vec<String>,
}

impl StudyRun<'_> {
    /// Whether the run was asked to stop (Ctrl-C, a signal, a timeout): check it between
    /// samples and return what was measured so far.
    pub fn stopped(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One step of the plan is done ([`Study::steps`] counts them); `case` is shown beside
    /// the progress bar.
    pub fn step(&self, case: &CaseId) {
        self.bar.set_message(case.to_string());
        self.bar.inc(1);
    }

    /// A line for the run's notes: a case left out on purpose, and why.
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }
}

/// A kind of case with models of its own.
pub trait Study: Send + Sync + 'static {
    /// The workload name its measurements carry.
    fn name(&self) -> &'static str;
    /// What one operation is, in the plural.
    fn op(&self) -> &'static str;
    fn describe(&self) -> &'static str;
    /// Its models, by the names `--model` accepts.
    fn models(&self) -> &'static [&'static str];
    /// Progress-bar steps the plan takes.
    fn steps(&self, plan: &StudyPlan<'_>) -> u64;
    /// Seconds the plan should take on this machine (from a brief measurement).
    fn estimate_s(&self, plan: &StudyPlan<'_>) -> f64;
    /// Runs every case of the plan, round by round.
    fn run(&self, plan: &StudyPlan<'_>, run: &mut StudyRun<'_>) -> Vec<(CaseId, CaseOutcome)>;
    /// Findings in plain words, from the run's measurements (all of them: a study picks its
    /// own by workload and model).
    fn findings(&self, measurements: &[&Measurement]) -> Vec<String>;
    /// The answers to the questions the study is measured for (see
    /// [`crate::Workload::answers`]); none by default.
    fn answers(&self, run: &crate::api::answers::RunFigures<'_>) -> Vec<crate::results::Answer> {
        let _ = run;
        Vec::new()
    }
}

pub type StudyRef = Arc<dyn Study>;

impl Rounds {
    /// The plan's rounds: its warm-up and its samples.
    pub fn of(plan: &StudyPlan<'_>) -> Rounds {
        Rounds {
            warmup: plan.warmup,
            samples: plan.samples,
        }
    }
}

/// Runs a study's cases through the round loop: `sample` takes one sample of a case (an
/// error fails the case: it is not sampled again and gives that reason). Each sample is a
/// progress step; a stop between samples (or one that cuts a sample short) ends the rounds
/// with what was measured. Each case's measurements: throughput in `op` per second, then the
/// sample's other figures, each when every sample gave it — verified, since a sample that
/// did not check out is an error.
///
/// [`crate::study`]'s example runs its cases through it.
pub fn rounds<C>(
    rounds: Rounds,
    run: &mut StudyRun<'_>,
    cases: Vec<(CaseId, C)>,
    op: &str,
    mut sample: impl FnMut(&C) -> Result<StudySample, String>,
) -> Vec<(CaseId, CaseOutcome)> {
    let mut gathered: Vec<(Gathered, C)> = cases
        .into_iter()
        .map(|(id, c)| (Gathered::new(id), c))
        .collect();
    let stop = run.stop;
    let stopped = || stop.load(std::sync::atomic::Ordering::Relaxed);
    round_robin(
        rounds,
        &mut gathered,
        run,
        &stopped,
        |(g, _)| g.failed.is_some(),
        |_, _| {},
        |run, (g, c), counted| {
            run.step(&g.id);
            match sample(c) {
                // A sample cut short by Ctrl-C is no failure: the samples before it stand.
                Err(_) if stopped() => return false,
                Err(why) => g.failed = Some(why),
                Ok(s) if counted => g.keep(s),
                Ok(_) => {}
            }
            true
        },
    );
    gathered.into_iter().map(|(g, _)| g.outcome(op)).collect()
}
