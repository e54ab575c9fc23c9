//! `process-pool`: persistent forked workers — the `multiprocessing.Pool` analogue. Tasks are
//! handed out through a queue in `MAP_SHARED` memory: the caller posts tasks by advancing a
//! counter, idle workers sleep on it (a futex) and claim the next task with a
//! compare-and-swap; each result goes back through a ring of slots, in completion order, to
//! a caller that sleeps on the slot it waits for. Nothing is pickled: what a process pool
//! costs here is the processes, the queue and the wake-ups.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use nix::libc;
use nix::unistd::{ForkResult, fork, getpid};

use super::{
    Breakable, Fold, SampleOrders, Task, Tasks, broken, finish, guarded, locate, run_task,
    serve_sample, task_units,
};
use crate::api::model::Pattern;
use crate::api::workload::{Erased, Output};
use crate::exec::children::{Children, die_with_parent};
use crate::exec::region::Region;
use crate::exec::{Executor, Job, RawSample, SampleError, deadline, prepare, release, wait_ready};
use crate::measure::clock::now_ns;
use crate::sys::futex::{futex_wait, futex_wake};
use crate::sys::mmap::Mapping;

/// Results in flight at most: a worker that finds the ring full waits for the caller.
const RING: usize = 4096;

/// Most workers in one process pool.
pub const MAX_WORKERS: usize = 1024;

/// The generation that closes the pool.
const QUIT: u32 = u32::MAX;

/// A result slot: `seq` is its position in completion order plus one once it is written.
#[repr(C)]
struct Entry {
    seq: AtomicU32,
    share: AtomicU32,
    task: AtomicU32,
    ops: AtomicU64,
    checksum: AtomicU64,
}

/// The queue, in memory shared with every worker. All-zero is its empty state.
#[repr(C)]
struct Queue {
    /// Bumped for every sample (the workers' wake-up word); [`QUIT`] closes the pool.
    generation: AtomicU32,
    /// Workers running: the pool is open when all are.
    alive: AtomicU32,
    total: AtomicU32,
    /// Tasks posted so far; idle workers sleep on it.
    posted: AtomicU32,
    /// Tasks claimed so far.
    cursor: AtomicU32,
    /// Workers asleep on `posted`.
    idle: AtomicU32,
    /// Result positions taken so far.
    completed: AtomicU32,
    /// Result positions the caller has read; a worker facing a full ring sleeps on it.
    consumed: AtomicU32,
    full_waiters: AtomicU32,
    /// Results written so far; the caller sleeps on it.
    published: AtomicU32,
    /// While the caller sleeps: the `published` count it wants to be woken at (0: awake).
    caller_wants: AtomicU32,
    chunk: AtomicU64,
    first: [AtomicU64; MAX_WORKERS + 1],
    units: [AtomicU64; MAX_WORKERS],
    ring: [Entry; RING],
}

/// The queue's mapping, unmapped on drop.
struct QueueMap(Mapping);

impl QueueMap {
    fn new() -> Result<QueueMap, SampleError> {
        Mapping::shared(size_of::<Queue>())
            .map(QueueMap)
            .map_err(|e| SampleError::Start(format!("cannot map the pool's queue: {e}")))
    }

    fn get(&self) -> &Queue {
        // SAFETY: the mapping is page-aligned, zeroed and as long as a Queue, which is made
        // of atomics only (all-zero is valid); it lives as long as `self`, and every worker
        // is reaped before the pool drops its queue (Children's drop runs first, see
        // `Running`).
        unsafe { self.0.ptr().cast::<Queue>().as_ref() }
    }
}

/// An open pool. Field order matters: the children are killed and reaped before the
/// mappings they use go away.
struct Running {
    children: Children,
    queue: QueueMap,
    region: Region,
    workers: usize,
    opened_ns: u64,
    broken: bool,
}

/// Persistent forked workers fed through a shared-memory queue.
pub struct ProcessPool {
    pattern: Pattern,
    running: Option<Running>,
}

