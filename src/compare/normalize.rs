//! What makes runs from different machines comparable: the measurements divided by the
//! reference each run took (the core-speed probe, the bare primitive), and what the harness adds.

use std::collections::BTreeMap;

use crate::api::Model;
use crate::results::derived::{self, ratio_samples};
use crate::results::metric::{Across, Speed};
use crate::results::{CaseId, Key, Measurement, Metric, Results};

use super::*;

pub(crate) fn derived(
    metric: Metric,
    like: &Measurement,
    samples: Vec<f64>,
) -> Option<Measurement> {
    if samples.is_empty() {
        return None;
    }
    let mut m = Measurement::new(&like.case, metric, samples, like.verified);
    m.ops_per_sample = like.ops_per_sample;
    Some(m)
}

/// The machine-independent figures of a run: each measurement's, as its metric's row says
/// (`Across`) — speedup over sequential and scaling efficiency of a throughput, a start-up ÷
/// the threads model's start-up at the same parameters, exact heap bytes as they are — and
/// the harness's overhead over the bare OS loops.
pub fn machine_independent(r: &Results) -> Vec<Measurement> {
    let mut out = Vec::new();
    for m in r.measurements.iter().filter(|m| is_judged(m)) {
        match m.metric.facts().across {
            Across::Scaling => {
                if !derived::is_reference(&m.case.model) {
                    out.extend(derived(Metric::Speedup, m, derived::speedup_samples(r, m)));
                }
                if m.case.workers > 1 {
                    out.extend(derived(
                        Metric::Efficiency,
                        m,
                        derived::efficiency_samples(r, m),
                    ));
                }
            }
            Across::VsThreads => {
                let threads = CaseId {
                    model: Model::Threads.name().into(),
                    ..m.case.clone()
                };
                if m.case != threads
                    && let Some(t) = derived::find(r, &threads, m.metric)
                {
                    out.extend(derived(
                        Metric::ThreadStartupRatio,
                        m,
                        ratio_samples(&m.samples, &t.samples, 1.0),
                    ));
                }
            }
            Across::Itself => out.push(m.clone()),
            Across::Omitted => {}
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
pub(crate) fn reference(m: &Measurement) -> Option<(Speed, Vec<f64>)> {
    if m.probe.len() != m.samples.len() || m.probe.iter().any(|p| *p <= 0.0) {
        return None;
    }
    let speed = m.metric.facts().speed;
    let refs = match speed {
        Speed::Divided => m.probe.clone(),
        // Time in units of work the core could have done meanwhile.
        Speed::Multiplied => m.probe.iter().map(|p| 1.0 / p).collect(),
        Speed::StartCost => m.probe.iter().map(|p| p.powf(-START_SPEED_POWER)).collect(),
        Speed::Exact => return None,
    };
    Some((speed, refs))
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
        .filter(|m| m.is(Metric::Roundtrip) && is_judged(m))
        .filter_map(|m| derived(Metric::HarnessAdds, m, derived::harness_adds_samples(r, m)))
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
            Some((speed, refs)) => {
                let samples: Vec<f64> = m.samples.iter().zip(&refs).map(|(x, y)| x / y).collect();
                let mut n = m.clone();
                n.stat = crate::results::Stat::new(&m.unit, samples);
                // The raw median rides along for display and for the noise floor.
                n.per = Some((speed, m.median));
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
    let labels = |r: &Results| -> BTreeMap<Key, Speed> {
        r.measurements
            .iter()
            .filter_map(|m| reference(m).map(|(speed, _)| (m.key(), speed)))
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
