//! The `threads` model: one OS thread per worker, the counter variants being a std mutex, a
//! parking_lot mutex, an atomic, a channel to an owner thread, or no lock. Threads share the
//! sample's state through `Arc`s, so that one that hangs past the deadline can be let go
//! (detached) while the run goes on: a thread cannot be killed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam::channel::{Receiver, bounded};

use super::region::Region;
use super::worker::{finish, serve, wait_done};
use super::{RawSample, SampleError, SampleSpec, collect, deadline, prepare, release, wait_ready};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;
use crate::workload::counter::{
    AtomicDb, ChannelDb, Database, NoDatabase, ParkingLotDb, StdMutexDb, channel_owner,
};
use crate::workload::{CounterVariant, Hold, Job};

/// Messages the `channel` variant's queue holds before senders block: enough that the owner
/// never idles while workers are sending, small enough to stay in cache.
const CHANNEL_CAPACITY: usize = 1024;

/// The region's unlocked counter, reached through the shared region.
struct RegionUnlocked(Arc<Region>);
/// The region's futex-locked counter, reached through the shared region.
struct RegionPshared(Arc<Region>);

impl Database for RegionUnlocked {
    fn increment(&self, hold: Hold) {
        self.0.dbs().unlocked.increment(hold)
    }
    fn value(&self) -> u64 {
        self.0.dbs().unlocked.value()
    }
}

impl Database for RegionPshared {
    fn increment(&self, hold: Hold) {
        self.0.dbs().pshared.increment(hold)
    }
    fn value(&self) -> u64 {
        self.0.dbs().pshared.value()
    }
}

pub fn run(spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    let region = Region::anonymous(spec.workers).map_err(|e| SampleError::Start(e.to_string()))?;
    prepare(&region, spec);
    let region = Arc::new(region);
    let Job::Counter {
        variant,
        hold,
        increments,
    } = spec.job
    else {
        return run_with(spec, region, Arc::new(NoDatabase), None);
    };
    match variant {
        CounterVariant::StdMutex => run_with(spec, region, Arc::new(StdMutexDb::default()), None),
        CounterVariant::ParkingLot => {
            run_with(spec, region, Arc::new(ParkingLotDb::default()), None)
        }
        CounterVariant::Atomic => run_with(spec, region, Arc::new(AtomicDb::default()), None),
        CounterVariant::NoLock | CounterVariant::Default => {
            let db = Arc::new(RegionUnlocked(region.clone()));
            run_with(spec, region, db, None)
        }
        CounterVariant::Pshared => {
            let db = Arc::new(RegionPshared(region.clone()));
            run_with(spec, region, db, None)
        }
        CounterVariant::Channel => {
            let (tx, rx) = bounded(CHANNEL_CAPACITY);
            let expected = increments * spec.workers as u64;
            run_with(
                spec,
                region,
                Arc::new(ChannelDb(tx)),
                Some((rx, hold, expected)),
            )
        }
    }
}

type Owner = Option<(Receiver<()>, Hold, u64)>;

fn run_with<D: Database + Send + 'static>(
    spec: &SampleSpec<'_>,
    region: Arc<Region>,
    db: Arc<D>,
    owner: Owner,
) -> Result<RawSample, SampleError> {
    let n = spec.workers;
    let deadline_ns = deadline(spec.timeout);
    let empty = spec.job == Job::Empty;
    let workers_done = Arc::new(AtomicBool::new(false));
    // Reading and resetting the peak RSS costs more than a thread start: skip it for the
    // empty job, whose memory is not measured.
    let window = (!empty).then(PeakRssWindow::start);
    let owner: Option<JoinHandle<(u64, u64)>> = owner.map(|(rx, hold, expected)| {
        let done = workers_done.clone();
        std::thread::spawn(move || (channel_owner(&rx, hold, expected, &done), now_ns()))
    });
    let mut handles: Vec<JoinHandle<Result<(), String>>> = Vec::with_capacity(n);
    let mut outcome = Ok(());
    for k in 0..n {
        region
            .slot(k)
            .requested_ns
            .store(now_ns(), Ordering::Relaxed);
        let (region, db) = (region.clone(), db.clone());
        let started = std::thread::Builder::new().spawn(move || {
            let t = now_ns();
            let run = std::panic::AssertUnwindSafe(|| serve(&region, k, t, &*db, false));
            std::panic::catch_unwind(run).map_err(|payload| {
                // Done, though failed: the parent must not wait for this one any longer.
                finish(region.slot(k));
                super::fault::payload_text(&*payload).to_string()
            })
        });
        match started {
            Ok(h) => handles.push(h),
            Err(e) => {
                outcome = Err(SampleError::Start(format!("thread spawn failed: {e}")));
                break;
            }
        }
    }
    if outcome.is_ok() && !empty {
        outcome = wait_ready(&region, handles.len(), deadline_ns, || Ok(()));
    }
    // Always open the barrier: a thread cannot be killed, only let go.
    let release_ns = release(&region);
    let mut joined = Vec::with_capacity(n);
    let mut handles = handles.into_iter().enumerate();
    for (k, h) in handles.by_ref() {
        // An empty job cannot hang, and its join is what a roundtrip measures: join at once.
        // A real job is waited for up to the deadline first (the worker's end time is taken
        // before it signals, so the wait costs its throughput nothing).
        if !empty && !wait_done(region.slot(k), deadline_ns) {
            // This thread and the rest are left running, detached; the Arcs keep what they
            // use alive. A hung thread costs the run one thread, not the rest of the run.
            workers_done.store(true, Ordering::Release);
            return Err(if crate::signals::stop_requested() {
                SampleError::Interrupted
            } else {
                SampleError::WorkerFailed(format!(
                    "timed out after {:.1} s: worker thread {k} did not finish and was left \
                     running detached (a thread cannot be killed; --case-timeout)",
                    spec.timeout.as_secs_f64()
                ))
            });
        }
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(msg)) if outcome.is_ok() => {
                outcome = Err(SampleError::WorkerFailed(format!(
                    "worker thread {k} panicked: {msg}"
                )));
            }
            Err(_) if outcome.is_ok() => {
                outcome = Err(SampleError::WorkerFailed(format!(
                    "worker thread {k} panicked"
                )));
            }
            _ => {}
        }
        joined.push(now_ns());
    }
    workers_done.store(true, Ordering::Release);
    let owner_result = owner.map(|h| h.join());
    outcome?;
    let rss_growth_bytes = window.and_then(|w| w.growth_bytes());
    super::check_done(&region, n)?;
    let mut workers = collect(&region, n);
    for (w, j) in workers.iter_mut().zip(joined) {
        w.joined_ns = j;
    }
    let (counter_final, owner_end_ns) = match owner_result {
        Some(Ok((value, end))) => (value, end),
        Some(Err(_)) => {
            return Err(SampleError::WorkerFailed(
                "the channel's owner thread panicked".into(),
            ));
        }
        None => (db.value(), 0),
    };
    Ok(RawSample {
        release_ns,
        workers,
        counter_final: Some(counter_final),
        rss_growth_bytes,
        owner_end_ns,
    })
}
