//! How well change points are found on this machine's own noise: series made from real A/A
//! runs of one build — each synthetic run is one of them, picked at random, with the figure
//! that run recorded (its median, in the units `history` judges) — with a step of a known size
//! put in at a known run by re-scaling the recorded figure. So the run-to-run noise is exactly
//! this machine's: a run's samples are not resampled, which would add their own sampling error
//! a second time on top of the one each recorded median already carries. Each key is one
//! series per trial; a group's keys take the same real run at each synthetic run, as a run
//! moves its keys together. The same series are given to the plain gate beside it: the last
//! run against the ten before it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::detect;
use crate::results::{Better, CaseId, Metric, Results};

/// Runs per synthetic series, and the run the step starts at.
pub const RUNS: usize = 100;
pub const STEP_AT: usize = 60;
/// How far from the true run a change point may fall and still count as found.
pub const SLACK: usize = 2;

/// A fixed generator (xorshift64*): the same table on every call.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A key's log figures in each real run — its own series and, for a start-only case's start,
/// the one ÷ the bare loop beside it — and which way is worse.
type KeyRuns = (Better, Vec<Vec<f64>>);

/// A key's group (its workload, model and metric), as `history` forms its group series.
type GroupOf = (String, String, Metric);

/// Every key every run holds: its log figures in each run, as `history` reads them (the
/// median, in the steadiest unit of each series), which way is worse, and its group.
fn figures(runs: &[(Results, PathBuf)]) -> Vec<(GroupOf, KeyRuns)> {
    let mut better_of = BTreeMap::new();
    let mut keys: BTreeMap<(CaseId, Metric), (GroupOf, KeyRuns)> = BTreeMap::new();
    // The key's own series comes first (`false` sorts before `true`).
    for ((case, metric, _), pts) in super::per_key(runs, &mut better_of) {
        if pts.len() != runs.len() {
            continue;
        }
        let logs = pts.iter().map(|p| p.1.ln()).collect();
        let group = (case.workload.clone(), case.model.clone(), metric);
        keys.entry((case, metric))
            .or_insert_with(|| (group, (better_of[&metric], Vec::new())))
            .1
            .1
            .push(logs);
    }
    keys.into_values().collect()
}

/// The factor a step of `step` (a fraction, for the worse) puts on a figure, in logs.
fn worse_log(better: Better, step: f64) -> f64 {
    match better {
        Better::Higher => -(1.0 + step).ln(),
        Better::Lower => (1.0 + step).ln(),
    }
}

/// The real run each synthetic run is: `RUNS` picks among `runs`.
fn picks(rng: &mut Rng, runs: usize) -> Vec<usize> {
    (0..RUNS).map(|_| rng.below(runs)).collect()
}

/// One key's synthetic series of log figures, each of its series: the picked runs' figures,
/// `step` (a fraction, for the worse) from `STEP_AT` on.
fn series(pick: &[usize], (better, each): &KeyRuns, step: f64) -> Vec<Vec<f64>> {
    let worse = worse_log(*better, step);
    each.iter()
        .map(|logs| {
            pick.iter()
                .enumerate()
                .map(|(i, &r)| logs[r] + if i >= STEP_AT { worse } else { 0.0 })
                .collect()
        })
        .collect()
}

/// The synthetic series of a group: at each synthetic run one real run is picked for all its
/// keys; each of the group's series is formed from its members' series of that kind as
/// `history` forms it (the one ÷ the bare loop where two or more members have one). The step
/// moves every key.
fn group_series(rng: &mut Rng, members: &[&KeyRuns], step: f64) -> Vec<Vec<f64>> {
    let pick = picks(rng, members[0].1[0].len());
    let each: Vec<Vec<Vec<f64>>> = members.iter().map(|k| series(&pick, k, step)).collect();
    (0..2)
        .map(|j| {
            each.iter()
                .filter_map(|k| k.get(j).cloned())
                .collect::<Vec<_>>()
        })
        .filter(|kind| kind.len() >= 2)
        .map(|kind| super::weighted_logs(&kind))
        .collect()
}

/// Counts of one setting: series, found at the step (right direction, within the slack),
/// and change points elsewhere; the same for the plain gate.
#[derive(Default)]
struct Tally {
    series: usize,
    found: usize,
    false_points: usize,
    plain_found: usize,
    plain_false: usize,
}

fn tally(t: &mut Tally, xs: &[Vec<f64>], better: Better, stepped: bool, alpha: f64) {
    t.series += 1;
    let near = |at: usize| at.abs_diff(STEP_AT) <= SLACK;
    // Worse: a lower throughput, a longer time.
    let worse = |log_change: f64| match better {
        Better::Higher => log_change < 0.0,
        Better::Lower => log_change > 0.0,
    };
    // Found when any of the key's series has it: each is in the report.
    let (mut hit, mut plain_hit) = (false, false);
    for x in xs {
        let changes = detect::change_points(x, alpha);
        hit |= stepped && changes.iter().any(|c| near(c.at) && worse(c.log_change));
        t.false_points += changes.iter().filter(|c| !(stepped && near(c.at))).count();
        // The plain gate: each run from the eleventh on against the ten before it.
        let alarms: Vec<usize> = (11..=RUNS)
            .filter(|&end| detect::last_against_previous(&x[..end], 10, alpha))
            .map(|end| end - 1)
            .collect();
        plain_hit |= stepped && alarms.iter().any(|&a| near(a));
        t.plain_false += alarms.iter().filter(|&&a| !(stepped && near(a))).count();
    }
    t.found += usize::from(hit);
    t.plain_found += usize::from(plain_hit);
}

