//! Pools: workers started once per case (in [`Executor::open`]) and reused by its samples,
//! fed tasks dynamically. Each worker's share of a sample (what a per-sample model gives one
//! worker) is cut into tasks of `--chunk` units; any pool worker may run any task, and the
//! outputs of one share's tasks are joined with [`crate::Workload::combine`], so that the
//! workload verifies one output per share exactly as on every other model.
//!
//! A sample: every pool worker takes its probe and waits at the barrier; the release starts
//! the clock; the caller submits the tasks in the model's [`Pattern`] and collects every
//! result; the clock stops when the caller holds the last result. Dispatch, result passing
//! and collection are inside the measurement, as they are in a real program.

pub mod processes;
pub mod rayon;
pub mod threads;

use crate::measure::sched::Counters;
use std::sync::atomic::Ordering;

use super::region::Region;
use super::{Executor, Job, RawSample, SampleError};
use crate::api::model::{Pattern, Pool};
use crate::api::workload::{Erased, Orders, Output, SampleOf};

/// The executor of a pool model.
pub fn executor(kind: Pool, pattern: Pattern) -> Box<dyn Executor> {
    match kind {
        Pool::Threads => Box::new(threads::ThreadPool::new(pattern)),
        Pool::Rayon => Box::new(rayon::RayonPool::new(pattern)),
        Pool::Processes => Box::new(processes::ProcessPool::new(pattern)),
    }
}

/// Most tasks one sample may hold: task numbers travel as 32-bit futex words.
pub const MAX_TASKS: u64 = (1 << 31) - 1;

/// One task: units `offset .. offset + units` of share `share`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub share: usize,
    pub units: u64,
    pub offset: u64,
}

/// How a sample's shares are cut into tasks: share `k` is tasks `first[k] .. first[k+1]`,
/// each of `chunk` units but the last.
#[derive(Clone, Debug)]
pub struct Tasks {
    first: Vec<u64>,
    units: Vec<u64>,
    chunk: u64,
}

impl Tasks {
    pub fn new(job: &Job<'_>) -> Result<Tasks, SampleError> {
        let chunk = job.chunk.max(1);
        let units: Vec<u64> = (0..job.workers).map(|k| job.units(k)).collect();
        let mut first = Vec::with_capacity(units.len() + 1);
        let mut total = 0u64;
        for u in &units {
            first.push(total);
            total = total.saturating_add(u.div_ceil(chunk));
        }
        first.push(total);
        if total > MAX_TASKS {
            return Err(SampleError::Start(format!(
                "{total} tasks in one sample is more than a pool takes ({MAX_TASKS}): \
                 raise --chunk"
            )));
        }
        Ok(Tasks {
            first,
            units,
            chunk,
        })
    }

    pub fn total(&self) -> u64 {
        self.first[self.units.len()]
    }

    /// Task `t`: the share it belongs to, its units and where they start in the share.
    pub fn get(&self, t: u64) -> Task {
        let k = locate(self.units.len(), t, |k| self.first[k]);
        let j = t - self.first[k];
        Task {
            share: k,
            units: task_units(self.units[k], self.chunk, j),
            offset: j * self.chunk,
        }
    }

    /// Where share `k`'s tasks start, and its units (what a process pool copies to its queue).
    pub fn share(&self, k: usize) -> (u64, u64) {
        (self.first[k], self.units[k])
    }

    pub fn chunk(&self) -> u64 {
        self.chunk
    }
}

/// The share task `t` belongs to: the last `k` of `n` with `first(k) <= t` (shares with no
/// task have `first(k) == first(k + 1)` and are passed over). Allocation-free.
pub fn locate(n: usize, t: u64, first: impl Fn(usize) -> u64) -> usize {
    let (mut lo, mut hi) = (0, n);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if first(mid) <= t {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Units of the `j`-th task of a share of `units` cut into `chunk`s.
pub fn task_units(units: u64, chunk: u64, j: u64) -> u64 {
    chunk.min(units.saturating_sub(j.saturating_mul(chunk)))
}

/// Runs one task through the one function every model runs work through (so
/// `--instructions` and `--inject-slowdown` see pools too).
pub fn run_task(
    workload: &dyn Erased,
    region: &Region,
    sample: SampleOf<'_>,
    task: Task,
) -> Output {
    let orders = Orders {
        index: task.share,
        units: task.units,
        offset: task.offset,
        sample,
    };
    super::worker::counted_share(workload, region.shared(), &orders)
}

/// The sample a pool serves, read once from the region's header when the sample starts and
/// held by value (allocation-free, `Copy`), so that no task reads it again.
#[derive(Clone, Copy, Debug)]
pub struct SampleOrders {
    workers: usize,
    variant: usize,
    params: [u64; crate::api::workload::MAX_PARAMS],
    len: usize,
}

impl SampleOrders {
    pub fn read(region: &Region, workload: &dyn Erased) -> SampleOrders {
        let h = region.header();
        SampleOrders {
            workers: h.workers.load(Ordering::Relaxed) as usize,
            variant: h.variant.load(Ordering::Relaxed) as usize,
            params: region.params(),
            len: workload.info().params.len(),
        }
    }

    pub fn sample(&self) -> SampleOf<'_> {
        SampleOf {
            workers: self.workers,
            variant: self.variant,
            params: &self.params[..self.len],
        }
    }
}

/// Every share's output, joined task by task as the caller collects results.
pub struct Fold<'a> {
    workload: &'a dyn Erased,
    outputs: Vec<Output>,
}

