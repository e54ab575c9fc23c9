//! `threadfork compare`: matches two runs' measurements by key and judges each change with a
//! bootstrap confidence interval of the ratio of medians, beside a Mann–Whitney rank test.
//! A change is `regressed` only when its whole interval lies beyond the threshold on the
//! worse side (and beyond the metric's noise floor); `improved` symmetrically.

pub mod ab;
mod baseline;
pub mod history;
mod input;
mod judge;
mod normalize;

pub(crate) use baseline::*;
pub use input::*;
pub(crate) use judge::*;
pub(crate) use normalize::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::BadInput;
use crate::results::{Better, CaseId, Key, Measurement, Metric, Results};

/// The chance of one or more false alarms allowed for a whole comparison.
pub const FAMILY_ALPHA: f64 = 0.05;

/// What a comparison judges. Written `"absolute"` or `"ratios"` in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Runs of one machine (or `--absolute`): every figure as measured.
    Absolute,
    /// Runs of different machines: the machine-independent ratios only.
    Ratios,
}

/// The verdict on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Judgement {
    Regressed,
    /// Worse beyond its own noise but not confirmed: a key whose group (the same workload,
    /// model and metric at every worker count and parameter) did not regress, or — against
    /// fewer than `WELL_KNOWN_RUNS` baseline runs — a group that moved less than
    /// `GROUP_ALONE_SIGMAS` while no other model of its workload and metric moved. Listed,
    /// not failed.
    Unconfirmed,
    Unchanged,
    Improved,
    /// Listed, not judged (a figure that is not a cost, such as lost updates).
    Info,
}

impl Judgement {
    pub fn name(self) -> &'static str {
        match self {
            Judgement::Regressed => "regressed",
            Judgement::Unconfirmed => "unconfirmed",
            Judgement::Unchanged => "unchanged",
            Judgement::Improved => "improved",
            Judgement::Info => "info",
        }
    }
}

/// One key judged.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    #[serde(flatten)]
    pub case: CaseId,
    #[serde(skip)]
    pub metric: Metric,
    /// The figure's name as judged: its metric, how it was put in units of the core's speed
    /// ("throughput ÷ core speed"), and for a group row what it averages.
    #[serde(rename = "metric")]
    pub label: String,
    pub unit: String,
    pub better: Better,
    pub base_median: f64,
    pub current_median: f64,
    /// The medians before normalisation, in `raw_unit` (equal to the medians when the figure
    /// was judged as measured).
    pub base_raw: f64,
    pub current_raw: f64,
    pub raw_unit: String,
    /// current ÷ base of the medians.
    pub ratio: f64,
    /// 95% bootstrap interval of current ÷ base.
    pub ratio_ci95: [f64; 2],
    /// Mann–Whitney two-sided p-value (base against current samples).
    pub p_value: f64,
    /// With several baseline runs: how many had this key, and the robust spread of their
    /// medians (σ of the log, shrunk toward the spread of all keys) that the change is judged
    /// against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_runs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between_run_sigma: Option<f64>,
    pub verdict: Judgement,
}

impl Comparison {
    pub fn case(&self) -> String {
        self.case.to_string()
    }

    /// How much worse current is, as a factor ≥ 1 when worse (for sorting).
    fn worse_factor(&self) -> f64 {
        match self.better {
            Better::Higher => 1.0 / self.ratio,
            Better::Lower => self.ratio,
        }
    }
}

