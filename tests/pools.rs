//! Pools: persistent workers reused across samples, tasks handed out one by one or in chunks,
//! every result verified, the process pool's counter exact across processes, and no worker outliving
//! its pool.

use std::path::Path;

use threadfork::__private::exec::testing::Fault;
use threadfork::__private::exec::{Bound, Job, executor, run_sample, take_sample};
use threadfork::Model;
use threadfork::api::model::{Pattern, Pool};
use threadfork::api::workload::{Verdict, WorkloadRef};
use threadfork::builtin::registry;

const EXE: &str = env!("CARGO_BIN_EXE_threadfork");

fn builtin(name: &str) -> WorkloadRef {
    registry().find(name).unwrap().clone()
}

fn pools() -> Vec<Model> {
    Pool::ALL
        .into_iter()
        .flat_map(|p| Pattern::ALL.map(|q| Model::Pool(p, q)))
        .collect()
}

/// Whether process `pid` still exists (a zombie counts: it was not reaped).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn the_process_pools_counter_is_exact_across_four_worker_processes() {
    let b = Bound::new(&builtin("counter"), "pshared", &[("increments", 5_000)]).unwrap();
    for pattern in Pattern::ALL {
        let model = Model::Pool(Pool::Processes, pattern);
        let raw = run_sample(model, &b.job(4, Path::new(EXE))).unwrap();
        // The verdict is the exact check: the shared value is 4 × 5000.
        assert_eq!(raw.verdict, Verdict::Passed, "{model}");
        assert_eq!(raw.ops(), 20_000, "{model}");
        let mut pids: Vec<u32> = raw.workers.iter().map(|w| w.pid).collect();
        pids.sort();
        pids.dedup();
        assert_eq!(pids.len(), 4, "{model}: four worker processes");
        assert!(!pids.contains(&std::process::id()));
    }
}

#[test]
fn every_pool_verifies_square_in_tasks_and_chunks() {
    let b = Bound::new(&builtin("square"), "default", &[("tasks", 1001)]).unwrap();
    for model in pools() {
        for (workers, chunk) in [(1, 1), (3, 1), (3, 7), (2, 5000)] {
            let job = Job {
                chunk,
                ..b.job(workers, Path::new(EXE))
            };
            let raw = run_sample(model, &job).unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!(
                raw.verdict,
                Verdict::Passed,
                "{model} × {workers} / {chunk}"
            );
            assert_eq!(raw.ops(), 100 * 1001);
        }
    }
}

#[test]
fn the_in_process_pools_count_exactly_under_a_lock() {
    let b = Bound::new(&builtin("counter"), "std-mutex", &[("increments", 3_000)]).unwrap();
    for model in pools().into_iter().filter(|m| !m.is_process()) {
        let raw = run_sample(model, &b.job(4, Path::new(EXE))).unwrap();
        assert_eq!(raw.verdict, Verdict::Passed, "{model}");
        assert_eq!(raw.ops(), 12_000);
    }
}

#[test]
fn a_pool_starts_once_and_serves_every_sample_with_the_same_workers() {
    let b = Bound::new(&builtin("square"), "default", &[("tasks", 500)]).unwrap();
    let job = b.job(2, Path::new(EXE));
    for model in pools().into_iter().filter(|m| m.is_process()) {
        let mut e = executor(model);
        e.open(&job).unwrap();
        assert!(e.opened_ns().unwrap() > 0);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let raw = take_sample(e.as_mut(), &job).unwrap();
            assert_eq!(raw.verdict, Verdict::Passed);
            let mut pids: Vec<u32> = raw.workers.iter().map(|w| w.pid).collect();
            pids.sort();
            seen.push(pids);
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{model}: {seen:?}");
        e.close();
        for pid in &seen[0] {
            assert!(!exists(*pid), "{model}: worker {pid} outlived its pool");
        }
    }
}

#[test]
fn a_crashed_pool_worker_fails_the_case_with_its_reason_and_leaves_nothing() {
    let b = Bound::new(&builtin("square"), "default", &[("tasks", 2_000)]).unwrap();
    for (fault, reason) in [
        (Fault::Abort, "was killed by SIGABRT"),
        (Fault::Kill, "was killed by SIGKILL"),
        (Fault::Exit, "exited with code 3"),
        (Fault::Panic, "injected fault: worker 0 panicked"),
    ] {
        let model = Model::Pool(Pool::Processes, Pattern::Map);
        let job = Job {
            fault,
            ..b.job(3, Path::new(EXE))
        };
        let mut e = executor(model);
        e.open(&job).unwrap();
        let err = take_sample(e.as_mut(), &job).unwrap_err().to_string();
        assert!(err.contains(reason), "{fault:?}: {err}");
        // The pool is lost with its worker: later samples fail at once, nothing hangs.
        assert!(take_sample(e.as_mut(), &job).is_err());
        // That the closed pool left no process is checked in tests/no_leftovers.rs, alone
        // in its binary, where every child process is the test's own.
        e.close();
    }
    // A panicking thread of the thread pool fails the case too.
    let job = Job {
        fault: Fault::Panic,
        ..b.job(2, Path::new(EXE))
    };
    for model in [
        Model::Pool(Pool::Threads, Pattern::Map),
        Model::Pool(Pool::Rayon, Pattern::AsCompleted),
    ] {
        let err = run_sample(model, &job).unwrap_err().to_string();
        assert!(
            err.contains("injected fault: worker 0 panicked"),
            "{model}: {err}"
        );
    }
}

/// Unit i of worker k's share adds (k + 1) × (i + 1): right only if every task knows where in
/// its share it starts.
struct Numbered;

const N: threadfork::Param = threadfork::Param::new("n", 1000);

impl threadfork::Workload for Numbered {
    type Shared = ();
    fn name(&self) -> &'static str {
        "numbered"
    }
    fn op(&self) -> &'static str {
        "units"
    }
    fn params(&self) -> &'static [threadfork::Param] {
        &[N]
    }
    fn size(&self) -> threadfork::Size {
        threadfork::Size::Split(N)
    }
    fn run(&self, ctx: &threadfork::Ctx<'_, ()>) -> threadfork::Output {
        let k = ctx.index() as u64 + 1;
        let sum = (ctx.offset()..ctx.offset() + ctx.units())
            .map(|i| k * (i + 1))
            .sum();
        threadfork::Output::new(ctx.units(), sum)
    }
    fn verify(&self, s: &threadfork::Sample<'_, ()>) -> Verdict {
        let ok = s.outputs().iter().enumerate().all(|(k, o)| {
            let u = s.units(k);
            o.checksum == (k as u64 + 1) * u * (u + 1) / 2
        });
        Verdict::check(ok, || format!("{:?}", s.outputs()))
    }
}

#[test]
fn every_task_knows_where_its_units_start_in_the_share() {
    let w: WorkloadRef = std::sync::Arc::new(Numbered);
    let b = Bound::new(&w, "default", &[("n", 1000)]).unwrap();
    for model in pools()
        .into_iter()
        .chain([Model::Threads, Model::Sequential])
    {
        let job = Job {
            chunk: 7,
            ..b.job(3, Path::new(EXE))
        };
        let raw = run_sample(model, &job).unwrap();
        assert_eq!(raw.verdict, Verdict::Passed, "{model}");
    }
}
