//! The `sequential` model: one thread runs every worker's share, one after another — the
//! one-core baseline that speedups are measured against. It is a thread of its own, not the
//! calling one, so that the harness still honours `--case-timeout` and Ctrl-C while it runs.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::worker::{finish, serve, wait_done};
use super::{Executor, Job, RawSample, SampleError, deadline};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;

/// How long the thread rests before each share, outside every window: each share then starts
/// as a worker released from the barrier does — its core left idle a moment — instead of
/// straight after the last share's run of the same code. On the AMD EPYC VM a CPU-bound loop
/// runs its first call after other code or an idle core 1.1–1.4× slower than the call right
/// after it (`scripts/c/first_call.c`), so that with no rest, 8 and 64 shares came out 3–9%
/// faster than one (`scripts/sequential-shares.sh`, `results/sequential-shares/`).
pub const SHARE_NAP: std::time::Duration = std::time::Duration::from_millis(1);

/// Every share on one thread.
pub struct Sequential;

impl Executor for Sequential {
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let region = Arc::new(job.region_anonymous()?);
        super::prepare(&region, job);
        // The one thread never waits for others: the barrier is open from the start.
        region.header().release.store(1, Ordering::Release);
        let n = job.workers;
        let deadline_ns = deadline(job.timeout);
        let window = PeakRssWindow::start();
        let release_ns = now_ns();
        let (r, workload) = (region.clone(), job.workload.clone());
        let runner = std::thread::Builder::new()
            .spawn(move || {
                let mut joined = Vec::with_capacity(n);
                for k in 0..n {
                    std::thread::sleep(SHARE_NAP);
                    r.slot(k).requested_ns.store(now_ns(), Ordering::Relaxed);
                    let run = std::panic::AssertUnwindSafe(|| {
                        serve(&r, k, now_ns(), workload.as_ref(), false, true)
                    });
                    if let Err(payload) = std::panic::catch_unwind(run) {
                        // Done, though failed: the parent must not wait for the rest.
                        for rest in k..n {
                            finish(r.slot(rest));
                        }
                        return Err(super::panics::text(&*payload));
                    }
                    joined.push(now_ns());
                }
                Ok(joined)
            })
            .map_err(|e| SampleError::Start(format!("thread spawn failed: {e}")))?;
        for k in 0..n {
            if !wait_done(region.slot(k), deadline_ns) {
                // The thread is let go, detached; the Arcs keep what it uses alive.
                return Err(if crate::sys::signals::stop_requested() {
                    SampleError::Interrupted
                } else {
                    SampleError::WorkerFailed(format!(
                        "timed out after {:.1} s: the sequential thread did not finish worker \
                         {k}'s share and was left running detached (--case-timeout)",
                        job.timeout.as_secs_f64()
                    ))
                });
            }
        }
        let joined = match runner.join() {
            Ok(Ok(joined)) => joined,
            Ok(Err(msg)) => {
                return Err(SampleError::WorkerFailed(format!(
                    "worker panicked on the sequential thread: {msg}"
                )));
            }
            Err(_) => {
                return Err(SampleError::WorkerFailed(
                    "the sequential thread panicked".into(),
                ));
            }
        };
        let rss_growth_bytes = window.growth_bytes();
        let mut raw = super::finish_in_process(&region, job, release_ns, joined, rss_growth_bytes)?;
        raw.serial = true;
        Ok(raw)
    }
}
