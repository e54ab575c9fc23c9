//! Figures derived from a run's measurements — speedup, scaling efficiency, efficiency against
//! the cores' own speed, harness overhead — each defined once, as per-round ratio samples,
//! and read by the summary, the charts and compare alike.

use super::metric::{Derivation, Metric};
use super::schema::{CaseId, Measurement, Results};
use crate::api::model::{Model, Named};
use crate::stats::median;

/// Per-round ratios `a[i] / (scale × b[i])` when both were sampled round by round side by side
/// (same sample count: the machine's drift cancels), else the one ratio of medians.
pub fn ratio_samples(a: &[f64], b: &[f64], scale: f64) -> Vec<f64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    if a.len() == b.len() {
        a.iter().zip(b).map(|(x, y)| x / (scale * y)).collect()
    } else {
        vec![median(a) / (scale * median(b))]
    }
    .into_iter()
    .filter(|x| x.is_finite())
    .collect()
}

/// The median of [`ratio_samples`]: the one estimator of every derived ratio.
pub fn ratio(samples: &[f64]) -> Option<f64> {
    let r = median(samples);
    r.is_finite().then_some(r)
}

/// A ratio that physics caps at `limit` — an efficiency at 1, a harness at 100% of its bare
/// loop — came out above it: the two figures were taken in different states of the machine,
/// and the ratio says nothing but that. Returns the per-round ratios' relative spread (a
/// robust σ, 1.4826 × MAD ÷ median) to report instead, or `None` for a figure that stands.
/// Half a percent above the cap is rounding, not a finding either way.
pub fn unresolved(samples: &[f64], limit: f64) -> Option<f64> {
    let r = ratio(samples)?;
    (r > limit * 1.005).then(|| 1.4826 * crate::stats::mad(samples) / r)
}

/// The measurement of `metric` for `case`.
pub fn find<'a>(r: &'a Results, case: &CaseId, metric: Metric) -> Option<&'a Measurement> {
    r.measurements
        .iter()
        .find(|m| m.case == *case && m.metric == metric)
}

fn with(case: &CaseId, model: &str, variant: &str, workers: usize) -> CaseId {
    CaseId {
        model: model.into(),
        variant: variant.into(),
        workers,
        ..case.clone()
    }
}

/// Throughput(N) ÷ (N × throughput(1)) of the same model and variant, per round; none for a
/// reference model or a case dominated by scheduling.
pub fn efficiency_samples(r: &Results, m: &Measurement) -> Vec<f64> {
    if is_reference(&m.case.model) || m.dominated.is_some() {
        return Vec::new();
    }
    let one = with(&m.case, &m.case.model, &m.case.variant, 1);
    find(r, &one, m.metric).map_or_else(Vec::new, |o| {
        ratio_samples(&m.samples, &o.samples, m.case.workers as f64)
    })
}

/// The reference a model's speedup is measured against: its own runtime's sequential model
/// (a model named `RUNTIME-…`, such as `cpython-threads`, against `RUNTIME-sequential`).
pub fn reference_of(model: &str) -> String {
    Named::of(model).reference()
}

/// Whether `model` is a reference: its N shares run one after another on one thread, so its
/// efficiency at N workers is 1/N by definition, not a finding, and is not shown; nor is it
/// ever an answer to what N workers buy.
pub fn is_reference(model: &str) -> bool {
    Named::of(model).is_reference()
}

/// Throughput ÷ the sequential model's throughput at 1 worker, of the same variant, or of the
/// sequential model's only variant when the variant does not run sequentially.
pub fn speedup_samples(r: &Results, m: &Measurement) -> Vec<f64> {
    if m.dominated.is_some() {
        return Vec::new();
    }
    let sequential = reference_of(&m.case.model);
    let same = with(&m.case, &sequential, &m.case.variant, 1);
    let base = find(r, &same, m.metric).or_else(|| {
        let mut seq = r.measurements.iter().filter(|b| {
            b.case.workload == m.case.workload
                && b.case.model == sequential
                && b.case.workers == 1
                && b.case.params == m.case.params
                && b.metric == m.metric
        });
        match (seq.next(), seq.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    });
    base.map_or_else(Vec::new, |b| ratio_samples(&m.samples, &b.samples, 1.0))
}

/// Round by round, what the `workers` fastest allowed cores did alone running the workload's
/// own code (its per-CPU bare loops, summed), for a measurement of `rounds` samples.
pub fn cores_reference(
    r: &Results,
    workload: &str,
    rounds: usize,
    workers: usize,
) -> Option<Vec<f64>> {
    let per_cpu: Vec<&Vec<f64>> = r
        .calibration
        .per_cpu_loop
        .get(workload)?
        .values()
        .map(|s| &s.samples)
        .collect();
    if per_cpu.is_empty() || per_cpu.iter().any(|xs| xs.len() != rounds) {
        return None;
    }
    let used = workers.min(per_cpu.len());
    Some(
        (0..rounds)
            .map(|i| {
                let mut speeds: Vec<f64> = per_cpu.iter().map(|xs| xs[i]).collect();
                speeds.sort_by(|a, b| b.total_cmp(a));
                speeds[..used].iter().sum()
            })
            .collect(),
    )
}

/// Whether a throughput ran the same code as the workload's bare loop: the bare loop runs the
/// variant the sequential model runs, so only that variant compares with it.
pub fn runs_bare_code(r: &Results, m: &Measurement) -> bool {
    r.measurements.iter().any(|s| {
        s.case.workload == m.case.workload
            && s.case.model == Model::Sequential.name()
            && s.case.variant == m.case.variant
            && s.metric == m.metric
    })
}

/// Throughput ÷ what the cores it could use did alone in the same rounds, running the same
/// code: unlike the efficiency, this stays near 1 on a machine whose cores differ in speed.
pub fn efficiency_vs_cores_samples(r: &Results, m: &Measurement) -> Vec<f64> {
    if is_reference(&m.case.model) || m.dominated.is_some() || !runs_bare_code(r, m) {
        return Vec::new();
    }
    cores_reference(r, &m.case.workload, m.samples.len(), m.case.workers)
        .map_or_else(Vec::new, |c| ratio_samples(&m.samples, &c, 1.0))
}

/// Threads at 1 worker against the workload's bare loop measured in the same rounds: the
/// harness's overhead on throughput (1.0 = none).
pub fn harness_share<'a>(r: &'a Results, workload: &'a str) -> Option<(f64, &'a Measurement)> {
    let bare = r.calibration.bare_loop.get(workload)?;
    let t1 = r.select(workload, Metric::Throughput).find(|m| {
        m.case.model == Model::Threads.name() && m.case.workers == 1 && runs_bare_code(r, m)
    })?;
    ratio(&ratio_samples(&t1.samples, &bare.samples, 1.0)).map(|x| (x, t1))
}

