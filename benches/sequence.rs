//! Lazy iterator, eager Vec and the bounded pipeline over a few sizes.

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Throughput, criterion_group, criterion_main};
use threadfork::builtin::sequence::items::SequenceVariant;
use threadfork::builtin::sequence::models::{self as sequence, SeqModel as ModelKind};

fn sequences(c: &mut criterion::Criterion) {
    let mut g = c.benchmark_group("sequence");
    let widest = *common::worker_counts().last().unwrap_or(&1);
    let cases = [
        (ModelKind::Lazy, SequenceVariant::Range, 1),
        (ModelKind::Eager, SequenceVariant::Range, 1),
        (ModelKind::Lazy, SequenceVariant::Evens, 1),
        (ModelKind::Eager, SequenceVariant::Evens, 1),
        (ModelKind::Eager, SequenceVariant::Squares, widest),
        (ModelKind::Pipeline, SequenceVariant::Squares, widest),
    ];
    for n in [1_000u64, 100_000, 1_000_000] {
        g.throughput(Throughput::Elements(n));
        for (model, variant, workers) in cases {
            let id = BenchmarkId::new(format!("{}/{}/x{workers}", model.name(), variant.name()), n);
            g.bench_with_input(id, &n, |b, &n| {
                b.iter_custom(|iters| {
                    let mut total = 0u64;
                    for _ in 0..iters {
                        let s = sequence::run(
                            model,
                            variant,
                            n,
                            workers,
                            sequence::Limit::within(Duration::from_secs(600)),
                        )
                        .expect("sample");
                        variant.verify(n, s.sum).expect("verified sum");
                        total += s.elapsed_ns;
                    }
                    Duration::from_nanos(total)
                })
            });
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = sequences }
criterion_main!(benches);