impl ProcessPool {
    pub fn new(pattern: Pattern) -> ProcessPool {
        ProcessPool {
            pattern,
            running: None,
        }
    }
}

impl Executor for ProcessPool {
    fn open(&mut self, job: &Job<'_>) -> Result<(), SampleError> {
        if job.workers > MAX_WORKERS {
            return Err(SampleError::Start(format!(
                "a process pool holds at most {MAX_WORKERS} workers"
            )));
        }
        let t0 = now_ns();
        let region = job.region_anonymous()?;
        let queue = QueueMap::new()?;
        let parent = getpid().as_raw();
        let workload: &dyn Erased = job.workload.as_ref();
        let mut children = Children::with_capacity(job.workers);
        for k in 0..job.workers {
            // SAFETY: the child runs only `child`, which touches memory mapped before the
            // fork (the region, the queue, the workload) and its stack, makes system calls,
            // and leaves with `_exit`: it never returns into the parent's code.
            let started = crate::exec::testing::fork(|| unsafe { fork() });
            match started {
                Ok(ForkResult::Child) => child(queue.get(), &region, k, parent, workload),
                Ok(ForkResult::Parent { child }) => {
                    region
                        .slot(k)
                        .pid
                        .store(child.as_raw() as u32, Ordering::Relaxed);
                    children.push(child.as_raw());
                }
                Err(e) => return Err(SampleError::Start(format!("fork failed: {e}"))),
            }
        }
        let q = queue.get();
        let deadline_ns = deadline(job.timeout);
        loop {
            let alive = q.alive.load(Ordering::Acquire);
            if alive as usize >= job.workers {
                break;
            }
            children.check_alive()?;
            if now_ns() >= deadline_ns || crate::sys::signals::stop_requested() {
                return Err(SampleError::Start("a pool worker did not start".into()));
            }
            futex_wait(&q.alive, alive, Some(Duration::from_millis(5)));
        }
        self.running = Some(Running {
            children,
            queue,
            region,
            workers: job.workers,
            opened_ns: now_ns() - t0,
            broken: false,
        });
        Ok(())
    }

    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let pattern = self.pattern;
        let r = self.running.as_mut().ok_or_else(broken)?;
        guarded(r, |r| sample(r, pattern, job))
    }

    fn close(&mut self) {
        let Some(mut r) = self.running.take() else {
            return;
        };
        let q = r.queue.get();
        q.generation.store(QUIT, Ordering::Release);
        futex_wake(&q.generation, i32::MAX);
        // Workers leave at once; one that does not is killed (Children's drop).
        let _ = r
            .children
            .reap_all(now_ns() + Duration::from_secs(2).as_nanos() as u64);
        debug_assert!(r.workers <= MAX_WORKERS);
    }

    fn opened_ns(&self) -> Option<u64> {
        self.running.as_ref().map(|r| r.opened_ns)
    }
}

/// A worker's whole life: die with the caller, announce itself, serve samples until the pool
/// closes, leave with `_exit`.
fn child(q: &Queue, region: &Region, k: usize, parent: i32, workload: &dyn Erased) -> ! {
    let code = if die_with_parent(parent) {
        q.alive.fetch_add(1, Ordering::AcqRel);
        futex_wake(&q.alive, 1);
        let run = std::panic::AssertUnwindSafe(|| serve_samples(q, region, k, workload));
        match std::panic::catch_unwind(run) {
            Ok(()) => 0,
            Err(payload) => {
                let msg = &crate::exec::panics::text(&*payload);
                crate::exec::panics::store_message(&region.slot(k).message, msg);
                crate::exec::panics::PANIC_EXIT
            }
        }
    } else {
        1
    };
    // SAFETY: `_exit` ends the child at once, without running the parent's atexit handlers
    // or flushing buffers that belong to the parent.
    unsafe { libc::_exit(code) }
}