/// A start-only case's roundtrip against the bare loop, interleaved with it, of the primitive
/// its model starts workers with: `pthread_create` for threads (the `pthread` loop), the
/// model's `bare` loop otherwise.
pub fn harness_adds_samples(r: &Results, m: &Measurement) -> Vec<f64> {
    bare_beside(r, m)
        .filter(|_| m.metric == Metric::Roundtrip)
        .map_or_else(Vec::new, |b| ratio_samples(&m.samples, &b.samples, 1.0))
}

/// The bare OS loop interleaved with a start-only case's samples, round by round: the
/// roundtrip of its model's `pthread` loop, or else of its `bare` one, at the same parameters.
pub fn bare_beside<'a>(r: &'a Results, m: &Measurement) -> Option<&'a Measurement> {
    bare_beside_by(m, |case| find(r, case, Metric::Roundtrip))
}

/// [`bare_beside`], each bare loop's roundtrip looked up by its case with `roundtrip_of`
/// (an index of a run's measurements, where many are looked up).
pub fn bare_beside_by<'a>(
    m: &Measurement,
    roundtrip_of: impl Fn(&CaseId) -> Option<&'a Measurement>,
) -> Option<&'a Measurement> {
    let own = |variant: &str| roundtrip_of(&with(&m.case, &m.case.model, variant, m.case.workers));
    own(PTHREAD_VARIANT).or_else(|| own(BARE_VARIANT))
}

/// The variant name of a bare loop measured beside a start-only case: the model's own OS
/// primitive (fork, spawn), or for threads std's `thread::spawn` + join.
pub const BARE_VARIANT: &str = "bare";
/// The variant name of the bare `pthread_create` loop beside the threads model's start: the
/// primitive its workers start with.
pub const PTHREAD_VARIANT: &str = "pthread";

/// The per-round samples of derived figure `column` of measurement `m` (one of a metric's
/// `columns` in the table); empty where it has none.
pub fn column_samples(column: Metric, r: &Results, m: &Measurement) -> Vec<f64> {
    if is_bare(m) {
        return Vec::new();
    }
    match column.facts().derived_by {
        Some(Derivation::Efficiency) => efficiency_samples(r, m),
        Some(Derivation::EfficiencyVsCores) => efficiency_vs_cores_samples(r, m),
        Some(Derivation::Speedup) => speedup_samples(r, m),
        Some(Derivation::HarnessAdds) => harness_adds_samples(r, m),
        None => Vec::new(),
    }
}

/// Whether a measurement is one of the bare OS loops (context, not the harness's figure).
pub fn is_bare(m: &Measurement) -> bool {
    m.case.variant == BARE_VARIANT || m.case.variant == PTHREAD_VARIANT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_ratios_are_per_round_and_unpaired_fall_back_to_medians() {
        assert_eq!(ratio_samples(&[2.0, 4.0], &[1.0, 2.0], 1.0), vec![2.0, 2.0]);
        assert_eq!(
            ratio_samples(&[2.0, 4.0, 6.0], &[1.0, 2.0], 2.0),
            vec![4.0 / 3.0]
        );
        assert!(ratio_samples(&[], &[1.0], 1.0).is_empty());
        assert_eq!(ratio(&[1.0, 3.0, 2.0]), Some(2.0));
    }

    #[test]
    fn only_parallel_models_have_an_efficiency() {
        assert!(is_reference("sequential") && is_reference("cpython-sequential"));
        assert!(!is_reference("threads") && !is_reference("cpython-threads"));
        assert!(!is_reference("process-pool-map") && !is_reference("lazy"));
        assert_eq!(reference_of("cpython-fork"), "cpython-sequential");
        assert_eq!(reference_of("spawn"), "sequential");
    }

    #[test]
    fn ratios_past_what_physics_allows_are_unresolved_with_their_spread() {
        assert_eq!(unresolved(&[0.9, 0.95, 1.0], 1.0), None);
        assert_eq!(unresolved(&[1.002, 1.003, 1.004], 1.0), None);
        let sigma = unresolved(&[1.1, 1.15, 1.3, 1.2, 1.15], 1.0).unwrap();
        assert!((0.03..0.1).contains(&sigma), "{sigma}");
    }
}
