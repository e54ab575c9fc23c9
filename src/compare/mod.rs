//! `threadfork compare`: matches two runs' measurements by key and judges each change with a
//! bootstrap confidence interval of the ratio of medians, beside a Mann–Whitney rank test.
//! A change is `regressed` only when its whole interval lies beyond the threshold on the
//! worse side (and beyond the metric's noise floor); `improved` symmetrically.

pub mod ab;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::BadInput;
use crate::results::derived::{self, ratio_samples};
use crate::results::{self, Better, CaseId, Key, Measurement, Results};
use crate::stats::{mann_whitney, median, ratio_of_medians_ci};
use crate::units as format;

/// The chance of one or more false alarms allowed for a whole comparison.
pub const FAMILY_ALPHA: f64 = 0.05;

/// The verdict on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Regressed,
    /// Worse beyond its own noise but not confirmed: a key whose group (the same workload,
    /// model and metric at every worker count and parameter) did not regress, or — against
    /// fewer than [`WELL_KNOWN_RUNS`] baseline runs — a group that moved less than
    /// [`GROUP_ALONE_SIGMAS`] while no other model of its workload and metric moved. Listed,
    /// not failed.
    Unconfirmed,
    Unchanged,
    Improved,
    /// Listed, not judged (a figure that is not a cost, such as lost updates).
    Info,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Unconfirmed => "unconfirmed",
            Verdict::Unchanged => "unchanged",
            Verdict::Improved => "improved",
            Verdict::Info => "info",
        }
    }
}

/// One key judged.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    #[serde(flatten)]
    pub case: CaseId,
    pub metric: String,
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
    pub verdict: Verdict,
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
    /// "absolute" (same machine, or --absolute) or "ratios" (machine-independent ratios).
    pub mode: &'static str,
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
    pub improved: usize,
    pub unchanged: usize,
    pub comparisons: Vec<Comparison>,
    pub only_in_base: Vec<String>,
    pub only_in_current: Vec<String>,
    /// Cases of the current run that failed, with their reasons.
    pub failed: Vec<String>,
}

