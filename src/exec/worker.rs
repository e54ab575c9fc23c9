//! The worker's side of every model: wait at the barrier, run the workload's share, record
//! the result. Allocation-free and lock-free apart from the workload's own code, so a forked
//! child can run it.

use std::sync::atomic::Ordering;

use super::panics;
use super::region::{Header, Region, STATE_DONE, STATE_STARTED, STATE_WAITER, Slot};
use super::testing::Fault;
use crate::api::workload::{Erased, Orders, SampleOf};
use crate::measure::clock::now_ns;
use crate::measure::probe::probe_ns;
use crate::measure::sched::Counters;
use crate::sys::futex::{futex_wait, futex_wake};

/// Spins on the release flag this many times before sleeping on its futex: a released
/// worker that is still spinning starts within nanoseconds instead of a wake-up latency.
const RELEASE_SPINS: u32 = 2_000;

/// What a slot's private-bytes field holds when `/proc` could not be read: the figure is then
/// left out, never reported as 0.
pub const UNREADABLE: u64 = u64::MAX;

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
pub(crate) fn wait_for_release(h: &Header) {
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

/// The longest a worker whose share ended waits for the others' before its bookkeeping: a
/// worker that died or hangs lets the rest go on, and a share longer than this dwarfs the
/// bookkeeping anyway.
const CLOSE_WAIT_NS: u64 = 1_000_000_000;

/// Counts one share of the sample as ended (or failed); the last one opens the way for every
/// worker waiting in [`wait_window_closed`].
pub(crate) fn share_ended(h: &Header) {
    let n = h.workers.load(Ordering::Relaxed);
    if h.ended.fetch_add(1, Ordering::AcqRel) + 1 >= n {
        h.closed.store(1, Ordering::Release);
        futex_wake(&h.closed, i32::MAX);
    }
}

/// After this worker's share: counts it ended and waits until every share has (at most
/// [`CLOSE_WAIT_NS`]). The probe after the share and the memory reading then never run while
/// another worker's share, and so the sample's window, is still open — on oversubscribed
/// cores they would take its CPU.
pub(crate) fn wait_window_closed(h: &Header) {
    share_ended(h);
    let until = now_ns() + CLOSE_WAIT_NS;
    while h.closed.load(Ordering::Acquire) == 0 {
        let now = now_ns();
        if now >= until {
            return;
        }
        futex_wait(
            &h.closed,
            0,
            Some(std::time::Duration::from_nanos(until - now)),
        );
    }
}

/// Marks the worker's first instruction in its slot.
pub fn mark_started(slot: &Slot, started_ns: u64) {
    slot.started_ns.store(started_ns, Ordering::Release);
    slot.state.fetch_or(STATE_STARTED, Ordering::AcqRel);
}

/// Worker `index`'s whole life after its first instruction at `started_ns`: record the start,
/// pin, wait at the barrier, run its share, wait for every share to end, record the result. A
/// start-only workload skips the barriers: it exists to measure start and stop alone.
/// `own_process` adds the private-memory reading; `serial` (one thread runs every share in
/// turn) skips the wait for the others, which run after it.
pub fn serve(
    region: &Region,
    index: usize,
    started_ns: u64,
    workload: &dyn Erased,
    own_process: bool,
    serial: bool,
) {
    let slot = region.slot(index);
    mark_started(slot, started_ns);
    let h = region.header();
    let params = region.params();
    let orders = Orders {
        index,
        units: slot.units.load(Ordering::Relaxed),
        offset: 0,
        sample: SampleOf {
            workers: h.workers.load(Ordering::Relaxed) as usize,
            variant: h.variant.load(Ordering::Relaxed) as usize,
            params: &params[..workload.info().params.len()],
        },
    };
    let start_only = workload.info().start_only;
    if !start_only {
        pin_to(slot.cpu.load(Ordering::Relaxed));
        // This core's speed just before the share, and below just after: the reference a
        // comparison divides by, taken where the work runs.
        slot.probe_before_ns.store(probe_ns(), Ordering::Relaxed);
        Counters::store(Counters::now(), &slot.sched_before);
        wait_for_release(h);
        Fault::from_code(slot.fault.load(Ordering::Relaxed)).strike(index);
    }
    let begin = now_ns();
    let out = counted_share(workload, region.shared(), &orders);
    let end = now_ns();
    slot.begin_ns.store(begin, Ordering::Relaxed);
    slot.end_ns.store(end, Ordering::Relaxed);
    slot.checksum.store(out.checksum, Ordering::Relaxed);
    slot.ops.store(out.ops, Ordering::Release);
    if !start_only && !serial {
        wait_window_closed(h);
    }
    if !start_only {
        Counters::store(Counters::now(), &slot.sched_after);
        slot.probe_after_ns.store(probe_ns(), Ordering::Relaxed);
    }
    if own_process && !start_only {
        let private = crate::measure::rss::private_bytes_self().unwrap_or(UNREADABLE);
        slot.private_bytes.store(private, Ordering::Relaxed);
    }
    finish(slot);
}

/// A worker's share: the one function every model runs a share through, so that
/// `run --instructions` counts exactly it (callgrind toggles collection on entering it, by
/// name — hence never inlined, and no closure inside that would match the name too).
#[inline(never)]
pub fn counted_share(
    workload: &dyn Erased,
    area: crate::sys::shared::SharedArea<'_>,
    orders: &Orders<'_>,
) -> crate::api::workload::Output {
    super::panics::user_code(|| super::testing::run_share(workload, area, orders))
}

/// Marks the slot done and wakes a parent that sleeps on it (only then: a system call).
pub fn finish(slot: &Slot) {
    if slot.state.fetch_or(STATE_DONE, Ordering::AcqRel) & STATE_WAITER != 0 {
        futex_wake(&slot.state, 1);
    }
}

/// Polls (yielding) until worker `slot` is done or `deadline_ns` passed; true when done. For a
/// start-only worker, whose join is what a roundtrip measures: no sleep and wake-up between
/// its end and the join, yet a deadline for a user's start-only code that never returns.
pub fn poll_done(slot: &Slot, deadline_ns: u64) -> bool {
    loop {
        if slot.state.load(Ordering::Acquire) & STATE_DONE != 0 {
            return true;
        }
        if now_ns() >= deadline_ns || crate::sys::signals::stop_requested() {
            return false;
        }
        std::thread::yield_now();
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
        if now >= deadline_ns || crate::sys::signals::stop_requested() {
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

/// A process worker's entry. Returns the exit code: 0, or [`panics::PANIC_EXIT`] with the
/// panic's message left in the slot for the parent. A panic never unwinds into the code the
/// child shares with its parent.
pub fn serve_process(region: &Region, index: usize, started_ns: u64, workload: &dyn Erased) -> i32 {
    let run =
        std::panic::AssertUnwindSafe(|| serve(region, index, started_ns, workload, true, false));
    match std::panic::catch_unwind(run) {
        Ok(()) => 0,
        Err(payload) => {
            panics::store_message(&region.slot(index).message, &super::panics::text(&*payload));
            // The other workers must not wait for this share.
            share_ended(region.header());
            panics::PANIC_EXIT
        }
    }
}
