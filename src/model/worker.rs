//! The worker's side of every model: wait at the barrier, run the job, record the result.
//! Allocation-free and lock-free apart from the job's own lock, so a forked child can run it.

use std::sync::atomic::Ordering;

use super::fault::{self, Fault};
use super::region::{Header, Region, STATE_DONE, STATE_STARTED, STATE_WAITER, Slot};
use crate::measure::clock::now_ns;
use crate::sync::{futex_wait, futex_wake};
use crate::workload::counter::{Database, NoDatabase, run_increments};
use crate::workload::{CounterVariant, Job, square};

/// Spins on the release flag this many times before sleeping on its futex: a released
/// worker that is still spinning starts within nanoseconds instead of a wake-up latency.
const RELEASE_SPINS: u32 = 2_000;

/// Pins the calling thread to `cpu` (no-op for a negative value). Allocation-free.
pub fn pin_to(cpu: i32) {
    if cpu < 0 {
        return;
    }
    let mut set = nix::sched::CpuSet::new();
    if set.set(cpu as usize).is_ok() {
        // A CPU that went away since the plan was made leaves the worker unpinned.
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
}

/// Signals readiness and sleeps until the parent releases every worker together.
fn wait_for_release(h: &Header) {
    h.ready.fetch_add(1, Ordering::AcqRel);
    futex_wake(&h.ready, 1);
    let mut spins = 0;
    while h.release.load(Ordering::Acquire) == 0 {
        if spins < RELEASE_SPINS {
            spins += 1;
            std::hint::spin_loop();
        } else {
            futex_wait(&h.release, 0, None);
        }
    }
}

/// Runs `job` and returns its checksum.
#[inline]
pub fn run_job<D: Database + ?Sized>(job: Job, db: &D) -> u64 {
    match job {
        Job::Empty => 0,
        Job::Square { work, tasks } => square::run_tasks(work, tasks),
        Job::Counter {
            increments, hold, ..
        } => {
            run_increments(db, increments, hold);
            0
        }
    }
}

/// Worker `index`'s whole life after its first instruction at `started_ns`: record the start,
/// pin, wait at the barrier, run, record the result. An empty job skips the barrier: it exists
/// to measure start and stop alone. `own_process` adds the private-memory reading.
pub fn serve<D: Database + ?Sized>(
    region: &Region,
    index: usize,
    started_ns: u64,
    db: &D,
    own_process: bool,
) {
    let slot = region.slot(index);
    slot.started_ns.store(started_ns, Ordering::Release);
    slot.state.fetch_or(STATE_STARTED, Ordering::AcqRel);
    let Some(job) = slot.job() else {
        return;
    };
    if job != Job::Empty {
        pin_to(slot.cpu.load(Ordering::Relaxed));
        wait_for_release(region.header());
        Fault::from_code(slot.fault.load(Ordering::Relaxed)).strike(index);
        let begin = now_ns();
        let checksum = run_job(job, db);
        let end = now_ns();
        record(slot, begin, end, checksum, job.ops());
        if own_process {
            slot.private_bytes
                .store(crate::measure::rss::private_bytes_self(), Ordering::Relaxed);
        }
    }
    finish(slot);
}

/// Marks the slot done and wakes a parent that sleeps on it (only then: a system call).
pub fn finish(slot: &Slot) {
    if slot.state.fetch_or(STATE_DONE, Ordering::AcqRel) & STATE_WAITER != 0 {
        futex_wake(&slot.state, 1);
    }
}

/// Sleeps until worker `slot` is done or `deadline_ns` passed; true when done.
pub fn wait_done(slot: &Slot, deadline_ns: u64) -> bool {
    loop {
        let s = slot.state.load(Ordering::Acquire);
        if s & STATE_DONE != 0 {
            return true;
        }
        let now = now_ns();
        if now >= deadline_ns || crate::signals::stop_requested() {
            return false;
        }
        if s & STATE_WAITER == 0 {
            let _ = slot.state.compare_exchange(
                s,
                s | STATE_WAITER,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            continue;
        }
        let nap = std::time::Duration::from_nanos((deadline_ns - now).min(50_000_000));
        futex_wait(&slot.state, s, Some(nap));
    }
}

fn record(slot: &Slot, begin: u64, end: u64, checksum: u64, ops: u64) {
    slot.begin_ns.store(begin, Ordering::Relaxed);
    slot.end_ns.store(end, Ordering::Relaxed);
    slot.checksum.store(checksum, Ordering::Relaxed);
    slot.ops.store(ops, Ordering::Release);
}

/// A process worker's entry: the database it increments is the one in the shared region.
/// Returns the exit code: 0, or [`fault::PANIC_EXIT`] with the panic's message left in the
/// slot for the parent. A panic never unwinds into the code the child shares with its parent.
pub fn serve_process(region: &Region, index: usize, started_ns: u64) -> i32 {
    let run = std::panic::AssertUnwindSafe(|| serve_process_inner(region, index, started_ns));
    match std::panic::catch_unwind(run) {
        Ok(()) => 0,
        Err(payload) => {
            fault::store_message(&region.slot(index).message, fault::payload_text(&*payload));
            fault::PANIC_EXIT
        }
    }
}

fn serve_process_inner(region: &Region, index: usize, started_ns: u64) {
    let db: &dyn Database = match region.slot(index).job() {
        Some(Job::Counter {
            variant: CounterVariant::NoLock,
            ..
        }) => &region.dbs().unlocked,
        Some(Job::Counter { .. }) => &region.dbs().pshared,
        _ => &NoDatabase,
    };
    serve(region, index, started_ns, db, true);
}
