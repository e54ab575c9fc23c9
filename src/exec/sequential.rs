//! The `sequential` model: the calling thread runs every worker's share, one after another.
//! The one-core baseline that speedups are measured against.

use std::sync::atomic::Ordering;

use super::{Executor, Job, RawSample, SampleError, prepare, worker};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;

/// Every share on the calling thread.
pub struct Sequential;

impl Executor for Sequential {
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let region = job.region_anonymous()?;
        prepare(&region, job);
        // The one thread never waits for others: the barrier is open from the start.
        region.header().release.store(1, Ordering::Release);
        let saved = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok();
        let window = PeakRssWindow::start();
        let release_ns = now_ns();
        let mut joined = Vec::with_capacity(job.workers);
        let run = std::panic::AssertUnwindSafe(|| {
            for k in 0..job.workers {
                region
                    .slot(k)
                    .requested_ns
                    .store(now_ns(), Ordering::Relaxed);
                worker::serve(&region, k, now_ns(), job.workload.as_ref(), false);
                joined.push(now_ns());
            }
        });
        let outcome = std::panic::catch_unwind(run);
        let rss_growth_bytes = window.growth_bytes();
        if let Some(set) = saved {
            // Undo the pinning `serve` applied to the calling thread.
            let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
        }
        if let Err(payload) = outcome {
            return Err(SampleError::WorkerFailed(format!(
                "worker panicked on the calling thread: {}",
                super::fault::payload_text(&*payload)
            )));
        }
        super::finish_in_process(&region, job, release_ns, joined, rss_growth_bytes)
    }
}
