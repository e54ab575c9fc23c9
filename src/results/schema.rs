//! The results file's types, schema `threadfork/results/v2`: a run, its machine, the
//! workloads it measured, calibration, measurements, failures, findings and notes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::machine::Machine;
use crate::stats::summarize;

use super::metric::{Better, Metric, Speed};

pub const SCHEMA: &str = "threadfork/results/v2";
/// The previous schema, still read: its files are upgraded on load.
pub const SCHEMA_V1: &str = "threadfork/results/v1";

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub schema: String,
    pub run: RunInfo,
    pub machine: Machine,
    /// What each measured workload is: op name, parameters, how it is verified.
    #[serde(default)]
    pub workloads: Vec<WorkloadInfo>,
    pub calibration: Calibration,
    pub measurements: Vec<Measurement>,
    /// Cases that produced no number, with the reason.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Universal Scalability Law fits of the throughput curves (see `results::usl`).
    #[serde(default)]
    pub scaling: Vec<UslFit>,
    /// Findings in plain words, per workload, from the workload's own reading of its figures.
    #[serde(default)]
    pub findings: BTreeMap<String, Vec<String>>,
    /// The answers a reader comes for, one line per question, from each workload's own
    /// reading of the run (its `answers`); first in the summary and in `index.html`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    /// Cases skipped on purpose (e.g. too little memory) and interruptions.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The runtimes besides threadfork's Rust that ran cases, by name (`cpython`), with what
    /// they said they are (`cpython 3.11.7 (GIL)`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtimes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_s: f64,
    pub args: Vec<String>,
    pub quick: bool,
    pub harness_version: String,
    pub git_commit: String,
    /// True when the run was interrupted and holds only the cases measured until then.
    #[serde(default)]
    pub incomplete: bool,
    /// What the run was estimated to take before it started, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_s: Option<f64>,
    /// A test-only slowdown this run was made with (`--inject-slowdown`): such a run is never
    /// a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
    /// How busy the machine was with other work while the run measured (absent in runs made
    /// before it was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
}

/// Other processes' share of the machine during a run, and what the run did about it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Cores of the allowed CPUs other processes kept busy, on average over the run: the CPUs'
    /// busy time (`/proc/stat`) beyond the run's own CPU time, children included, over the
    /// wall time.
    pub others_cores: f64,
    /// Cores the hypervisor gave to other guests while these CPUs wanted to run.
    pub steal_cores: f64,
    /// The allowed CPUs.
    pub cores: usize,
    /// Task samples taken, retakes included.
    pub samples: usize,
    /// Samples others interfered with beyond `CONTAMINATED`.
    pub contaminated: usize,
    /// Contaminated samples replaced by a retake.
    pub retaken: usize,
    /// Contaminated samples that could not be retaken: set aside, or kept in a figure marked
    /// as flagged.
    pub kept_contaminated: usize,
    /// The largest interference of any sample.
    pub worst: f64,
}

impl Load {
    /// One line for a run's header: how busy the machine was and what was done about it.
    pub fn line(&self) -> String {
        let share = self.contaminated as f64 / self.samples.max(1) as f64;
        if self.others_cores < 0.05 && self.kept_contaminated == 0 && share < 0.02 {
            if self.contaminated > 0 {
                return format!(
                    "quiet: others held {:.2} of {} cores; {} of {} samples waited over {:.0}% for a CPU and were retaken",
                    self.others_cores,
                    self.cores,
                    self.contaminated,
                    self.samples,
                    crate::results::CONTAMINATED * 100.0
                );
            }
            return format!(
                "quiet: run-queue wait from other work under {:.0}% in every sample; others held {:.2} of {} cores",
                (self.worst * 100.0).max(1.0).ceil(),
                self.others_cores,
                self.cores
            );
        }
        let mut line = format!(
            "busy machine: other processes held {:.1} of {} cores; {:.0}% of samples waited over {:.0}% for a CPU",
            self.others_cores,
            self.cores,
            share * 100.0,
            crate::results::CONTAMINATED * 100.0
        );
        if self.retaken > 0 {
            line += &format!("; {} samples retaken", self.retaken);
        }
        if self.kept_contaminated > 0 {
            line += &format!(
                "; {} could not be retaken (set aside, or their figures flagged)",
                self.kept_contaminated
            );
        }
        if self.steal_cores >= 0.05 {
            line += &format!("; the hypervisor stole {:.2} cores", self.steal_cores);
        }
        line
    }
}

