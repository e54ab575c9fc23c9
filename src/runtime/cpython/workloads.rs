//! The Python cases, declared per workload: for each built-in the driver has a Python twin of,
//! which models run it, how its cases are named and asked for, how its report is checked, and
//! how a sizing probe is made. The study walks this table; nothing else names a workload.

use std::collections::BTreeMap;

use super::cases::{seq_figures, split, task_figures};
use super::{Hold, WORK};
use crate::api::study::StudySample;
use crate::builtin::{counter, empty, sequence, square};
use crate::results::CaseId;

/// How a workload's cases are made and sized.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// On the worker models, sized by time: `size` split between the workers (`split`) or
    /// given to each; `probe` units make the sizing probe's sample, each `unit_ops` ops.
    Tasks {
        split: bool,
        pools: bool,
        probe: fn(Hold) -> u64,
        unit_ops: u64,
    },
    /// On `cpython-list` and `cpython-generator`, one case per size n and variant.
    Sequence,
}

/// One Python workload: the built-in it stands beside (its figures share that workload's
/// tables and charts) and its cases.
#[derive(Debug)]
pub(crate) struct PyWorkload {
    /// The built-in's name.
    pub(crate) name: &'static str,
    pub(crate) op: &'static str,
    /// The `--workload` names that choose it.
    pub(crate) chosen_by: &'static [&'static str],
    pub(crate) shape: Shape,
    /// A case's variant and parameters in the results.
    pub(crate) id: fn(&PyCase) -> (&'static str, BTreeMap<String, u64>),
    /// The driver's parameters for a case.
    pub(crate) params: fn(&PyCase) -> serde_json::Value,
    /// One sample of the driver's report, checked.
    pub(crate) check: fn(&PyCase, &serde_json::Value) -> Result<StudySample, String>,
}

impl PyWorkload {
    /// Whether `model` runs this workload.
    pub(crate) fn runs_on(&self, model: &str) -> bool {
        let sequence_model = matches!(model, "cpython-list" | "cpython-generator");
        match self.shape {
            Shape::Sequence => sequence_model,
            Shape::Tasks { pools, .. } => !sequence_model && (pools || !model.ends_with("pool")),
        }
    }
}

/// Every Python workload, in the order its cases run.
pub(crate) static PY_WORKLOADS: [PyWorkload; 3] = [
    PyWorkload {
        name: square::NAME,
        op: square::OP,
        // Its start-ups are filed beside `empty`'s.
        chosen_by: &[square::NAME, empty::NAME],
        shape: Shape::Tasks {
            split: true,
            pools: true,
            probe: |_| 500,
            unit_ops: WORK,
        },
        id: |_| ("default", BTreeMap::from([("work".to_string(), WORK)])),
        params: |c| serde_json::json!({"work": WORK, "tasks": c.size}),
        check: square_sample,
    },
    PyWorkload {
        name: counter::NAME,
        op: counter::OP,
        chosen_by: &[counter::NAME],
        shape: Shape::Tasks {
            split: false,
            pools: false,
            // A held lock: 30 ms per increment in the classic example.
            probe: |hold| if hold.ns == 0 { 20_000 } else { 3 },
            unit_ops: 1,
        },
        // The classic example's increment without the sleep: hold 0, as Rust's default.
        id: |c| {
            let params = BTreeMap::from([
                ("hold_ns".to_string(), c.hold.ns),
                ("hold_sleep".to_string(), u64::from(c.hold.sleep)),
            ]);
            ("lock", params)
        },
        params: |c| {
            serde_json::json!({
                "increments": c.size,
                "hold_ns": c.hold.ns,
                "hold_sleep": u64::from(c.hold.sleep),
            })
        },
        check: counter_sample,
    },
    PyWorkload {
        name: sequence::NAME,
        op: sequence::OP,
        chosen_by: &[sequence::NAME],
        shape: Shape::Sequence,
        id: |c| {
            let variant = if c.evens { "evens" } else { "range" };
            (variant, BTreeMap::from([("n".to_string(), c.size)]))
        },
        params: |c| serde_json::json!({"n": c.size, "evens": u64::from(c.evens)}),
        check: |c, raw| seq_figures(c.size, c.evens, raw),
    },
];

/// One case of the runtime.
#[derive(Clone, Debug)]
pub(crate) struct PyCase {
    /// Its workload, as declared in [`PY_WORKLOADS`].
    pub(crate) w: &'static PyWorkload,
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
        let (variant, params) = (self.w.id)(self);
        CaseId {
            workload: self.w.name.into(),
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
        serde_json::json!({
            "workload": self.w.name,
            "model": self.driver_model(),
            "workers": self.workers,
            "samples": 1,
            "warmup": 0,
            "params": (self.w.params)(self),
        })
    }

    /// One sample of the driver's report, checked by its workload.
    pub(crate) fn check(&self, raw: &serde_json::Value) -> Result<StudySample, String> {
        (self.w.check)(self, raw)
    }
}

/// A square sample: every worker's tasks counted and its checksum in closed form.
fn square_sample(c: &PyCase, raw: &serde_json::Value) -> Result<StudySample, String> {
    task_figures(c.workers, raw, |k, n| {
        let tasks = split(c.size, k, n);
        let expected = crate::builtin::square::expected_task(WORK).wrapping_mul(tasks);
        (tasks * WORK, Some(expected))
    })
}

/// A counter sample: every worker's increments counted, the locked total exact.
fn counter_sample(c: &PyCase, raw: &serde_json::Value) -> Result<StudySample, String> {
    let s = task_figures(c.workers, raw, |_, _| (c.size, None))?;
    let expected = c.size * c.workers as u64;
    let shared = raw.get("shared").and_then(serde_json::Value::as_u64);
    if shared != Some(expected) {
        return Err(format!(
            "the locked counter ended at {shared:?}, expected exactly {expected}"
        ));
    }
    Ok(s)
}
