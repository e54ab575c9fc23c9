//! The granularity sweep's derived figures (`run --work 1,10,…`): for every model and worker
//! count, its speedup over sequential at each task size, the per-task cost its time fits at
//! zero work (pools only), and its **break-even task size** — the smallest swept `work` from
//! which on it beats sequential (by at least [`BEATS`]). Stored in the results as measurements of
//! [`Metric::BreakEven`] and [`Metric::TaskOverhead`] (on the case without its `work`
//! parameter), read by the summary and the charts.

use std::collections::BTreeMap;

use crate::api::model::{Model, Named, Pattern};
use crate::results::derived::{is_reference, ratio, speedup_samples};
use crate::results::{CaseId, Measurement, Metric, Results};
use crate::stats::median;

/// A model beats sequential at a speedup of at least this: a shared machine moves a ratio of
/// two medians by a few percent either way, so 1.01× is no win.
pub const BEATS: f64 = 1.05;

/// One model's curve over the swept task sizes.
#[derive(Clone, Debug)]
pub struct Curve {
    /// The case without its `work` parameter.
    pub case: CaseId,
    /// (work, speedup over sequential at that work), by work.
    pub points: Vec<(u64, f64)>,
    /// The smallest swept work from which on the model is faster than sequential.
    pub break_even: Option<u64>,
    /// Where the speedup crosses [`BEATS`], interpolated log-log between the swept sizes
    /// around the crossing (the first swept size when the model wins from the smallest on).
    pub crossing: Option<f64>,
    /// The fitted wall time per task at zero work, in ns.
    pub overhead_ns: Option<f64>,
    pub verified: bool,
}

/// The curves of a run's throughputs that vary in `work` (two sizes or more).
pub fn curves(r: &Results) -> Vec<Curve> {
    let mut groups: BTreeMap<String, (CaseId, Vec<&Measurement>)> = BTreeMap::new();
    for m in r.measurements.iter().filter(|m| {
        m.is(Metric::Throughput)
            && m.param("work").is_some()
            && !crate::results::derived::is_bare(m)
    }) {
        let mut case = m.case.clone();
        case.params.remove("work");
        groups
            .entry(format!("{case:?}"))
            .or_insert_with(|| (case, Vec::new()))
            .1
            .push(m);
    }
    let mut out = Vec::new();
    for (_, (case, mut ms)) in groups {
        ms.sort_by_key(|m| m.param("work"));
        if ms.len() < 2 || is_reference(&case.model) {
            continue;
        }
        let points: Vec<(u64, f64)> = ms
            .iter()
            .filter_map(|m| Some((m.param("work")?, ratio(&speedup_samples(r, m))?)))
            .collect();
        if points.len() < 2 {
            continue;
        }
        // From the largest task down, as long as the model still wins by more than noise.
        let break_even = points
            .iter()
            .rev()
            .take_while(|(_, s)| *s >= BEATS)
            .last()
            .map(|(w, _)| *w);
        let per_task: Vec<(f64, f64)> = ms
            .iter()
            .filter_map(|m| {
                let w = m.param("work")? as f64;
                let tp = median(&m.samples);
                (tp > 0.0).then(|| (w, 1e9 * w / tp))
            })
            .collect();
        let crossing = break_even.map(|be| {
            let i = points.iter().position(|p| p.0 == be).unwrap_or(0);
            match i.checked_sub(1).map(|j| (points[j], points[i])) {
                Some(((wa, sa), (wb, sb))) if sa > 0.0 && sb > sa => {
                    let f = (BEATS.ln() - sa.ln()) / (sb.ln() - sa.ln());
                    ((wa as f64).ln() + f * ((wb as f64).ln() - (wa as f64).ln())).exp()
                }
                _ => be as f64,
            }
        });
        // Only a pool hands out tasks; a per-sample model's cost is per sample, not per task.
        let pool = Named::of(&case.model).is_pool();
        out.push(Curve {
            case,
            points,
            break_even,
            crossing,
            overhead_ns: intercept(&per_task).filter(|_| pool),
            verified: ms.iter().all(|m| m.verified),
        });
    }
    out
}

/// The intercept of a straight line through (x, y), each point weighted by 1/y² — each
/// point's relative error counts alike, so the small tasks, where the intercept shows, are
/// not drowned by the large ones' absolute spread.
pub fn intercept(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y) in points {
        let w = 1.0 / (y * y);
        sw += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let det = sw * sxx - sx * sx;
    let a = (sxx * sy - sx * sxy) / det;
    (det.abs() > 0.0 && a.is_finite()).then_some(a)
}

/// Adds each curve's break-even task size and per-task overhead to the results (a curve that
/// never breaks even stores no break-even: the summary says so in words).
pub fn derive(r: &mut Results) {
    for c in curves(r) {
        for (metric, value) in [
            (Metric::BreakEven, c.crossing),
            (Metric::TaskOverhead, c.overhead_ns),
        ] {
            if let Some(v) = value {
                r.measurements
                    .push(Measurement::new(&c.case, metric, vec![v], c.verified));
            }
        }
    }
}

