//! Start cost: a worker started, given an empty task and joined or reaped, through each of
//! the library's models, beside bare loops of the same system calls.

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main};
use threadfork::__private::exec::bare::{BareSpawn, bare_fork_roundtrip};
use threadfork::__private::measure::calibration;
use threadfork::Model;

fn startup(c: &mut criterion::Criterion) {
    let mut g = c.benchmark_group("roundtrip");
    let empty = common::builtin("empty", "default");
    for model in [Model::Threads, Model::Fork, Model::Spawn] {
        g.bench_function(format!("{model}/harness"), |b| {
            b.iter_custom(|iters| {
                let mut total = 0u64;
                for _ in 0..iters {
                    let w = common::sample(&empty, model, 1).workers[0];
                    total += w.joined_ns - w.requested_ns;
                }
                Duration::from_nanos(total)
            })
        });
    }
    let bare = |f: fn() -> anyhow::Result<f64>| {
        move |iters: u64| {
            let total: f64 = (0..iters).map(|_| f().expect("bare loop")).sum();
            Duration::from_nanos(total as u64)
        }
    };
    g.bench_function("threads/bare std::thread::spawn+join", |b| {
        b.iter_custom(bare(calibration::bare_std_thread_roundtrip))
    });
    g.bench_function("threads/bare pthread_create+join", |b| {
        b.iter_custom(bare(calibration::bare_thread_roundtrip))
    });
    let timeout = Duration::from_secs(10);
    g.bench_function("fork/bare fork+_exit+waitpid", |b| {
        b.iter_custom(|iters| {
            let total: f64 = (0..iters)
                .map(|_| bare_fork_roundtrip(timeout).expect("fork"))
                .sum();
            Duration::from_nanos(total as u64)
        })
    });
    let spawn = BareSpawn::new(std::path::Path::new(common::EXE)).unwrap();
    g.bench_function("spawn/bare posix_spawn+waitpid", |b| {
        b.iter_custom(|iters| {
            let total: f64 = (0..iters)
                .map(|_| spawn.roundtrip(timeout).expect("spawn"))
                .sum();
            Duration::from_nanos(total as u64)
        })
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = startup }
criterion_main!(benches);
