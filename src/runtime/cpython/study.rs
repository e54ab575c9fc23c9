//! The Python cases as a study: sizes, estimate, the round loop, and the GIL findings.

use std::collections::BTreeMap;

use crate::api::study::{CaseOutcome, Rounds, Study, StudyPlan, StudyRun, StudySample, rounds};
use crate::results::{CaseId, Measurement, Metric};

use super::workloads::{PY_WORKLOADS, PyWorkload, Shape};
use super::*;
use crate::api::Model;
use crate::builtin::{empty, square};

/// The CPython runtime as a study beside the Rust workloads: its measurements carry the
/// workload names `square`, `counter` and `sequence`, so they share the Rust figures' tables
/// and charts.
pub struct CPythonStudy {
    pub cp: CPython,
    /// The counter's hold (`--hold`).
    pub hold: Hold,
    /// The workloads chosen (`--workload`): `square` (and `empty`, whose start costs the
    /// Python square cases give), `counter`, `sequence`.
    pub workloads: Vec<&'static str>,
}

/// How long the Python counter holds its lock per increment, and whether it sleeps (the
/// classic example's `time.sleep(0.03)`) or busy-waits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hold {
    pub ns: u64,
    pub sleep: bool,
}

impl Hold {
    /// The hold the command line gave the Rust counter (`given` looks a parameter's value up
    /// by name): the Python counter holds the same.
    pub fn of(given: impl Fn(&str) -> Option<u64>) -> Hold {
        use crate::builtin::counter::{HOLD_NS, HOLD_SLEEP};
        Hold {
            ns: given(HOLD_NS.name).unwrap_or(0),
            sleep: given(HOLD_SLEEP.name).unwrap_or(0) != 0,
        }
    }
}

impl CPythonStudy {
    /// One sample of case `c` from a fresh interpreter, checked by its workload.
    fn take_sample(&self, c: &PyCase, timeout: std::time::Duration) -> Result<StudySample, String> {
        let report = self.cp.call(&c.request(), timeout)?;
        c.check(report.samples.first().ok_or("the driver sent no sample")?)
    }

    /// The cases of every chosen workload on every chosen model that runs it, as each
    /// workload declares them (`PY_WORKLOADS`).
    fn cases(&self, plan: &StudyPlan<'_>) -> Vec<PyCase> {
        let sizes: &[u64] = match (plan.sizes, plan.quick) {
            ([], true) => &QUICK_SIZES,
            ([], false) => &FULL_SIZES,
            (given, _) => given,
        };
        let chosen = |w: &PyWorkload| w.chosen_by.iter().any(|n| self.workloads.contains(n));
        let mut out = Vec::new();
        for &model in plan.models {
            let Some(model) = MODELS.iter().copied().find(|m| *m == model) else {
                continue;
            };
            for w in PY_WORKLOADS
                .iter()
                .filter(|w| chosen(w) && w.runs_on(model))
            {
                let case = |workers, size, evens| PyCase {
                    w,
                    model,
                    workers,
                    size,
                    hold: self.hold,
                    evens,
                };
                match w.shape {
                    Shape::Sequence => {
                        for &n in sizes {
                            out.extend([case(1, n, false), case(1, n, true)]);
                        }
                    }
                    Shape::Tasks { .. } => {
                        out.extend(plan.workers.iter().map(|&n| case(n, 0, false)));
                    }
                }
            }
        }
        out
    }

    /// Sizes the task cases by time: one sample of each workload on each model at one
    /// worker gives its pace on this interpreter (a process pool's per-task cost is a hundred
    /// times a loop's); a sample then lasts about the sample time at one worker.
    fn size(&self, plan: &StudyPlan<'_>, cases: &mut [PyCase]) -> Result<(), String> {
        let target_s = plan.sample_ns.max(MIN_SAMPLE_NS) as f64 / 1e9;
        let mut paces: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for c in cases.iter_mut() {
            let Shape::Tasks {
                split,
                probe,
                unit_ops,
                ..
            } = c.w.shape
            else {
                continue;
            };
            let size = match paces.entry((c.w.name, c.model)) {
                std::collections::btree_map::Entry::Occupied(e) => *e.get(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let sizing = PyCase {
                        workers: 1,
                        size: probe(c.hold),
                        ..c.clone()
                    };
                    let report = self.cp.call(&sizing.request(), plan.timeout)?;
                    let first = report.samples.first().ok_or("the driver sent no sample")?;
                    let s = sizing.check(first)?;
                    let rate = s.ops as f64 / (s.elapsed_ns.max(1) as f64 / 1e9);
                    *e.insert(((rate * target_s / unit_ops as f64).ceil() as u64).max(1))
                }
            };
            // Split: between the workers, at least one each; else the same for each.
            c.size = if split {
                size.max(c.workers as u64)
            } else {
                (size / c.workers as u64).max(1)
            };
        }
        Ok(())
    }
}

