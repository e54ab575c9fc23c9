//! `sequence`: produce 0..n (its evens, its squares) and consume it by summing — lazily, one
//! item at a time, eagerly after collecting a `Vec<u64>`, or through a bounded pipeline to N
//! threads — with heap bytes, peak RSS, time to the first item and throughput, each sample
//! verified in closed form. A study: its models are its own.

pub mod items;
pub mod models;

use std::collections::BTreeMap;

use crate::api::answers::format;
use crate::api::answers::{Answer, Line, RunFigures};
use crate::api::answers::{CaseId, Measurement, Metric};
use crate::api::study::tools::probe;
use crate::api::study::tools::{self, available_memory_bytes};
use crate::api::study::{CaseOutcome, Rounds, Study, StudyPlan, StudyRun, StudySample, rounds};
use items::SequenceVariant;
use models::SeqModel;

/// The workload's name, as runs, results and `--workload` name it.
pub const NAME: &str = "sequence";
/// What one operation is, in the plural.
pub const OP: &str = "items";

/// The built-in sequence study.
pub struct Sequence;

/// Sequence sizes of a full run: 10^3 … 10^8.
pub const FULL_SIZES: [u64; 6] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
/// Sequence sizes of a quick run.
pub const QUICK_SIZES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// One case of the study.
#[derive(Clone, Copy, Debug)]
struct SeqCase {
    model: SeqModel,
    variant: SequenceVariant,
    n: u64,
    workers: usize,
}

impl SeqCase {
    fn id(&self) -> CaseId {
        CaseId {
            workload: NAME.into(),
            model: self.model.name().into(),
            variant: self.variant.name().into(),
            workers: self.workers,
            params: BTreeMap::from([("n".to_string(), self.n)]),
        }
    }
}

