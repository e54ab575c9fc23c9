//! The locked increment per lock variant, model and worker count.

mod common;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use threadfork::model::ModelKind;
use threadfork::workload::{Hold, Job};

/// Increments per worker in one sample: the harness's default.
const INCREMENTS: u64 = threadfork::plan::DEFAULT_INCREMENTS;

fn counter(c: &mut criterion::Criterion) {
    let mut g = c.benchmark_group("counter");
    for model in ModelKind::TASK {
        for &variant in model.counter_variants() {
            for workers in common::worker_counts() {
                let job = Job::Counter {
                    increments: INCREMENTS,
                    hold: Hold::None,
                    variant,
                };
                g.throughput(Throughput::Elements(INCREMENTS * workers as u64));
                let id = BenchmarkId::new(format!("{model}/{}", variant.name()), workers);
                g.bench_with_input(id, &workers, |b, &w| {
                    b.iter_custom(|iters| common::timed_samples(model, job, w, iters))
                });
            }
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = counter }
criterion_main!(benches);
