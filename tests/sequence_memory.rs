//! Exact heap figures for lazy, eager and pipeline sequences, through the same counting
//! allocator the threadfork binary installs. One test in its own binary: another test's
//! allocations would otherwise count.

use std::time::Duration;
use threadfork::builtin::sequence::items::SequenceVariant;

use threadfork::__private::measure::alloc::CountingAlloc;
use threadfork::builtin::sequence::models::{Limit, SeqModel as ModelKind, run};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The least of three samples' heap peaks: the counter is the process's, and the test
/// harness's own thread may allocate a few hundred bytes beside a sample (seen once, under a
/// loaded machine: 900 B); an allocation of the sample's own is in every one of the three.
fn heap(model: ModelKind, variant: SequenceVariant, n: u64, workers: usize) -> u64 {
    (0..3)
        .map(|_| {
            let s = run(
                model,
                variant,
                n,
                workers,
                Limit::within(Duration::from_secs(600)),
            )
            .unwrap();
            variant.verify(n, s.sum).unwrap();
            s.heap_bytes.expect("the counting allocator is installed")
        })
        .min()
        .unwrap()
}

#[test]
fn heap_bytes_are_exact() {
    // A Vec<u64> of 10^6 items collected from a range: exactly 8 bytes per item.
    assert_eq!(
        heap(ModelKind::Eager, SequenceVariant::Range, 1_000_000, 1),
        8_000_000
    );
    assert_eq!(
        heap(ModelKind::Eager, SequenceVariant::Range, 1_000, 1),
        8_000
    );
    // The lazy path allocates nothing at all, whatever n is.
    for n in [1_000, 1_000_000, 10_000_000] {
        for v in [SequenceVariant::Range, SequenceVariant::Evens] {
            assert_eq!(heap(ModelKind::Lazy, v, n, 1), 0, "{v:?} n={n}");
        }
    }
    // The pipeline holds a bounded channel and its threads, not the sequence. Its figure
    // moves by a few hundred bytes with how often threads happened to block (crossbeam
    // registers a blocked thread's wake-up context on the heap), never with n: 100× more
    // items leave the median where it was, 1,000× below what the eager Vec costs.
    let median = |n: u64, workers: usize| {
        let mut xs: Vec<u64> = (0..7)
            .map(|_| heap(ModelKind::Pipeline, SequenceVariant::Squares, n, workers))
            .collect();
        xs.sort();
        xs[3]
    };
    for workers in [1, 2, 4] {
        let small = median(10_000, workers);
        let large = median(1_000_000, workers);
        assert!(
            small.abs_diff(large) <= 1024,
            "{workers} workers: {small} vs {large}"
        );
        assert!(large < 16 * 1024, "{large}");
    }

    // Every path's sum is verified and the first item comes before the end.
    for model in [ModelKind::Lazy, ModelKind::Eager] {
        for v in [SequenceVariant::Range, SequenceVariant::Evens] {
            let s = run(model, v, 12_345, 1, Limit::within(Duration::from_secs(600))).unwrap();
            assert_eq!(s.sum, v.expected_sum(12_345));
            assert_eq!(s.items, v.items(12_345));
            assert!(s.first_item_ns <= s.elapsed_ns);
        }
    }
    let s = run(
        ModelKind::Pipeline,
        SequenceVariant::Squares,
        100_001,
        3,
        Limit::within(Duration::from_secs(600)),
    )
    .unwrap();
    assert_eq!(s.sum, SequenceVariant::Squares.expected_sum(100_001));
}