impl Report {
    /// Keys of the baseline the current run lacks, where that is a loss: on one machine (runs
    /// of different machines differ in their worker counts by design).
    pub fn missing(&self) -> &[String] {
        if self.mode == "absolute" {
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

/// Absolute differences below these are noise whatever their ratio: a clock read is ~25 ns,
/// RSS moves in pages and with the allocator's arenas, and a pipeline's heap by a few hundred
/// bytes with how often its threads blocked.
fn noise_floor(metric: &str) -> f64 {
    match metric {
        "startup" | "roundtrip" => 1_000.0,
        // A first item within 50 µs depends on where the scheduler puts a thread, not on code.
        "first_item" => 50_000.0,
        // A forked child's private bytes jump by 128 KiB between runs with which stack and
        // libc pages the kernel happens to copy (seen here: 68 and 196 KiB per worker).
        "peak_rss" => 256.0 * 1024.0,
        "heap_bytes" => 1024.0,
        _ => 0.0,
    }
}

/// A throughput sample shorter than this is mostly start and stop: a thread placed on a busy
/// core, a page fault, the clock's own cost. Such figures are listed, not judged.
const MIN_JUDGED_SAMPLE_NS: f64 = 1_000_000.0;

/// Whether a throughput measurement's samples last long enough to be judged.
fn long_enough(m: &Measurement) -> bool {
    if !m.metric.starts_with("throughput") {
        return true;
    }
    let (raw_median, _) = raw(m);
    match m.ops_per_sample {
        Some(ops) if raw_median > 0.0 => ops as f64 / raw_median * 1e9 >= MIN_JUDGED_SAMPLE_NS,
        _ => true,
    }
}

/// Whether a measurement is judged: an info figure (lost updates) is a race's outcome, not a
/// cost, and the bare OS loops are the machine the harness runs on, shown as context (the
/// harness's overhead over them is judged as its own key).
pub fn is_judged(m: &Measurement) -> bool {
    !m.info && !derived::is_bare(m)
}

/// Judges one pair of measurements of the same key; `confidence` is the interval's level.
pub fn judge(base: &Measurement, cur: &Measurement, threshold: f64, confidence: f64) -> Comparison {
    let (bm, cm) = (median(&base.samples), median(&cur.samples));
    let judged = is_judged(base) && long_enough(base);
    let (ratio, ci) = if bm == 0.0 && cm == 0.0 {
        (1.0, (1.0, 1.0))
    } else {
        (
            cm / bm,
            ratio_of_medians_ci(&base.samples, &cur.samples, confidence),
        )
    };
    let (_, p) = mann_whitney(&base.samples, &cur.samples);
    let ((base_raw, raw_unit), (current_raw, _)) = (raw(base), raw(cur));
    let mut c = Comparison {
        base_raw,
        current_raw,
        raw_unit,
        case: base.case.clone(),
        metric: base.metric.clone(),
        unit: base.unit.clone(),
        better: base.better,
        base_median: bm,
        current_median: cm,
        ratio,
        ratio_ci95: [ci.0, ci.1],
        p_value: p,
        baseline_runs: None,
        between_run_sigma: None,
        verdict: if judged {
            Verdict::Unchanged
        } else {
            Verdict::Info
        },
    };
    decide(&mut c, 1.0 + threshold);
    c
}

/// The verdict on an exact count (`instructions`): any change beyond `threshold` — the counts
/// of one build repeat exactly, so there is no noise to allow for.
fn decide_exact(c: &mut Comparison, threshold: f64) {
    if c.verdict == Verdict::Info {
        return;
    }
    c.ratio_ci95 = [c.ratio, c.ratio];
    c.verdict = if c.ratio > 1.0 + threshold {
        Verdict::Regressed
    } else if c.ratio < 1.0 / (1.0 + threshold) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
}

/// Whether a comparison is of an exact count.
fn is_exact(c: &Comparison) -> bool {
    c.metric == "instructions"
}

/// Whether a change is beyond its metric's noise floor, and the interval of its
/// worse-direction factor (above 1: current is worse).
fn floor_and_worse(c: &Comparison) -> (bool, f64, f64) {
    let metric = c.metric.split(' ').next().unwrap_or_default();
    let beyond_floor = (c.current_raw - c.base_raw).abs() > noise_floor(metric);
    let [lo, hi] = c.ratio_ci95;
    match c.better {
        Better::Higher => (beyond_floor, 1.0 / hi, 1.0 / lo),
        Better::Lower => (beyond_floor, lo, hi),
    }
}

/// Sets the verdict of a judged comparison: regressed when the whole interval is worse by
/// more than `allowance` (a factor > 1) and the change is beyond the metric's noise floor;
/// improved symmetrically.
fn decide(c: &mut Comparison, allowance: f64) {
    if c.verdict == Verdict::Info {
        return;
    }
    let (beyond_floor, worse_lo, worse_hi) = floor_and_worse(c);
    c.verdict = if beyond_floor && worse_lo > allowance {
        Verdict::Regressed
    } else if beyond_floor && worse_hi < 1.0 / allowance {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
}

/// How many robust standard deviations of the run-to-run noise a change must exceed.
/// 4σ leaves a normal noise about one chance in 16,000 per key: with a few hundred keys
/// judged, a false alarm in under 2% of comparisons.
pub const NOISE_SIGMAS: f64 = 4.0;

/// The run-to-run noise between two runs, as a robust standard deviation of the log-ratios
/// of all judged keys (1.4826 × MAD). A real regression moves some keys far from the rest and
/// barely moves this figure; a machine that drifts between fast and slow spells scatters
/// every key, and this figure grows with it.
pub fn noise_sigma(comparisons: &[Comparison]) -> f64 {
    let logs: Vec<f64> = comparisons
        .iter()
        .filter(|c| c.verdict != Verdict::Info && !is_exact(c))
        .filter(|c| c.ratio.is_finite() && c.ratio > 0.0)
        .filter(|c| {
            let metric = c.metric.split(' ').next().unwrap_or_default();
            (c.current_raw - c.base_raw).abs() > noise_floor(metric)
        })
        .map(|c| c.ratio.ln())
        .collect();
    if logs.len() < 6 {
        return 0.0;
    }
    1.4826 * crate::stats::mad(&logs)
}

fn derived(
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
            "startup" if m.case.model != "threads" => {
                let threads = CaseId {
                    model: "threads".into(),
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
fn reference(m: &Measurement) -> Option<(&'static str, Vec<f64>)> {
    if m.probe.len() != m.samples.len() || m.probe.iter().any(|p| *p <= 0.0) {
        return None;
    }
    match m.metric.as_str() {
        "throughput" => Some(("÷ core speed", m.probe.clone())),
        // Time in units of work the core could have done meanwhile.
        "first_item" => Some(("× core speed", m.probe.iter().map(|p| 1.0 / p).collect())),
        "startup" | "roundtrip" => Some((
            "× √core speed",
            m.probe.iter().map(|p| p.powf(-START_SPEED_POWER)).collect(),
        )),
        _ => None,
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
fn harness_adds(r: &Results) -> Vec<Measurement> {
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
fn normalized_with(r: &Results, use_ref: impl Fn(&Measurement) -> bool) -> Vec<Measurement> {
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
fn normalized_pair(base: &Results, cur: &Results) -> (Vec<Measurement>, Vec<Measurement>) {
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
fn raw(m: &Measurement) -> (f64, String) {
    match m.unit.strip_prefix("ratio of ") {
        Some(unit) => (m.min, unit.to_string()),
        None => (m.median, m.unit.clone()),
    }
}

/// How many baseline runs must hold a key before its own between-run spread is used.
pub const MIN_BASELINE_RUNS: usize = 3;

/// Weight, in runs, of the spread of all keys in a key's own between-run spread: with 3–5
/// baseline runs one key's spread is itself uncertain (a key that happened to agree 3 times
/// would otherwise alarm at any flicker), so it is shrunk toward the pool, as an
/// empirical-Bayes prior of 4 degrees of freedom.
const PRIOR_RUNS: f64 = 4.0;

/// One key's baseline over several runs: every run's samples pooled, and each run's median.
fn pooled(parts: &[&Measurement]) -> (Measurement, Vec<f64>) {
    let mut m = parts[parts.len() - 1].clone();
    m.samples = parts
        .iter()
        .flat_map(|p| p.samples.iter().copied())
        .collect();
    m.median = median(&m.samples);
    // A normalised figure carries its raw median in `min`: the runs' median of it.
    let raws: Vec<f64> = parts.iter().map(|p| p.min).collect();
    m.min = median(&raws);
    let medians: Vec<f64> = parts.iter().map(|p| median(&p.samples)).collect();
    (m, medians)
}

/// Sample standard deviation of the logs of positive figures.
fn log_sd(xs: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = xs.iter().filter(|x| **x > 0.0).map(|x| x.ln()).collect();
    if logs.len() < 2 {
        return None;
    }
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64;
    Some(var.sqrt())
}

/// A key's between-run variance (of the log of each run's median), shrunk toward `pool` (a σ)
/// with the weight of [`PRIOR_RUNS`] runs; `pool` alone when the runs give no spread.
fn shrunk_variance(medians: &[f64], pool: f64) -> f64 {
    let k = medians.len() as f64;
    let own = log_sd(medians).unwrap_or(pool);
    ((k - 1.0) * own * own + PRIOR_RUNS * pool * pool) / (k - 1.0 + PRIOR_RUNS)
}

/// Judges a key against several baseline runs: its change from the mean of the runs' log
/// medians must exceed both the threshold and [`NOISE_SIGMAS`] times the spread a new run is
/// expected to show (the key's between-run σ, shrunk toward `pool`, × √(1 + 1/k)); the
/// bootstrap interval of the pooled samples must also clear the threshold.
fn decide_between_runs(c: &mut Comparison, medians: &[f64], pool: f64, threshold: f64) {
    if c.verdict == Verdict::Info {
        return;
    }
    let k = medians.len() as f64;
    let sigma = shrunk_variance(medians, pool).sqrt();
    c.baseline_runs = Some(medians.len());
    c.between_run_sigma = Some(sigma);
    let logs: Vec<f64> = medians
        .iter()
        .filter(|x| **x > 0.0)
        .map(|x| x.ln())
        .collect();
    let center = logs.iter().sum::<f64>() / logs.len().max(1) as f64;
    let d = if c.current_median > 0.0 && !logs.is_empty() {
        c.current_median.ln() - center
    } else {
        0.0
    };
    let worse = match c.better {
        Better::Higher => -d,
        Better::Lower => d,
    };
    let allowance = (1.0 + threshold)
        .ln()
        .max(NOISE_SIGMAS * sigma * (1.0 + 1.0 / k).sqrt());
    let (beyond_floor, worse_lo, worse_hi) = floor_and_worse(c);
    c.verdict = if beyond_floor && worse > allowance && worse_lo > 1.0 + threshold {
        Verdict::Regressed
    } else if beyond_floor && -worse > allowance && worse_hi < 1.0 / (1.0 + threshold) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
}

/// Group rows for a comparison against several baseline runs: per workload, model and metric,
/// the geometric mean over the keys every baseline run holds. A regression of a workload's
/// code or of a system primitive moves all of a group's keys at once, while the noise of one
/// key is partly its own: the group's level, judged against its own spread between the
/// baseline runs, resolves a smaller change than any one key can.
fn group_rows(
    comparisons: &[Comparison],
    medians_of: &[Vec<f64>],
    runs: usize,
    threshold: f64,
) -> Vec<Comparison> {
    type Group = (String, String, String);
    let mut groups: BTreeMap<Group, Vec<usize>> = BTreeMap::new();
    for (i, (c, m)) in comparisons.iter().zip(medians_of).enumerate() {
        let usable = c.verdict != Verdict::Info
            && !is_exact(c)
            && m.len() == runs
            && m.iter().all(|x| *x > 0.0)
            && c.current_median > 0.0;
        if usable {
            let g = (
                c.case.workload.clone(),
                c.case.model.clone(),
                c.metric.clone(),
            );
            groups.entry(g).or_default().push(i);
        }
    }
    groups.retain(|_, members| members.len() >= 2);
    // Each key weighs in by its precision: 1 / its between-run variance, shrunk toward the
    // median key's as a key's own is (see `decide_between_runs`). A change that moves every
    // key of a group alike — a slower workload, a slower `fork` — is then estimated from the
    // steady keys (a fork under 1 GiB of parent memory moves 3–8% between runs here, one
    // from a small parent 15–33%) instead of drowned by the jumpy ones.
    let mut key_sds: Vec<f64> = groups
        .values()
        .flatten()
        .filter_map(|&i| log_sd(&medians_of[i]))
        .collect();
    key_sds.sort_by(f64::total_cmp);
    let key_pool = key_sds.get(key_sds.len() / 2).copied().unwrap_or(0.0);
    let weight = |i: usize| {
        let var = shrunk_variance(&medians_of[i], key_pool);
        if var > 0.0 { 1.0 / var } else { 1.0 }
    };
    let weights: BTreeMap<usize, f64> =
        groups.values().flatten().map(|&i| (i, weight(i))).collect();
    let geo = |xs: &mut dyn Iterator<Item = (usize, f64)>| {
        let (sum, total) = xs.fold((0.0, 0.0), |(s, t), (i, x)| {
            let w = weights.get(&i).copied().unwrap_or(1.0);
            (s + w * x.ln(), t + w)
        });
        if total > 0.0 {
            (sum / total).exp()
        } else {
            f64::NAN
        }
    };
    let levels: Vec<(Group, Vec<f64>)> = groups
        .iter()
        .map(|(g, members)| {
            let per_run = (0..runs)
                .map(|r| geo(&mut members.iter().map(|&i| (i, medians_of[i][r]))))
                .collect();
            (g.clone(), per_run)
        })
        .collect();
    let mut spreads: Vec<f64> = levels.iter().filter_map(|(_, v)| log_sd(v)).collect();
    spreads.sort_by(f64::total_cmp);
    let Some(&pool) = spreads.get(spreads.len() / 2) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for ((workload, model, metric), per_run) in levels {
        let members = &groups[&(workload.clone(), model.clone(), metric.clone())];
        let first = &comparisons[members[0]];
        let base = (per_run.iter().map(|x| x.ln()).sum::<f64>() / per_run.len() as f64).exp();
        let current = geo(&mut members.iter().map(|&i| (i, comparisons[i].current_median)));
        let ratio = current / base;
        let mut c = Comparison {
            case: CaseId {
                workload,
                model,
                variant: "all".into(),
                workers: 0,
                params: BTreeMap::new(),
            },
            metric: format!(
                "{metric} (geometric mean of {} keys, each weighted by its steadiness)",
                members.len()
            ),
            unit: first.unit.clone(),
            better: first.better,
            base_median: base,
            current_median: current,
            base_raw: geo(&mut members
                .iter()
                .map(|&i| (i, comparisons[i].base_raw.max(1e-300)))),
            current_raw: geo(&mut members
                .iter()
                .map(|&i| (i, comparisons[i].current_raw.max(1e-300)))),
            raw_unit: first.raw_unit.clone(),
            ratio,
            // The group's uncertainty is its between-run spread, judged below.
            ratio_ci95: [ratio, ratio],
            p_value: f64::NAN,
            baseline_runs: None,
            between_run_sigma: None,
            verdict: Verdict::Unchanged,
        };
        decide_between_runs(&mut c, &per_run, pool, threshold);
        rows.push(c);
    }
    confirm_groups(&mut rows, runs);
    rows
}

/// How many between-run σ a group must move to regress on its own, against fewer than
/// [`WELL_KNOWN_RUNS`] baseline runs; with another group of the same workload and metric
/// (another model) worse too, [`NOISE_SIGMAS`] suffice. This host's run-to-run noise has heavy
/// tails — one group of one model now and then moves 5σ with nothing changed — and 3 to 9
/// runs estimate a group's spread too loosely to rule that out: in 20 A/A comparisons against
/// 5 baseline runs, 4σ alone gave 2 false alarms and this rule 1.
pub const GROUP_ALONE_SIGMAS: f64 = 6.0;

/// From this many baseline runs on, a group's spread is known well enough that
/// [`NOISE_SIGMAS`] suffice on its own. Measured on the reference host with runs of 24 rounds,
/// each judged against the 10 A/A runs before it (20 pairs): at 4σ alone a `fork` start-up
/// 20% slower was caught 17 times and a workload 20% slower 19 times, against 13 and 19 under
/// the 6σ rule, with 1 A/A alarm either way (a thread start-up 9.8σ off). Against 5 baseline
/// runs of 12 rounds, 4σ alone gave A/A alarms in 5 of 21.
pub const WELL_KNOWN_RUNS: usize = 10;

/// Downgrades to unconfirmed a regressed group that moved less than [`GROUP_ALONE_SIGMAS`]
/// while no other group of its workload and metric regressed, when the baseline holds fewer
/// than [`WELL_KNOWN_RUNS`] runs.
fn confirm_groups(rows: &mut [Comparison], runs: usize) {
    if runs >= WELL_KNOWN_RUNS {
        return;
    }
    let kind = |c: &Comparison| {
        let metric = c
            .metric
            .split(" (geometric mean")
            .next()
            .unwrap_or_default();
        (c.case.workload.clone(), metric.to_string())
    };
    let mut regressed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in rows.iter().filter(|c| c.verdict == Verdict::Regressed) {
        *regressed.entry(kind(c)).or_default() += 1;
    }
    let spread = (1.0 + 1.0 / runs as f64).sqrt();
    for c in rows.iter_mut().filter(|c| c.verdict == Verdict::Regressed) {
        let worse = match c.better {
            Better::Higher => -c.ratio.ln(),
            Better::Lower => c.ratio.ln(),
        };
        let sigma = c.between_run_sigma.unwrap_or(0.0) * spread;
        if regressed[&kind(c)] < 2 && worse < GROUP_ALONE_SIGMAS * sigma {
            c.verdict = Verdict::Unconfirmed;
        }
    }
}

/// Compares `cur` against one baseline run or several (oldest first, newest last). Runs from
/// different machines are compared on machine-independent ratios unless `absolute`. With
/// [`MIN_BASELINE_RUNS`] or more runs holding a key, the key is judged against its own
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
    for (r, p) in bases {
        if let Some(spec) = &r.run.injected {
            return Err(BadInput::new(format!(
                "{}: made with --inject-slowdown {spec} (a test run), never a baseline",
                p.display()
            )));
        }
    }
    let same_machine = newest.0.machine.id == cur.0.machine.id;
    let ratios = !same_machine && !absolute;
    let sides = |b: &Results| {
        if ratios {
            (machine_independent(b), machine_independent(cur.0))
        } else {
            normalized_pair(b, cur.0)
        }
    };
    let (newest_bms, cms) = sides(newest.0);
    let index: BTreeMap<Key, &Measurement> = cms.iter().map(|m| (m.key(), m)).collect();
    // Every older baseline run normalised as against the current one, keyed alike.
    let older: Vec<Vec<Measurement>> = bases[..bases.len() - 1]
        .iter()
        .map(|(b, _)| sides(b).0)
        .collect();
    let mut parts: BTreeMap<Key, Vec<&Measurement>> = BTreeMap::new();
    for m in older.iter().flatten().chain(&newest_bms) {
        parts.entry(m.key()).or_default().push(m);
    }
    let base_keys: BTreeMap<Key, (Measurement, Vec<f64>)> = parts
        .iter()
        .map(|(k, ms)| (k.clone(), pooled(ms)))
        .collect();
    let describe = |m: &Measurement| format!("{} / {}", m.case, m.metric);
    // Family-wise 95%: with m figures judged at once, each interval is drawn at 1 - 0.05/m
    // (Bonferroni), so that the chance of any false alarm in the whole table stays ≤ 5%.
    let judged = base_keys
        .iter()
        .filter(|(k, (m, _))| index.contains_key(*k) && is_judged(m))
        .count()
        .max(1);
    let confidence = 1.0 - FAMILY_ALPHA / judged as f64;
    let mut comparisons = Vec::new();
    let mut medians_of = Vec::new();
    let mut only_in_base = Vec::new();
    for (key, (b, medians)) in &base_keys {
        match index.get(key) {
            Some(c) => {
                comparisons.push(judge(b, c, threshold, confidence));
                medians_of.push(medians.clone());
            }
            None => only_in_base.push(describe(b)),
        }
    }
    let only_in_current: Vec<String> = index
        .iter()
        .filter(|(k, _)| !base_keys.contains_key(*k))
        .map(|(_, m)| describe(m))
        .collect();
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
    let mut group_sigma: BTreeMap<(String, String), f64> = BTreeMap::new();
    for c in &comparisons {
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
    // The pool of between-run spreads: the median over the keys several runs hold.
    let mut spreads: Vec<f64> = comparisons
        .iter()
        .zip(&medians_of)
        .filter(|(c, _)| c.verdict != Verdict::Info && !is_exact(c))
        .filter(|(_, m)| m.len() >= MIN_BASELINE_RUNS)
        .filter_map(|(_, m)| log_sd(m))
        .collect();
    spreads.sort_by(f64::total_cmp);
    let pool = (!spreads.is_empty()).then(|| spreads[spreads.len() / 2]);
    for (c, medians) in comparisons.iter_mut().zip(&medians_of) {
        if is_exact(c) {
            decide_exact(c, instructions_threshold);
            continue;
        }
        match pool.filter(|_| medians.len() >= MIN_BASELINE_RUNS) {
            Some(pool) => decide_between_runs(c, medians, pool, threshold),
            None => {
                let g = group_sigma[&(c.case.workload.clone(), c.case.model.clone())];
                decide(c, allowance.max((NOISE_SIGMAS * g).exp()));
            }
        }
    }
    if bases.len() >= MIN_BASELINE_RUNS {
        let groups = group_rows(&comparisons, &medians_of, bases.len(), threshold);
        let group_verdict: BTreeMap<(String, String, String), Verdict> = groups
            .iter()
            .map(|g| {
                let metric = g
                    .metric
                    .split(" (geometric mean")
                    .next()
                    .unwrap_or_default();
                let key = (
                    g.case.workload.clone(),
                    g.case.model.clone(),
                    metric.to_string(),
                );
                (key, g.verdict)
            })
            .collect();
        for c in comparisons
            .iter_mut()
            .filter(|c| c.verdict == Verdict::Regressed)
        {
            let key = (
                c.case.workload.clone(),
                c.case.model.clone(),
                c.metric.clone(),
            );
            if group_verdict
                .get(&key)
                .is_some_and(|v| *v != Verdict::Regressed)
            {
                c.verdict = Verdict::Unconfirmed;
            }
        }
        comparisons.extend(groups);
    }
    comparisons.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(b.worse_factor().total_cmp(&a.worse_factor()))
    });
    let count = |v| comparisons.iter().filter(|c| c.verdict == v).count();
    let run_ref = |r: &Results, p: &Path| RunRef {
        file: p.to_path_buf(),
        run_id: r.run.id.clone(),
        machine_id: r.machine.id.clone(),
        started_at: r.run.started_at.clone(),
    };
    Ok(Report {
        schema: "threadfork/compare/v1",
        base: run_ref(newest.0, newest.1),
        baselines: if bases.len() > 1 {
            bases.iter().map(|(r, p)| run_ref(r, p)).collect()
        } else {
            Vec::new()
        },
        current: run_ref(cur.0, cur.1),
        mode: if ratios { "ratios" } else { "absolute" },
        threshold,
        instructions_threshold,
        confidence,
        noise_sigma: sigma,
        between_run_sigma: pool,
        effective_threshold: allowance - 1.0,
        regressed: count(Verdict::Regressed),
        unconfirmed: count(Verdict::Unconfirmed),
        improved: count(Verdict::Improved),
        unchanged: count(Verdict::Unchanged),
        comparisons,
        only_in_base,
        only_in_current,
        failed: cur
            .0
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.case, f.reason))
            .collect(),
    })
}

/// Every results file under `path` (a file, or a folder searched three levels deep), oldest
/// first by run id, which starts with its UTC time.
fn results_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut found = Vec::new();
    collect_json(path, 3, &mut found);
    found.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    found
}

/// The baseline runs: every file given and every run in every folder given (but `current`,
/// when a folder holds it too), of one machine — `machine` when some of them are of it, else
/// the machine of the newest — oldest first.
pub fn load_baselines(
    paths: &[PathBuf],
    machine: &str,
    current: &Path,
) -> Result<Vec<(Results, PathBuf)>, BadInput> {
    let mut runs = Vec::new();
    for p in paths {
        let mut files = results_files(p);
        if p.is_dir() {
            files.retain(|f| f != current);
        }
        if files.is_empty() {
            return Err(no_results(p));
        }
        for f in files {
            let r = results::load(&f).map_err(|e| BadInput::new(e.to_string()))?;
            runs.push((r, f));
        }
    }
    runs.sort_by(|a, b| a.0.run.id.cmp(&b.0.run.id));
    let keep = if runs.iter().any(|(r, _)| r.machine.id == machine) {
        machine.to_string()
    } else {
        runs.last()
            .map(|(r, _)| r.machine.id.clone())
            .unwrap_or_default()
    };
    runs.retain(|(r, _)| r.machine.id == keep);
    Ok(runs)
}

fn no_results(p: &Path) -> BadInput {
    BadInput::new(format!(
        "{}: no results file (*.json) in this folder",
        p.display()
    ))
}

/// A results file, or the newest run (by run id, which starts with its UTC time) in a folder.
pub fn resolve_input(path: &Path) -> Result<PathBuf, BadInput> {
    results_files(path).pop().ok_or_else(|| no_results(path))
}

fn collect_json(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && depth > 0 {
            collect_json(&p, depth - 1, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Loads a side of the comparison, mapping every load problem to bad input.
pub fn load_input(path: &Path) -> Result<(Results, PathBuf), BadInput> {
    let file = resolve_input(path)?;
    let r = results::load(&file).map_err(|e| BadInput::new(e.to_string()))?;
    Ok((r, file))
}

/// Parses `5%`, `0.05` or `5` (read as percent) into a fraction in (0, 1).
pub fn parse_threshold(text: &str) -> Result<f64, BadInput> {
    parse_threshold_of("--threshold", text)
}

/// [`parse_threshold`] for the flag `flag`.
pub fn parse_threshold_of(flag: &str, text: &str) -> Result<f64, BadInput> {
    let t = text.trim();
    let bad = || BadInput::new(format!("{flag}: '{text}' is not a percentage such as 5%"));
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => {
            let v = t.parse::<f64>().map_err(|_| bad())?;
            if v >= 1.0 { v / 100.0 } else { v }
        }
    };
    if !(value > 0.0 && value < 1.0) {
        return Err(BadInput::new(format!(
            "{flag}: must be between 0% and 100% (got {text})"
        )));
    }
    Ok(value)
}

fn signed_pct(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:+.1}%", 100.0 * (ratio - 1.0))
    } else {
        "–".into()
    }
}

fn header_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if !r.failed.is_empty() {
        lines.push(format!(
            "FAILED in the current run ({}): {}",
            r.failed.len(),
            r.failed.join("; ")
        ));
    }
    if !r.missing().is_empty() {
        lines.push(format!(
            "MISSING from the current run ({} keys the baseline has): {}",
            r.missing().len(),
            r.missing().join("; ")
        ));
    }
    if !r.baselines.is_empty() {
        lines.push(format!(
            "baseline: {} runs of machine {}, {} … {}",
            r.baselines.len(),
            r.base.machine_id,
            r.baselines[0].started_at,
            r.base.started_at
        ));
    }
    lines.extend([
        format!(
            "base:    {} (run {}, machine {}, {})",
            r.base.file.display(),
            r.base.run_id,
            r.base.machine_id,
            r.base.started_at
        ),
        format!(
            "current: {} (run {}, machine {}, {})",
            r.current.file.display(),
            r.current.run_id,
            r.current.machine_id,
            r.current.started_at
        ),
    ]);
    if r.mode == "ratios" {
        lines.push(
            "The runs come from different machines: compared on machine-independent ratios \
             (speedup, efficiency, startup ratios, heap bytes); absolute figures were not judged \
             (--absolute to judge them)."
                .into(),
        );
    }
    if let Some(pool) = r.between_run_sigma {
        lines.push(format!(
            "Each key held by {MIN_BASELINE_RUNS} or more baseline runs is judged against its own \
             spread between them (median σ {:.1}% over the keys; a change must exceed {NOISE_SIGMAS}× \
             the spread a new run is expected to show, and the threshold).",
            100.0 * pool
        ));
    } else if r.effective_threshold > r.threshold + 1e-9 {
        lines.push(format!(
            "These two runs differ by {:.1}% from key to key (robust σ of the changes): changes \
             under {:.1}% (4σ) cannot be told from that noise and are not judged; the \
             threshold asked for was {:.1}%.",
            100.0 * r.noise_sigma,
            100.0 * r.effective_threshold,
            100.0 * r.threshold
        ));
    }
    if r.comparisons.iter().any(is_exact) {
        lines.push(format!(
            "Instruction counts are exact (two counts of one build repeat): any change beyond \
             {:.1}% is judged (--instructions-threshold).",
            100.0 * r.instructions_threshold
        ));
    }
    if r.unconfirmed > 0 {
        lines.push(format!(
            "{} unconfirmed: worse beyond their own noise, but a key whose group (same \
             workload, model and metric at every worker count) did not regress, or, against \
             fewer than {WELL_KNOWN_RUNS} baseline runs, a group that moved alone (under \
             {GROUP_ALONE_SIGMAS}σ, no other model of its workload and metric worse) — listed, \
             not failed.",
            r.unconfirmed
        ));
    }
    // The threshold said is the one the keys were judged at: counts only, timed only, or both.
    let exact = r.comparisons.iter().filter(|c| is_exact(c)).count();
    let at = match (exact, r.comparisons.len() - exact) {
        (0, _) => format!("a {:.1}% threshold", 100.0 * r.threshold),
        (_, 0) => format!(
            "a {:.1}% threshold (--instructions-threshold)",
            100.0 * r.instructions_threshold
        ),
        _ => format!(
            "{:.1}% (timed figures) and {:.1}% (instruction counts) thresholds",
            100.0 * r.threshold,
            100.0 * r.instructions_threshold
        ),
    };
    lines.push(format!(
        "{} regressed, {} improved, {} unchanged at {at}. Each change is current ÷ base \
         of the medians with its bootstrap interval at {:.3}% (family-wise 95% over the keys \
         judged); a verdict needs the whole interval beyond the threshold.",
        r.regressed,
        r.improved,
        r.unchanged,
        100.0 * r.confidence
    ));
    lines
}

fn row_cells(c: &Comparison) -> [String; 8] {
    [
        c.verdict.name().to_string(),
        c.case(),
        c.metric.clone(),
        if c.raw_unit == "ratio" {
            format!("{:.3}", c.base_raw)
        } else {
            format::value(c.base_raw, &c.raw_unit)
        },
        if c.raw_unit == "ratio" {
            format!("{:.3}", c.current_raw)
        } else {
            format::value(c.current_raw, &c.raw_unit)
        },
        signed_pct(c.ratio),
        format!(
            "{} … {}",
            signed_pct(c.ratio_ci95[0]),
            signed_pct(c.ratio_ci95[1])
        ),
        if c.p_value.is_finite() {
            format!("{:.3}", c.p_value)
        } else {
            "–".into()
        },
    ]
}

const HEADERS: [&str; 8] = [
    "verdict", "case", "metric", "base", "current", "change", "interval", "p",
];

/// A plain-text table for a terminal, worst first.
pub fn render_text(r: &Report) -> String {
    let mut s = header_lines(r).join("\n");
    s.push_str("\n\n");
    let rows: Vec<[String; 8]> = r.comparisons.iter().map(row_cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i >= 3 {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            } else {
                l.push_str(cell);
                l.push_str(&" ".repeat(pad));
            }
            l.push_str("  ");
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(s, "{}", line(&HEADERS.map(String::from)));
    for row in &rows {
        let _ = writeln!(s, "{}", line(row));
    }
    only_lists(&mut s, r);
    s
}

fn only_lists(s: &mut String, r: &Report) {
    for (title, list) in [
        ("only in base", &r.only_in_base),
        ("only in current", &r.only_in_current),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "\n{title} (not judged):");
            for item in list {
                let _ = writeln!(s, "  {item}");
            }
        }
    }
}

/// A Markdown table for a CI step summary or a pull-request comment.
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::from("## threadfork compare\n\n");
    for l in header_lines(r) {
        let _ = writeln!(s, "{l}  ");
    }
    s.push('\n');
    let _ = writeln!(s, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---|---:|");
    for c in &r.comparisons {
        let mut cells = row_cells(c);
        if c.verdict == Verdict::Regressed {
            cells[0] = "**regressed**".into();
        }
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    only_lists(&mut s, r);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::results::Metric;

    fn m(metric: Metric, samples: Vec<f64>) -> Measurement {
        let id = CaseId {
            workload: "square".into(),
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
    fn verdict(metric: Metric, base: f64, cur: f64) -> Verdict {
        let b = m(metric, noisy(base, 10));
        judge(&b, &m(metric, noisy(cur, 10)), 0.05, 0.95).verdict
    }

    #[test]
    fn directions_are_judged_by_better() {
        use Verdict::{Improved, Regressed};
        assert_eq!(verdict(Metric::Throughput, 100.0, 80.0), Regressed);
        assert_eq!(verdict(Metric::Throughput, 100.0, 120.0), Improved);
        assert_eq!(verdict(Metric::Startup, 100_000.0, 120_000.0), Regressed);
        assert_eq!(verdict(Metric::Startup, 100_000.0, 80_000.0), Improved);
    }

    #[test]
    fn small_changes_and_identical_runs_are_unchanged() {
        let base = m(Metric::Throughput, noisy(100.0, 10));
        assert_eq!(judge(&base, &base, 0.05, 0.95).verdict, Verdict::Unchanged);
        assert_eq!(
            judge(&base, &m(Metric::Throughput, noisy(98.0, 10)), 0.05, 0.95).verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn noise_floors_hold_tiny_absolute_changes() {
        // 20 ns → 30 ns is +50%, but below what a clock read can tell apart.
        let base = m(Metric::FirstItem, vec![20.0; 5]);
        let cur = m(Metric::FirstItem, vec![30.0; 5]);
        assert_eq!(judge(&base, &cur, 0.05, 0.95).verdict, Verdict::Unchanged);
        let mut lost = m(Metric::Throughput, vec![10.0; 5]);
        lost.info = true;
        assert_eq!(judge(&lost, &lost, 0.05, 0.95).verdict, Verdict::Info);
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
