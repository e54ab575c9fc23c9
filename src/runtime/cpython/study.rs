//! The Python cases as a study: sizes, estimate, the round loop, and the GIL findings.

use std::collections::BTreeMap;

use crate::api::study::{CaseOutcome, Rounds, Study, StudyPlan, StudyRun, StudySample, rounds};
use crate::results::{CaseId, Measurement, Metric};

use super::*;
use crate::api::Model;
use crate::builtin::{counter, empty, sequence, square};

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

impl CPythonStudy {
    /// One sample of case `c` from a fresh interpreter, checked.
    fn take_sample(&self, c: &PyCase, timeout: std::time::Duration) -> Result<StudySample, String> {
        let report = self.cp.call(&c.request(), timeout)?;
        let raw = report.samples.first().ok_or("the driver sent no sample")?;
        if c.workload == sequence::NAME {
            seq_figures(c, raw)
        } else {
            task_figures(c, raw)
        }
    }

    fn cases(&self, plan: &StudyPlan<'_>) -> Vec<PyCase> {
        let chosen = |w: &str| self.workloads.contains(&w);
        let sizes: &[u64] = match (plan.sizes, plan.quick) {
            ([], true) => &QUICK_SIZES,
            ([], false) => &FULL_SIZES,
            (given, _) => given,
        };
        let mut out = Vec::new();
        for &model in plan.models {
            let Some(model) = MODELS.iter().copied().find(|m| *m == model) else {
                continue;
            };
            match model {
                "cpython-list" | "cpython-generator" if chosen(sequence::NAME) => {
                    for &n in sizes {
                        for evens in [false, true] {
                            out.push(PyCase {
                                workload: sequence::NAME,
                                model,
                                workers: 1,
                                size: n,
                                hold: self.hold,
                                evens,
                            });
                        }
                    }
                }
                "cpython-list" | "cpython-generator" => {}
                _ => {
                    for &workers in plan.workers {
                        let task = |workload| PyCase {
                            workload,
                            model,
                            workers,
                            size: 0,
                            hold: self.hold,
                            evens: false,
                        };
                        if chosen(square::NAME) || chosen(empty::NAME) {
                            out.push(task(square::NAME));
                        }
                        if !model.ends_with("pool") && chosen(counter::NAME) {
                            out.push(task(counter::NAME));
                        }
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
        for c in cases.iter_mut().filter(|c| c.workload != sequence::NAME) {
            let key = (c.workload, c.model);
            let size = match paces.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => *e.get(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let probe = PyCase {
                        workers: 1,
                        size: match (c.workload, c.hold.ns) {
                            (square::NAME, _) => 500,
                            (_, 0) => 20_000,
                            // A held lock (30 ms per increment in the classic example).
                            _ => 3,
                        },
                        ..c.clone()
                    };
                    let report = self.cp.call(&probe.request(), plan.timeout)?;
                    let first = report.samples.first().ok_or("the driver sent no sample")?;
                    let s = task_figures(&probe, first)?;
                    let rate = s.ops as f64 / (s.elapsed_ns.max(1) as f64 / 1e9);
                    let per_unit = if c.workload == square::NAME {
                        WORK as f64
                    } else {
                        1.0
                    };
                    *e.insert(((rate * target_s / per_unit).ceil() as u64).max(1))
                }
            };
            // Tasks are split between the workers; increments are per worker.
            c.size = if c.workload == square::NAME {
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
        let op = |c: &PyCase| match c.workload {
            square::NAME => square::OP,
            counter::NAME => counter::OP,
            _ => sequence::OP,
        };
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
                    && m.metric == "throughput"
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
                    && m.metric == "throughput"
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
    let file_start = c.workload == square::NAME && c.workers == 1 && starts;
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