/// Which run a side of the comparison is.
#[derive(Clone, Debug, Serialize)]
pub struct RunRef {
    pub file: PathBuf,
    pub run_id: String,
    pub machine_id: String,
    pub started_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// The newest baseline run; `baselines` lists them all when there are several.
    pub base: RunRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baselines: Vec<RunRef>,
    pub current: RunRef,
    /// What was judged: absolutes (same machine, or --absolute) or machine-independent
    /// ratios.
    pub mode: Mode,
    pub threshold: f64,
    /// The threshold for exact counts (`instructions`).
    pub instructions_threshold: f64,
    /// The level of each key's interval (family-wise 95%, Bonferroni).
    pub confidence: f64,
    /// Run-to-run noise of this pair of runs (robust σ of the keys' log-ratios).
    pub noise_sigma: f64,
    /// The change a key must exceed: the threshold, or 4σ of the noise when that is larger.
    pub effective_threshold: f64,
    /// With several baseline runs: the median over keys of their between-run spread (σ of
    /// the log of each run's median).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between_run_sigma: Option<f64>,
    pub regressed: usize,
    /// Keys worse beyond their noise whose group did not move (listed, not failed).
    pub unconfirmed: usize,
    /// Figures fixed for the run on both sides (a process pool's peak RSS), listed, not
    /// judged.
    #[serde(skip_serializing_if = "is_zero")]
    pub fixed_for_the_run: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub comparisons: Vec<Comparison>,
    pub only_in_base: Vec<String>,
    pub only_in_current: Vec<String>,
    /// Cases of the current run that failed, with their reasons.
    pub failed: Vec<String>,
    /// Settings the two machines differ in that move figures (THP, quota, governor, SMT).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settings_differ: Vec<String>,
}

impl Report {
    /// Keys of the baseline the current run lacks, where that is a loss: on one machine (runs
    /// of different machines differ in their worker counts by design).
    pub fn missing(&self) -> &[String] {
        if self.mode == Mode::Absolute {
            &self.only_in_base
        } else {
            &[]
        }
    }

    /// 1 for a regression, a failed case or a missing key (unless allowed), else 0.
    pub fn exit_code(&self, allow_failed: bool, allow_missing: bool) -> u8 {
        let failed = !allow_failed && !self.failed.is_empty();
        let missing = !allow_missing && !self.missing().is_empty();
        u8::from(self.regressed > 0 || failed || missing)
    }
}

