//! The process models are real: distinct processes that share one database through memory
//! mapped before fork or handed to a spawned executable.

use std::path::Path;

use threadfork::model::{ModelKind, RawSample, SampleSpec, run_sample};
use threadfork::sweep::verify_task;
use threadfork::workload::{CounterVariant, Hold, Job};

const EXE: &str = env!("CARGO_BIN_EXE_threadfork");

fn sample(model: ModelKind, job: Job, workers: usize) -> RawSample {
    let spec = SampleSpec::new(job, workers, Path::new(EXE));
    run_sample(model, &spec).unwrap_or_else(|e| panic!("{model} × {workers}: {e}"))
}

fn counter(variant: CounterVariant, increments: u64) -> Job {
    Job::Counter {
        increments,
        hold: Hold::None,
        variant,
    }
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
    for model in [ModelKind::Fork, ModelKind::Spawn] {
        for workers in [2, 4] {
            let job = counter(CounterVariant::Pshared, 20_000);
            let raw = sample(model, job, workers);
            assert_distinct_processes(&raw);
            assert_eq!(
                raw.counter_final,
                Some(20_000 * workers as u64),
                "{model} × {workers}: the shared counter lost or invented updates"
            );
            assert_eq!(verify_task(job, &raw), Ok(None));
        }
    }
}

#[test]
fn a_sleeping_hold_inside_the_lock_still_counts_exactly() {
    // The classic example: a slow write while holding the lock.
    let job = Job::Counter {
        increments: 3,
        hold: Hold::parse("2ms").unwrap(),
        variant: CounterVariant::Pshared,
    };
    let raw = sample(ModelKind::Fork, job, 2);
    assert_eq!(raw.counter_final, Some(6));
    // Six 2 ms holds under one lock cannot overlap: at least 12 ms from release to finish.
    assert!(raw.elapsed_ns() >= 12_000_000, "{}", raw.elapsed_ns());
}

#[test]
fn square_runs_verified_in_every_task_model() {
    let job = Job::Square {
        work: 100,
        tasks: 1001,
    };
    for model in ModelKind::TASK {
        for workers in [1, 3] {
            let raw = sample(model, job, workers);
            assert_eq!(verify_task(job, &raw), Ok(None), "{model} × {workers}");
            assert_eq!(raw.ops(), 100 * 1001);
            if model.is_process() {
                assert_distinct_processes(&raw);
                assert!(raw.workers.iter().all(|w| w.private_bytes > 0));
            }
        }
    }
}

#[test]
fn locked_thread_variants_are_exact() {
    for variant in ModelKind::Threads.counter_variants() {
        let job = counter(*variant, 10_000);
        let raw = sample(ModelKind::Threads, job, 4);
        let lost = verify_task(job, &raw).unwrap();
        if variant.is_exact() {
            assert_eq!(raw.counter_final, Some(40_000), "{variant:?}");
            assert_eq!(lost, None);
        }
    }
}

#[test]
fn no_lock_reports_lost_updates_instead_of_failing() {
    for model in [ModelKind::Threads, ModelKind::Fork, ModelKind::Spawn] {
        let job = counter(CounterVariant::NoLock, 200_000);
        let raw = sample(model, job, 2);
        let expected = 400_000;
        let got = raw.counter_final.unwrap();
        let lost = verify_task(job, &raw)
            .unwrap()
            .expect("no-lock reports lost updates");
        assert!(got <= expected, "{model}: {got} > {expected}");
        assert_eq!(got + lost, expected, "{model}");
    }
}

#[test]
fn startup_is_measured_from_request_to_first_instruction() {
    for model in ModelKind::TASK {
        let raw = sample(model, Job::Empty, 1);
        let w = raw.workers[0];
        assert!(w.requested_ns > 0, "{model}");
        assert!(w.started_ns >= w.requested_ns, "{model}");
        assert!(w.joined_ns >= w.started_ns, "{model}");
    }
}
