//! History: the runs of one machine as a series per figure, and the change points in each —
//! when a figure changed, by how much, and between which commits. Every key (a case and
//! metric, as `compare` matches them, in the same units of the core's speed) and every group
//! (a workload's model and metric over the keys every run holds, their geometric mean weighted
//! by each key's steadiness) is a series of medians in run order.

pub mod detect;
pub mod evaluate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::BadInput;
use crate::results::metric::Speed;
use crate::results::{Better, CaseId, Metric, Results};

/// One run of the history.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub id: String,
    pub started_at: String,
    pub commit: String,
    pub file: PathBuf,
}

/// One figure over the runs: its median at each run that measured it (the run's index, the
/// median, its 95% interval), in the unit the series is judged in.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub label: String,
    pub metric: Metric,
    pub better: Better,
    pub group: bool,
    pub unit: String,
    pub points: Vec<(usize, f64, [f64; 2])>,
    /// Its run-to-run noise: [`detect::noise`] of its log medians, as a per cent.
    pub noise_pct: f64,
}

/// A change point of one series, with the runs around it.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub series: usize,
    pub label: String,
    pub metric: Metric,
    /// The first run at the new level, and the last run before it (indices into `runs`).
    pub first_after: usize,
    pub last_before: usize,
    /// new ÷ old − 1, and its 95% interval, in per cent.
    pub change_pct: f64,
    pub interval_pct: [f64; 2],
    /// Worse by the metric's own sense (a lower throughput, a longer start).
    pub worse: bool,
    /// No later change point in the series: the new level held to the newest run.
    pub steady: bool,
}

/// A machine's history: its runs in order, its series and their change points.
#[derive(Clone, Debug, Serialize)]
pub struct History {
    pub machine: String,
    pub cpu: String,
    pub runs: Vec<Run>,
    pub series: Vec<Series>,
    pub changes: Vec<Found>,
    /// The family-wise level of each series' search.
    pub alpha: f64,
}

