//! Execution models: how N workers are started, released together and collected. Nothing
//! here knows what a workload computes: it hands each worker its orders through the region
//! and asks the workload to verify what came back.

pub mod bare;
pub mod children;
pub mod count;
pub mod fork;
pub mod panics;
pub mod pool;
pub mod region;
pub mod sequential;
pub mod spawn;
pub mod testing;
pub mod threads;
pub mod worker;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::api::Model;
use crate::api::workload::Params;
use crate::api::workload::{Output, SampleOf, Verdict, WorkloadRef, units_of};
use crate::measure::clock::now_ns;
use crate::measure::sched::Counters;
use crate::sys::futex::{futex_wait, futex_wake};
use region::Region;

/// Why a sample produced no number.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SampleError {
    #[error("could not start a worker: {0}{hint}", hint = limit_hint(.0))]
    Start(String),
    #[error("{0}")]
    WorkerFailed(String),
    #[error("timed out: a worker did not finish in time and was killed")]
    Timeout,
    #[error("interrupted by a signal; its workers were stopped")]
    Interrupted,
}

/// EAGAIN from `fork`, `clone` or a thread's start: the kernel refused one more task.
fn limit_hint(why: &str) -> &'static str {
    if why.contains("EAGAIN") || why.contains("os error 11") {
        " (a limit on processes or threads: ulimit -u, or a container's pids limit)"
    } else {
        ""
    }
}

/// One case's request: a workload's variant with its parameters, on `workers` workers.
#[derive(Clone)]
pub struct Job<'a> {
    pub workload: &'a WorkloadRef,
    /// Index into the workload's variants.
    pub variant: usize,
    /// Values of the workload's parameters, in its declared order.
    pub params: &'a [u64],
    pub workers: usize,
    /// CPUs to pin worker k to (`cpus[k % len]`); empty = no pinning.
    pub cpus: &'a [usize],
    /// The executable the spawn model starts (the host binary, re-entered as a worker).
    pub exe: &'a Path,
    pub timeout: Duration,
    /// Fault for worker 0 (tests only).
    pub fault: testing::Fault,
    /// Units per task on a pool (`--chunk`): a pool hands out each worker's share in tasks
    /// of this many units.
    pub chunk: u64,
}

impl<'a> Job<'a> {
    /// `workers` unpinned workers of `workload`'s first variant, with a minute to finish.
    pub fn new(
        workload: &'a WorkloadRef,
        params: &'a [u64],
        workers: usize,
        exe: &'a Path,
    ) -> Job<'a> {
        Job {
            workload,
            variant: 0,
            params,
            workers,
            cpus: &[],
            exe,
            timeout: Duration::from_secs(60),
            fault: testing::Fault::None,
            chunk: 1,
        }
    }

    /// Worker `k`'s share of the sample.
    pub fn units(&self, k: usize) -> u64 {
        let info = self.workload.info();
        units_of(
            info.size,
            Params::new(info.params, self.params),
            k,
            self.workers,
        )
    }

    /// Which sample this job's samples are, for the workload.
    pub fn sample_of(&self) -> SampleOf<'a> {
        SampleOf {
            workers: self.workers,
            variant: self.variant,
            params: self.params,
        }
    }

    fn start_only(&self) -> bool {
        self.workload.info().start_only
    }

    fn region_anonymous(&self) -> Result<Region, SampleError> {
        let info = self.workload.info();
        Region::anonymous(self.workers, info.shared_size, info.shared_align)
            .map_err(|e| SampleError::Start(format!("{e:#}")))
    }
}

/// A workload bound to one variant and its parameter values: what tests and benches make
/// jobs from.
pub struct Bound {
    pub workload: WorkloadRef,
    pub variant: usize,
    pub params: Vec<u64>,
}

