//! Answers: the lines a reader comes for, first in the summary and at the top of `index.html`.
//! Each workload answers the questions it is measured for in its own terms
//! ([`crate::Workload::answers`]), each line quoting measured, verified figures of the run
//! (median and 95% interval) through a [`Line`]; by default, which model is fastest against
//! the sequential run and how each variant compares with the first.
//!
//! ```
//! use threadfork::answers::{Answer, Line, Metric, RunFigures};
//!
//! /// "Packed bins against padded ones, on threads at the widest worker count."
//! fn packed_vs_padded(run: &RunFigures<'_>) -> Vec<Answer> {
//!     let Some(n) = run.widest() else { return Vec::new() };
//!     let (Some(packed), Some(padded)) = (
//!         run.find("threads", "packed", n, Metric::Throughput),
//!         run.find("threads", "padded", n, Metric::Throughput),
//!     ) else {
//!         return Vec::new();
//!     };
//!     let mut l = Line::default();
//!     let text = format!(
//!         "Packed bins run at {} against {} padded, {n} threads.",
//!         l.fig(packed, &run.op()),
//!         l.fig(padded, &run.op())
//!     );
//!     vec![l.done(text)]
//! }
//! ```

use crate::results::Results;
pub use crate::results::{Answer, CaseId, Measurement, Metric, Quote};
/// How threadfork writes figures: times, bytes, rates and three significant digits.
pub mod format {
    pub use crate::units::*;
}

/// The figures of one workload in a run, as its answers read them.
pub struct RunFigures<'a> {
    results: &'a Results,
    workload: &'a str,
}

impl<'a> RunFigures<'a> {
    pub fn new(results: &'a Results, workload: &'a str) -> RunFigures<'a> {
        RunFigures { results, workload }
    }

    /// The whole run (its machine, calibration and failures).
    pub fn results(&self) -> &'a Results {
        self.results
    }

    /// The workload's name.
    pub fn workload(&self) -> &'a str {
        self.workload
    }

    /// Every measurement of the workload, in the order measured (every runtime's).
    pub fn measurements(&self) -> impl Iterator<Item = &'a Measurement> + 'a {
        let w = self.workload;
        self.results
            .measurements
            .iter()
            .filter(move |m| m.case.workload == w)
    }

    /// A verified measurement of this run's Rust code: `metric` of `model` and `variant` at
    /// `workers`.
    pub fn find(
        &self,
        model: &str,
        variant: &str,
        workers: usize,
        metric: Metric,
    ) -> Option<&'a Measurement> {
        self.measurements().find(|m| {
            m.case.model == model
                && m.case.variant == variant
                && m.case.workers == workers
                && m.metric == metric
                && m.verified
                && m.runtime.is_none()
        })
    }

    /// The largest worker count measured that the allowed cores can run at once.
    pub fn widest(&self) -> Option<usize> {
        let cores = self.results.machine.allowed_cpus.len().max(1);
        self.measurements()
            .map(|m| m.case.workers)
            .filter(|&w| w <= cores)
            .max()
    }

    /// What the workload counts ("squares"), as the run recorded it.
    pub fn op(&self) -> String {
        self.results
            .workload(self.workload)
            .map(|w| w.op.clone())
            .unwrap_or_else(|| "ops".into())
    }

    /// Whether any case of the workload failed.
    pub fn any_failed(&self) -> bool {
        self.results
            .failures
            .iter()
            .any(|f| f.case.workload == self.workload)
    }

    /// The answers of a workload that declares none of its own: the fastest model at the
    /// widest worker count against the sequential run at 1 worker, and each variant against
    /// the first on the same model.
    pub fn generic(&self) -> Vec<Answer> {
        let mut out = Vec::new();
        let (w, op) = (self.workload, self.op());
        let Some(n) = self.widest() else {
            return out;
        };
        let tp = |m: &&Measurement| {
            m.is(Metric::Throughput) && m.verified && m.runtime.is_none() && m.case.workers == n
        };
        // The variants in the order they were measured, each once.
        let mut variants: Vec<&str> = Vec::new();
        for m in self.measurements() {
            if !variants.contains(&m.case.variant.as_str()) {
                variants.push(&m.case.variant);
            }
        }
        let first = variants.first().copied().unwrap_or_default();
        let best = self
            .measurements()
            .filter(tp)
            .filter(|m| m.case.variant == first)
            .max_by(|a, b| a.median.total_cmp(&b.median));
        if let Some(b) = best {
            let mut l = Line::default();
            let seq = self.find(
                crate::api::Model::Sequential.name(),
                first,
                1,
                Metric::Throughput,
            );
            let vs = seq.map_or(String::new(), |s| {
                format!(
                    ", {}× its sequential run at 1 worker ({})",
                    format::sig3(b.median / s.median),
                    l.fig(s, &op)
                )
            });
            let line = format!(
                "{w} ({first}), {n} workers: fastest on {} at {}{vs}.",
                b.case.model,
                l.fig(b, &op)
            );
            out.push(l.done(line));
        }
        for v in variants.iter().skip(1) {
            let pair = self.measurements().filter(tp).find_map(|a| {
                (a.case.variant == first)
                    .then(|| {
                        self.find(&a.case.model, v, n, Metric::Throughput)
                            .map(|b| (a, b))
                    })
                    .flatten()
            });
            if let Some((a, b)) = pair {
                let mut l = Line::default();
                let line = format!(
                    "{w}: {v} runs at {}× {first} on {} with {n} workers ({} against {}).",
                    format::sig3(b.median / a.median),
                    a.case.model,
                    l.fig(b, &op),
                    l.fig(a, &op)
                );
                out.push(l.done(line));
            }
        }
        out
    }
}

/// Collects an answer's line while it quotes measurements.
#[derive(Default)]
pub struct Line {
    quotes: Vec<Quote>,
}

impl Line {
    /// `m`'s median with its 95% interval (as ± per cent), in its own unit (a rate in `op`s),
    /// quoted.
    pub fn fig(&mut self, m: &Measurement, op: &str) -> String {
        self.quotes.push(Quote {
            case: m.case.clone(),
            metric: m.metric,
            value: m.median,
        });
        let f = |v: f64| m.metric.show(v, op);
        // The 95% interval as its wider side's distance from the median, in per cent.
        let half = (m.median - m.ci95[0]).max(m.ci95[1] - m.median).max(0.0);
        let pct = if m.median != 0.0 {
            100.0 * half / m.median.abs()
        } else {
            0.0
        };
        if half == 0.0 {
            // Every sample gave the same figure (exact counts such as heap bytes).
            f(m.median)
        } else if pct < 10.0 {
            format!("{} ±{pct:.1}%", f(m.median))
        } else {
            format!("{} ±{pct:.0}%", f(m.median))
        }
    }

    /// The answer: `line`, with every figure quoted on the way.
    pub fn done(self, line: String) -> Answer {
        Answer {
            line,
            quotes: self.quotes,
        }
    }
}
