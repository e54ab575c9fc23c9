//! The locked increment per lock variant, model and worker count.

mod common;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use threadfork::Model;

fn counter(c: &mut criterion::Criterion) {
    let reg = threadfork::builtin::registry();
    let w = reg.find("counter").expect("a built-in");
    let info = w.info();
    let mut g = c.benchmark_group("counter");
    for model in Model::ALL {
        for (i, &variant) in info.variants.iter().enumerate() {
            if !w.supports(model, i) {
                continue;
            }
            // The harness's default: increments per worker.
            let job = common::builtin("counter", variant);
            for workers in common::worker_counts() {
                g.throughput(Throughput::Elements(job.params[0] * workers as u64));
                let id = BenchmarkId::new(format!("{model}/{variant}"), workers);
                g.bench_with_input(id, &workers, |b, &n| {
                    b.iter_custom(|iters| common::timed_samples(&job, model, n, iters))
                });
            }
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = counter }
criterion_main!(benches);