impl Bound {
    /// `workload`'s `variant` with its default parameters, `overrides` applied by name (then
    /// the workload's own adjustments). `None` for an unknown variant or parameter.
    pub fn new(workload: &WorkloadRef, variant: &str, overrides: &[(&str, u64)]) -> Option<Bound> {
        let info = workload.info();
        let variant = info.variants.iter().position(|v| *v == variant)?;
        let mut params: Vec<u64> = info.params.iter().map(|p| p.default).collect();
        let mut given = vec![false; params.len()];
        for (name, value) in overrides {
            let i = info.params.iter().position(|p| p.name == *name)?;
            params[i] = *value;
            given[i] = true;
        }
        workload.finish_params(&mut params, &given);
        Some(Bound {
            workload: workload.clone(),
            variant,
            params,
        })
    }

    /// A job of `workers` workers, spawning `exe` for the spawn model.
    pub fn job<'a>(&'a self, workers: usize, exe: &'a Path) -> Job<'a> {
        Job {
            variant: self.variant,
            ..Job::new(&self.workload, &self.params, workers, exe)
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
    pub output: Output,
    /// Memory the worker's own process holds privately (processes only, when readable).
    pub private_bytes: Option<u64>,
    /// The worker's core-speed probe before and after its share, in ns (0: none).
    pub probe_ns: [u64; 2],
    pub pid: u32,
    /// Parent's clock once the worker was joined or reaped.
    pub joined_ns: u64,
    /// What the scheduler did to the worker's thread from its first probe to its last (none:
    /// not read).
    pub sched: Option<crate::measure::sched::Counters>,
}

/// One sample's result: every worker's report and the workload's verdict on them.
#[derive(Clone, Debug)]
pub struct RawSample {
    /// Parent's clock when it released the barrier.
    pub release_ns: u64,
    pub workers: Vec<WorkerReport>,
    /// Process peak-RSS growth during the sample (in-process models), when measurable.
    pub rss_growth_bytes: Option<u64>,
    pub verdict: Verdict,
    /// The shares ran one after another on one thread (the sequential model).
    pub serial: bool,
}

impl RawSample {
    /// The share of its workers' time in this sample that they spent runnable but waiting
    /// for a CPU, beyond what their own number explains: with `threads` runnable workers on
    /// `cores` CPUs, `1 − cores/threads` of their time is theirs to wait for each other (the
    /// case under test); what is over that, others took. Each worker's wait is the kernel's
    /// run-queue delay over its share's own window; `None` when a worker's were not read.
    pub fn interference(&self, cores: usize) -> Option<f64> {
        let (mut wait, mut runnable) = (0u64, 0u64);
        for w in &self.workers {
            let s = w.sched?;
            wait += s.wait_ns;
            runnable += w.end_ns.saturating_sub(w.begin_ns);
        }
        if runnable == 0 {
            return None;
        }
        let threads = if self.serial { 1 } else { self.workers.len() };
        let own = (1.0 - cores.max(1) as f64 / threads.max(1) as f64).max(0.0);
        Some((wait as f64 / runnable as f64 - own).max(0.0))
    }

    /// The workers' voluntary and involuntary context switches in this sample, summed.
    pub fn switches(&self) -> Option<(u64, u64)> {
        self.workers.iter().try_fold((0, 0), |(v, i), w| {
            let s = w.sched?;
            Some((v + s.voluntary, i + s.involuntary))
        })
    }

    /// The sample's time: release of the barrier to the last worker's finish; for shares run
    /// one after another, the sum of the shares' own windows — what each share's probes and
    /// bookkeeping cost between them is the harness's, not the workload's.
    pub fn elapsed_ns(&self) -> u64 {
        if self.serial {
            return self
                .workers
                .iter()
                .map(|w| w.end_ns.saturating_sub(w.begin_ns))
                .sum();
        }
        let last = self.workers.iter().map(|w| w.end_ns).max().unwrap_or(0);
        last.saturating_sub(self.release_ns)
    }

    /// The speed of the workers' cores around this sample, in probe steps per second: the
    /// mean of every probe the workers took before and after their shares, on their own
    /// cores; `None` when any probe is missing.
    pub fn probe(&self) -> Option<f64> {
        let speeds: Option<Vec<f64>> = self
            .workers
            .iter()
            .flat_map(|w| w.probe_ns)
            .map(crate::measure::probe::speed)
            .collect();
        speeds
            .filter(|s| !s.is_empty())
            .map(|s| s.iter().sum::<f64>() / s.len() as f64)
    }

    /// Operations the workers counted.
    pub fn ops(&self) -> u64 {
        self.workers.iter().map(|w| w.output.ops).sum()
    }
}

/// A model's way of running workers: open for a case (a pool starts its workers here), take
/// samples, close (stop and reap). Per-sample models start and stop workers in every sample.
pub trait Executor {
    fn open(&mut self, job: &Job<'_>) -> Result<(), SampleError> {
        let _ = job;
        Ok(())
    }
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError>;
    fn close(&mut self) {}
    /// What opening cost: from the request to every worker of a pool running, in ns
    /// (`None` for per-sample models, which start nothing in `open`).
    fn opened_ns(&self) -> Option<u64> {
        None
    }
}

/// The executor of `model`.
pub fn executor(model: Model) -> Box<dyn Executor> {
    match model {
        Model::Sequential => Box::new(sequential::Sequential),
        Model::Threads => Box::new(threads::Threads::default()),
        Model::Fork => Box::new(fork::Fork),
        Model::Spawn => Box::new(spawn::Spawn),
        Model::Pool(kind, pattern) => pool::executor(kind, pattern),
    }
}

/// One sample, then the workload's teardown, whatever the sample's outcome.
pub fn take_sample(e: &mut dyn Executor, job: &Job<'_>) -> Result<RawSample, SampleError> {
    let r = e.sample(job);
    job.workload.teardown();
    r
}

/// One sample of `job` on `model`, opened and closed around it: what a test or a bench wants.
pub fn run_sample(model: Model, job: &Job<'_>) -> Result<RawSample, SampleError> {
    let mut e = executor(model);
    e.open(job)?;
    let r = take_sample(e.as_mut(), job);
    e.close();
    r
}

/// Writes the case's orders into the region and each worker's share and CPU into its slot.
pub(crate) fn prepare(region: &Region, job: &Job<'_>) {
    let name = job.workload.info().name;
    region.reset(
        job.workers,
        region::name_hash(name),
        job.variant,
        job.params,
    );
    for k in 0..job.workers {
        let slot = region.slot(k);
        slot.units.store(job.units(k), Ordering::Relaxed);
        let cpu = if job.cpus.is_empty() {
            -1
        } else {
            job.cpus[k % job.cpus.len()] as i32
        };
        slot.cpu.store(cpu, Ordering::Relaxed);
    }
    region
        .slot(0)
        .fault
        .store(job.fault.code(), Ordering::Relaxed);
    job.workload.setup(region.shared(), job.sample_of());
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
        if crate::sys::signals::stop_requested() {
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

/// Reads the workers' reports out of their slots, after checking that each one finished.
pub(crate) fn collect(region: &Region, workers: usize) -> Result<Vec<WorkerReport>, SampleError> {
    (0..workers)
        .map(|k| {
            let s = region.slot(k);
            if s.state.load(Ordering::Acquire) & region::STATE_DONE == 0 {
                return Err(SampleError::WorkerFailed(format!(
                    "worker {k} ended without finishing its job"
                )));
            }
            let private = s.private_bytes.load(Ordering::Acquire);
            Ok(WorkerReport {
                requested_ns: s.requested_ns.load(Ordering::Acquire),
                started_ns: s.started_ns.load(Ordering::Acquire),
                begin_ns: s.begin_ns.load(Ordering::Acquire),
                end_ns: s.end_ns.load(Ordering::Acquire),
                output: Output {
                    ops: s.ops.load(Ordering::Acquire),
                    checksum: s.checksum.load(Ordering::Acquire),
                },
                private_bytes: (private != worker::UNREADABLE).then_some(private),
                probe_ns: [
                    s.probe_before_ns.load(Ordering::Acquire),
                    s.probe_after_ns.load(Ordering::Acquire),
                ],
                pid: s.pid.load(Ordering::Acquire),
                joined_ns: 0,
                sched: Counters::load(&s.sched_after)
                    .zip(Counters::load(&s.sched_before))
                    .and_then(|(after, before)| after.since(before)),
            })
        })
        .collect()
}

/// The workload's verdict on a finished sample, while its region still holds the state.
pub(crate) fn verify(region: &Region, job: &Job<'_>, workers: &[WorkerReport]) -> Verdict {
    let outputs: Vec<Output> = workers.iter().map(|w| w.output).collect();
    // A verify that panics is the workload's failed check, with its own words and place.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panics::user_code(|| {
            job.workload
                .verify(region.shared(), job.sample_of(), &outputs)
        })
    }));
    let verdict = checked.unwrap_or_else(|payload| {
        Verdict::Failed(format!("its verify panicked: {}", panics::text(&*payload)))
    });
    // A worker that was asked for work and counted none did not run it, whatever the workload
    // says about its checksum.
    match (0..job.workers).find(|&k| job.units(k) > 0 && outputs[k].ops == 0) {
        Some(k) if !job.start_only() => Verdict::Failed(format!(
            "worker {k} was given work and counted no operation"
        )),
        _ => verdict,
    }
}

