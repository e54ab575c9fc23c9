//! How well change points are found on this machine's own noise: series made from real A/A
//! runs of one build (each synthetic run picks one of them and takes the median of a
//! resample of that run's own samples, in compare's units — so both the run-to-run and the
//! within-run noise are this machine's), with a step of a known size put in at a known run by
//! re-scaling the recorded samples. Each key is one series per trial. The same series are
//! given to the plain gate beside it: the last run against the ten before it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// A key's samples in each run, and which way is worse.
type KeyRuns = (Better, Vec<Vec<f64>>);

/// A key's group (its workload, model and metric), as `history` forms its group series.
type GroupOf = (String, String, Metric);

/// Every judged key's samples in each run that holds it (compare's units), which way is
/// worse, and its group.
fn samples(runs: &[Results]) -> Vec<(GroupOf, KeyRuns)> {
    let mut keys: BTreeMap<(CaseId, Metric), KeyRuns> = BTreeMap::new();
    for r in runs {
        for m in super::super::normalize::normalized_with(r, |m| !m.probe.is_empty()) {
            if m.info || !m.metric.is_judged() || m.median <= 0.0 || m.samples.len() < 3 {
                continue;
            }
            keys.entry((m.case.clone(), m.metric))
                .or_insert((m.better, Vec::new()))
                .1
                .push(m.samples.clone());
        }
    }
    keys.into_iter()
        .filter(|(_, (_, runs_of))| runs_of.len() == runs.len())
        .map(|((case, metric), k)| ((case.workload, case.model, metric), k))
        .collect()
}

/// One synthetic run of a key: the log median of a resample of real run `run`'s samples,
/// `worse` applied.
fn draw(rng: &mut Rng, run: &[f64], worse: f64) -> f64 {
    let d: Vec<f64> = (0..run.len())
        .map(|_| run[rng.below(run.len())] * worse)
        .collect();
    crate::stats::median(&d).ln()
}

/// The factor a step of `step` (a fraction, for the worse) puts on a figure.
fn worse_factor(better: Better, step: f64) -> f64 {
    match better {
        Better::Higher => 1.0 / (1.0 + step),
        Better::Lower => 1.0 + step,
    }
}

/// One synthetic series of log medians, `step` (a fraction, for the worse) from `STEP_AT` on.
fn series(rng: &mut Rng, runs_of: &[Vec<f64>], better: Better, step: f64) -> Vec<f64> {
    let worse = worse_factor(better, step);
    (0..RUNS)
        .map(|i| {
            let run = &runs_of[rng.below(runs_of.len())];
            draw(rng, run, if i >= STEP_AT { worse } else { 1.0 })
        })
        .collect()
}

/// One synthetic series of a group: at each synthetic run one real run is picked for all its
/// keys (a run moves its keys together, as the machine does), each key resampled from it; the
/// group's figure is the mean of its keys' log medians (their geometric mean, as `history`'s
/// group series). The step moves every key.
fn group_series(rng: &mut Rng, members: &[&KeyRuns], step: f64) -> Vec<f64> {
    let runs = members[0].1.len();
    (0..RUNS)
        .map(|i| {
            let pick = rng.below(runs);
            let sum: f64 = members
                .iter()
                .map(|(better, runs_of)| {
                    let w = worse_factor(*better, step);
                    draw(rng, &runs_of[pick], if i >= STEP_AT { w } else { 1.0 })
                })
                .sum();
            sum / members.len() as f64
        })
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

fn tally(t: &mut Tally, x: &[f64], better: Better, stepped: bool, alpha: f64) {
    t.series += 1;
    let changes = detect::change_points(x, alpha);
    let near = |at: usize| at.abs_diff(STEP_AT) <= SLACK;
    // Worse: a lower throughput, a longer time.
    let worse = |log_change: f64| match better {
        Better::Higher => log_change < 0.0,
        Better::Lower => log_change > 0.0,
    };
    let hit = stepped && changes.iter().any(|c| near(c.at) && worse(c.log_change));
    t.found += usize::from(hit);
    t.false_points += changes.iter().filter(|c| !(stepped && near(c.at))).count();
    // The plain gate: each run from the eleventh on against the ten before it.
    let alarms: Vec<usize> = (11..=RUNS)
        .filter(|&end| detect::last_against_previous(&x[..end], 10, alpha))
        .map(|end| end - 1)
        .collect();
    t.plain_found += usize::from(stepped && alarms.iter().any(|&a| near(a)));
    t.plain_false += alarms.iter().filter(|&&a| !(stepped && near(a))).count();
}

/// The evaluation table (Markdown): for no step and each of `steps` (fractions), over
/// `trials` series per key, by the keys' run-to-run spread; and over the group series
/// (a workload's model and metric over its keys, as `history` forms them).
pub fn evaluate(runs: &[Results], steps: &[f64], trials: usize, alpha: f64) -> String {
    let keys = samples(runs);
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
    // Each key's own run-to-run spread: the σ of its runs' log medians.
    let sigma = |runs_of: &[Vec<f64>]| {
        let logs: Vec<f64> = runs_of
            .iter()
            .map(|s| crate::stats::median(s).ln())
            .collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1).max(1) as f64)
            .sqrt()
    };
    let classes: [(&str, f64, f64); 4] = [
        ("≤ 2%", 0.0, 0.02),
        ("2–5%", 0.02, 0.05),
        ("> 5%", 0.05, f64::MAX),
        ("all", 0.0, f64::MAX),
    ];
    for &step in std::iter::once(&0.0).chain(steps) {
        let seed = 0x5eed_0000_0000_0001 ^ (step * 1e4) as u64;
        for (name, from, to) in classes {
            let mut t = Tally::default();
            let mut rng = Rng(seed);
            for (_, (better, runs_of)) in &keys {
                let s = sigma(runs_of);
                if s < from || s >= to {
                    continue;
                }
                for _ in 0..trials {
                    let x = series(&mut rng, runs_of, *better, step);
                    tally(&mut t, &x, *better, step > 0.0, alpha);
                }
            }
            table_row(&mut out, step, name, &t);
        }
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