/// The pools' findings in words: what `submit-wait` cost, where each model breaks even, and
/// what opening each pool took.
pub fn findings(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for w in r.workload_names() {
        out.extend(submit_wait_finding(r, &w));
        out.extend(break_even_findings(r, &w));
    }
    out.extend(opening_findings(r));
    out
}

/// submit-wait: each model's speedups over sequential, every case of it.
fn submit_wait_finding(r: &Results, w: &str) -> Option<String> {
    use crate::units::sig3;
    let mut waits: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let submit_wait = r.measurements.iter().filter(|m| {
        m.case.workload == w
            && m.is(Metric::Throughput)
            && !crate::results::derived::is_bare(m)
            && Named::of(&m.case.model)
                .model
                .and_then(Model::pool)
                .map(|p| p.1)
                == Some(Pattern::SubmitWait)
    });
    for m in submit_wait {
        if let Some(s) = ratio(&speedup_samples(r, m)) {
            waits.entry(m.case.model.as_str()).or_default().push(s);
        }
    }
    if waits.is_empty() {
        return None;
    }
    let parts: Vec<String> = waits
        .iter()
        .map(|(model, s)| {
            let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = s.iter().copied().fold(0.0, f64::max);
            format!("{model} {}–{}×", sig3(lo), sig3(hi))
        })
        .collect();
    Some(format!(
        "{w}: submit-wait (submit one task, wait for its result, then submit the next — \
         `executor.submit(f).result()` inside the loop) ran at {} sequential's speed \
         over every worker count and task size measured. Each task waits for the one \
         before it, so the pool runs one task at a time, and every task also pays a \
         hand-off to a worker and a wake-up of the caller: submit every task first \
         (map, as-completed) to get the pool's parallelism.",
        parts.join(", ")
    ))
}

/// Each worker count's break-even task sizes, one line per count.
fn break_even_findings(r: &Results, w: &str) -> Vec<String> {
    use crate::units::{count, ns};
    let curves: Vec<Curve> = curves(r)
        .into_iter()
        .filter(|c| c.case.workload == w)
        .collect();
    let largest = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .max()
        .unwrap_or(0);
    let mut widths: Vec<usize> = curves.iter().map(|c| c.case.workers).collect();
    widths.sort_unstable();
    widths.dedup();
    let mut out = Vec::new();
    for n in widths {
        let parts: Vec<String> = curves
            .iter()
            .filter(|c| c.case.workers == n)
            .map(|c| {
                let be = match (c.break_even, c.crossing) {
                    (Some(first), Some(x)) => {
                        let below = c.points.iter().rev().find(|p| p.0 < first).map(|p| p.0);
                        match below {
                            Some(b) => format!(
                                "≈ {} (between {} and {})",
                                count(x.round() as u64),
                                count(b),
                                count(first)
                            ),
                            None => format!("≤ {}", count(first)),
                        }
                    }
                    _ => format!("never up to {}", count(largest)),
                };
                match c.overhead_ns {
                    Some(o) => format!("{} {be} ({} per task)", c.case.model, ns(o)),
                    None => format!("{} {be}", c.case.model),
                }
            })
            .collect();
        out.push(format!(
            "{w} at {n} worker{}: the break-even task size (where the model's speedup over \
             sequential crosses {BEATS}×, interpolated log-log between the swept sizes \
             around it, and stays above it up to the largest) and, for the pools, the \
             fitted wall time per task at zero work: {}.",
            if n == 1 { "" } else { "s" },
            parts.join("; ")
        ));
    }
    out
}

/// The median opening of each pool at each worker count.
fn opening_findings(r: &Results) -> Vec<String> {
    use crate::units::ns;
    let mut out = Vec::new();
    let mut opens: BTreeMap<(usize, &str), Vec<f64>> = BTreeMap::new();
    for m in r.measurements.iter().filter(|m| m.is(Metric::PoolStart)) {
        let Some((pool, _)) = Named::of(&m.case.model).model.and_then(Model::pool) else {
            continue;
        };
        let family = pool.name();
        opens
            .entry((m.case.workers, family))
            .or_default()
            .extend(&m.samples);
    }
    let mut widths: Vec<usize> = opens.keys().map(|k| k.0).collect();
    widths.dedup();
    for n in widths {
        let parts: Vec<String> = opens
            .iter()
            .filter(|((w, _), _)| *w == n)
            .map(|((_, f), s)| format!("{f} {}", ns(median(s))))
            .collect();
        out.push(format!(
            "Opening a pool of {n} worker{} (from the request to every worker running; median \
             of every opening): {}.",
            if n == 1 { "" } else { "s" },
            parts.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intercept_of_an_exact_line_is_found() {
        let pts: Vec<(f64, f64)> = [1.0, 10.0, 100.0, 1000.0]
            .iter()
            .map(|&x| (x, 250.0 + 0.5 * x))
            .collect();
        let a = intercept(&pts).unwrap();
        assert!((a - 250.0).abs() < 1e-6, "{a}");
        assert_eq!(intercept(&pts[..1]), None);
    }
}
