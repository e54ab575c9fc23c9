//! `thread-pool`: persistent threads fed through a crossbeam channel. The caller sends task
//! messages down one channel that every worker receives from, and takes results from another.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::{
    Breakable, Fold, SampleOrders, Task, Tasks, broken, finish, guarded, run_task, serve_sample,
};
use crate::api::model::Pattern;
use crate::api::workload::WorkloadRef;
use crate::exec::region::Region;
use crate::exec::{Executor, Job, RawSample, SampleError, deadline, prepare, release, wait_ready};
use crate::measure::clock::now_ns;
use crate::measure::rss::PeakRssWindow;
use crate::sys::futex::{futex_wait, futex_wake};

enum Msg {
    Task {
        t: u64,
        task: Task,
    },
    /// The sample is over: the worker that takes this leaves its task loop.
    EndSample,
}

/// A result, or why a worker died.
type Done = Result<(u64, usize, crate::api::workload::Output), String>;

/// The workers' wake-up word: bumped for every sample; `QUIT` closes the pool.
struct Control {
    generation: AtomicU32,
}

const QUIT: u32 = u32::MAX;

struct Running {
    region: Arc<Region>,
    control: Arc<Control>,
    tasks: Sender<Msg>,
    results: Receiver<Done>,
    handles: Vec<JoinHandle<()>>,
    opened_ns: u64,
    broken: bool,
}

/// Persistent threads fed through a channel.
pub struct ThreadPool {
    pattern: Pattern,
    running: Option<Running>,
}

impl ThreadPool {
    pub fn new(pattern: Pattern) -> ThreadPool {
        ThreadPool {
            pattern,
            running: None,
        }
    }
}

/// One pool thread: sleeps until a sample, serves it, sleeps again until the pool closes.
fn worker(
    k: usize,
    region: Arc<Region>,
    control: Arc<Control>,
    workload: WorkloadRef,
    tasks: Receiver<Msg>,
    results: Sender<Done>,
) {
    let mut seen = 0;
    loop {
        let g = control.generation.load(Ordering::Acquire);
        if g == QUIT {
            return;
        }
        if g == seen {
            futex_wait(&control.generation, g, None);
            continue;
        }
        seen = g;
        let serve = std::panic::AssertUnwindSafe(|| {
            serve_sample(&region, k, false, || {
                let orders = SampleOrders::read(&region, workload.as_ref());
                let sample = orders.sample();
                while let Ok(Msg::Task { t, task }) = tasks.recv() {
                    let out = run_task(workload.as_ref(), &region, sample, task);
                    if results.send(Ok((t, task.share, out))).is_err() {
                        return;
                    }
                }
            })
        });
        if let Err(payload) = std::panic::catch_unwind(serve) {
            let why = crate::exec::panics::text(&*payload);
            let _ = results.send(Err(format!("pool thread {k} panicked: {why}")));
            crate::exec::worker::finish(region.slot(k));
            return;
        }
    }
}

