//! square_numbers on every model and worker count, timed as the harness times it.

mod common;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use threadfork::Model;

fn square(c: &mut criterion::Criterion) {
    // The harness's own default case, so that criterion's figures and `threadfork run`'s can
    // be set side by side.
    let job = common::builtin("square", "default");
    let squares = job.params.iter().product::<u64>();
    let mut g = c.benchmark_group("square");
    g.throughput(Throughput::Elements(squares));
    for model in Model::ALL {
        for workers in common::worker_counts() {
            g.bench_with_input(
                BenchmarkId::new(model.name(), workers),
                &workers,
                |b, &w| b.iter_custom(|iters| common::timed_samples(&job, model, w, iters)),
            );
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = square }
criterion_main!(benches);
