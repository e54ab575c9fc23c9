//! What makes runs from different machines comparable: the measurements divided by the
//! reference each run took (the core-speed probe, the bare primitive), and what the harness adds.

use std::collections::BTreeMap;

use crate::api::Model;
use crate::results::derived::{self, ratio_samples};
use crate::results::{Better, CaseId, Key, Measurement, Results};

use super::*;

pub(crate) fn derived(
    metric: &str,
    better: Better,
    like: &Measurement,
    samples: Vec<f64>,
) -> Option<Measurement> {
    if samples.is_empty() {
        return None;
    }
    let mut m = Measurement::named(&like.case, metric, "ratio", better, samples, like.verified);
    m.ops_per_sample = like.ops_per_sample;
    Some(m)
}

/// The machine-independent figures of a run: speedup over sequential and scaling efficiency
/// of every throughput, each model's startup ÷ the threads model's startup at the same
/// parameters, the harness's overhead over the bare OS loops, and exact heap byte counts.
pub fn machine_independent(r: &Results) -> Vec<Measurement> {
    let mut out = Vec::new();
    for m in r.measurements.iter().filter(|m| is_judged(m)) {
        match m.metric.as_str() {
            "throughput" => {
                if m.case.model != derived::sequential_of(&m.case.model) {
                    out.extend(derived(
                        "speedup",
                        Better::Higher,
                        m,
                        derived::speedup_samples(r, m),
                    ));
                }
                if m.case.workers > 1 {
                    out.extend(derived(
                        "efficiency",
                        Better::Higher,
                        m,
                        derived::efficiency_samples(r, m),
                    ));
                }
            }
            "startup" if m.case.model != Model::Threads.name() => {
                let threads = CaseId {
                    model: Model::Threads.name().into(),
                    ..m.case.clone()
                };
                if let Some(t) = derived::find(r, &threads, "startup") {
                    let name = format!("{}_thread_startup_ratio", m.case.model);
                    out.extend(derived(
                        &name,
                        Better::Lower,
                        m,
                        ratio_samples(&m.samples, &t.samples, 1.0),
                    ));
                }
            }
            "heap_bytes" => out.push(m.clone()),
            _ => {}
        }
    }
    out.extend(harness_adds(r));
    out
}

/// The same run's reference for a measurement, if it has one: the frozen core-speed probe
/// taken beside each of its samples — a loop of its own, never a workload's code nor an OS
/// primitive — so that a slower core of the moment is removed and a slower workload, kernel
/// or lock path is not. Throughputs become ops per probe step (the probe taken by the
/// workers on their own cores), a first item's wait becomes probe steps.
///
/// A start cost (startup, roundtrip) follows the core's speed only in part: the kernel's
/// side of a `fork` copies page tables, which the memory keeps pace with as much as the core.
/// It is multiplied by the square root of the probe taken before its sample ([`START_SPEED_POWER`]).
pub(crate) fn reference(m: &Measurement) -> Option<(&'static str, Vec<f64>)> {
    if m.probe.len() != m.samples.len() || m.probe.iter().any(|p| *p <= 0.0) {
        return None;
    }
    use crate::results::metric::{Speed, facts_of};
    match facts_of(&m.metric)?.speed {
        Speed::Divided => Some(("÷ core speed", m.probe.clone())),
        // Time in units of work the core could have done meanwhile.
        Speed::Multiplied => Some(("× core speed", m.probe.iter().map(|p| 1.0 / p).collect())),
        Speed::StartCost => Some((
            "× √core speed",
            m.probe.iter().map(|p| p.powf(-START_SPEED_POWER)).collect(),
        )),
        Speed::Exact => None,
    }
}

/// How a start cost is put in units of the core's speed: times the probe to this power. On
/// the reference host, over 26 quick runs of one build (about 25 minutes), start costs moved
/// with the probe at a fitted power of 0.5–0.6 (`fork`), 0.3–0.5 (spawn) and 0.8–1.3
/// (threads). Between those runs, a `fork` from a 1 GiB parent moved by 6.9% (σ of the log
/// medians) as measured, 3.3% at power ½, and 7.1% divided by the whole probe; from a small
/// parent 18.7%, 17.6% and 17.6%.
pub const START_SPEED_POWER: f64 = 0.5;

/// The harness's own overhead over the bare OS primitive, as a key of its own: each start-only
/// case's roundtrip ÷ the bare loop interleaved with it, round by round. Judged like any
/// figure, so a slower harness is caught while a slower kernel (both sides alike) is not.
pub(crate) fn harness_adds(r: &Results) -> Vec<Measurement> {
    r.measurements
        .iter()
        .filter(|m| m.metric == "roundtrip" && is_judged(m))
        .filter_map(|m| {
            derived(
                "harness_adds",
                Better::Lower,
                m,
                derived::harness_adds_samples(r, m),
            )
        })
        .collect()
}

/// A run's measurements for a same-machine comparison: each figure with a probe beside its
/// samples is put in probe units sample by sample, so that a core that is slower this minute
/// (this host drifts between fast and slow spells) does not pass for a regression, while a
/// slower workload, kernel primitive or lock does; the bare OS loops are listed as context,
/// and the harness's overhead over them is added as its own key.
pub(crate) fn normalized_with(
    r: &Results,
    use_ref: impl Fn(&Measurement) -> bool,
) -> Vec<Measurement> {
    let mut out: Vec<Measurement> = r
        .measurements
        .iter()
        .map(|m| match reference(m).filter(|_| use_ref(m)) {
            Some((label, refs)) => {
                let samples: Vec<f64> = m.samples.iter().zip(&refs).map(|(x, y)| x / y).collect();
                let mut n = derived(&format!("{} {label}", m.metric), m.better, m, samples)
                    .unwrap_or_else(|| m.clone());
                n.verified = m.verified;
                // The raw figures ride along for display and for the noise floor.
                n.unit = format!("ratio of {}", m.unit);
                n.min = m.median;
                n
            }
            None => m.clone(),
        })
        .collect();
    out.extend(harness_adds(r));
    out
}

/// Both runs normalised alike: a figure is divided by its same-run reference only where the
/// other run has the same kind of reference for it (a run made before the probe was taken
/// beside every sample is judged raw against raw), so that both sides stay in one unit.
pub(crate) fn normalized_pair(
    base: &Results,
    cur: &Results,
) -> (Vec<Measurement>, Vec<Measurement>) {
    let labels = |r: &Results| -> BTreeMap<Key, &'static str> {
        r.measurements
            .iter()
            .filter_map(|m| reference(m).map(|(label, _)| (m.key(), label)))
            .collect()
    };
    let (lb, lc) = (labels(base), labels(cur));
    let same_probe = base.calibration.probe_kind == cur.calibration.probe_kind;
    let same = |m: &Measurement| {
        let k = m.key();
        same_probe && lb.get(&k).is_some_and(|l| lc.get(&k) == Some(l))
    };
    (normalized_with(base, same), normalized_with(cur, same))
}

/// A judged figure's raw median (in its own unit) and the unit: normalised figures carry
/// them from [`normalized_with`].
pub(crate) fn raw(m: &Measurement) -> (f64, String) {
    match m.unit.strip_prefix("ratio of ") {
        Some(unit) => (m.min, unit.to_string()),
        None => (m.median, m.unit.clone()),
    }
}
