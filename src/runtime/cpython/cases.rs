//! One Python case: what the driver is asked, and its report read back into figures.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api::study::StudySample;
use crate::results::{CaseId, Metric};

use super::*;
use crate::builtin::{counter, square};

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
    #[serde(default)]
    pub(crate) shared: Option<u64>,
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

/// One case of the runtime.
#[derive(Clone, Debug)]
pub(crate) struct PyCase {
    pub(crate) workload: &'static str,
    pub(crate) model: &'static str,
    pub(crate) workers: usize,
    /// square: tasks per sample; counter: increments per worker; sequence: n.
    pub(crate) size: u64,
    pub(crate) hold: Hold,
    /// sequence: the even numbers of 0..n only (the classic filter).
    pub(crate) evens: bool,
}

impl PyCase {
    pub(crate) fn id(&self) -> CaseId {
        let (variant, params) = match self.workload {
            square::NAME => ("default", BTreeMap::from([("work".to_string(), WORK)])),
            // The classic example's increment without the sleep: hold 0, as Rust's default.
            counter::NAME => (
                "lock",
                BTreeMap::from([
                    ("hold_ns".to_string(), self.hold.ns),
                    ("hold_sleep".to_string(), u64::from(self.hold.sleep)),
                ]),
            ),
            _ => (
                if self.evens { "evens" } else { "range" },
                BTreeMap::from([("n".to_string(), self.size)]),
            ),
        };
        CaseId {
            workload: self.workload.into(),
            model: self.model.into(),
            variant: variant.into(),
            workers: self.workers,
            params,
        }
    }

    pub(crate) fn driver_model(&self) -> &'static str {
        self.model.trim_start_matches("cpython-")
    }

    pub(crate) fn request(&self) -> serde_json::Value {
        let params = match self.workload {
            square::NAME => serde_json::json!({"work": WORK, "tasks": self.size}),
            counter::NAME => serde_json::json!({
                "increments": self.size,
                "hold_ns": self.hold.ns,
                "hold_sleep": u64::from(self.hold.sleep),
            }),
            _ => serde_json::json!({"n": self.size, "evens": u64::from(self.evens)}),
        };
        serde_json::json!({
            "workload": self.workload,
            "model": self.driver_model(),
            "workers": self.workers,
            "samples": 1,
            "warmup": 0,
            "params": params,
        })
    }
}

/// What one sample of a task case gave, after its checks: its ops from the release to the
/// last worker's end, and worker 0's start-up beside them.
pub(crate) fn task_figures(case: &PyCase, raw: &serde_json::Value) -> Result<StudySample, String> {
    let s: TaskSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    let n = case.workers;
    if s.workers.len() != n {
        return Err(format!(
            "the driver reported {} workers of {n}",
            s.workers.len()
        ));
    }
    for (k, w) in s.workers.iter().enumerate() {
        let (ops, checksum) = match case.workload {
            square::NAME => {
                let tasks = split(case.size, k, n);
                let expected = crate::builtin::square::expected_task(WORK).wrapping_mul(tasks);
                (tasks * WORK, Some(expected))
            }
            _ => (case.size, None),
        };
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
    if case.workload == counter::NAME {
        let expected = case.size * n as u64;
        if s.shared != Some(expected) {
            return Err(format!(
                "the locked counter ended at {:?}, expected exactly {expected}",
                s.shared
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
pub(crate) fn seq_figures(case: &PyCase, raw: &serde_json::Value) -> Result<StudySample, String> {
    let s: SeqSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    let n = case.size;
    // 0..n sums to n(n-1)/2; its m = ⌈n/2⌉ even numbers 0, 2, … to m(m-1).
    let (items, expected) = if case.evens {
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
