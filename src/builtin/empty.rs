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

/// How far the run moved between its start-up cases at `lo` and at `hi` bytes of parent
/// memory: the widest ratio, either way, of the threads model's bare loops between them (a
/// thread start does not depend on the parent's memory), with that loop's variant name;
/// `None` without both.
fn drift(ms: &[&Measurement], lo: u64, hi: u64) -> Option<(f64, String)> {
    let bare = |rss: u64| {
        ms.iter().filter(move |m| {
            m.case.model == Model::Threads.name()
                && m.case.variant != "default"
                && m.is(Metric::Roundtrip)
                && m.param("parent_rss") == Some(rss)
        })
    };
    bare(lo)
        .filter_map(|a| {
            let b = bare(hi).find(|b| b.case.variant == a.case.variant)?;
            let r = b.median / a.median;
            Some((r.max(1.0 / r), a.case.variant.clone()))
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
}

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
        // Words only where the 95% intervals separate, and by more than the run moved between
        // the two cases: else it is the run's noise.
        let (within, moved) = drift(ms, lo, hi).map_or((1.0, String::new()), |(d, v)| {
            let words = format!(
                "no change beyond this run's drift between the two cases (the threads' bare {v} \
                 loop, which does not depend on the parent's memory, moved {}× between them)",
                format::sig3(d)
            );
            (d, words)
        });
        models
            .into_iter()
            .filter_map(|model| {
                let (a, b) = (at(model, lo)?, at(model, hi)?);
                let ratio = b.median / a.median;
                let verdict = if b.ci95[0] <= a.ci95[1] && a.ci95[0] <= b.ci95[1] {
                    "no change beyond this run's noise (the 95% intervals overlap)"
                } else if ratio.max(1.0 / ratio) <= within {
                    moved.as_str()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::answers::CaseId;

    const GIB: u64 = 1 << 30;

    /// A measurement of the empty case at `rss` bytes of parent memory, 40 samples spread
    /// ±1% around `ns`.
    fn at(model: &str, variant: &str, metric: Metric, rss: u64, ns: f64) -> Measurement {
        let case = CaseId {
            workload: NAME.into(),
            model: model.into(),
            variant: variant.into(),
            workers: 1,
            params: [("parent_rss".to_string(), rss)].into(),
        };
        let samples = (0..40).map(|i| ns * (0.99 + 0.0005 * i as f64)).collect();
        Measurement::new(&case, metric, samples, true)
    }

    /// Findings of a run whose threads start at `t0` and `t1` ns from the small and the big
    /// parent, whose bare pthread loop took `b0` and `b1`, and whose fork went 100× slower.
    fn findings(t0: f64, t1: f64, b0: f64, b1: f64) -> Vec<String> {
        let ms = [
            at("threads", "default", Metric::Startup, 0, t0),
            at("threads", "default", Metric::Startup, GIB, t1),
            at("threads", "pthread", Metric::Roundtrip, 0, b0),
            at("threads", "pthread", Metric::Roundtrip, GIB, b1),
            at("fork", "default", Metric::Startup, 0, 100e3),
            at("fork", "default", Metric::Startup, GIB, 10e6),
        ];
        Empty.findings(&ms.iter().collect::<Vec<_>>())
    }

    #[test]
    fn a_start_up_change_within_what_the_run_moved_between_its_cases_is_no_finding() {
        // The threads' start fell 20% and so did their bare loop: the run moved, not the start.
        let f = findings(20e3, 16e3, 30e3, 24e3);
        assert!(
            f[0].starts_with("threads startup")
                && f[0].contains("no change beyond this run's drift"),
            "{f:?}"
        );
        assert!(
            f[0].contains("bare pthread loop") && f[0].contains("1.25×"),
            "{f:?}"
        );
        assert!(f[1].contains("grows by an order of magnitude"), "{f:?}");
        // The bare loop held still: the same fall is a finding.
        let f = findings(20e3, 16e3, 30e3, 30e3);
        assert!(f[0].ends_with("falls as the parent grows."), "{f:?}");
    }
}