fn serve_samples(q: &Queue, region: &Region, k: usize, workload: &dyn Erased) {
    let mut seen = 0;
    loop {
        let g = q.generation.load(Ordering::Acquire);
        if g == QUIT {
            return;
        }
        if g == seen {
            futex_wait(&q.generation, g, Some(Duration::from_secs(1)));
            continue;
        }
        seen = g;
        serve_sample(region, k, true, || serve_tasks(q, region, workload));
    }
}

/// Claims and runs tasks until every task of the sample is claimed.
fn serve_tasks(q: &Queue, region: &Region, workload: &dyn Erased) {
    let orders = SampleOrders::read(region, workload);
    let sample = orders.sample();
    let total = q.total.load(Ordering::Acquire);
    let chunk = q.chunk.load(Ordering::Acquire);
    let n = sample.workers;
    loop {
        let c = q.cursor.load(Ordering::Acquire);
        if c >= total {
            return;
        }
        let posted = q.posted.load(Ordering::SeqCst);
        if c >= posted {
            q.idle.fetch_add(1, Ordering::SeqCst);
            if q.posted.load(Ordering::SeqCst) == posted {
                futex_wait(&q.posted, posted, Some(Duration::from_millis(100)));
            }
            q.idle.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        if q.cursor
            .compare_exchange_weak(c, c + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            continue;
        }
        let t = u64::from(c);
        let share = locate(n, t, |s| q.first[s].load(Ordering::Relaxed));
        let j = t - q.first[share].load(Ordering::Relaxed);
        let task = Task {
            share,
            units: task_units(q.units[share].load(Ordering::Relaxed), chunk, j),
            offset: j * chunk,
        };
        let out = run_task(workload, region, sample, task);
        publish(q, c, share, out);
    }
}

/// Puts a result into the ring at the next completion position, waiting while it is full.
fn publish(q: &Queue, task: u32, share: usize, out: Output) {
    let pos = q.completed.fetch_add(1, Ordering::AcqRel);
    loop {
        let read = q.consumed.load(Ordering::SeqCst);
        if (pos as usize) < read as usize + RING {
            break;
        }
        q.full_waiters.fetch_add(1, Ordering::SeqCst);
        if q.consumed.load(Ordering::SeqCst) == read {
            futex_wait(&q.consumed, read, Some(Duration::from_millis(100)));
        }
        q.full_waiters.fetch_sub(1, Ordering::SeqCst);
    }
    let e = &q.ring[pos as usize % RING];
    e.share.store(share as u32, Ordering::Relaxed);
    e.task.store(task, Ordering::Relaxed);
    e.ops.store(out.ops, Ordering::Relaxed);
    e.checksum.store(out.checksum, Ordering::Relaxed);
    e.seq.store(pos + 1, Ordering::SeqCst);
    let written = q.published.fetch_add(1, Ordering::SeqCst) + 1;
    let wants = q.caller_wants.load(Ordering::SeqCst);
    if wants != 0 && written >= wants {
        futex_wake(&q.published, 1);
    }
}

/// Spins on a result slot this many times (well under a microsecond) before sleeping on it.
/// Longer spins cost the pool its speed: with every core busy, a spinning caller shares a
/// core with a worker, and each of its spins is time the worker loses (a 2,000-spin wait took
/// the 2-worker pool from 1.8× to 1.35× sequential on tasks of 10^4 squares here).
const RESULT_SPINS: u32 = 100;

/// Yields of the core before sleeping on a lone outstanding result.
const RESULT_YIELDS: u32 = 16;

/// A caller that sleeps asks to be woken once this many more results are written (fewer
/// when fewer are outstanding): results are then read in bursts, one wake-up per burst,
/// instead of a wake-up per task that puts the caller on a core a worker needs (a wake-up
/// per result made the 2-worker pool's samples 4–12× slower from one sample to the next).
const WAKE_BATCH: u32 = (RING / 2) as u32;

/// Results the caller reads between two wake-ups of the workers that wait for room in the
/// ring.
const FULL_WAKE_BATCH: u32 = (RING / 8) as u32;

/// The caller's side of the queue during one sample.
struct Caller<'a> {
    q: &'a Queue,
    children: &'a mut Children,
    region: &'a Region,
    deadline_ns: u64,
    timeout: Duration,
    read: u32,
    /// Tasks posted so far.
    posted: u32,
}