fn cases(plan: &StudyPlan<'_>) -> Vec<SeqCase> {
    let sizes: &[u64] = match (plan.sizes, plan.quick) {
        ([], true) => &QUICK_SIZES,
        ([], false) => &FULL_SIZES,
        (given, _) => given,
    };
    let mut out = Vec::new();
    for name in plan.models {
        let Some(model) = SeqModel::parse(name) else {
            continue;
        };
        for &n in sizes {
            let one = |variant| SeqCase {
                model,
                variant,
                n,
                workers: 1,
            };
            let widths = plan.workers.iter().map(|&workers| SeqCase {
                model,
                variant: SequenceVariant::Squares,
                n,
                workers,
            });
            match model {
                SeqModel::Lazy => {
                    out.extend([one(SequenceVariant::Range), one(SequenceVariant::Evens)]);
                }
                SeqModel::Eager => {
                    out.extend([one(SequenceVariant::Range), one(SequenceVariant::Evens)]);
                    out.extend(widths);
                }
                SeqModel::Pipeline | SeqModel::PoolPipeline => out.extend(widths),
            }
        }
    }
    out
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

impl Study for Sequence {
    fn name(&self) -> &'static str {
        NAME
    }
    fn op(&self) -> &'static str {
        OP
    }
    fn describe(&self) -> &'static str {
        "0..n (and its evens, and its squares) produced and summed lazily, eagerly into a \
         Vec<u64>, or through a bounded pipeline; every sum checked in closed form, heap bytes \
         exact from a counting allocator"
    }
    fn models(&self) -> &'static [&'static str] {
        &SeqModel::NAMES
    }
    fn steps(&self, plan: &StudyPlan<'_>) -> u64 {
        (cases(plan).len() * Rounds::of(plan).total()) as u64
    }

    /// Times one sample of each case kind at n = 10^5 and scales by n: eager's page faults
    /// make large n cost more per item, so this errs low for 10^8.
    fn estimate_s(&self, plan: &StudyPlan<'_>) -> f64 {
        const PROBE_N: u64 = 100_000;
        let mut per_item: Vec<((SeqModel, SequenceVariant, usize), f64)> = Vec::new();
        let mut total = 0.0;
        for c in cases(plan) {
            let kind = (c.model, c.variant, c.workers);
            let ns = match per_item.iter().find(|(k, _)| *k == kind) {
                Some((_, ns)) => *ns,
                None => {
                    let limit = models::Limit::within(plan.timeout);
                    let t0 = tools::now_ns();
                    let ok = models::run(c.model, c.variant, PROBE_N, c.workers, limit).is_ok();
                    let dt = tools::now_ns().saturating_sub(t0) as f64;
                    let ns = if ok { dt / PROBE_N as f64 } else { 0.0 };
                    per_item.push((kind, ns));
                    ns
                }
            };
            total += ns * c.n as f64 * (plan.warmup + plan.samples) as f64;
        }
        total / 1e9
    }

    /// Runs the cases through the round loop, one sample of each per round, for the same
    /// reason as the task cases: every case then sees the same mix of the machine's fast and
    /// slow spells.
    fn run(&self, plan: &StudyPlan<'_>, run: &mut StudyRun<'_>) -> Vec<(CaseId, CaseOutcome)> {
        let mut skipped = Vec::new();
        let mut kept = Vec::new();
        for case in cases(plan) {
            if case.model == SeqModel::Eager {
                let need = eager_need_bytes(case.variant, case.n);
                // Leave a quarter of what is available to the rest of the system.
                if let Some(avail) = available_memory_bytes()
                    && need > avail / 4 * 3
                {
                    run.note(format!(
                        "{}: skipped: needs {need} bytes, the machine has {avail} available",
                        case.id()
                    ));
                    skipped.push((case.id(), Ok(Vec::new())));
                    continue;
                }
            }
            kept.push((case.id(), case));
        }
        let done = rounds(Rounds::of(plan), run, kept, OP, |c| {
            let p = probe();
            let limit = models::Limit::within(plan.timeout);
            let s = models::run(c.model, c.variant, c.n, c.workers, limit)?;
            c.variant.verify(c.n, s.sum)?;
            let mut sample = StudySample::new(s.items, s.elapsed_ns)
                .with_probe(p)
                .with(Metric::FirstItem, s.first_item_ns as f64);
            if let Some(b) = s.heap_bytes {
                sample = sample.with(Metric::HeapBytes, b as f64);
            }
            if let Some(b) = s.rss_growth_bytes {
                sample = sample.with(Metric::PeakRss, b as f64);
            }
            Ok(sample)
        });
        skipped.into_iter().chain(done).collect()
    }

    /// Per n: eager ÷ lazy for heap bytes and first-item time, in words.
    fn findings(&self, ms: &[&Measurement]) -> Vec<String> {
        let ms: Vec<&Measurement> = ms
            .iter()
            .copied()
            .filter(|m| m.case.workload == NAME)
            .collect();
        let mut sizes: Vec<u64> = ms.iter().filter_map(|m| m.param("n")).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let get = |model: &str, metric: Metric, n: u64| {
            ms.iter().find(|m| {
                m.case.model == model
                    && m.case.variant == "range"
                    && m.case.workers == 1
                    && m.is(metric)
                    && m.param("n") == Some(n)
            })
        };
        let mut out = Vec::new();
        for n in sizes {
            let (Some(eh), Some(lh), Some(ef), Some(lf)) = (
                get("eager", Metric::HeapBytes, n),
                get("lazy", Metric::HeapBytes, n),
                get("eager", Metric::FirstItem, n),
                get("lazy", Metric::FirstItem, n),
            ) else {
                continue;
            };
            let heap = if lh.median > 0.0 {
                format!("{:.0}× the heap", eh.median / lh.median)
            } else {
                format!("{} of heap against none", format::bytes(eh.median))
            };
            out.push(format!(
                "n = {}: eager uses {heap} ({} vs {}) and hands over its first item {:.0}× later ({} vs {}).",
                format::count(n),
                format::bytes(eh.median),
                format::bytes(lh.median),
                ef.median / lf.median.max(1.0),
                format::ns(ef.median),
                format::ns(lf.median),
            ));
        }
        out
    }

    /// What a lazy sequence saves against an eager one, at the largest n.
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        let Some(n) = run.measurements().filter_map(|m| m.param("n")).max() else {
            return Vec::new();
        };
        let at = |model: &str, metric: Metric| {
            run.measurements().find(|m| {
                m.case.model == model
                    && m.case.variant == "range"
                    && m.is(metric)
                    && m.param("n") == Some(n)
                    && m.verified
                    && m.runtime.is_none()
            })
        };
        let (Some(eh), Some(lh), Some(ef), Some(lf)) = (
            at("eager", Metric::HeapBytes),
            at("lazy", Metric::HeapBytes),
            at("eager", Metric::FirstItem),
            at("lazy", Metric::FirstItem),
        ) else {
            return Vec::new();
        };
        let mut l = Line::default();
        let line = format!(
            "Lazy vs eager (sequence of n = {}): heap {} eager against {} lazy; first item after {} eager against {} lazy.",
            format::count(n),
            l.fig(eh, ""),
            l.fig(lh, ""),
            l.fig(ef, ""),
            l.fig(lf, "")
        );
        vec![l.done(line)]
    }
}