impl Study for CPythonStudy {
    fn name(&self) -> &'static str {
        "cpython"
    }
    fn op(&self) -> &'static str {
        "ops"
    }
    fn describe(&self) -> &'static str {
        "the classic Python examples run by CPython: square_numbers with threading.Thread, \
         multiprocessing.Process (fork and spawn) and concurrent.futures pools; the database \
         increment under threading.Lock and multiprocessing.Lock with a shared Value; a list \
         built by append against a generator"
    }
    fn models(&self) -> &'static [&'static str] {
        &MODELS
    }
    fn steps(&self, plan: &StudyPlan<'_>) -> u64 {
        (self.cases(plan).len() * Rounds::of(plan).without_warmup().total()) as u64
    }
    fn estimate_s(&self, plan: &StudyPlan<'_>) -> f64 {
        // An interpreter start per sample (~30 ms), a sample, and a process start per worker
        // for the process models (~60 ms for spawn).
        self.cases(plan)
            .iter()
            .map(|c| {
                let sample_s = plan.sample_ns.max(MIN_SAMPLE_NS) as f64 / 1e9;
                let per = 0.05 + sample_s + 0.08 * c.workers as f64;
                per * plan.samples as f64
            })
            .sum()
    }

    fn run(&self, plan: &StudyPlan<'_>, run: &mut StudyRun<'_>) -> Vec<(CaseId, CaseOutcome)> {
        let mut cases = self.cases(plan);
        if let Err(e) = self.size(plan, &mut cases) {
            return cases.iter().map(|c| (c.id(), Err(e.clone()))).collect();
        }
        // Round by round, like the Rust cases: a drifting machine hits every case alike. No
        // warm-up round: every sample is a fresh interpreter anyway.
        let label = self.cp.interpreter.label();
        let ids: Vec<(CaseId, PyCase)> = cases.into_iter().map(|c| (c.id(), c)).collect();
        let by_id: BTreeMap<CaseId, PyCase> = ids.iter().cloned().collect();
        let op = |c: &PyCase| c.w.op;
        let rounds_of = Rounds::of(plan).without_warmup();
        rounds(rounds_of, run, ids, "ops", |c| {
            self.take_sample(c, plan.timeout)
        })
        .into_iter()
        .map(|(id, outcome)| {
            let c = &by_id[&id];
            let outcome = outcome.map(|ms| filed(c, ms, &label, op(c)));
            (id, outcome)
        })
        .collect()
    }

    fn findings(&self, measurements: &[&Measurement]) -> Vec<String> {
        gil_findings(measurements, &self.cp.interpreter)
    }
}

/// What the GIL does, in words: CPython threads' speedup over sequential at the largest
/// worker count against its processes'.
pub(crate) fn gil_findings(ms: &[&Measurement], interp: &Interpreter) -> Vec<String> {
    let thr = |model: &str, workers: usize| {
        ms.iter()
            .find(|m| {
                m.case.workload == square::NAME
                    && m.case.model == model
                    && m.case.workers == workers
                    && m.is(Metric::Throughput)
            })
            .map(|m| m.median)
    };
    let Some(n) = ms
        .iter()
        .filter(|m| m.case.workload == square::NAME && m.case.model == "cpython-threads")
        .map(|m| m.case.workers)
        .max()
        .filter(|&n| n > 1)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let (Some(rust), Some(py)) = (
        ms.iter()
            .find(|m| {
                m.case.workload == square::NAME
                    && m.case.model == Model::Sequential.name()
                    && m.case.workers == 1
                    && m.is(Metric::Throughput)
            })
            .map(|m| m.median),
        thr("cpython-sequential", 1),
    ) {
        out.push(format!(
            "square_numbers on one core: Rust runs {:.0}× as many squares per second as {} \
             ({} against {}).",
            rust / py,
            interp.label(),
            crate::units::rate_of(rust, "squares"),
            crate::units::rate_of(py, "squares")
        ));
    }
    if let (Some(seq), Some(t), Some(f)) = (
        thr("cpython-sequential", n),
        thr("cpython-threads", n),
        thr("cpython-fork", n),
    ) {
        let what = if interp.gil {
            "the GIL lets one thread run Python code at a time"
        } else {
            "this interpreter is free-threaded (no GIL)"
        };
        out.push(format!(
            "{}: square_numbers on {n} threads runs at {:.2}× sequential, on {n} forked \
             processes at {:.2}× — {what}.",
            interp.label(),
            t / seq,
            f / seq
        ));
    }
    out
}

/// A case's measurements as the round loop gave them, filed as threadfork files Rust's: the
/// interpreter and the op on each; worker 0's start-up, for one worker of a model that starts
/// workers, beside Rust's start costs (the `empty` workload) — request → the worker's first
/// instruction does not depend on what the worker then does — and nowhere else.
fn filed(c: &PyCase, ms: Vec<Measurement>, label: &str, op: &str) -> Vec<Measurement> {
    let starts = [Model::Threads, Model::Fork, Model::Spawn]
        .iter()
        .any(|m| m.name() == c.driver_model());
    // The workload whose start-ups stand for `empty`'s (the one `empty` chooses).
    let file_start = c.w.chosen_by.contains(&empty::NAME) && c.workers == 1 && starts;
    ms.into_iter()
        .filter_map(|mut m| {
            if m.is(Metric::Startup) {
                if !file_start {
                    return None;
                }
                m.case = CaseId {
                    workload: empty::NAME.into(),
                    variant: "default".into(),
                    params: BTreeMap::from([("parent_rss".to_string(), 0)]),
                    ..m.case
                };
            }
            m.runtime = Some(label.to_string());
            m.op = Some(op.into());
            Some(m)
        })
        .collect()
}
