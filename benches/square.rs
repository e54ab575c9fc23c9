//! square_numbers on every task model and worker count, timed as the harness times it.

mod common;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use threadfork::model::ModelKind;
use threadfork::workload::Job;

/// The harness's own default case, so that criterion's figures and `threadfork run`'s can be
/// set side by side.
const JOB: Job = Job::Square {
    work: threadfork::workload::square::DEFAULT_WORK,
    tasks: threadfork::plan::DEFAULT_TASKS,
};

fn square(c: &mut criterion::Criterion) {
    let mut g = c.benchmark_group("square");
    g.throughput(Throughput::Elements(JOB.ops()));
    for model in ModelKind::TASK {
        for workers in common::worker_counts() {
            g.bench_with_input(
                BenchmarkId::new(model.name(), workers),
                &workers,
                |b, &w| b.iter_custom(|iters| common::timed_samples(model, JOB, w, iters)),
            );
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = square }
criterion_main!(benches);