/// The end of an in-process sample (sequential, threads): the workers' reports with the times
/// they were joined, and the workload's verdict.
pub(crate) fn finish_in_process(
    region: &Region,
    job: &Job<'_>,
    release_ns: u64,
    joined: Vec<u64>,
    rss_growth_bytes: Option<u64>,
) -> Result<RawSample, SampleError> {
    finish_with(region, job, release_ns, rss_growth_bytes, |k, w| {
        if let Some(&j) = joined.get(k) {
            w.joined_ns = j;
        }
    })
}

/// The end of a sample whose workers are done: their reports, as `adjust` completes them
/// (worker index, report), and the workload's verdict on them.
pub(crate) fn finish_with(
    region: &Region,
    job: &Job<'_>,
    release_ns: u64,
    rss_growth_bytes: Option<u64>,
    mut adjust: impl FnMut(usize, &mut WorkerReport),
) -> Result<RawSample, SampleError> {
    let mut workers = collect(region, job.workers)?;
    for (k, w) in workers.iter_mut().enumerate() {
        adjust(k, w);
    }
    let verdict = verify(region, job, &workers);
    Ok(RawSample {
        release_ns,
        workers,
        rss_growth_bytes,
        verdict,
        serial: false,
    })
}

/// Runs `f` on a thread of its own and waits for it until `timeout` passes or a stop is
/// requested, waking at least every 100 ms: the calling thread stays responsive to Ctrl-C
/// whatever `f` does. A late `f` is let go, detached — a thread cannot be killed — and what it
/// holds stays alive through what it owns.
pub fn watched<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SampleError> {
    let (tx, rx) = crossbeam::channel::bounded(1);
    std::thread::Builder::new()
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| SampleError::Start(format!("cannot start a thread: {e}")))?;
    let deadline_ns = deadline(timeout);
    loop {
        if crate::sys::signals::stop_requested() {
            return Err(SampleError::Interrupted);
        }
        let now = now_ns();
        if now >= deadline_ns {
            return Err(SampleError::WorkerFailed(format!(
                "timed out after {:.1} s and was left running detached (--case-timeout)",
                timeout.as_secs_f64()
            )));
        }
        let nap = Duration::from_nanos((deadline_ns - now).min(100_000_000));
        match rx.recv_timeout(nap) {
            Ok(v) => return Ok(v),
            Err(crossbeam::channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam::channel::RecvTimeoutError::Disconnected) => {
                return Err(SampleError::WorkerFailed("the thread panicked".into()));
            }
        }
    }
}