/// Compares `cur` against one baseline run or several (oldest first, newest last). Runs from
/// different machines are compared on machine-independent ratios unless `absolute`. With
/// `MIN_BASELINE_RUNS` or more runs holding a key, the key is judged against its own
/// between-run spread; otherwise against the spread of all keys of this pair of runs.
pub fn compare(
    bases: &[(&Results, &Path)],
    cur: (&Results, &Path),
    threshold: f64,
    instructions_threshold: f64,
    absolute: bool,
) -> Result<Report, BadInput> {
    let Some(&newest) = bases.last() else {
        return Err(BadInput::new("compare: no baseline run given"));
    };
    refuse_injected(bases)?;
    let same_machine = newest.0.machine.id == cur.0.machine.id;
    let ratios = !same_machine && !absolute;
    let (base_keys, cms) = pooled_bases(bases, cur.0, ratios);
    let index: BTreeMap<Key, &Measurement> = cms.iter().map(|m| (m.key(), m)).collect();
    // Family-wise 95%: with m figures judged at once, each interval is drawn at 1 - 0.05/m
    // (Bonferroni), so that the chance of any false alarm in the whole table stays ≤ 5%.
    let judged = base_keys
        .iter()
        .filter(|(k, (m, _))| index.contains_key(*k) && is_judged(m))
        .count()
        .max(1);
    let confidence = 1.0 - FAMILY_ALPHA / judged as f64;
    let Judged {
        mut comparisons,
        medians_of,
        only_in_base,
        only_in_current,
        fixed_for_the_run,
    } = judge_keys(&base_keys, &index, threshold, confidence);
    if comparisons.is_empty() {
        return Err(BadInput::new(format!(
            "{} and {} have no measurement in common",
            newest.1.display(),
            cur.1.display()
        )));
    }
    // A change must clear both the user's threshold and what this pair of runs can resolve:
    // the noise of all keys, or of the key's own model and workload when that is larger
    // (a pipeline's threads land on busy or idle cores from one run to the next).
    let sigma = noise_sigma(&comparisons);
    let allowance = (1.0 + threshold).max((NOISE_SIGMAS * sigma).exp());
    let pool = between_runs_pool(&comparisons, &medians_of);
    let limits = Limits {
        threshold,
        instructions_threshold,
        allowance,
        pool,
    };
    decide_each(&mut comparisons, &medians_of, &limits);
    if bases.len() >= MIN_BASELINE_RUNS {
        confirm_by_groups(&mut comparisons, &medians_of, bases.len(), threshold);
    }
    worst_first(&mut comparisons);
    let count = |v| comparisons.iter().filter(|c| c.verdict == v).count();
    Ok(Report {
        schema: "threadfork/compare/v1",
        base: run_ref(newest.0, newest.1),
        baselines: bases
            .iter()
            .filter(|_| bases.len() > 1)
            .map(|(r, p)| run_ref(r, p))
            .collect(),
        current: run_ref(cur.0, cur.1),
        mode: if ratios { Mode::Ratios } else { Mode::Absolute },
        settings_differ: settings_differ(&bases[0].0.machine, &cur.0.machine),
        threshold,
        instructions_threshold,
        confidence,
        noise_sigma: sigma,
        between_run_sigma: pool,
        effective_threshold: allowance - 1.0,
        regressed: count(Judgement::Regressed),
        unconfirmed: count(Judgement::Unconfirmed),
        fixed_for_the_run,
        improved: count(Judgement::Improved),
        unchanged: count(Judgement::Unchanged),
        comparisons,
        only_in_base,
        only_in_current,
        failed: failed_cases(cur.0),
    })
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The current run's failed cases, one line each.
fn failed_cases(r: &Results) -> Vec<String> {
    r.failures
        .iter()
        .map(|f| format!("{}: {}", f.case, f.reason))
        .collect()
}

/// Every baseline run normalised as against the current one (ratios across machines, or
/// absolute), pooled key by key — each key's pooled measurement and its runs' medians — and
/// the current run's measurements normalised alike.
type PooledBases = BTreeMap<Key, (Measurement, Vec<f64>)>;

fn pooled_bases(
    bases: &[(&Results, &Path)],
    cur: &Results,
    ratios: bool,
) -> (PooledBases, Vec<Measurement>) {
    let sides = |b: &Results| {
        if ratios {
            (machine_independent(b), machine_independent(cur))
        } else {
            normalized_pair(b, cur)
        }
    };
    let (newest_bms, cms) = sides(bases[bases.len() - 1].0);
    let older: Vec<Vec<Measurement>> = bases[..bases.len() - 1]
        .iter()
        .map(|(b, _)| sides(b).0)
        .collect();
    let mut parts: BTreeMap<Key, Vec<&Measurement>> = BTreeMap::new();
    for m in older.iter().flatten().chain(&newest_bms) {
        parts.entry(m.key()).or_default().push(m);
    }
    let pooled = parts
        .iter()
        .map(|(k, ms)| (k.clone(), pooled(ms)))
        .collect();
    (pooled, cms)
}

/// Each key of both sides judged, with its baseline runs' medians; the keys of one side only.
struct Judged {
    comparisons: Vec<Comparison>,
    medians_of: Vec<Vec<f64>>,
    only_in_base: Vec<String>,
    only_in_current: Vec<String>,
    /// How many keys were listed as fixed for the run.
    fixed_for_the_run: usize,
}

fn judge_keys(
    base_keys: &PooledBases,
    index: &BTreeMap<Key, &Measurement>,
    threshold: f64,
    confidence: f64,
) -> Judged {
    let describe = |m: &Measurement| format!("{} / {}", m.case, m.label());
    let mut out = Judged {
        comparisons: Vec::new(),
        medians_of: Vec::new(),
        only_in_base: Vec::new(),
        only_in_current: Vec::new(),
        fixed_for_the_run: 0,
    };
    for (key, (b, medians)) in base_keys {
        match index.get(key) {
            Some(c) => {
                let mut judged = judge(b, c, threshold, confidence);
                // A figure fixed for the run is judged only against the spread of many
                // baseline runs; against fewer, listed.
                let cur_median = [crate::stats::median(&c.samples)];
                if medians.len() < WELL_KNOWN_RUNS
                    && fixed_for_the_run(b, medians)
                    && fixed_for_the_run(c, &cur_median)
                {
                    judged.verdict = Judgement::Info;
                    out.fixed_for_the_run += 1;
                }
                out.comparisons.push(judged);
                out.medians_of.push(medians.clone());
            }
            None => out.only_in_base.push(describe(b)),
        }
    }
    out.only_in_current = index
        .iter()
        .filter(|(k, _)| !base_keys.contains_key(*k))
        .map(|(_, m)| describe(m))
        .collect();
    out
}

/// What a change must clear: the user's thresholds, this pair of runs' noise allowance, and
/// the between-runs spread of several baselines.
struct Limits {
    threshold: f64,
    instructions_threshold: f64,
    allowance: f64,
    pool: Option<f64>,
}

/// Each comparison decided: exact counts by their threshold, keys of several baseline runs
/// by the spread between them, the rest by the noise of their workload and model.
fn decide_each(comparisons: &mut [Comparison], medians_of: &[Vec<f64>], l: &Limits) {
    let group_sigma = group_noise(comparisons);
    for (c, medians) in comparisons.iter_mut().zip(medians_of) {
        if is_exact(c) {
            decide_exact(c, l.instructions_threshold);
            continue;
        }
        match l.pool.filter(|_| medians.len() >= MIN_BASELINE_RUNS) {
            Some(pool) => decide_between_runs(c, medians, pool, l.threshold),
            None => {
                let g = group_sigma[&(c.case.workload.clone(), c.case.model.clone())];
                decide(c, l.allowance.max((NOISE_SIGMAS * g).exp()));
            }
        }
    }
}

/// Orders comparisons by verdict, the worst first within each.
fn worst_first(comparisons: &mut [Comparison]) {
    comparisons.sort_by(|a, b| {
        let worse = b.worse_factor().total_cmp(&a.worse_factor());
        a.verdict.cmp(&b.verdict).then(worse)
    });
}

/// The settings two machines differ in that move figures (none where either was not read).
pub fn settings_differ(a: &crate::machine::Machine, b: &crate::machine::Machine) -> Vec<String> {
    match (&a.settings, &b.settings) {
        (Some(x), Some(y)) => crate::machine::Settings::differences(x, y),
        _ => Vec::new(),
    }
}

/// A run made with an injected slowdown is a test run: never a baseline.
fn refuse_injected(bases: &[(&Results, &Path)]) -> Result<(), BadInput> {
    for (r, p) in bases {
        if let Some(spec) = &r.run.injected {
            return Err(BadInput::new(format!(
                "{}: made with --inject-slowdown {spec} (a test run), never a baseline",
                p.display()
            )));
        }
    }
    Ok(())
}

/// The noise of each workload and model's keys together.
fn group_noise(comparisons: &[Comparison]) -> BTreeMap<(String, String), f64> {
    let mut group_sigma: BTreeMap<(String, String), f64> = BTreeMap::new();
    for c in comparisons {
        group_sigma
            .entry((c.case.workload.clone(), c.case.model.clone()))
            .or_insert_with(|| {
                let group: Vec<Comparison> = comparisons
                    .iter()
                    .filter(|d| d.case.workload == c.case.workload && d.case.model == c.case.model)
                    .cloned()
                    .collect();
                noise_sigma(&group)
            });
    }
    group_sigma
}

/// The pool of between-run spreads: the median over the keys several baseline runs hold.
fn between_runs_pool(comparisons: &[Comparison], medians_of: &[Vec<f64>]) -> Option<f64> {
    let mut spreads: Vec<f64> = comparisons
        .iter()
        .zip(medians_of)
        .filter(|(c, _)| c.verdict != Judgement::Info && !is_exact(c))
        .filter(|(_, m)| m.len() >= MIN_BASELINE_RUNS)
        .filter_map(|(_, m)| log_sd(m))
        .collect();
    spreads.sort_by(f64::total_cmp);
    (!spreads.is_empty()).then(|| spreads[spreads.len() / 2])
}

/// With several baseline runs: the group rows join the comparisons, and a key regresses only
/// with its group.
fn confirm_by_groups(
    comparisons: &mut Vec<Comparison>,
    medians_of: &[Vec<f64>],
    runs: usize,
    threshold: f64,
) {
    let groups = group_rows(comparisons, medians_of, runs, threshold);
    let group_verdict: BTreeMap<(String, String, Metric), Judgement> = groups
        .iter()
        .map(|g| {
            let key = (g.case.workload.clone(), g.case.model.clone(), g.metric);
            (key, g.verdict)
        })
        .collect();
    for c in comparisons
        .iter_mut()
        .filter(|c| c.verdict == Judgement::Regressed)
    {
        let key = (c.case.workload.clone(), c.case.model.clone(), c.metric);
        if group_verdict
            .get(&key)
            .is_some_and(|v| *v != Judgement::Regressed)
        {
            c.verdict = Judgement::Unconfirmed;
        }
    }
    comparisons.extend(groups);
}

fn run_ref(r: &Results, p: &Path) -> RunRef {
    RunRef {
        file: p.to_path_buf(),
        run_id: r.run.id.clone(),
        machine_id: r.machine.id.clone(),
        started_at: r.run.started_at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::results::Metric;

    fn m(metric: Metric, samples: Vec<f64>) -> Measurement {
        let id = CaseId {
            workload: "w".into(),
            model: "threads".into(),
            variant: "default".into(),
            workers: 1,
            params: BTreeMap::new(),
        };
        Measurement::new(&id, metric, samples, true)
    }

    fn noisy(center: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| center * (1.0 + 0.01 * ((i % 5) as f64 - 2.0)))
            .collect()
    }

    /// The verdict on `metric` moving from `base` to `cur` (10 noisy samples each).
    fn verdict(metric: Metric, base: f64, cur: f64) -> Judgement {
        let b = m(metric, noisy(base, 10));
        judge(&b, &m(metric, noisy(cur, 10)), 0.05, 0.95).verdict
    }

    #[test]
    fn directions_are_judged_by_better() {
        use Judgement::{Improved, Regressed};
        assert_eq!(verdict(Metric::Throughput, 100.0, 80.0), Regressed);
        assert_eq!(verdict(Metric::Throughput, 100.0, 120.0), Improved);
        assert_eq!(verdict(Metric::Startup, 100_000.0, 120_000.0), Regressed);
        assert_eq!(verdict(Metric::Startup, 100_000.0, 80_000.0), Improved);
    }

    #[test]
    fn small_changes_and_identical_runs_are_unchanged() {
        let base = m(Metric::Throughput, noisy(100.0, 10));
        assert_eq!(
            judge(&base, &base, 0.05, 0.95).verdict,
            Judgement::Unchanged
        );
        assert_eq!(
            judge(&base, &m(Metric::Throughput, noisy(98.0, 10)), 0.05, 0.95).verdict,
            Judgement::Unchanged
        );
    }

    #[test]
    fn noise_floors_hold_tiny_absolute_changes() {
        // 20 ns → 30 ns is +50%, but below what a clock read can tell apart.
        let base = m(Metric::FirstItem, vec![20.0; 5]);
        let cur = m(Metric::FirstItem, vec![30.0; 5]);
        assert_eq!(judge(&base, &cur, 0.05, 0.95).verdict, Judgement::Unchanged);
        let mut lost = m(Metric::Throughput, vec![10.0; 5]);
        lost.info = true;
        assert_eq!(judge(&lost, &lost, 0.05, 0.95).verdict, Judgement::Info);
    }

    #[test]
    fn thresholds_parse() {
        assert_eq!(parse_threshold("5%").unwrap(), 0.05);
        assert_eq!(parse_threshold("0.1").unwrap(), 0.1);
        assert_eq!(parse_threshold("10").unwrap(), 0.1);
        assert!(parse_threshold("0").is_err());
        assert!(parse_threshold("150%").is_err());
        assert!(parse_threshold("lots").is_err());
    }
}