impl Caller<'_> {
    /// Makes tasks up to `upto` claimable, waking one sleeping worker per new task, no more:
    /// waking every idle worker for each task made submit-wait on 128 workers spend nearly
    /// all its time in the kernel (each wake of 127 sleepers took ~0.3 ms of system time,
    /// and each woken worker went straight back to sleep).
    fn post(&mut self, upto: u32) {
        let new = upto.saturating_sub(self.posted);
        self.posted = upto;
        self.q.posted.store(upto, Ordering::SeqCst);
        let idle = self.q.idle.load(Ordering::SeqCst);
        if idle != 0 {
            futex_wake(&self.q.posted, new.clamp(1, idle) as i32);
        }
    }

    /// The next result in completion order: its task, share and output.
    fn next(&mut self) -> Result<(usize, usize, Output), SampleError> {
        let pos = self.read;
        let e = &self.q.ring[pos as usize % RING];
        let mut spins = 0;
        loop {
            let seq = e.seq.load(Ordering::Acquire);
            if seq == pos + 1 {
                break;
            }
            if spins < RESULT_SPINS {
                spins += 1;
                std::hint::spin_loop();
                continue;
            }
            // Waiting for the one task outstanding (submit-wait), give the core away a few
            // times first: the worker runs at once, and its result is often there when the
            // caller is back, without a wake-up (33 µs per task sleeping, ~1 µs yielding).
            if self.posted - pos <= 1 && spins < RESULT_SPINS + RESULT_YIELDS {
                spins += 1;
                std::thread::yield_now();
                continue;
            }
            // Workers waiting for room in the ring must not wait on a caller that sleeps.
            self.wake_full_waiters();
            let wants = (pos + WAKE_BATCH).min(self.posted).max(pos + 1);
            self.q.caller_wants.store(wants, Ordering::SeqCst);
            let written = self.q.published.load(Ordering::SeqCst);
            if written < wants && e.seq.load(Ordering::SeqCst) == seq {
                futex_wait(&self.q.published, written, Some(Duration::from_millis(10)));
            }
            self.q.caller_wants.store(0, Ordering::SeqCst);
            self.check()?;
        }
        let task = e.task.load(Ordering::Relaxed) as usize;
        let share = e.share.load(Ordering::Relaxed) as usize;
        let out = Output::new(
            e.ops.load(Ordering::Relaxed),
            e.checksum.load(Ordering::Relaxed),
        );
        self.read = pos + 1;
        self.q.consumed.store(self.read, Ordering::SeqCst);
        if self.read % FULL_WAKE_BATCH == 0 {
            self.wake_full_waiters();
        }
        Ok((task, share, out))
    }

    /// Wakes the workers waiting for room in the ring, if any. Each waits for a position of
    /// its own, so all are woken — in batches of [`FULL_WAKE_BATCH`] reads and before the
    /// caller sleeps, never for every read: with a full ring on oversubscribed cores, a wake
    /// of every waiter for each result read made 16 workers do 780,000 futex waits a sample
    /// and spend most of it in the kernel.
    fn wake_full_waiters(&self) {
        if self.q.full_waiters.load(Ordering::SeqCst) != 0 {
            futex_wake(&self.q.consumed, i32::MAX);
        }
    }

    /// Fails the sample when a worker died, the deadline passed or a stop was asked for.
    fn check(&mut self) -> Result<(), SampleError> {
        if let Err(e) = self.children.check_alive() {
            return Err(crate::exec::explain_with_messages(self.region, e));
        }
        if crate::sys::signals::stop_requested() {
            return Err(SampleError::Interrupted);
        }
        if now_ns() >= self.deadline_ns {
            return Err(super::threads::timed_out(self.timeout));
        }
        Ok(())
    }
}