pub(crate) fn deadline(timeout: Duration) -> u64 {
    now_ns().saturating_add(timeout.as_nanos().min(u64::MAX as u128) as u64)
}

/// The parent's side of a process sample once its children exist: barrier, release, reap,
/// verify.
pub(crate) fn finish_processes(
    region: &Region,
    job: &Job<'_>,
    children: &mut children::Children,
    deadline_ns: u64,
) -> Result<RawSample, SampleError> {
    let mut release_ns = now_ns();
    if !job.start_only() {
        wait_ready(region, job.workers, deadline_ns, || children.check_alive())
            .map_err(|e| explain(region, job, e))?;
        release_ns = release(region);
    }
    let reaped = children
        .reap_all(deadline_ns)
        .map_err(|e| explain(region, job, e))?;
    let mut workers = collect(region, job.workers)?;
    for w in &mut workers {
        if let Some(r) = reaped.iter().find(|r| r.pid as u32 == w.pid) {
            w.joined_ns = r.reaped_ns;
        }
    }
    let verdict = verify(region, job, &workers);
    Ok(RawSample {
        release_ns,
        workers,
        rss_growth_bytes: None,
        verdict,
        serial: false,
    })
}

/// Adds what the workers left in their slots (a panic message) and the timeout's length to
/// a process sample's error.
fn explain(region: &Region, job: &Job<'_>, e: SampleError) -> SampleError {
    match e {
        SampleError::Timeout => SampleError::WorkerFailed(format!(
            "timed out after {:.1} s: a worker did not finish and was killed (--case-timeout)",
            job.timeout.as_secs_f64()
        )),
        other => explain_with_messages(region, other),
    }
}

