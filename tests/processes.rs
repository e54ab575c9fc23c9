//! The process models are real: distinct processes that share one counter through memory
//! mapped before fork or handed to a spawned executable, and every built-in verifies.

use std::path::Path;

use threadfork::__private::exec::{Bound, RawSample, run_sample};
use threadfork::Model;
use threadfork::api::workload::{Verdict, WorkloadRef};
use threadfork::builtin::registry;

const EXE: &str = env!("CARGO_BIN_EXE_threadfork");

fn builtin(name: &str) -> WorkloadRef {
    registry().find(name).unwrap().clone()
}

fn sample(b: &Bound, model: Model, workers: usize) -> RawSample {
    run_sample(model, &b.job(workers, Path::new(EXE)))
        .unwrap_or_else(|e| panic!("{model} × {workers}: {e}"))
}

fn assert_distinct_processes(raw: &RawSample) {
    let mut pids: Vec<u32> = raw.workers.iter().map(|w| w.pid).collect();
    assert!(
        pids.iter().all(|&p| p != 0 && p != std::process::id()),
        "{pids:?}"
    );
    pids.sort();
    pids.dedup();
    assert_eq!(
        pids.len(),
        raw.workers.len(),
        "each worker is its own process"
    );
}

#[test]
fn pshared_counter_is_exact_across_forked_and_spawned_processes() {
    let b = Bound::new(&builtin("counter"), "pshared", &[("increments", 20_000)]).unwrap();
    for model in [Model::Fork, Model::Spawn] {
        for workers in [2, 4] {
            let raw = sample(&b, model, workers);
            assert_distinct_processes(&raw);
            // The verdict is the exact check: the shared value is workers × increments.
            assert_eq!(raw.verdict, Verdict::Passed, "{model} × {workers}");
            assert_eq!(raw.ops(), 20_000 * workers as u64);
        }
    }
}

#[test]
fn a_sleeping_hold_inside_the_lock_still_counts_exactly() {
    // The classic example: a slow write while holding the lock.
    let b = Bound::new(
        &builtin("counter"),
        "pshared",
        &[("increments", 3), ("hold_ns", 2_000_000), ("hold_sleep", 1)],
    )
    .unwrap();
    let raw = sample(&b, Model::Fork, 2);
    assert_eq!(raw.verdict, Verdict::Passed);
    // Six 2 ms holds under one lock cannot overlap: at least 12 ms from release to finish.
    assert!(raw.elapsed_ns() >= 12_000_000, "{}", raw.elapsed_ns());
}

#[test]
fn square_runs_verified_in_every_model() {
    let b = Bound::new(&builtin("square"), "default", &[("tasks", 1001)]).unwrap();
    for model in Model::ALL {
        for workers in [1, 3] {
            let raw = sample(&b, model, workers);
            assert_eq!(raw.verdict, Verdict::Passed, "{model} × {workers}");
            assert_eq!(raw.ops(), 100 * 1001);
            if model.is_process() {
                assert_distinct_processes(&raw);
                assert!(raw.workers.iter().all(|w| w.private_bytes.unwrap() > 0));
            }
        }
    }
}

#[test]
fn locked_thread_variants_are_exact() {
    let w = builtin("counter");
    for (i, variant) in w.info().variants.iter().enumerate() {
        if !w.supports(Model::Threads, i) || *variant == "no-lock" {
            continue;
        }
        let b = Bound::new(&w, variant, &[("increments", 10_000)]).unwrap();
        let raw = sample(&b, Model::Threads, 4);
        assert_eq!(raw.verdict, Verdict::Passed, "{variant}");
    }
}

#[test]
fn no_lock_reports_lost_updates_instead_of_failing() {
    let b = Bound::new(&builtin("counter"), "no-lock", &[("increments", 200_000)]).unwrap();
    for model in [Model::Threads, Model::Fork, Model::Spawn] {
        let raw = sample(&b, model, 2);
        match raw.verdict {
            Verdict::PassedWith { metric, value } => {
                assert_eq!(metric, threadfork::Metric::LostUpdates);
                assert!((0.0..400_000.0).contains(&value), "{model}: {value}");
            }
            other => panic!("{model}: {other:?}"),
        }
    }
}

#[test]
fn startup_is_measured_from_request_to_first_instruction() {
    let b = Bound::new(&builtin("empty"), "default", &[]).unwrap();
    // A pool's start-up is its open, measured apart (tests/pools.rs).
    for model in Model::PER_SAMPLE {
        let raw = sample(&b, model, 1);
        let w = raw.workers[0];
        assert!(w.requested_ns > 0, "{model}");
        assert!(w.started_ns >= w.requested_ns, "{model}");
        assert!(w.joined_ns >= w.started_ns, "{model}");
    }
}
