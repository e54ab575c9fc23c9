//! `rayon`: rayon's own pool, built once per case with one thread per worker. `map` is a
//! `par_iter` over the tasks collected in order, `as-completed` spawns every task into the
//! pool and folds results from a channel as they arrive, `submit-wait` is one `install` per
//! task (the caller blocks on each).

use crate::measure::sched::Counters;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::{Breakable, Fold, SampleOrders, Tasks, broken, finish, guarded, run_task};
use crate::api::model::Pattern;
use crate::api::workload::{Output, WorkloadRef};
use crate::exec::region::Region;
use crate::exec::{Executor, Job, RawSample, SampleError, prepare, watched};
use crate::measure::clock::now_ns;
use crate::measure::probe::probe_ns;
use crate::measure::rss::PeakRssWindow;

/// rayon's pool, one thread per worker.
pub struct RayonPool {
    pattern: Pattern,
    pool: Option<Arc<rayon::ThreadPool>>,
    region: Option<Arc<Region>>,
    opened_ns: u64,
    broken: bool,
}

impl RayonPool {
    pub fn new(pattern: Pattern) -> RayonPool {
        RayonPool {
            pattern,
            pool: None,
            region: None,
            opened_ns: 0,
            broken: false,
        }
    }
}

impl RayonPool {
    fn drive_sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let (Some(pool), Some(region)) = (self.pool.clone(), self.region.clone()) else {
            return Err(broken());
        };
        let tasks = Arc::new(Tasks::new(job)?);
        prepare(&region, job);
        let (pattern, workload, n) = (self.pattern, job.workload.clone(), job.workers);
        let r = region.clone();
        // On a thread of its own: a task that hangs costs the case, not the harness.
        let driven = watched(job.timeout, move || {
            drive(&pool, &r, &workload, &tasks, pattern, n)
        })
        .and_then(|d| d);
        let (release_ns, end_ns, outputs, rss) = driven?;
        finish(&region, job, release_ns, end_ns, outputs, rss)
    }
}

impl Breakable for RayonPool {
    fn broken_mark(&mut self) -> &mut bool {
        &mut self.broken
    }
}

impl Executor for RayonPool {
    fn open(&mut self, job: &Job<'_>) -> Result<(), SampleError> {
        let t0 = now_ns();
        let region = Arc::new(job.region_anonymous()?);
        let cpus = job.cpus.to_vec();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(job.workers)
            .thread_name(|k| format!("rayon-{k}"))
            .start_handler(move |k| {
                if !cpus.is_empty() {
                    crate::exec::worker::pin_to(cpus[k % cpus.len()] as i32);
                }
            })
            // A task's panic is caught where it runs and reported; rayon's default handler
            // would abort the harness.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| SampleError::Start(format!("cannot build rayon's pool: {e}")))?;
        // Open once every thread has run something: that is the pool's start-up.
        pool.broadcast(|_| ());
        self.opened_ns = now_ns() - t0;
        self.pool = Some(Arc::new(pool));
        self.region = Some(region);
        Ok(())
    }

    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        guarded(self, |p| p.drive_sample(job))
    }

    fn close(&mut self) {
        // Dropping the last handle lets rayon's threads finish and leave; a hung one is let go.
        self.pool = None;
        self.region = None;
    }

    fn opened_ns(&self) -> Option<u64> {
        self.pool.as_ref().map(|_| self.opened_ns)
    }
}

type Driven = (u64, u64, Vec<Output>, Option<u64>);

/// One sample on the pool: probes on every thread, the tasks in `pattern`, probes again.
fn drive(
    pool: &rayon::ThreadPool,
    region: &Arc<Region>,
    workload: &WorkloadRef,
    tasks: &Arc<Tasks>,
    pattern: Pattern,
    n: usize,
) -> Result<Driven, SampleError> {
    let window = PeakRssWindow::start();
    pool.broadcast(|ctx| {
        let slot = region.slot(ctx.index());
        crate::exec::worker::mark_started(slot, now_ns());
        slot.probe_before_ns.store(probe_ns(), Ordering::Relaxed);
        Counters::store(Counters::now(), &slot.sched_before);
    });
    let orders = SampleOrders::read(region, workload.as_ref());
    let release_ns = now_ns();
    let mut fold = Fold::new(workload.as_ref(), n);
    let one = |t: u64| task(region, workload, tasks, &orders, t);
    let total = tasks.total();
    let panicked = |payload: Box<dyn std::any::Any + Send>| {
        SampleError::WorkerFailed(format!(
            "a rayon task panicked: {}",
            &crate::exec::panics::text(&*payload)
        ))
    };
    match pattern {
        Pattern::Map => {
            let all = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pool.install(|| (0..total).into_par_iter().map(one).collect::<Vec<_>>())
            }))
            .map_err(panicked)?;
            for (k, out) in all {
                fold.add(k, out);
            }
        }
        Pattern::AsCompleted => {
            let (tx, rx) = crossbeam::channel::unbounded();
            for t in 0..total {
                let (tx, region, workload, tasks) =
                    (tx.clone(), region.clone(), workload.clone(), tasks.clone());
                pool.spawn(move || {
                    let run = std::panic::AssertUnwindSafe(|| {
                        task(&region, &workload, &tasks, &orders, t)
                    });
                    let _ = tx.send(std::panic::catch_unwind(run));
                });
            }
            drop(tx);
            for _ in 0..total {
                match rx.recv() {
                    Ok(Ok((k, out))) => fold.add(k, out),
                    Ok(Err(payload)) => return Err(panicked(payload)),
                    Err(_) => return Err(SampleError::WorkerFailed("rayon lost a task".into())),
                }
            }
        }
        Pattern::SubmitWait => {
            for t in 0..total {
                let (k, out) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    pool.install(|| one(t))
                }))
                .map_err(panicked)?;
                fold.add(k, out);
            }
        }
    }
    let end_ns = now_ns();
    pool.broadcast(|ctx| {
        let slot = region.slot(ctx.index());
        Counters::store(Counters::now(), &slot.sched_after);
        slot.probe_after_ns.store(probe_ns(), Ordering::Relaxed);
        crate::exec::worker::finish(slot);
    });
    Ok((release_ns, end_ns, fold.outputs(), window.growth_bytes()))
}

/// Task `t` on whichever rayon thread runs it: the share it belongs to and its output. The
/// first task strikes the injected fault, if any (tests only).
fn task(
    region: &Region,
    workload: &WorkloadRef,
    tasks: &Tasks,
    orders: &SampleOrders,
    t: u64,
) -> (usize, Output) {
    if t == 0 {
        let code = region.slot(0).fault.load(Ordering::Relaxed);
        crate::exec::testing::Fault::from_code(code).strike(0);
    }
    let task = tasks.get(t);
    (
        task.share,
        run_task(workload.as_ref(), region, orders.sample(), task),
    )
}
