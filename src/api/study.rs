//! Studies: kinds of case with models of their own that do not fit the worker model (the
//! sequence study's lazy iterator, eager Vec and pipeline), run by the sweep beside the
//! workloads and written to the same results.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;

use crate::results::{CaseId, Measurement};

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
    pub stop: &'a AtomicBool,
    pub bar: &'a ProgressBar,
    pub notes: &'a mut Vec<String>,
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