impl Breakable for Running {
    fn broken_mark(&mut self) -> &mut bool {
        &mut self.broken
    }

    fn lose(&mut self) {
        self.children.kill_all();
    }
}

fn sample(r: &mut Running, pattern: Pattern, job: &Job<'_>) -> Result<RawSample, SampleError> {
    if job.workers != r.workers {
        return Err(SampleError::Start("a pool serves one worker count".into()));
    }
    let tasks = Tasks::new(job)?;
    let total = tasks.total() as u32;
    let q = r.queue.get();
    prepare(&r.region, job);
    reset_queue(q, &tasks, job.workers, total);
    let deadline_ns = deadline(job.timeout);
    q.generation.fetch_add(1, Ordering::AcqRel);
    futex_wake(&q.generation, i32::MAX);
    let region = &r.region;
    let children = &mut r.children;
    wait_ready(region, job.workers, deadline_ns, || {
        children
            .check_alive()
            .map_err(|e| crate::exec::explain_with_messages(region, e))
    })?;
    let release_ns = release(region);
    let mut caller = Caller {
        q,
        children,
        region,
        deadline_ns,
        timeout: job.timeout,
        read: 0,
        posted: 0,
    };
    let mut fold = Fold::new(job.workload.as_ref(), job.workers);
    hand_out(&mut caller, pattern, total, &mut fold)?;
    let end_ns = now_ns();
    // Workers asleep on the queue see that every task is claimed and finish the sample.
    futex_wake(&q.posted, i32::MAX);
    for k in 0..job.workers {
        while !crate::exec::worker::wait_done(region.slot(k), now_ns() + 10_000_000) {
            caller.check()?;
        }
    }
    finish(region, job, release_ns, end_ns, fold.outputs(), None)
}

/// The queue made ready for a sample of `total` tasks: each worker's share, every counter
/// at zero, the ring's used slots empty.
fn reset_queue(q: &Queue, tasks: &Tasks, workers: usize, total: u32) {
    q.total.store(total, Ordering::Relaxed);
    q.chunk.store(tasks.chunk(), Ordering::Relaxed);
    for k in 0..workers {
        let (first, units) = tasks.share(k);
        q.first[k].store(first, Ordering::Relaxed);
        q.units[k].store(units, Ordering::Relaxed);
    }
    q.first[workers].store(tasks.total(), Ordering::Relaxed);
    let used = q.completed.load(Ordering::Relaxed) as usize;
    for e in q.ring.iter().take(used.min(RING)) {
        e.seq.store(0, Ordering::Relaxed);
    }
    for word in [
        &q.posted,
        &q.cursor,
        &q.completed,
        &q.consumed,
        &q.published,
        &q.caller_wants,
    ] {
        word.store(0, Ordering::Relaxed);
    }
}

/// The caller's side of a sample: tasks posted and results taken as `pattern` does it.
fn hand_out(
    caller: &mut Caller<'_>,
    pattern: Pattern,
    total: u32,
    fold: &mut Fold<'_>,
) -> Result<(), SampleError> {
    match pattern {
        Pattern::Map => {
            caller.post(total);
            // Results come back in completion order; `map` hands them over in task order,
            // so they are kept until the last one is in.
            let mut ordered = vec![None; total as usize];
            for _ in 0..total {
                let (t, share, out) = caller.next()?;
                if let Some(place) = ordered.get_mut(t) {
                    *place = Some((share, out));
                }
            }
            for (share, out) in ordered.into_iter().flatten() {
                fold.add(share, out);
            }
        }
        Pattern::AsCompleted => {
            caller.post(total);
            for _ in 0..total {
                let (_, share, out) = caller.next()?;
                fold.add(share, out);
            }
        }
        Pattern::SubmitWait => {
            for t in 0..total {
                caller.post(t + 1);
                let (_, share, out) = caller.next()?;
                fold.add(share, out);
            }
        }
    }
    Ok(())
}