/// A measured workload as the run described it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    pub name: String,
    /// One operation, in the plural ("squares").
    pub op: String,
    #[serde(default)]
    pub description: String,
    /// The parameters' values in this run.
    #[serde(default)]
    pub params: BTreeMap<String, u64>,
    /// Units per task the pools handed out (`--chunk`, or sized to the workload's pace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_task_units: Option<u64>,
}

/// A figure measured repeatedly, with its summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub unit: String,
    #[serde(with = "super::compact::floats")]
    pub samples: Vec<f64>,
    pub median: f64,
    pub mad: f64,
    pub min: f64,
    pub max: f64,
    pub ci95: [f64; 2],
}

impl Stat {
    pub fn new(unit: &str, samples: Vec<f64>) -> Stat {
        let s = summarize(&samples);
        Stat {
            unit: unit.into(),
            samples,
            median: s.median,
            mad: s.mad,
            min: s.min,
            max: s.max,
            ci95: [s.ci95.0, s.ci95.1],
        }
    }
}

/// The same run's reference figures: what the bare machine does without the harness.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Calibration {
    /// Each workload's own code called directly on the calling thread (one worker's share of
    /// a sample, no thread, barrier or slot), in ops per second, keyed by workload.
    #[serde(default)]
    pub bare_loop: BTreeMap<String, Stat>,
    /// The same, pinned to each allowed CPU in turn, keyed by workload then CPU number: shows
    /// cores that differ in speed (hybrid CPUs, a busy sibling or neighbour).
    #[serde(default)]
    pub per_cpu_loop: BTreeMap<String, BTreeMap<String, Stat>>,
    /// The frozen core-speed probe (its own loop, no workload's code), in its loops per
    /// second, over every sample of the run.
    #[serde(default)]
    pub probe: Option<Stat>,
    /// Which frozen probe the run took ([`crate::measure::probe::PROBE_KIND`]); absent in runs
    /// made with the first one. Only probes of one kind are divided by against each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_kind: Option<String>,
    /// The cost of one clock read, in ns.
    pub timer_overhead: Option<Stat>,
    /// Bare roundtrips of the OS primitives, in ns, keyed by model
    /// (threads: std::thread spawn+join, pthread, fork: fork+_exit+waitpid, spawn: posix_spawn).
    #[serde(default)]
    pub bare_roundtrip: BTreeMap<String, Stat>,
}

/// Everything that names a case except the metric: shared by measurements, failures and
/// comparisons.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId {
    pub workload: String,
    pub model: String,
    pub variant: String,
    pub workers: usize,
    pub params: BTreeMap<String, u64>,
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Workers 0 names a group of cases (every worker count), as compare's group rows do.
        match self.workers {
            0 => write!(
                f,
                "{} / {} / {} / all workers",
                self.workload, self.model, self.variant
            )?,
            n => write!(
                f,
                "{} / {} / {} / {n} worker{}",
                self.workload,
                self.model,
                self.variant,
                if n == 1 { "" } else { "s" }
            )?,
        }
        for (k, v) in &self.params {
            write!(f, " / {k}={v}")?;
        }
        Ok(())
    }
}

