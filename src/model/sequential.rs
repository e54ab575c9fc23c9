//! The `sequential` model: the calling thread runs every worker's share, one after another.
//! The one-core baseline that speedups are measured against.

use std::sync::atomic::Ordering;

use super::region::Region;
use super::{RawSample, SampleError, SampleSpec, collect, prepare, worker};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;

pub fn run(spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    let region = Region::anonymous(spec.workers).map_err(|e| SampleError::Start(e.to_string()))?;
    prepare(&region, spec);
    // The one thread never waits for others: the barrier is open from the start.
    region.header().release.store(1, Ordering::Release);
    let saved = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok();
    // The sequential model's "counter" is a plain value touched by one thread.
    let db = &region.dbs().unlocked;
    let window = PeakRssWindow::start();
    let release_ns = now_ns();
    let mut joined = Vec::with_capacity(spec.workers);
    for k in 0..spec.workers {
        region
            .slot(k)
            .requested_ns
            .store(now_ns(), Ordering::Relaxed);
        worker::serve(&region, k, now_ns(), db, false);
        joined.push(now_ns());
    }
    let rss_growth_bytes = window.growth_bytes();
    if let Some(set) = saved {
        // Undo the pinning `serve` applied to the calling thread.
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
    super::check_done(&region, spec.workers)?;
    let mut workers = collect(&region, spec.workers);
    for (w, j) in workers.iter_mut().zip(joined) {
        w.joined_ns = j;
    }
    Ok(RawSample {
        release_ns,
        workers,
        counter_final: Some(super::worker_db_value(&region, spec)),
        rss_growth_bytes,
        owner_end_ns: 0,
    })
}
