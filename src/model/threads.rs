//! The `threads` model: one OS thread per worker (`std::thread::scope`), the counter variants
//! being a std mutex, a parking_lot mutex, an atomic, a channel to an owner thread, or no lock.

use std::sync::atomic::Ordering;

use crossbeam::channel::{Receiver, bounded};

use super::region::Region;
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

pub fn run(spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    let region = Region::anonymous(spec.workers).map_err(|e| SampleError::Start(e.to_string()))?;
    prepare(&region, spec);
    let Job::Counter {
        variant,
        hold,
        increments,
    } = spec.job
    else {
        return run_with(spec, &region, &NoDatabase, None);
    };
    match variant {
        CounterVariant::StdMutex => run_with(spec, &region, &StdMutexDb::default(), None),
        CounterVariant::ParkingLot => run_with(spec, &region, &ParkingLotDb::default(), None),
        CounterVariant::Atomic => run_with(spec, &region, &AtomicDb::default(), None),
        CounterVariant::NoLock | CounterVariant::Default => {
            run_with(spec, &region, &region.dbs().unlocked, None)
        }
        CounterVariant::Pshared => run_with(spec, &region, &region.dbs().pshared, None),
        CounterVariant::Channel => {
            let (tx, rx) = bounded(CHANNEL_CAPACITY);
            let expected = increments * spec.workers as u64;
            run_with(spec, &region, &ChannelDb(tx), Some((&rx, hold, expected)))
        }
    }
}

type Owner<'a> = Option<(&'a Receiver<()>, Hold, u64)>;

fn run_with<D: Database>(
    spec: &SampleSpec<'_>,
    region: &Region,
    db: &D,
    owner: Owner<'_>,
) -> Result<RawSample, SampleError> {
    let n = spec.workers;
    let deadline_ns = deadline(spec.timeout);
    let empty = spec.job == Job::Empty;
    let workers_done = std::sync::atomic::AtomicBool::new(false);
    let workers_done = &workers_done;
    // Reading and resetting the peak RSS costs more than a thread start: skip it for the
    // empty job, whose memory is not measured.
    let window = (!empty).then(PeakRssWindow::start);
    std::thread::scope(|s| {
        let owner = owner.map(|(rx, hold, expected)| {
            s.spawn(move || (channel_owner(rx, hold, expected, workers_done), now_ns()))
        });
        let mut handles = Vec::with_capacity(n);
        let mut outcome = Ok(());
        for k in 0..n {
            region
                .slot(k)
                .requested_ns
                .store(now_ns(), Ordering::Relaxed);
            let started = std::thread::Builder::new().spawn_scoped(s, move || {
                let t = now_ns();
                super::worker::serve(region, k, t, db, false);
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
            outcome = wait_ready(region, handles.len(), deadline_ns, || Ok(()));
        }
        // Always open the barrier: a thread cannot be killed, only let go.
        let release_ns = release(region);
        let mut joined = Vec::with_capacity(n);
        for (k, h) in handles.into_iter().enumerate() {
            if let Err(payload) = h.join()
                && outcome.is_ok()
            {
                outcome = Err(SampleError::WorkerFailed(format!(
                    "worker thread {k} panicked: {}",
                    super::fault::payload_text(&*payload)
                )));
            }
            joined.push(now_ns());
        }
        workers_done.store(true, Ordering::Release);
        let owner_result = owner.map(|h| h.join());
        outcome?;
        let rss_growth_bytes = window.and_then(|w| w.growth_bytes());
        super::check_done(region, n)?;
        let mut workers = collect(region, n);
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
    })
}