/// One measured figure of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    #[serde(flatten)]
    pub case: CaseId,
    pub metric: Metric,
    pub better: Better,
    /// What one operation is ("squares"), for throughputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Operations in one sample, as the workers counted them (the last sample's, where a
    /// time-sized case grew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops_per_sample: Option<u64>,
    /// How long each sample lasted, release to the last worker done, in ns, index for index.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "super::compact::floats"
    )]
    pub durations_ns: Vec<f64>,
    /// The unit, raw samples and their summary (read through `Deref`: `m.median`).
    #[serde(flatten)]
    pub stat: Stat,
    /// True only where a stated check passed on every sample.
    pub verified: bool,
    /// A figure listed beside the costs, never judged as one (e.g. lost updates).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub info: bool,
    /// The frozen core-speed probe taken just before each sample, index for index: lets a
    /// comparison tell a slower machine from a slower workload.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "super::compact::probe"
    )]
    pub probe: Vec<f64>,
    /// The runtime that ran the case when it is not threadfork's own Rust, e.g.
    /// `cpython 3.11.7 (GIL)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// A start-up figure's parent: the state of the process that started the worker, read
    /// just before each sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentState>,
    /// Why the case's samples measure starting and scheduling its workers rather than its
    /// work (more workers than cores, and the work could not be made to dominate): kept and
    /// shown, but left out of speedups and efficiencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominated: Option<String>,
    /// Other processes' interference with each sample, index for index: the share of the
    /// workers' runnable time they spent waiting for a CPU beyond what their own number
    /// explains (`RawSample::interference`). Absent in runs made before it was read.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "super::compact::share"
    )]
    pub interference: Vec<f64>,
    /// Samples taken while others held the CPUs (beyond [`CONTAMINATED`]) and replaced by a
    /// retake.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retaken: usize,
    /// Contaminated samples that could not be retaken and were left out of the figures, since
    /// enough clean ones remained: kept here, not lost.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "super::compact::floats"
    )]
    pub set_aside: Vec<f64>,
    /// Too few clean samples: the figures include samples others interfered with.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flagged: bool,
    /// In a comparison only: how the samples were put in units of the core's speed, and the
    /// median as measured, in `unit`, before that.
    #[serde(skip)]
    pub per: Option<(Speed, f64)>,
}

/// The share of a sample's worker time others may take before the sample is contaminated:
/// retaken, or set aside.
pub const CONTAMINATED: f64 = 0.10;

/// Cores others must hold around a sample before its workers' wait is laid at their door:
/// a pool's own threads (rayon's spinning idlers, the caller) make its workers wait too, on
/// a quiet machine, and that is the pool's cost, not interference.
pub const OTHERS_HOLD: f64 = 0.25;

/// The real state of the process a worker was started from, beside each sample of a start-up
/// figure, index for index: what `fork` had to copy and what `posix_spawn` did not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParentState {
    /// The parent's resident memory before it took its ballast: the lean parent's own base.
    pub base_rss_bytes: u64,
    /// The ballast it held (bytes asked, all mapped and touched).
    pub ballast_bytes: u64,
    /// Its resident memory at each sample.
    #[serde(with = "super::compact::runs")]
    pub rss_bytes: Vec<u64>,
    /// Its mapped address space (`VmSize`) at each sample.
    #[serde(with = "super::compact::runs")]
    pub mapped_bytes: Vec<u64>,
    /// Its threads at each sample, the one that starts the worker included.
    #[serde(with = "super::compact::runs")]
    pub threads: Vec<u64>,
}

impl ParentState {
    /// The median resident memory over the samples.
    pub fn rss_median(&self) -> Option<u64> {
        let mut v = self.rss_bytes.clone();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    }
}

/// What identifies a measurement across runs: its case and metric.
pub type Key = (CaseId, Metric);

impl Measurement {
    /// A measurement of `metric` from raw samples (at least one), in its table's unit; a
    /// figure that is listed, not judged, is marked `info`.
    pub fn new(case: &CaseId, metric: Metric, samples: Vec<f64>, verified: bool) -> Measurement {
        Measurement {
            case: case.clone(),
            metric,
            better: metric.better(),
            op: None,
            ops_per_sample: None,
            durations_ns: Vec::new(),
            stat: Stat::new(metric.unit(), samples),
            verified,
            info: !metric.is_judged(),
            probe: Vec::new(),
            runtime: None,
            parent: None,
            dominated: None,
            interference: Vec::new(),
            retaken: 0,
            set_aside: Vec::new(),
            flagged: false,
            per: None,
        }
    }

