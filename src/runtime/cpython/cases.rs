//! The driver's report read back into checked figures.

use serde::Deserialize;

use crate::api::study::StudySample;
use crate::results::Metric;

/// A driver's report.
#[derive(Debug, Deserialize)]
pub(crate) struct Report {
    pub(crate) samples: Vec<serde_json::Value>,
}

/// One worker's raw figures.
#[derive(Debug, Deserialize)]
pub(crate) struct Worker {
    pub(crate) requested_ns: u64,
    pub(crate) started_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) ops: u64,
    pub(crate) checksum: u64,
}

/// One task sample's raw figures.
#[derive(Debug, Deserialize)]
pub(crate) struct TaskSample {
    pub(crate) release_ns: u64,
    pub(crate) workers: Vec<Worker>,
}

/// One sequence sample's raw figures.
#[derive(Debug, Deserialize)]
pub(crate) struct SeqSample {
    pub(crate) getsizeof: u64,
    pub(crate) heap_bytes: u64,
    pub(crate) first_item_ns: u64,
    pub(crate) elapsed_ns: u64,
    pub(crate) items: u64,
    pub(crate) sum: u64,
}

/// Worker k of n's share of `total`, as the driver splits it.
pub(crate) fn split(total: u64, k: usize, n: usize) -> u64 {
    total / n as u64 + u64::from((k as u64) < total % n as u64)
}

/// What one sample of a task case of `n` workers gave, after its checks — worker k counted the ops
/// `expect(k, n)` gives and, where it gives one, that checksum: its ops from the release to
/// the last worker's end, and worker 0's start-up beside them.
pub(crate) fn task_figures(
    n: usize,
    raw: &serde_json::Value,
    expect: impl Fn(usize, usize) -> (u64, Option<u64>),
) -> Result<StudySample, String> {
    let s: TaskSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    if s.workers.len() != n {
        return Err(format!(
            "the driver reported {} workers of {n}",
            s.workers.len()
        ));
    }
    for (k, w) in s.workers.iter().enumerate() {
        let (ops, checksum) = expect(k, n);
        if w.ops != ops {
            return Err(format!("worker {k} counted {} ops, expected {ops}", w.ops));
        }
        if let Some(c) = checksum.filter(|c| *c != w.checksum) {
            return Err(format!(
                "square checksum mismatch in worker {k}: got {}, expected {c}",
                w.checksum
            ));
        }
    }
    let ops: u64 = s.workers.iter().map(|w| w.ops).sum();
    let end = s.workers.iter().map(|w| w.end_ns).max().unwrap_or(0);
    let w0 = &s.workers[0];
    let startup = w0.started_ns.saturating_sub(w0.requested_ns) as f64;
    Ok(StudySample::new(ops, end.saturating_sub(s.release_ns)).with(Metric::Startup, startup))
}

/// A sequence sample, checked: its sum and count in closed form.
pub(crate) fn seq_figures(
    n: u64,
    evens: bool,
    raw: &serde_json::Value,
) -> Result<StudySample, String> {
    let s: SeqSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    // 0..n sums to n(n-1)/2; its m = ⌈n/2⌉ even numbers 0, 2, … to m(m-1).
    let (items, expected) = if evens {
        let m = n.div_ceil(2);
        (m, u128::from(m) * u128::from(m.saturating_sub(1)))
    } else {
        (n, u128::from(n) * u128::from(n.saturating_sub(1)) / 2)
    };
    let expected = expected as u64;
    if s.items != items || s.sum != expected {
        return Err(format!(
            "the sequence summed to {} over {} items, expected {expected} over {items}",
            s.sum, s.items
        ));
    }
    Ok(StudySample::new(s.items, s.elapsed_ns)
        .with(Metric::Getsizeof, s.getsizeof as f64)
        .with(Metric::HeapBytes, s.heap_bytes as f64)
        .with(Metric::FirstItem, s.first_item_ns as f64))
}
