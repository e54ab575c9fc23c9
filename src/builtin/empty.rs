//! `empty`: a worker that does nothing, so that what is measured is starting and stopping it
//! — startup (request → first instruction) and roundtrip (start + empty task + join/reap).

use crate::api::answers::format;
use crate::api::answers::{Answer, Line, RunFigures};
use crate::api::answers::{Measurement, Metric};
use crate::api::{Ctx, Model, Output, Sample, Size, Verdict, Workload};

/// The workload's name, as runs, results and `--workload` name it.
pub const NAME: &str = "empty";
/// What one operation is, in the plural.
pub const OP: &str = "starts";

/// The built-in start-only workload.
pub struct Empty;

impl Workload for Empty {
    type Shared = ();

    fn name(&self) -> &'static str {
        NAME
    }
    fn op(&self) -> &'static str {
        OP
    }
    fn describe(&self) -> &'static str {
        "a worker with nothing to do: the cost of starting, joining and reaping one; verified \
         by the worker's start mark in its slot and a clean exit"
    }
    fn size(&self) -> Size {
        Size::None
    }
    fn start_only(&self) -> bool {
        true
    }
    fn run(&self, _ctx: &Ctx<'_, ()>) -> Output {
        Output::new(1, 1)
    }
    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        // Each worker reports that it ran; the executors have already checked its start mark,
        // its done mark and, for processes, its exit status.
        Verdict::check(s.outputs().iter().all(|o| o.ops == 1), || {
            "a worker did not report its run".into()
        })
    }

    /// Plain words on how each model's startup grows with the parent's RSS.
    fn findings(&self, ms: &[&Measurement]) -> Vec<String> {
        let starts: Vec<&&Measurement> = ms
            .iter()
            .filter(|m| m.is(Metric::Startup) && m.case.variant == "default")
            .collect();
        let sizes: Vec<u64> = starts
            .iter()
            .filter_map(|m| m.param("parent_rss"))
            .collect();
        let (Some(&lo), Some(&hi)) = (sizes.iter().min(), sizes.iter().max()) else {
            return Vec::new();
        };
        if lo == hi {
            return Vec::new();
        }
        let mut models: Vec<&str> = Vec::new();
        for m in &starts {
            if !models.contains(&m.case.model.as_str()) {
                models.push(&m.case.model);
            }
        }
        let at = |model: &str, rss: u64| {
            starts
                .iter()
                .find(|m| m.case.model == model && m.param("parent_rss") == Some(rss))
        };
        models
            .into_iter()
            .filter_map(|model| {
                let (a, b) = (at(model, lo)?, at(model, hi)?);
                let ratio = b.median / a.median;
                // Words only where the 95% intervals separate: else it is the run's noise.
                let verdict = if b.ci95[0] <= a.ci95[1] && a.ci95[0] <= b.ci95[1] {
                    "no change beyond this run's noise (the 95% intervals overlap)"
                } else if ratio >= 10.0 {
                    "grows by an order of magnitude: the kernel copies the parent's page tables"
                } else if ratio > 1.0 {
                    "grows with the parent's size"
                } else {
                    "falls as the parent grows"
                };
                let held = |m: &Measurement, asked: u64| {
                    m.parent
                        .as_ref()
                        .and_then(|p| p.rss_median())
                        .map_or_else(|| format::bytes(asked as f64), |r| format::bytes(r as f64))
                };
                Some(format!(
                    "{model} startup goes from {} with a parent of {} RSS to {} with {} ({ratio:.1}×): {verdict}.",
                    format::ns(a.median),
                    held(a, lo),
                    format::ns(b.median),
                    held(b, hi),
                ))
            })
            .collect()
    }

    /// How long a process takes to start against a thread, and how that grows with the
    /// parent's size.
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        let mut sizes: Vec<u64> = run
            .measurements()
            .filter(|m| m.is(Metric::Startup))
            .filter_map(|m| m.param("parent_rss"))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let Some(&lo) = sizes.first() else {
            return Vec::new();
        };
        let at = |model: Model, rss: u64| {
            run.measurements().find(|m| {
                m.case.model == model.name()
                    && m.case.variant == "default"
                    && m.is(Metric::Startup)
                    && m.param("parent_rss") == Some(rss)
                    && m.verified
                    && m.runtime.is_none()
            })
        };
        let mut out = Vec::new();
        let mut l = Line::default();
        let thread = at(Model::Threads, lo);
        let mut parts = Vec::new();
        if let Some(t) = thread {
            parts.push(format!("thread {}", l.fig(t, "")));
        }
        for model in [Model::Fork, Model::Spawn] {
            if let Some(m) = at(model, lo) {
                let times = thread.map_or(String::new(), |t| {
                    format!(" ({}× a thread)", format::sig3(m.median / t.median))
                });
                parts.push(format!("{} {}{times}", model.name(), l.fig(m, "")));
            }
        }
        if !parts.is_empty() {
            out.push(l.done(format!(
                "Starting a worker, request to first instruction (empty, parent holding {} of ballast; ± is the 95% interval): {}.",
                format::bytes(lo as f64),
                parts.join("; ")
            )));
        }
        let hi = *sizes.last().unwrap_or(&lo);
        if hi > lo {
            let mut l = Line::default();
            let parts: Vec<String> = [Model::Fork, Model::Spawn, Model::Threads]
                .into_iter()
                .filter_map(|model| {
                    let (a, b) = (at(model, lo)?, at(model, hi)?);
                    Some(format!(
                        "{} {}× ({} → {})",
                        model.name(),
                        format::sig3(b.median / a.median),
                        l.fig(a, ""),
                        l.fig(b, "")
                    ))
                })
                .collect();
            if !parts.is_empty() {
                out.push(l.done(format!(
                    "A bigger parent ({} → {} of ballast): {}.",
                    format::bytes(lo as f64),
                    format::bytes(hi as f64),
                    parts.join("; ")
                )));
            }
        }
        out
    }
}
