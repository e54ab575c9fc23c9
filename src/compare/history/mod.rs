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

/// The units a key may be followed in: each of the [`POWERS`] of the core's speed and, for a
/// start-only case's start cost, ÷ the bare OS loop its samples were interleaved with (as
/// `compare`'s "harness adds" key: the host's spells of the moment cancel, the harness's own
/// start does not; a slower kernel shows in the bare loop's own series). [`per_key`] takes
/// the steadiest over the runs it reads.
const UNITS: usize = POWERS.len() + 1;

/// The last of the [`UNITS`]: against the bare OS loop.
const BARE: usize = UNITS - 1;

/// A run's figure of a key in each of the [`UNITS`] (where it had a probe).
type InEachUnit = (usize, [Option<Figure>; UNITS]);

/// One key's points over the runs: (run index, median, 95% interval, unit).
type Points = Vec<(usize, f64, [f64; 2], String)>;
type PerKey = BTreeMap<(CaseId, Metric), Points>;

/// The series of `runs` (one machine's, in order, with their files) and their change points
/// at `alpha`.
pub fn history(runs: &[(Results, PathBuf)], alpha: f64) -> History {
    let mut better_of: BTreeMap<Metric, Better> = BTreeMap::new();
    let per_key = per_key(runs, &mut better_of);
    let mut series: Vec<Series> = Vec::new();
    for ((case, metric), pts) in &per_key {
        series.push(Series {
            label: format!("{case} {}", metric.name()),
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

/// Every key's points over the runs (see [`history`]), and which way each metric is better.
fn per_key(runs: &[(Results, PathBuf)], better_of: &mut BTreeMap<Metric, Better>) -> PerKey {
    let mut per_key: PerKey = BTreeMap::new();
    // Each key in the units compare judges one machine's runs in (ops per probe step, start
    // costs × √core speed) where every run measured it beside a probe of one kind; else as
    // measured, so that a series never mixes units.
    let mut both: BTreeMap<(CaseId, Metric), Vec<InEachUnit>> = BTreeMap::new();
    let mut kinds: BTreeMap<(CaseId, Metric), Vec<Option<String>>> = BTreeMap::new();
    let mut units: BTreeMap<(CaseId, Metric), [String; UNITS]> = BTreeMap::new();
    for (i, (r, _)) in runs.iter().enumerate() {
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
            let figures = in_each_unit(r, m);
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
        let which = (0..UNITS)
            .rev()
            .filter(|&w| w == 0 || w == BARE || probed)
            .filter_map(|w| noise(w).map(|n| (w, n)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(w, _)| w);
        let unit = units[&key][which].clone();
        let points: Points = pts
            .iter()
            .filter_map(|(i, v)| v[which].map(|(med, ci)| (*i, med, ci, unit.clone())))
            .collect();
        if !points.is_empty() {
            per_key.insert(key, points);
        }
    }
    per_key
}

/// A run's figure of `m` in each of the [`UNITS`]: the median of the samples each divided by
/// their reference, the interval moved with it (a bootstrap per figure and run would cost
/// minutes over a thousand runs).
fn in_each_unit(r: &Results, m: &crate::results::Measurement) -> [Option<Figure>; UNITS] {
    let moved = |refs: &[f64]| {
        let xs: Vec<f64> = m.samples.iter().zip(refs).map(|(x, y)| x / y).collect();
        let med = crate::stats::median(&xs);
        let k = med / m.median;
        (med, [m.ci95[0] * k, m.ci95[1] * k])
    };
    let mut out = [None; UNITS];
    out[0] = Some((m.median, m.ci95));
    if let Some((speed, _)) = super::normalize::reference(m) {
        // A throughput ÷ the probe's power, a time × it.
        let sign = if speed == Speed::Divided { 1.0 } else { -1.0 };
        for (w, k) in POWERS.iter().enumerate().skip(1) {
            let refs: Vec<f64> = m.probe.iter().map(|p| p.powf(sign * k)).collect();
            out[w] = Some(moved(&refs));
        }
    }
    out[BARE] = matches!(m.metric, Metric::Startup | Metric::Roundtrip)
        .then(|| crate::results::derived::bare_beside(r, m))
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
    let mut members: BTreeMap<(String, String, Metric), Vec<&Points>> = BTreeMap::new();
    for ((case, metric), pts) in per_key {
        if pts.len() == runs {
            members
                .entry((case.workload.clone(), case.model.clone(), *metric))
                .or_default()
                .push(pts);
        }
    }
    let ln = |v: f64| v.max(f64::MIN_POSITIVE).ln();
    members
        .into_iter()
        .filter(|(_, ks)| ks.len() >= 2)
        .map(|((w, model, metric), ks)| {
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
                label: format!("{w} / {model} / every key {}", metric.name()),
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
mod tests {
    use super::*;

    /// A fixed zig-zag of ±`sd` with a slow wander: noise whose first differences are known.
    fn wobble(n: usize, sd: f64, phase: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                sd * if (i + phase) % 2 == 0 { 1.0 } else { -1.0 } * (1.0 + (i % 3) as f64 / 4.0)
            })
            .collect()
    }

    fn measured(metric: Metric, samples: Vec<f64>, probe: Vec<f64>) -> crate::results::Measurement {
        let case = CaseId {
            workload: "start-only".into(),
            model: "threads".into(),
            variant: "default".into(),
            workers: 1,
            params: Default::default(),
        };
        let mut m = crate::results::Measurement::new(&case, metric, samples, true);
        m.probe = probe;
        m
    }

    #[test]
    fn a_figure_beside_a_probe_has_four_powers_of_it_and_a_throughput_no_bare_loop() {
        let r = a_run();
        // Start costs of 10, 20 and 30 µs beside probes of 4, 1 and 0.25 steps per ns: × each
        // power of the probe, sample by sample, the median is the middle sample's (× 1e9^k).
        let m = measured(
            Metric::Startup,
            vec![10e3, 20e3, 30e3],
            vec![4e9, 1e9, 0.25e9],
        );
        let all = in_each_unit(&r, &m);
        for (w, k) in POWERS.iter().enumerate() {
            let want = 20e3 * 1e9_f64.powf(*k);
            assert!(
                (all[w].unwrap().0 - want).abs() < 1e-9 * want,
                "{k}: {:?}",
                all[w]
            );
        }
        assert_eq!(unit_names(&m)[1], "ns × √core speed");
        assert_eq!(unit_names(&m)[3], "ns × core speed^1.5");
        // A throughput is divided by them; with no bare loop beside it, it has no last unit.
        let t = measured(Metric::Throughput, vec![1.0, 2.0, 3.0], vec![4.0, 4.0, 4.0]);
        let all = in_each_unit(&r, &t);
        assert_eq!(all[0].unwrap().0, 2.0);
        assert_eq!(all[2].unwrap().0, 0.5);
        assert_eq!(all[3].unwrap().0, 0.25);
        assert!(all[BARE].is_none());
        assert_eq!(unit_names(&t)[2], format!("{} ÷ core speed", t.unit));
    }

    /// A real run of this repository's, to hold made-up measurements.
    fn a_run() -> Results {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/history-eval/vm-amd-epyc");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut r = crate::results::load(&files[0]).unwrap();
        r.measurements.clear();
        r
    }

    #[test]
    fn a_start_sharing_its_bare_loops_spells_is_followed_against_it() {
        // Three runs whose spells (× 1, 3 and 1.5) move a start and the bare loop beside it
        // alike: as measured the start wanders threefold; against its bare loop it is 2.
        let runs: Vec<(Results, PathBuf)> = [1.0, 3.0, 1.5]
            .iter()
            .map(|k| {
                let mut r = a_run();
                let start = measured(Metric::Startup, vec![10e3 * k, 12e3 * k, 11e3 * k], vec![]);
                let mut bare =
                    measured(Metric::Roundtrip, vec![5e3 * k, 6e3 * k, 5.5e3 * k], vec![]);
                bare.case.variant = crate::results::derived::PTHREAD_VARIANT.into();
                r.measurements = vec![start, bare];
                (r, PathBuf::new())
            })
            .collect();
        let h = history(&runs, 0.05);
        let start = h
            .series
            .iter()
            .find(|s| s.metric == Metric::Startup)
            .unwrap();
        assert_eq!(start.unit, "ns ÷ the bare OS loop's ns");
        assert!(
            start.points.iter().all(|p| (p.1 - 2.0).abs() < 1e-12),
            "{:?}",
            start.points
        );
        // The bare loop has no bare loop of its own: followed as measured.
        let bare = h
            .series
            .iter()
            .find(|s| s.label.contains("pthread"))
            .unwrap();
        assert_eq!(bare.unit, "ns");
        assert!(bare.noise_pct > 50.0);
    }

    #[test]
    fn a_wild_member_hardly_moves_its_group_and_the_weights_sum_to_one() {
        let steady = wobble(40, 0.01, 0);
        let wild = wobble(40, 0.5, 1);
        let w = weights(&[steady.clone(), wild.clone()]);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w[0] > 0.99, "{w:?}");
        let g = weighted_logs(&[steady.clone(), wild]);
        // The group is no wilder than its steady member, where a plain mean would be 25 times.
        assert!(detect::noise(&g) <= 1.05 * detect::noise(&steady));
    }

    #[test]
    fn a_step_of_every_member_is_the_groups_step() {
        let mut a = wobble(30, 0.01, 0);
        let mut b = wobble(30, 0.03, 1);
        for v in a[20..].iter_mut().chain(b[20..].iter_mut()) {
            *v += 0.1;
        }
        let g = weighted_logs(&[a, b]);
        let before = g[..20].iter().sum::<f64>() / 20.0;
        let after = g[20..].iter().sum::<f64>() / 10.0;
        assert!((after - before - 0.1).abs() < 0.02, "{}", after - before);
    }
}