/// The evaluation table (Markdown): for no step and each of `steps` (fractions), over
/// `trials` series per key, by the keys' run-to-run spread; and over the group series
/// (a workload's model and metric over its keys, as `history` forms them).
pub fn evaluate(runs: &[(Results, PathBuf)], steps: &[f64], trials: usize, alpha: f64) -> String {
    let keys = figures(runs);
    let mut groups: BTreeMap<&GroupOf, Vec<&KeyRuns>> = BTreeMap::new();
    for (g, k) in &keys {
        groups.entry(g).or_default().push(k);
    }
    groups.retain(|_, ks| ks.len() >= 2);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} keys ({} groups of two or more) of {} A/A runs; {trials} series of {RUNS} runs per key (and group) and step; step at run {}; found = a change point within {SLACK} runs of it, the right way.\n",
        keys.len(),
        groups.len(),
        runs.len(),
        STEP_AT + 1
    );
    out.push_str("| step | keys' run-to-run σ | series | history: found | history: false change points per 100 runs per key | last run vs the 10 before: found | its false alarms per 100 runs per key |\n|---:|---|---:|---:|---:|---:|---:|\n");
    // Each key's own run-to-run spread: the σ of its runs' log figures, in the steadiest of
    // its series.
    let sigma = |each: &[Vec<f64>]| {
        each.iter()
            .map(|logs| {
                let mean = logs.iter().sum::<f64>() / logs.len() as f64;
                let ss: f64 = logs.iter().map(|l| (l - mean).powi(2)).sum();
                (ss / (logs.len() - 1).max(1) as f64).sqrt()
            })
            .fold(f64::MAX, f64::min)
    };
    let classes: [(&str, f64, f64); 5] = [
        ("≤ 2%", 0.0, 0.02),
        ("2–5%", 0.02, 0.05),
        ("5–10%", 0.05, 0.10),
        ("> 10%", 0.10, f64::MAX),
        ("all", 0.0, f64::MAX),
    ];
    for &step in std::iter::once(&0.0).chain(steps) {
        let seed = 0x5eed_0000_0000_0001 ^ (step * 1e4) as u64;
        // The series whose reach (`History::gate_reach_pct`'s figure, with the runs after the
        // step) is the step or less, by their own noise: found 9 times in 10, if the reach
        // says true.
        let mut within = Tally::default();
        let seen = |xs: &[Vec<f64>]| {
            xs.iter().any(|x| {
                detect::smallest_seen(RUNS, detect::noise(x), alpha, RUNS - STEP_AT) <= step.ln_1p()
            })
        };
        for (name, from, to) in classes {
            let mut t = Tally::default();
            let mut rng = Rng(seed);
            for (_, key) in &keys {
                let s = sigma(&key.1);
                if s < from || s >= to {
                    continue;
                }
                for _ in 0..trials {
                    let x = series(&picks(&mut rng, runs.len()), key, step);
                    tally(&mut t, &x, key.0, step > 0.0, alpha);
                    if name == "all" && step > 0.0 && seen(&x) {
                        tally(&mut within, &x, key.0, true, alpha);
                    }
                }
            }
            table_row(&mut out, step, name, &t);
        }
        table_row(&mut out, step, "reach ≤ the step", &within);
        let mut t = Tally::default();
        let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        for members in groups.values() {
            for _ in 0..trials {
                let x = group_series(&mut rng, members, step);
                tally(&mut t, &x, members[0].0, step > 0.0, alpha);
            }
        }
        table_row(&mut out, step, "groups (every key)", &t);
    }
    out
}

/// One line of the table; nothing for a setting with no series.
fn table_row(out: &mut String, step: f64, name: &str, t: &Tally) {
    if t.series == 0 {
        return;
    }
    let per100 = |n: usize| 100.0 * n as f64 / (t.series * RUNS) as f64;
    let recall = |n: usize| {
        if step > 0.0 {
            format!("{:.2}", n as f64 / t.series as f64)
        } else {
            "–".into()
        }
    };
    let _ = writeln!(
        out,
        "| {} | {name} | {} | {} | {:.2} | {} | {:.2} |",
        if step > 0.0 {
            format!("{:.0}%", step * 100.0)
        } else {
            "none".into()
        },
        t.series,
        recall(t.found),
        per100(t.false_points),
        recall(t.plain_found),
        per100(t.plain_false)
    );
}
