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

use crate::api::model::Named;
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

    /// The answers of a workload that declares none of its own: the fastest parallel model
    /// at the widest worker count against the sequential run at 1 worker, and each variant
    /// against the first on a parallel model. "Fastest" and "N×" are said only where the
    /// intervals separate; otherwise the line says which figures are within noise.
    pub fn generic(&self) -> Vec<Answer> {
        let mut out = Vec::new();
        let (w, op) = (self.workload, self.op());
        let Some(n) = self.widest() else {
            return out;
        };
        // At more than one worker, the sequential model runs its shares one after another:
        // it cannot answer what N workers buy.
        let tp = |m: &&Measurement| {
            m.is(Metric::Throughput)
                && m.verified
                && m.runtime.is_none()
                && m.case.workers == n
                && (n == 1 || !Named::of(&m.case.model).is_reference())
        };
        // The variants in the order they were measured, each once.
        let mut variants: Vec<&str> = Vec::new();
        for m in self.measurements() {
            if !variants.contains(&m.case.variant.as_str()) {
                variants.push(&m.case.variant);
            }
        }
        let first = variants.first().copied().unwrap_or_default();
        let mut ranked: Vec<&Measurement> = self
            .measurements()
            .filter(tp)
            .filter(|m| m.case.variant == first)
            .collect();
        ranked.sort_by(|a, b| b.median.total_cmp(&a.median));
        if let Some(&best) = ranked.first() {
            let seq = self.find(
                crate::api::Model::Sequential.name(),
                first,
                1,
                Metric::Throughput,
            );
            out.push(fastest(w, first, n, &ranked, seq, &op, best));
        }
        // A variant comparison on the fastest parallel model of the first variant.
        for v in variants.iter().skip(1) {
            let pair = ranked.iter().find_map(|a| {
                self.find(&a.case.model, v, n, Metric::Throughput)
                    .map(|b| (*a, b))
            });
            if let Some((a, b)) = pair {
                let mut l = Line::default();
                let (fb, fa) = (l.fig(b, &op), l.fig(a, &op));
                let line = if separate(a, b) {
                    format!(
                        "{w}: {v} runs at {}× {first} on {} with {n} workers ({fb} against {fa}).",
                        format::sig3(b.median / a.median),
                        a.case.model,
                    )
                } else {
                    format!(
                        "{w}: {v} and {first} within noise of each other on {} with {n} workers ({fb} against {fa}).",
                        a.case.model,
                    )
                };
                out.push(l.done(line));
            }
        }
        out
    }
}

/// Whether two figures' 95% intervals do not overlap: only then is one said to be faster.
pub fn separate(a: &Measurement, b: &Measurement) -> bool {
    a.ci95[0] > b.ci95[1] || b.ci95[0] > a.ci95[1]
}

/// "fastest on X", or the models within noise of the best.
fn fastest(
    w: &str,
    first: &str,
    n: usize,
    ranked: &[&Measurement],
    seq: Option<&Measurement>,
    op: &str,
    best: &Measurement,
) -> Answer {
    let mut l = Line::default();
    let tied: Vec<&Measurement> = ranked
        .iter()
        .copied()
        .filter(|m| std::ptr::eq(*m, best) || !separate(m, best))
        .collect();
    let vs = |l: &mut Line, lo: f64, hi: f64| {
        seq.map_or(String::new(), |s| {
            let k = if format::sig3(lo / s.median) == format::sig3(hi / s.median) {
                format!("{}×", format::sig3(hi / s.median))
            } else {
                format!(
                    "{}–{}×",
                    format::sig3(lo / s.median),
                    format::sig3(hi / s.median)
                )
            };
            format!(", {k} its sequential run at 1 worker ({})", l.fig(s, op))
        })
    };
    let line = if tied.len() == 1 {
        let fig = l.fig(best, op);
        let vs = vs(&mut l, best.median, best.median);
        format!(
            "{w} ({first}), {n} workers: fastest on {} at {fig}{vs}.",
            best.case.model
        )
    } else {
        let names: Vec<&str> = tied.iter().map(|m| m.case.model.as_str()).collect();
        let figs: Vec<String> = tied.iter().map(|m| l.fig(m, op)).collect();
        let lo = tied.last().map_or(best.median, |m| m.median);
        let vs = vs(&mut l, lo, best.median);
        format!(
            "{w} ({first}), {n} workers: {} within noise of each other ({}){vs}.",
            names.join(", "),
            figs.join("; ")
        )
    };
    l.done(line)
}

/// What other processes did to a figure, as a mark after it: flagged (too few clean samples:
/// the figure includes samples others interfered with) or retaken.
pub fn interference_mark(m: &Measurement) -> String {
    if m.flagged {
        " [flagged: other processes held the CPUs]".into()
    } else if m.retaken > 0 || !m.set_aside.is_empty() {
        format!(
            " [{} retaken: other processes held the CPUs]",
            m.retaken.max(m.set_aside.len())
        )
    } else {
        String::new()
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
        let figure = if half == 0.0 {
            // Every sample gave the same figure (exact counts such as heap bytes).
            f(m.median)
        } else if pct < 10.0 {
            format!("{} ±{pct:.1}%", f(m.median))
        } else {
            format!("{} ±{pct:.0}%", f(m.median))
        };
        format!("{figure}{}", interference_mark(m))
    }

    /// The answer: `line`, with every figure quoted on the way.
    pub fn done(self, line: String) -> Answer {
        Answer {
            line,
            quotes: self.quotes,
        }
    }
}
