//! The sweep's sequence cases: lazy, eager and pipeline over n items, each sample verified,
//! with heap bytes, peak RSS, time to the first item and throughput.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{ModelKind, sequence};
use crate::plan::Plan;
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

#[allow(clippy::too_many_arguments)]
pub fn run(
    plan: &Plan,
    model: ModelKind,
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    id: &CaseId,
    stop: &AtomicBool,
    notes: &mut Vec<String>,
) -> CaseOutcome {
    if model == ModelKind::Eager {
        let need = eager_need_bytes(variant, n);
        // Leave a quarter of what is available to the rest of the system.
        if let Some(avail) = available_memory_bytes()
            && need > avail / 4 * 3
        {
            notes.push(format!(
                "{id}: skipped: needs {need} bytes, the machine has {avail} available"
            ));
            return Ok(Vec::new());
        }
    }
    let mut heap = Vec::new();
    let mut rss = Vec::new();
    let mut first = Vec::new();
    let mut throughput = Vec::new();
    for i in 0..plan.warmup + plan.samples {
        if stop.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        let s = sequence::run(model, variant, n, workers).map_err(|e| e.to_string())?;
        variant.verify(n, s.sum).map_err(|e| e.to_string())?;
        if i < plan.warmup {
            continue;
        }
        heap.extend(s.heap_bytes.map(|b| b as f64));
        rss.extend(s.rss_growth_bytes.map(|b| b as f64));
        first.push(s.first_item_ns as f64);
        throughput.push(s.items as f64 / (s.elapsed_ns.max(1) as f64 / 1e9));
    }
    let mut out = vec![
        Measurement::new(id, Metric::Throughput, throughput, true),
        Measurement::new(id, Metric::FirstItem, first, true),
    ];
    if heap.len() == plan.samples {
        out.push(Measurement::new(id, Metric::HeapBytes, heap, true));
    }
    if rss.len() == plan.samples {
        out.push(Measurement::new(id, Metric::PeakRss, rss, true));
    }
    Ok(out)
}