impl Executor for ThreadPool {
    fn open(&mut self, job: &Job<'_>) -> Result<(), SampleError> {
        let t0 = now_ns();
        let region = Arc::new(job.region_anonymous()?);
        let control = Arc::new(Control {
            generation: AtomicU32::new(0),
        });
        let (task_tx, task_rx) = unbounded();
        let (done_tx, done_rx) = unbounded();
        let (up_tx, up_rx) = unbounded::<()>();
        let mut handles = Vec::with_capacity(job.workers);
        for k in 0..job.workers {
            let (region, control, workload) =
                (region.clone(), control.clone(), job.workload.clone());
            let (rx, tx, up) = (task_rx.clone(), done_tx.clone(), up_tx.clone());
            let h = std::thread::Builder::new()
                .name(format!("thread-pool-{k}"))
                .spawn(move || {
                    let _ = up.send(());
                    worker(k, region, control, workload, rx, tx)
                })
                .map_err(|e| SampleError::Start(format!("cannot start a pool thread: {e}")))?;
            handles.push(h);
        }
        // Open once every thread runs: that is the pool's start-up.
        for _ in 0..job.workers {
            up_rx
                .recv_timeout(job.timeout)
                .map_err(|_| SampleError::Start("a pool thread did not start".into()))?;
        }
        self.running = Some(Running {
            region,
            control,
            tasks: task_tx,
            results: done_rx,
            handles,
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
        let Some(r) = self.running.take() else { return };
        r.control.generation.store(QUIT, Ordering::Release);
        futex_wake(&r.control.generation, i32::MAX);
        for _ in &r.handles {
            let _ = r.tasks.send(Msg::EndSample);
        }
        drop(r.tasks);
        if r.broken {
            // A thread may hang in a workload: it cannot be killed, only let go.
            return;
        }
        for h in r.handles {
            let _ = h.join();
        }
    }

    fn opened_ns(&self) -> Option<u64> {
        self.running.as_ref().map(|r| r.opened_ns)
    }
}

impl Breakable for Running {
    fn broken_mark(&mut self) -> &mut bool {
        &mut self.broken
    }
}

fn sample(r: &mut Running, pattern: Pattern, job: &Job<'_>) -> Result<RawSample, SampleError> {
    let tasks = Tasks::new(job)?;
    let n = job.workers;
    prepare(&r.region, job);
    let deadline_ns = deadline(job.timeout);
    let window = PeakRssWindow::start();
    r.control.generation.fetch_add(1, Ordering::AcqRel);
    futex_wake(&r.control.generation, i32::MAX);
    let results = &r.results;
    wait_ready(&r.region, n, deadline_ns, || match results.try_recv() {
        Ok(Err(why)) => Err(SampleError::WorkerFailed(why)),
        _ => Ok(()),
    })?;
    let release_ns = release(&r.region);
    let mut fold = Fold::new(job.workload.as_ref(), n);
    let total = tasks.total();
    let send = |t: u64| {
        let _ = r.tasks.send(Msg::Task {
            t,
            task: tasks.get(t),
        });
    };
    let recv = || recv_by(results, deadline_ns, job.timeout);
    match pattern {
        Pattern::Map => {
            (0..total).for_each(send);
            let mut ordered = vec![None; total as usize];
            for _ in 0..total {
                let (t, k, out) = recv()?;
                ordered[t as usize] = Some((k, out));
            }
            for (k, out) in ordered.into_iter().flatten() {
                fold.add(k, out);
            }
        }
        Pattern::AsCompleted => {
            (0..total).for_each(send);
            for _ in 0..total {
                let (_, k, out) = recv()?;
                fold.add(k, out);
            }
        }
        Pattern::SubmitWait => {
            for t in 0..total {
                send(t);
                let (_, k, out) = recv()?;
                fold.add(k, out);
            }
        }
    }
    let end_ns = now_ns();
    for _ in 0..n {
        let _ = r.tasks.send(Msg::EndSample);
    }
    for k in 0..n {
        if !crate::exec::worker::wait_done(r.region.slot(k), deadline_ns) {
            return Err(timed_out(job.timeout));
        }
    }
    if let Ok(Err(why)) = results.try_recv() {
        return Err(SampleError::WorkerFailed(why));
    }
    finish(
        &r.region,
        job,
        release_ns,
        end_ns,
        fold.outputs(),
        window.growth_bytes(),
    )
}

/// The next result, waiting until the deadline at most and waking for Ctrl-C.
fn recv_by(
    results: &Receiver<Done>,
    deadline_ns: u64,
    timeout: Duration,
) -> Result<(u64, usize, crate::api::workload::Output), SampleError> {
    loop {
        if crate::sys::signals::stop_requested() {
            return Err(SampleError::Interrupted);
        }
        let now = now_ns();
        if now >= deadline_ns {
            return Err(timed_out(timeout));
        }
        let nap = Duration::from_nanos((deadline_ns - now).min(100_000_000));
        match results.recv_timeout(nap) {
            Ok(Ok(done)) => return Ok(done),
            Ok(Err(why)) => return Err(SampleError::WorkerFailed(why)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SampleError::WorkerFailed(
                    "every pool thread is gone".into(),
                ));
            }
        }
    }
}

pub(super) fn timed_out(timeout: Duration) -> SampleError {
    SampleError::WorkerFailed(format!(
        "timed out after {:.1} s: a pool worker did not finish its task (--case-timeout)",
        timeout.as_secs_f64()
    ))
}