    /// Whether other processes touched this figure: samples retaken, set aside or flagged.
    pub fn interfered(&self) -> bool {
        self.retaken > 0 || !self.set_aside.is_empty() || self.flagged
    }

    /// Attaches the per-sample core-speed probe (kept only if it matches the samples).
    pub fn with_probe(mut self, probe: &[f64]) -> Measurement {
        if probe.len() == self.samples.len() {
            self.probe = probe.to_vec();
        }
        self
    }

    pub fn key(&self) -> Key {
        (self.case.clone(), self.metric)
    }

    pub fn param(&self, name: &str) -> Option<u64> {
        self.case.params.get(name).copied()
    }

    pub fn is(&self, metric: Metric) -> bool {
        self.metric == metric
    }

    /// The median as measured and its unit, before any putting in units of the core's speed.
    pub fn raw(&self) -> (f64, &str) {
        match self.per {
            Some((_, median)) => (median, &self.unit),
            None => (self.median, &self.unit),
        }
    }

    /// The figure's name as judged: its metric's, and how it was put in units of the core's
    /// speed ("throughput ÷ core speed").
    pub fn label(&self) -> String {
        match self.per {
            Some((speed, _)) => format!("{} {}", self.metric, speed.label()),
            None => self.metric.to_string(),
        }
    }
}

impl std::ops::Deref for Measurement {
    type Target = Stat;
    fn deref(&self) -> &Stat {
        &self.stat
    }
}

impl std::ops::DerefMut for Measurement {
    fn deref_mut(&mut self) -> &mut Stat {
        &mut self.stat
    }
}

/// One answer: its line, and the figures it quotes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub line: String,
    #[serde(default)]
    pub quotes: Vec<Quote>,
}

/// A figure an answer quotes: the measurement's case and metric, and the median quoted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    #[serde(flatten)]
    pub case: CaseId,
    pub metric: Metric,
    pub value: f64,
}

/// A case that failed, with the reason in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    #[serde(flatten)]
    pub case: CaseId,
    pub reason: String,
}

impl Results {
    /// Measurements of one workload and metric, in the order they were taken.
    pub fn select<'a>(
        &'a self,
        workload: &'a str,
        metric: Metric,
    ) -> impl Iterator<Item = &'a Measurement> + 'a {
        self.measurements
            .iter()
            .filter(move |m| m.case.workload == workload && m.is(metric))
    }

    /// The workloads of this run: those described, then any other that has measurements.
    pub fn workload_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.workloads.iter().map(|w| w.name.clone()).collect();
        for m in &self.measurements {
            if !names.contains(&m.case.workload) {
                names.push(m.case.workload.clone());
            }
        }
        names
    }

    pub fn workload(&self, name: &str) -> Option<&WorkloadInfo> {
        self.workloads.iter().find(|w| w.name == name)
    }
}

/// One fitted curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UslFit {
    pub workload: String,
    pub model: String,
    pub variant: String,
    /// Contention, ≥ 0.
    pub sigma: f64,
    /// Coherency, ≥ 0.
    pub kappa: f64,
    /// Throughput of one worker, in the measurement's ops/s.
    pub lambda: f64,
    /// Weighted coefficient of determination of the fit.
    pub r2: f64,
    /// N* = √((1−σ)/κ), where throughput peaks; absent when κ = 0 (no peak).
    pub peak_workers: Option<f64>,
    /// Worker counts the fit was made from.
    pub points: Vec<usize>,
    /// (workers, predicted throughput) at 2×, 4× and 8× the allowed cores.
    pub predicted: Vec<(usize, f64)>,
}

impl UslFit {
    /// Throughput the fit predicts for `n` workers.
    pub fn at(&self, n: f64) -> f64 {
        usl_at(self.lambda, self.sigma, self.kappa, n)
    }
}

/// X(N) = λN / (1 + σ(N−1) + κN(N−1)), the Universal Scalability Law.
pub fn usl_at(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
