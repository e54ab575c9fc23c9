//! One change judged: the noise floor of each metric, the bootstrap interval of the ratio of
//! medians beside the rank test, exact counts, and the spread between several baseline runs.

use crate::api::model::Named;
use crate::results::derived::{self};
use crate::results::metric::Metric;
use crate::results::{Better, Measurement};
use crate::stats::{mann_whitney, median, ratio_of_medians_ci};

use super::*;

/// A throughput sample shorter than this is mostly start and stop: a thread placed on a busy
/// core, a page fault, the clock's own cost. Such figures are listed, not judged.
pub(crate) const MIN_JUDGED_SAMPLE_NS: f64 = 1_000_000.0;

/// Whether a throughput measurement's samples last long enough to be judged.
pub(crate) fn long_enough(m: &Measurement) -> bool {
    if !m.is(Metric::Throughput) {
        return true;
    }
    let (raw_median, _) = m.raw();
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

/// Whether a figure is one value per run: a process pool's peak RSS is the private memory of
/// its long-lived workers, forked once, and every sample of a run repeats it. Where that value
/// falls — a page more or less copied on write, a huge page — is settled once per pool, so runs
/// differ by it whatever the build, and a run's samples say nothing of that spread. `medians`
/// are the medians of the runs whose samples `m` pools: each of them repeated one value when
/// every sample is one of these medians.
pub(crate) fn fixed_for_the_run(m: &Measurement, medians: &[f64]) -> bool {
    let once = Named::of(&m.case.model)
        .facts()
        .is_some_and(|f| f.memory_once);
    once && m.is(Metric::PeakRss) && m.samples.iter().all(|x| medians.contains(x))
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
    let ((base_raw, raw_unit), (current_raw, _)) = (base.raw(), cur.raw());
    let mut c = Comparison {
        base_raw,
        current_raw,
        raw_unit: raw_unit.to_string(),
        case: base.case.clone(),
        metric: base.metric,
        label: base.label(),
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
            Judgement::Unchanged
        } else {
            Judgement::Info
        },
    };
    decide(&mut c, 1.0 + threshold);
    c
}

/// The verdict on an exact count (`instructions`): any change beyond `threshold` — the counts
/// of one build repeat exactly, so there is no noise to allow for.
pub(crate) fn decide_exact(c: &mut Comparison, threshold: f64) {
    if c.verdict == Judgement::Info {
        return;
    }
    c.ratio_ci95 = [c.ratio, c.ratio];
    c.verdict = if c.ratio > 1.0 + threshold {
        Judgement::Regressed
    } else if c.ratio < 1.0 / (1.0 + threshold) {
        Judgement::Improved
    } else {
        Judgement::Unchanged
    };
}

/// Whether a comparison is of an exact count.
pub(crate) fn is_exact(c: &Comparison) -> bool {
    c.metric.is_exact()
}

/// Whether a change is beyond its metric's noise floor, and the interval of its
/// worse-direction factor (above 1: current is worse).
pub(crate) fn floor_and_worse(c: &Comparison) -> (bool, f64, f64) {
    let beyond_floor = (c.current_raw - c.base_raw).abs() > c.metric.facts().noise_floor;
    let [lo, hi] = c.ratio_ci95;
    match c.better {
        Better::Higher => (beyond_floor, 1.0 / hi, 1.0 / lo),
        Better::Lower => (beyond_floor, lo, hi),
    }
}

/// Sets the verdict of a judged comparison: regressed when the whole interval is worse by
/// more than `allowance` (a factor > 1) and the change is beyond the metric's noise floor;
/// improved symmetrically.
pub(crate) fn decide(c: &mut Comparison, allowance: f64) {
    if c.verdict == Judgement::Info {
        return;
    }
    let (beyond_floor, worse_lo, worse_hi) = floor_and_worse(c);
    c.verdict = if beyond_floor && worse_lo > allowance {
        Judgement::Regressed
    } else if beyond_floor && worse_hi < 1.0 / allowance {
        Judgement::Improved
    } else {
        Judgement::Unchanged
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
        .filter(|c| c.verdict != Judgement::Info && !is_exact(c))
        .filter(|c| c.ratio.is_finite() && c.ratio > 0.0)
        .filter(|c| (c.current_raw - c.base_raw).abs() > c.metric.facts().noise_floor)
        .map(|c| c.ratio.ln())
        .collect();
    if logs.len() < 6 {
        return 0.0;
    }
    1.4826 * crate::stats::mad(&logs)
}
