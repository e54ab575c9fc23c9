//! What the criterion benches share: jobs of the built-in workloads and timing that follows
//! the harness's own definitions (release → last done; request → reaped).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use threadfork::__private::exec::{Bound, RawSample, run_sample};
use threadfork::Model;
use threadfork::api::workload::Verdict;

/// The threadfork binary: the spawn model's worker executable.
pub const EXE: &str = env!("CARGO_BIN_EXE_threadfork");

/// Short measurement windows: dozens of benchmarks fit in minutes on two cores.
pub fn criterion() -> Criterion {
    // criterion draws its report with the same plotters build, which has no system fonts.
    threadfork::__private::export::charts::register_fonts();
    // Large buffers behave as in `threadfork run`: mapped fresh, returned when freed.
    threadfork::__private::measure::alloc::pin_malloc_threshold();
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
        // 20,000 bootstrap resamples keep criterion's intervals stable to about 1% of their
        // width; its default of 100,000 spends more time analysing than measuring.
        .nresamples(20_000)
        .configure_from_args()
}

/// The machine's cores as the harness counts them: 1, 2, 4, … and the core count.
pub fn worker_counts() -> Vec<usize> {
    let cpus = threadfork::__private::machine::allowed_cpus();
    let physical = threadfork::__private::machine::Topology::read(&cpus)
        .cores
        .len();
    threadfork::__private::sweep::plan::default_workers(cpus.len(), physical, true)
}

/// A built-in workload's variant with its default parameters (the harness's own case).
pub fn builtin(name: &str, variant: &str) -> Bound {
    let reg = threadfork::builtin::registry();
    Bound::new(reg.find(name).expect("a built-in"), variant, &[]).expect("a variant")
}

pub fn sample(b: &Bound, model: Model, workers: usize) -> RawSample {
    run_sample(model, &b.job(workers, Path::new(EXE)))
        .unwrap_or_else(|e| panic!("{model} × {workers}: {e}"))
}

/// `iters` samples, each verified, timed from the barrier's release to the last worker's
/// finish: the harness's throughput window.
pub fn timed_samples(b: &Bound, model: Model, workers: usize, iters: u64) -> Duration {
    let mut total = 0u64;
    for _ in 0..iters {
        let raw = sample(b, model, workers);
        assert!(
            !matches!(raw.verdict, Verdict::Failed(_)),
            "{model} × {workers}: {:?}",
            raw.verdict
        );
        total += raw.elapsed_ns();
    }
    Duration::from_nanos(total)
}