/// Adds the panic messages workers left in their slots to a worker's failure.
pub(crate) fn explain_with_messages(region: &Region, e: SampleError) -> SampleError {
    let SampleError::WorkerFailed(msg) = e else {
        return e;
    };
    let panics: Vec<String> = (0..region.capacity())
        .map(|k| panics::load_message(&region.slot(k).message))
        .filter(|m| !m.is_empty())
        .collect();
    if panics.is_empty() {
        SampleError::WorkerFailed(msg)
    } else {
        SampleError::WorkerFailed(format!("{msg}: {}", panics.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_run_one_after_another_are_timed_by_their_own_windows_only() {
        // Two shares of 100 ns with 1,000 ns of the harness's probes between them.
        let w = |begin_ns, end_ns| WorkerReport {
            begin_ns,
            end_ns,
            ..WorkerReport::default()
        };
        let mut raw = RawSample {
            release_ns: 0,
            workers: vec![w(10, 110), w(1_110, 1_210)],
            rss_growth_bytes: None,
            verdict: Verdict::Passed,
            serial: true,
        };
        assert_eq!(raw.elapsed_ns(), 200);
        // Workers side by side: release to the last one's end.
        raw.serial = false;
        assert_eq!(raw.elapsed_ns(), 1_210);
    }

    #[test]
    fn an_unreadable_private_memory_figure_is_left_out_not_zero() {
        // A process whose smaps_rollup could not be read once reported 0 B.
        let region = Region::anonymous(2, 0, 1).unwrap();
        for (k, bytes) in [(0, worker::UNREADABLE), (1, 4096)] {
            let s = region.slot(k);
            s.private_bytes.store(bytes, Ordering::Relaxed);
            s.state.store(region::STATE_DONE, Ordering::Relaxed);
        }
        let reports = collect(&region, 2).unwrap();
        assert_eq!(reports[0].private_bytes, None);
        assert_eq!(reports[1].private_bytes, Some(4096));
    }
}