/// Every run under `paths` (files or folders), of one machine: `machine` when given, else the
/// only one there is — runs of several machines are refused, naming them.
pub fn load_runs(
    paths: &[PathBuf],
    machine: Option<&str>,
) -> Result<Vec<(Results, PathBuf)>, BadInput> {
    let mut files = Vec::new();
    for p in paths {
        let found = super::input::results_files(p);
        if found.is_empty() {
            return Err(super::input::no_results(p));
        }
        // A folder may hold A/B jobs beside runs: only runs make a history.
        files.extend(
            found
                .into_iter()
                .filter(|f| !f.is_dir() && !file_name(f).starts_with("ab-")),
        );
    }
    // Read on every core: a long history is mostly the reading of its files.
    let mut runs = files
        .into_par_iter()
        .map(|f| match crate::results::load(&f) {
            Ok(r) => Ok((r, f)),
            Err(e) => Err(BadInput::new(e.to_string())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut machines: Vec<String> = runs.iter().map(|(r, _)| r.machine.id.clone()).collect();
    machines.sort();
    machines.dedup();
    let keep = match machine {
        Some(m) if machines.iter().any(|x| x == m) => m.to_string(),
        Some(m) => {
            return Err(BadInput::new(format!(
                "history: no run of machine '{m}' (the runs are of {})",
                machines.join(", ")
            )));
        }
        None if machines.len() > 1 => {
            return Err(BadInput::new(format!(
                "history: runs of {} machines ({}); a history is one machine's — give one \
                 machine's runs, or --machine ID",
                machines.len(),
                machines.join(", ")
            )));
        }
        None => machines.pop().unwrap_or_default(),
    };
    runs.retain(|(r, _)| r.machine.id == keep && !r.run.incomplete && r.run.injected.is_none());
    if runs.len() < 2 {
        return Err(BadInput::new(format!(
            "history: {} complete run(s) of {keep}; a history needs two or more",
            runs.len()
        )));
    }
    runs.sort_by(|(a, _), (b, _)| {
        (&a.run.started_at, &a.run.id).cmp(&(&b.run.started_at, &b.run.id))
    });
    Ok(runs)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A median and its 95% interval.
type Figure = (f64, [f64; 2]);

/// The powers of the core's speed a figure beside a probe may be followed at: as measured (0);
/// ÷ (a throughput) or × (a time) the probe to the power ½, 1 or 1½. The probe's own loop and
/// a workload meet the host's contention with different elasticities: over this machine's
/// A/A runs a square loop moved as the probe to the power 1½, a lock handed over without
/// contention as its square root, a fork's page-table copy as its square root (`compare`
/// judges at one power per metric, [`super::normalize::reference`]).
const POWERS: [f64; 4] = [0.0, 0.5, 1.0, 1.5];

/// The units a key's figure is had in: each of the [`POWERS`] of the core's speed (its series
/// follows the steadiest over the runs [`per_key`] reads) and, for a start-only case's start
/// cost, ÷ the bare OS loop its samples were interleaved with.
const UNITS: usize = POWERS.len() + 1;

/// The last of the [`UNITS`]: against the bare OS loop, a series of its own beside the key's
/// (as `compare`'s "harness adds" key beside the start): the host's spells of the moment move
/// both loops and cancel, so the harness's or a workload's own start is seen to a few per
/// cent; a change of the kernel or of the parent moves both, and shows in the key's and the
/// bare loop's own series.
const BARE: usize = UNITS - 1;

/// A key's series: its case, its metric, and whether it is the one ÷ the bare loop ([`BARE`]).
pub(crate) type SeriesKey = (CaseId, Metric, bool);

/// A run's figure of a key in each of the [`UNITS`] (where it had a probe).
type InEachUnit = (usize, [Option<Figure>; UNITS]);

/// One key's points over the runs: (run index, median, 95% interval, unit).
type Points = Vec<(usize, f64, [f64; 2], String)>;
type PerKey = BTreeMap<SeriesKey, Points>;

/// The series of `runs` (one machine's, in order, with their files) and their change points
/// at `alpha`.
pub fn history(runs: &[(Results, PathBuf)], alpha: f64) -> History {
    let mut better_of: BTreeMap<Metric, Better> = BTreeMap::new();
    let per_key = per_key(runs, &mut better_of);
    let mut series: Vec<Series> = Vec::new();
    for ((case, metric, vs_bare), pts) in &per_key {
        series.push(Series {
            label: format!("{case} {}{}", metric.name(), against(*vs_bare)),
            metric: *metric,
            better: better_of[metric],
            group: false,
            unit: pts[0].3.clone(),
            noise_pct: noise_pct(pts.iter().map(|p| p.1)),
            points: pts.iter().map(|p| (p.0, p.1, p.2)).collect(),
        });
    }
    series.extend(groups(&per_key, &better_of, runs.len()));
    let changes = series
        .iter()
        .enumerate()
        .flat_map(|(s, x)| found(s, x, alpha))
        .collect();
    History {
        machine: runs[0].0.machine.id.clone(),
        cpu: runs[0].0.machine.cpu_brand.clone(),
        runs: runs
            .iter()
            .map(|(r, file)| Run {
                id: r.run.id.clone(),
                started_at: r.run.started_at.clone(),
                commit: r.run.git_commit.clone(),
                file: file.clone(),
            })
            .collect(),
        series,
        changes,
        alpha,
    }
}

/// What a series ÷ the bare loop adds to its key's name.
fn against(vs_bare: bool) -> &'static str {
    if vs_bare {
        " ÷ the bare loop beside it"
    } else {
        ""
    }
}

/// Every key's points over the runs (see [`history`]), and which way each metric is better.
fn per_key(runs: &[(Results, PathBuf)], better_of: &mut BTreeMap<Metric, Better>) -> PerKey {
    let mut per_key: PerKey = BTreeMap::new();
    // Each key in the steadiest of its powers of the core's speed where every run measured it
    // beside a probe of one kind, else as measured, so that a series never mixes units; and a
    // start-only case's start also ÷ the bare loop beside it, a series of its own.
    let mut both: BTreeMap<(CaseId, Metric), Vec<InEachUnit>> = BTreeMap::new();
    let mut kinds: BTreeMap<(CaseId, Metric), Vec<Option<String>>> = BTreeMap::new();
    let mut units: BTreeMap<(CaseId, Metric), [String; UNITS]> = BTreeMap::new();
    for (i, (r, _)) in runs.iter().enumerate() {
        // The run's bare loops by case: looked up once per start, not by a scan of the run.
        let bares: BTreeMap<&CaseId, &crate::results::Measurement> = r
            .measurements
            .iter()
            .filter(|b| b.metric == Metric::Roundtrip && crate::results::derived::is_bare(b))
            .map(|b| (&b.case, b))
            .collect();
        let kind = r
            .calibration
            .probe
            .as_ref()
            .and(r.calibration.probe_kind.clone());
        for m in &r.measurements {
            if m.info || !m.metric.is_judged() || !m.verified || m.median <= 0.0 {
                continue;
            }
            let key = (m.case.clone(), m.metric);
            better_of.insert(m.metric, m.better);
            let figures = in_each_unit(&bares, m);
            both.entry(key.clone()).or_default().push((i, figures));
            kinds
                .entry(key.clone())
                .or_default()
                .push(figures[1].and(kind.clone()));
            units.entry(key).or_insert_with(|| unit_names(m));
        }
    }
    for (key, pts) in both {
        let k = &kinds[&key];
        // In the core's units only where every run had the same probe: a series never mixes
        // units.
        let probed = k.iter().all(|x| x.is_some() && *x == k[0]);
        // The steadiest over these runs: a lock's hand-offs under contention follow the
        // scheduler more than the core's speed, and dividing by the probe only adds its noise;
        // a thread's start follows the core's speed about in full, a fork's page-table copy
        // about as its square root.
        let noise = |w: usize| {
            let logs: Vec<f64> = pts
                .iter()
                .filter_map(|(_, v)| v[w])
                .map(|f| f.0.ln())
                .collect();
            (logs.len() == pts.len()).then(|| detect::noise(&logs))
        };
        // On a tie, the later unit (the core's units over the figure as measured).
        let which = (0..BARE)
            .rev()
            .filter(|&w| w == 0 || probed)
            .filter_map(|w| noise(w).map(|n| (w, n)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(w, _)| w);
        for (w, vs_bare) in [(which, false), (BARE, true)] {
            let unit = units[&key][w].clone();
            let points: Points = pts
                .iter()
                .filter_map(|(i, v)| v[w].map(|(med, ci)| (*i, med, ci, unit.clone())))
                .collect();
            if !points.is_empty() {
                per_key.insert((key.0.clone(), key.1, vs_bare), points);
            }
        }
    }
    per_key
}

/// A run's figure of `m` in each of the [`UNITS`]: the median of the samples each divided by
/// their reference, the interval moved with it (a bootstrap per figure and run would cost
/// minutes over a thousand runs).
fn in_each_unit(
    bares: &BTreeMap<&CaseId, &crate::results::Measurement>,
    m: &crate::results::Measurement,
) -> [Option<Figure>; UNITS] {
    let moved = |refs: &[f64]| {
        let mut xs: Vec<f64> = m.samples.iter().zip(refs).map(|(x, y)| x / y).collect();
        let med = crate::stats::median_in_place(&mut xs);
        let k = med / m.median;
        (med, [m.ci95[0] * k, m.ci95[1] * k])
    };
    let mut out = [None; UNITS];
    out[0] = Some((m.median, m.ci95));
    if let Some((speed, _)) = super::normalize::reference(m) {
        // A throughput ÷ the probe's power, a time × it.
        let divided = speed == Speed::Divided;
        // The powers are halves: p^k = √p^(2k), by multiplication (powf on every sample of a
        // thousand runs cost seconds).
        let roots: Vec<f64> = m.probe.iter().map(|p| p.sqrt()).collect();
        for (w, k) in POWERS.iter().enumerate().skip(1) {
            let halves = (2.0 * k) as i32;
            let refs: Vec<f64> = roots
                .iter()
                .map(|r| r.powi(halves))
                .map(|v| if divided { v } else { 1.0 / v })
                .collect();
            out[w] = Some(moved(&refs));
        }
    }
    out[BARE] = matches!(m.metric, Metric::Startup | Metric::Roundtrip)
        .then(|| crate::results::derived::bare_beside_by(m, |c| bares.get(c).copied()))
        .flatten()
        .filter(|b| !crate::results::derived::is_bare(m) && b.samples.len() == m.samples.len())
        .map(|b| moved(&b.samples));
    out
}

/// What each of the [`UNITS`] is called for `m`: "ops/s ÷ core speed^1.5", "ns × √core speed".
fn unit_names(m: &crate::results::Measurement) -> [String; UNITS] {
    let sign = if m.metric.facts().speed == Speed::Divided {
        "÷"
    } else {
        "×"
    };
    let u = &m.unit;
    std::array::from_fn(|w| match w {
        BARE => format!("{u} ÷ the bare OS loop's {u}"),
        _ if POWERS[w] == 0.0 => u.clone(),
        _ if POWERS[w] == 0.5 => format!("{u} {sign} √core speed"),
        _ if POWERS[w] == 1.0 => format!("{u} {sign} core speed"),
        _ => format!("{u} {sign} core speed^{}", POWERS[w]),
    })
}

/// A series' run-to-run noise as a per cent, from its medians: [`detect::noise`] of their logs.
fn noise_pct(medians: impl Iterator<Item = f64>) -> f64 {
    let logs: Vec<f64> = medians.map(f64::ln).collect();
    (detect::noise(&logs).exp() - 1.0) * 100.0
}

/// Each member's weight in its group: 1/σ², σ its own series' run-to-run noise
/// ([`detect::noise`] of its log figures), the weights summing to 1 — so a steady key counts
/// for more than a wild one and the group is at least as steady as its steadiest key, where
/// a plain mean would be as wild as its wildest ÷ the count.
fn weights(members: &[Vec<f64>]) -> Vec<f64> {
    let w: Vec<f64> = members.iter().map(|m| detect::noise(m).powi(-2)).collect();
    let sum: f64 = w.iter().sum();
    w.iter().map(|x| x / sum).collect()
}

/// A group's log figure at each run from its members' log figures over the same runs: their
/// mean, each weighted by [`weights`].
pub(crate) fn weighted_logs(members: &[Vec<f64>]) -> Vec<f64> {
    weighted_by(members, &weights(members))
}

/// The members' log figures at each run, averaged with the weights `w`.
fn weighted_by(members: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    (0..members[0].len())
        .map(|i| members.iter().zip(w).map(|(m, w)| w * m[i]).sum())
        .collect()
}

/// The group series: each workload's model and metric over the keys every run holds (two or
/// more), their medians' weighted geometric mean at each run ([`weighted_logs`]); its
/// interval's ends that far from it as the members' intervals make, taken as independent.
fn groups(per_key: &PerKey, better_of: &BTreeMap<Metric, Better>, runs: usize) -> Vec<Series> {
    let mut members: BTreeMap<(String, String, Metric, bool), Vec<&Points>> = BTreeMap::new();
    for ((case, metric, vs_bare), pts) in per_key {
        if pts.len() == runs {
            members
                .entry((case.workload.clone(), case.model.clone(), *metric, *vs_bare))
                .or_default()
                .push(pts);
        }
    }
    let ln = |v: f64| v.max(f64::MIN_POSITIVE).ln();
    members
        .into_iter()
        .filter(|(_, ks)| ks.len() >= 2)
        .map(|((w, model, metric, vs_bare), ks)| {
            let logs: Vec<Vec<f64>> = ks
                .iter()
                .map(|k| k.iter().map(|p| ln(p.1)).collect())
                .collect();
            let wt = weights(&logs);
            let centre = weighted_by(&logs, &wt);
            // One end of the interval at run i: the members' distances to it, combined.
            let end = |i: usize, lower: bool| {
                let var: f64 = ks
                    .iter()
                    .zip(&wt)
                    .map(|(k, w)| {
                        let far = if lower { k[i].2[0] } else { k[i].2[1] };
                        (w * (ln(far) - ln(k[i].1))).powi(2)
                    })
                    .sum();
                (centre[i] + var.sqrt() * if lower { -1.0 } else { 1.0 }).exp()
            };
            Series {
                label: format!(
                    "{w} / {model} / every key {}{}",
                    metric.name(),
                    against(vs_bare)
                ),
                metric,
                better: better_of[&metric],
                group: true,
                unit: ks[0][0].3.clone(),
                points: (0..runs)
                    .map(|i| (i, centre[i].exp(), [end(i, true), end(i, false)]))
                    .collect(),
                noise_pct: noise_pct(centre.iter().map(|c| c.exp())),
            }
        })
        .collect()
}

/// The change points of one series, with the runs around each.
fn found(s: usize, x: &Series, alpha: f64) -> Vec<Found> {
    let logs: Vec<f64> = x.points.iter().map(|p| p.1.ln()).collect();
    let changes = detect::change_points(&logs, alpha);
    let last = changes.len().saturating_sub(1);
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let pct = |l: f64| (l.exp() - 1.0) * 100.0;
            let worse = match x.better {
                Better::Higher => c.log_change < 0.0,
                Better::Lower => c.log_change > 0.0,
            };
            Found {
                series: s,
                label: x.label.clone(),
                metric: x.metric,
                first_after: x.points[c.at].0,
                last_before: x.points[c.at - 1].0,
                change_pct: pct(c.log_change),
                interval_pct: [pct(c.lo), pct(c.hi)],
                worse,
                steady: i == last,
            }
        })
        .collect()
}

impl History {
    /// Exit 1 when a change for the worse beyond `threshold` (a fraction) has its first run
    /// among the newest `window` runs; else 0.
    pub fn exit_code(&self, threshold: f64, window: usize) -> u8 {
        let newest = self.runs.len().saturating_sub(window);
        let alarm = self
            .changes
            .iter()
            .any(|c| c.worse && c.change_pct.abs() >= threshold * 100.0 && c.first_after >= newest);
        u8::from(alarm)
    }

    /// The smallest step for the worse (a per cent) series `s` lets the gate fail for, about 9
    /// times in 10 ([`detect::smallest_seen`]): found while its first run is still among the
    /// newest `window` runs.
    pub fn gate_reach_pct(&self, s: usize, window: usize) -> f64 {
        let x = &self.series[s];
        let sigma = (x.noise_pct / 100.0).ln_1p();
        let d = detect::smallest_seen(x.points.len(), sigma, self.alpha, window);
        (d.exp() - 1.0) * 100.0
    }

    /// The changes, newest first (then the largest first).
    pub fn newest_first(&self) -> Vec<&Found> {
        let mut v: Vec<&Found> = self.changes.iter().collect();
        v.sort_by(|a, b| {
            b.first_after
                .cmp(&a.first_after)
                .then(b.change_pct.abs().total_cmp(&a.change_pct.abs()))
        });
        v
    }
}

#[cfg(test)]
mod tests;
