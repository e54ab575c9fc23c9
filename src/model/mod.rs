//! Execution models: how N workers are started, released together and collected. Nothing
//! here knows what a square or a counter is beyond the [`Job`] it hands to each worker.

pub mod fault;
pub mod fork;
pub mod process;
pub mod region;
pub mod sequence;
pub mod sequential;
pub mod spawn;
pub mod threads;
pub mod worker;

use std::fmt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::measure::clock::now_ns;
use crate::sync::{futex_wait, futex_wake};
use crate::workload::{CounterVariant, Job, WorkloadKind};
use region::Region;

/// The ways of running work that threadfork compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Sequential,
    Threads,
    Fork,
    Spawn,
    Lazy,
    Eager,
    Pipeline,
}

impl ModelKind {
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Sequential,
        ModelKind::Threads,
        ModelKind::Fork,
        ModelKind::Spawn,
        ModelKind::Lazy,
        ModelKind::Eager,
        ModelKind::Pipeline,
    ];

    /// Models that run the task workloads (square, counter).
    pub const TASK: [ModelKind; 4] = [
        ModelKind::Sequential,
        ModelKind::Threads,
        ModelKind::Fork,
        ModelKind::Spawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Sequential => "sequential",
            ModelKind::Threads => "threads",
            ModelKind::Fork => "fork",
            ModelKind::Spawn => "spawn",
            ModelKind::Lazy => "lazy",
            ModelKind::Eager => "eager",
            ModelKind::Pipeline => "pipeline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Whether this model runs `workload`.
    pub fn runs(self, workload: WorkloadKind) -> bool {
        match workload {
            WorkloadKind::Square | WorkloadKind::Counter => Self::TASK.contains(&self),
            WorkloadKind::Sequence => !Self::TASK.contains(&self),
        }
    }

    /// Whether workers are separate processes.
    pub fn is_process(self) -> bool {
        matches!(self, ModelKind::Fork | ModelKind::Spawn)
    }

    /// The counter variants this model supports, in display order.
    pub fn counter_variants(self) -> &'static [CounterVariant] {
        use CounterVariant::*;
        match self {
            ModelKind::Sequential => &[Default],
            ModelKind::Threads => &[StdMutex, ParkingLot, Atomic, Channel, NoLock],
            ModelKind::Fork | ModelKind::Spawn => &[Pshared, NoLock],
            _ => &[],
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a sample produced no number.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SampleError {
    #[error("could not start a worker: {0}")]
    Start(String),
    #[error("{0}")]
    WorkerFailed(String),
    #[error("timed out: a worker did not finish in time and was killed")]
    Timeout,
    #[error("interrupted by a signal; its workers were stopped")]
    Interrupted,
}

/// One sample's request: the whole job, split between `workers` workers.
pub struct SampleSpec<'a> {
    pub job: Job,
    pub workers: usize,
    /// CPUs to pin worker k to (`cpus[k % len]`); empty = no pinning.
    pub cpus: &'a [usize],
    /// The executable the spawn model starts (`threadfork worker`).
    pub exe: &'a Path,
    pub timeout: Duration,
    /// Fault for worker 0 (tests only).
    pub fault: fault::Fault,
}

impl<'a> SampleSpec<'a> {
    /// `workers` unpinned workers on `job`, with a minute to finish and no fault.
    pub fn new(job: Job, workers: usize, exe: &'a Path) -> SampleSpec<'a> {
        SampleSpec {
            job,
            workers,
            cpus: &[],
            exe,
            timeout: Duration::from_secs(60),
            fault: fault::Fault::None,
        }
    }
}

/// What one worker reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerReport {
    pub requested_ns: u64,
    pub started_ns: u64,
    pub begin_ns: u64,
    pub end_ns: u64,
    pub checksum: u64,
    pub ops: u64,
    /// Memory the worker's own process holds privately (processes only).
    pub private_bytes: u64,
    pub pid: u32,
    /// Parent's clock once the worker was joined or reaped.
    pub joined_ns: u64,
}

/// One sample's raw result, before verification and statistics.
#[derive(Clone, Debug, Default)]
pub struct RawSample {
    /// Parent's clock when it released the barrier.
    pub release_ns: u64,
    pub workers: Vec<WorkerReport>,
    /// The shared counter's final value (counter jobs).
    pub counter_final: Option<u64>,
    /// Process peak-RSS growth during the sample (in-process models), when measurable.
    pub rss_growth_bytes: Option<u64>,
    /// When the channel variant's owner applied the last increment (0 when there is none).
    pub owner_end_ns: u64,
}

impl RawSample {
    /// Release of the barrier to the last worker's finish.
    pub fn elapsed_ns(&self) -> u64 {
        let last = self.workers.iter().map(|w| w.end_ns).max().unwrap_or(0);
        let last = last.max(self.owner_end_ns);
        last.saturating_sub(self.release_ns)
    }

    pub fn ops(&self) -> u64 {
        self.workers.iter().map(|w| w.ops).sum()
    }
}

/// Runs one sample of `spec` on `model`.
pub fn run_sample(model: ModelKind, spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    match model {
        ModelKind::Sequential => sequential::run(spec),
        ModelKind::Threads => threads::run(spec),
        ModelKind::Fork => fork::run(spec),
        ModelKind::Spawn => spawn::run(spec),
        other => Err(SampleError::Start(format!(
            "model {other} does not run task workloads"
        ))),
    }
}

/// Makes a region for `spec` and writes each worker's job and CPU into its slot.
pub(crate) fn prepare(region: &Region, spec: &SampleSpec<'_>) {
    region.reset(spec.workers);
    for k in 0..spec.workers {
        let slot = region.slot(k);
        slot.set_job(spec.job.share(k, spec.workers));
        let cpu = if spec.cpus.is_empty() {
            -1
        } else {
            spec.cpus[k % spec.cpus.len()] as i32
        };
        slot.cpu.store(cpu, Ordering::Relaxed);
    }
    region
        .slot(0)
        .fault
        .store(spec.fault.code(), Ordering::Relaxed);
}

/// Waits until every worker is ready at the barrier, checking `alive` between naps.
pub(crate) fn wait_ready(
    region: &Region,
    workers: usize,
    deadline_ns: u64,
    mut alive: impl FnMut() -> Result<(), SampleError>,
) -> Result<(), SampleError> {
    let ready = &region.header().ready;
    loop {
        let n = ready.load(Ordering::Acquire);
        if n as usize >= workers {
            return Ok(());
        }
        alive()?;
        if crate::signals::stop_requested() {
            return Err(SampleError::Interrupted);
        }
        if now_ns() >= deadline_ns {
            return Err(SampleError::Timeout);
        }
        futex_wait(ready, n, Some(Duration::from_millis(5)));
    }
}

/// Releases every waiting worker at once; returns the release time.
pub(crate) fn release(region: &Region) -> u64 {
    let h = region.header();
    let t = now_ns();
    h.release.store(1, Ordering::Release);
    futex_wake(&h.release, i32::MAX);
    t
}

/// Reads the workers' reports out of their slots.
pub(crate) fn collect(region: &Region, workers: usize) -> Vec<WorkerReport> {
    (0..workers)
        .map(|k| {
            let s = region.slot(k);
            WorkerReport {
                requested_ns: s.requested_ns.load(Ordering::Acquire),
                started_ns: s.started_ns.load(Ordering::Acquire),
                begin_ns: s.begin_ns.load(Ordering::Acquire),
                end_ns: s.end_ns.load(Ordering::Acquire),
                checksum: s.checksum.load(Ordering::Acquire),
                ops: s.ops.load(Ordering::Acquire),
                private_bytes: s.private_bytes.load(Ordering::Acquire),
                pid: s.pid.load(Ordering::Acquire),
                joined_ns: 0,
            }
        })
        .collect()
}

/// Checks that every worker reached the end of its job.
pub(crate) fn check_done(region: &Region, workers: usize) -> Result<(), SampleError> {
    for k in 0..workers {
        if region.slot(k).state.load(Ordering::Acquire) & region::STATE_DONE == 0 {
            return Err(SampleError::WorkerFailed(format!(
                "worker {k} ended without finishing its job"
            )));
        }
    }
    Ok(())
}

pub(crate) fn deadline(timeout: Duration) -> u64 {
    now_ns().saturating_add(timeout.as_nanos().min(u64::MAX as u128) as u64)
}

/// The final value of the counter in the region that a process or sequential worker used.
pub(crate) fn worker_db_value(region: &Region, spec: &SampleSpec<'_>) -> u64 {
    use crate::workload::counter::Database;
    match spec.job {
        Job::Counter {
            variant: CounterVariant::Pshared,
            ..
        } => region.dbs().pshared.value(),
        _ => region.dbs().unlocked.value(),
    }
}

/// The parent's side of a process sample once its children exist: barrier, release, reap.
pub(crate) fn finish_processes(
    region: &Region,
    spec: &SampleSpec<'_>,
    children: &mut process::Children,
    deadline_ns: u64,
) -> Result<RawSample, SampleError> {
    let mut release_ns = now_ns();
    if spec.job != Job::Empty {
        wait_ready(region, spec.workers, deadline_ns, || children.check_alive())
            .map_err(|e| explain(region, spec, e))?;
        release_ns = release(region);
    }
    // An empty worker is already on its way out and its reap is what a roundtrip measures:
    // a plain blocking wait4, as the bare loop does. A real job is watched with a deadline.
    let reaped = if spec.job == Job::Empty {
        children.reap_each_blocking()
    } else {
        children.reap_all(deadline_ns)
    }
    .map_err(|e| explain(region, spec, e))?;
    check_done(region, spec.workers)?;
    let mut workers = collect(region, spec.workers);
    for w in &mut workers {
        if let Some(r) = reaped.iter().find(|r| r.pid as u32 == w.pid) {
            w.joined_ns = r.reaped_ns;
        }
    }
    let counter_final =
        matches!(spec.job, Job::Counter { .. }).then(|| worker_db_value(region, spec));
    Ok(RawSample {
        release_ns,
        workers,
        counter_final,
        rss_growth_bytes: None,
        owner_end_ns: 0,
    })
}

/// Adds what the workers left in their slots (a panic message) and the timeout's length to
/// a process sample's error.
fn explain(region: &Region, spec: &SampleSpec<'_>, e: SampleError) -> SampleError {
    match e {
        SampleError::Timeout => SampleError::WorkerFailed(format!(
            "timed out after {:.1} s: a worker did not finish and was killed (--case-timeout)",
            spec.timeout.as_secs_f64()
        )),
        SampleError::WorkerFailed(msg) => {
            let panics: Vec<String> = (0..spec.workers)
                .map(|k| fault::load_message(&region.slot(k).message))
                .filter(|m| !m.is_empty())
                .collect();
            if panics.is_empty() {
                SampleError::WorkerFailed(msg)
            } else {
                SampleError::WorkerFailed(format!("{msg}: {}", panics.join("; ")))
            }
        }
        other => other,
    }
}