impl<'a> Fold<'a> {
    pub fn new(workload: &'a dyn Erased, shares: usize) -> Fold<'a> {
        Fold {
            workload,
            outputs: vec![Output::default(); shares],
        }
    }

    pub fn add(&mut self, k: usize, out: Output) {
        if let Some(o) = self.outputs.get_mut(k) {
            *o = self.workload.combine(*o, out);
        }
    }

    pub fn outputs(self) -> Vec<Output> {
        self.outputs
    }
}

/// The end of a pool sample: the workers' slots (their probes and memory), each share's
/// joined output, the clock from the release to the last result collected, the verdict.
pub fn finish(
    region: &Region,
    job: &Job<'_>,
    release_ns: u64,
    end_ns: u64,
    outputs: Vec<Output>,
    rss_growth_bytes: Option<u64>,
) -> Result<RawSample, SampleError> {
    super::finish_with(region, job, release_ns, rss_growth_bytes, |k, w| {
        w.output = outputs.get(k).copied().unwrap_or_default();
        w.begin_ns = release_ns;
        w.end_ns = end_ns;
        w.joined_ns = end_ns;
    })
}

/// A pool worker's side of one sample around its task loop: mark started, pin, probe, wait
/// for the release, run `tasks`, probe again, record its memory, mark done. Allocation-free.
pub fn serve_sample(region: &Region, index: usize, own_process: bool, tasks: impl FnOnce()) {
    let slot = region.slot(index);
    slot.pid.store(std::process::id(), Ordering::Relaxed);
    super::worker::mark_started(slot, crate::measure::clock::now_ns());
    super::worker::pin_to(slot.cpu.load(Ordering::Relaxed));
    slot.probe_before_ns
        .store(crate::measure::probe::probe_ns(), Ordering::Relaxed);
    Counters::store(Counters::now(), &slot.sched_before);
    super::worker::wait_for_release(region.header());
    super::testing::Fault::from_code(slot.fault.load(Ordering::Relaxed)).strike(index);
    tasks();
    // Every task is claimed; the probe and the memory reading wait until the workers still
    // running theirs are done, outside the sample's window (on oversubscribed cores they
    // would take the CPU those tasks need).
    super::worker::wait_window_closed(region.header());
    Counters::store(Counters::now(), &slot.sched_after);
    slot.probe_after_ns
        .store(crate::measure::probe::probe_ns(), Ordering::Relaxed);
    if own_process {
        let private =
            crate::measure::rss::private_bytes_self().unwrap_or(super::worker::UNREADABLE);
        slot.private_bytes.store(private, Ordering::Relaxed);
    }
    super::worker::finish(slot);
}

/// The error for a pool whose earlier sample failed: its workers are gone or unknown.
pub fn broken() -> SampleError {
    SampleError::WorkerFailed("the pool was lost in an earlier sample of this case".into())
}

/// An open pool that a failed sample leaves broken: its workers are gone or unknown, so every
/// later sample of the case is refused rather than run on them.
pub trait Breakable {
    /// The pool's broken mark.
    fn broken_mark(&mut self) -> &mut bool;
    /// What the pool does when a sample fails (a process pool kills its workers).
    fn lose(&mut self) {}
}

/// Runs one sample on an open pool, refused when an earlier one broke it; a failure breaks it.
pub fn guarded<P: Breakable>(
    pool: &mut P,
    sample: impl FnOnce(&mut P) -> Result<RawSample, SampleError>,
) -> Result<RawSample, SampleError> {
    if *pool.broken_mark() {
        return Err(broken());
    }
    let out = sample(pool);
    if out.is_err() {
        *pool.broken_mark() = true;
        pool.lose();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_cover_every_share_exactly_once() {
        for (units, chunk) in [(vec![5u64, 0, 7, 3], 2u64), (vec![10, 10], 3), (vec![1], 1)] {
            let mut first = vec![];
            let mut total = 0;
            for u in &units {
                first.push(total);
                total += u.div_ceil(chunk);
            }
            first.push(total);
            let tasks = Tasks {
                first,
                units: units.clone(),
                chunk,
            };
            let mut got = vec![0u64; units.len()];
            for t in 0..tasks.total() {
                let task = tasks.get(t);
                assert!(task.units >= 1 && task.units <= chunk);
                assert_eq!(task.offset, got[task.share], "tasks follow each other");
                got[task.share] += task.units;
            }
            assert_eq!(got, units);
        }
    }
}
