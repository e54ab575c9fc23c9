//! The `threads` model: one OS thread per worker, started with `pthread_create` itself
//! (`sys::thread`), so that a worker's start-up is the system's and not std's additions.
//! Threads share the sample's region and the workload through `Arc`s, so that one
//! that hangs past the deadline can be let go (detached) while the run goes on: a thread
//! cannot be killed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::region::Region;
use super::worker::{finish, serve, share_ended, wait_done};
use super::{Executor, Job, RawSample, SampleError, deadline, prepare, release, wait_ready};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;
use crate::sys::thread::Thread;

/// Per-sample threads, and the region of the last sample, taken again by the next one of
/// the same shape once no thread of it holds it any more: mapping a fresh region before each
/// sample (and unmapping the last) made a thread's start 4-5 us slower on the AMD EPYC VM,
/// a quarter of the start itself.
#[derive(Default)]
pub struct Threads {
    kept: Option<(Arc<Region>, Shape)>,
}

/// What a region is made for: workers, and the workload's shared size and alignment.
type Shape = (usize, usize, usize);

impl Threads {
    /// The kept region if it fits `job` and no thread holds it (one let go at an earlier
    /// deadline may), else a new one; kept for the next sample.
    fn region(&mut self, job: &Job<'_>) -> Result<Arc<Region>, SampleError> {
        let info = job.workload.info();
        let shape = (job.workers, info.shared_size, info.shared_align);
        let region = match self.kept.take() {
            Some((r, kept)) if kept == shape && Arc::strong_count(&r) == 1 => r,
            _ => Arc::new(job.region_anonymous()?),
        };
        self.kept = Some((region.clone(), shape));
        Ok(region)
    }
}

impl Executor for Threads {
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let region = self.region(job)?;
        prepare(&region, job);
        let n = job.workers;
        let deadline_ns = deadline(job.timeout);
        let start_only = job.start_only();
        // Reading and resetting the peak RSS costs more than a thread start: skip it for a
        // start-only workload, whose memory is not measured.
        let window = (!start_only).then(PeakRssWindow::start);
        let mut handles: Vec<Thread<Result<(), String>>> = Vec::with_capacity(n);
        let mut outcome = Ok(());
        for k in 0..n {
            region
                .slot(k)
                .requested_ns
                .store(now_ns(), Ordering::Relaxed);
            let (region, workload) = (region.clone(), job.workload.clone());
            let started = crate::sys::thread::spawn(move || {
                let t = now_ns();
                let run = std::panic::AssertUnwindSafe(|| {
                    serve(&region, k, t, workload.as_ref(), false, false)
                });
                std::panic::catch_unwind(run).map_err(|payload| {
                    // Done, though failed: the parent and the other workers must not wait for
                    // this one any longer.
                    share_ended(region.header());
                    finish(region.slot(k));
                    super::panics::text(&*payload)
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
        if outcome.is_ok() && !start_only {
            outcome = wait_ready(&region, handles.len(), deadline_ns, || Ok(()));
        }
        // Always open the barrier: a thread cannot be killed, only let go.
        let release_ns = match outcome {
            Err(SampleError::Start(_)) => release_short(&region, &handles, n),
            _ => release(&region),
        };
        let mut joined = Vec::with_capacity(n);
        for (k, h) in handles.into_iter().enumerate() {
            // Once a worker failed the sample is lost: the rest are let go rather than waited
            // for (one may wait on the failed worker's share; the workload's teardown, which
            // follows, releases it).
            if outcome.is_err() {
                break;
            }
            // A real job is waited for up to the deadline first (the worker's end time is taken
            // before it signals, so the wait costs its throughput nothing); a start-only worker
            // is polled, then joined at once, as a roundtrip measures — up to the deadline too.
            let done = if start_only {
                super::worker::poll_done(region.slot(k), deadline_ns)
            } else {
                wait_done(region.slot(k), deadline_ns)
            };
            if !done {
                // This thread and the rest are left running, detached; the Arcs keep what
                // they use alive. A hung thread costs the run one thread, not the rest of it.
                return Err(if crate::sys::signals::stop_requested() {
                    SampleError::Interrupted
                } else {
                    SampleError::WorkerFailed(format!(
                        "timed out after {:.1} s: worker thread {k} did not finish and was left \
                         running detached (a thread cannot be killed; --case-timeout)",
                        job.timeout.as_secs_f64()
                    ))
                });
            }
            let why = match h.join() {
                Ok(Ok(())) => None,
                Ok(Err(msg)) => Some(format!("worker thread {k} panicked: {msg}")),
                Err(_) => Some(format!("worker thread {k} panicked")),
            };
            if let (Some(why), true) = (why, outcome.is_ok()) {
                outcome = Err(SampleError::WorkerFailed(why));
            }
            joined.push(now_ns());
        }
        outcome?;
        let rss_growth_bytes = window.and_then(|w| w.growth_bytes());
        super::finish_in_process(&region, job, release_ns, joined, rss_growth_bytes)
    }
}

/// Opens the barrier of a sample that could not start all its `n` threads, and waits (at
/// most 2 s) for those that did: the shares no thread took are over before they began, so
/// they wait for no one, and they are gone before the next sample — a limit on threads that
/// stopped this one would stop the next too. A thread that does not end in time is let go.
fn release_short<T>(region: &Region, started: &[Thread<T>], n: usize) -> u64 {
    for _ in started.len()..n {
        share_ended(region.header());
    }
    let release_ns = release(region);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while started.iter().any(|h| !h.is_finished()) && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    release_ns
}
