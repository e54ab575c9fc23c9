//! The sweep's sequence cases: lazy, eager and pipeline over n items, each sample verified,
//! with heap bytes, peak RSS, time to the first item and throughput.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use crate::model::{ModelKind, sequence};
use crate::plan::{Case, Plan};
use crate::results::{CaseId, Measurement, Metric};
use crate::sweep::CaseOutcome;
use crate::workload::sequence::SequenceVariant;

/// Bytes of RAM the system can still give (MemAvailable), if known.
pub fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The most an eager sample of n items may hold at once: the Vec, and while a filter's Vec
/// grows by doubling, the old and the new buffer together.
fn eager_need_bytes(variant: SequenceVariant, n: u64) -> u64 {
    let items = variant.items(n).saturating_mul(8);
    match variant {
        SequenceVariant::Evens => items.saturating_mul(3),
        _ => items,
    }
}

/// One sequence case's samples as they accumulate.
struct SeqAcc {
    id: CaseId,
    model: ModelKind,
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    heap: Vec<f64>,
    rss: Vec<f64>,
    first: Vec<f64>,
    throughput: Vec<f64>,
    probe: Vec<f64>,
    failed: Option<String>,
}

/// Runs the sequence cases round by round, one sample of each per round, for the same reason
/// as the task cases (see `sweep::run_task_group`): every case then sees the same mix of the
/// machine's fast and slow spells.
pub fn run_group(
    plan: &Plan,
    cases: &[Case],
    stop: &AtomicBool,
    bar: &ProgressBar,
    notes: &mut Vec<String>,
) -> Vec<(CaseId, CaseOutcome)> {
    let mut skipped = Vec::new();
    let mut accs: Vec<SeqAcc> = Vec::new();
    for case in cases {
        let Case::Sequence {
            model,
            variant,
            n,
            workers,
        } = *case
        else {
            continue;
        };
        let id = plan.case_id(case);
        if model == ModelKind::Eager {
            let need = eager_need_bytes(variant, n);
            // Leave a quarter of what is available to the rest of the system.
            if let Some(avail) = available_memory_bytes()
                && need > avail / 4 * 3
            {
                notes.push(format!(
                    "{id}: skipped: needs {need} bytes, the machine has {avail} available"
                ));
                skipped.push((id, Ok(Vec::new())));
                continue;
            }
        }
        accs.push(SeqAcc {
            id,
            model,
            variant,
            n,
            workers,
            heap: Vec::new(),
            rss: Vec::new(),
            first: Vec::new(),
            throughput: Vec::new(),
            probe: Vec::new(),
            failed: None,
        });
    }
    for round in 0..plan.warmup + plan.samples {
        for a in accs.iter_mut().filter(|a| a.failed.is_none()) {
            bar.set_message(a.id.to_string());
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let probe = crate::measure::calibration::probe();
            let sample = sequence::run(a.model, a.variant, a.n, a.workers)
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    a.variant
                        .verify(a.n, s.sum)
                        .map(|_| s)
                        .map_err(|e| e.to_string())
                });
            bar.inc(1);
            match sample {
                Err(e) => a.failed = Some(e),
                Ok(_) if round < plan.warmup => {}
                Ok(s) => {
                    a.probe.push(probe);
                    a.heap.extend(s.heap_bytes.map(|b| b as f64));
                    a.rss.extend(s.rss_growth_bytes.map(|b| b as f64));
                    a.first.push(s.first_item_ns as f64);
                    a.throughput
                        .push(s.items as f64 / (s.elapsed_ns.max(1) as f64 / 1e9));
                }
            }
        }
    }
    let done = accs.into_iter().map(|a| {
        let outcome = match a.failed {
            Some(e) => Err(e),
            None if a.throughput.is_empty() => Err("interrupted before its first sample".into()),
            None => {
                let taken = a.throughput.len();
                let mut out = vec![
                    Measurement::new(&a.id, Metric::Throughput, a.throughput, true)
                        .with_probe(&a.probe),
                    Measurement::new(&a.id, Metric::FirstItem, a.first, true).with_probe(&a.probe),
                ];
                if !a.heap.is_empty() && a.heap.len() == taken {
                    out.push(Measurement::new(&a.id, Metric::HeapBytes, a.heap, true));
                }
                if !a.rss.is_empty() && a.rss.len() == taken {
                    out.push(Measurement::new(&a.id, Metric::PeakRss, a.rss, true));
                }
                Ok(out)
            }
        };
        (a.id, outcome)
    });
    skipped.into_iter().chain(done).collect()
}
