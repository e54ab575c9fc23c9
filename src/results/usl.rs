//! The Universal Scalability Law fitted to a throughput curve: X(N) = λN / (1 + σ(N−1) +
//! κN(N−1)) (Gunther, "Guerrilla Capacity Planning", 2007). σ is contention (the serial
//! fraction), κ coherency (the cost of keeping workers' data consistent), λ the throughput of
//! one worker; the curve peaks at N* = √((1−σ)/κ).

use super::metric::Metric;
pub use super::schema::UslFit;
use super::schema::{Measurement, Results};

/// The fewest worker counts (within the allowed cores) a fit is made from: three parameters
/// need more points than that to say anything about the error.
pub const MIN_POINTS: usize = 4;

/// Multiples of the machine's cores the fit's curve is extrapolated to.
pub const PREDICT_AT: [usize; 3] = [2, 4, 8];

/// X(N) for the given parameters.
pub use super::schema::usl_at as usl;

/// The best λ for fixed σ, κ under weights `w` (closed form), and the weighted squared error.
fn best_lambda(points: &[(f64, f64)], w: &[f64], sigma: f64, kappa: f64) -> (f64, f64) {
    let g = |n: f64| usl(1.0, sigma, kappa, n);
    let (mut xg, mut gg) = (0.0, 0.0);
    for (&(n, x), &wi) in points.iter().zip(w) {
        xg += wi * x * g(n);
        gg += wi * g(n) * g(n);
    }
    let lambda = if gg > 0.0 { xg / gg } else { 0.0 };
    let sse = points
        .iter()
        .zip(w)
        .map(|(&(n, x), &wi)| wi * (x - lambda * g(n)).powi(2))
        .sum();
    (lambda, sse)
}

/// Fits (λ, σ, κ) to `points` of (workers, throughput) by weighted least squares with σ, κ ≥ 0:
/// each point weighted by 1/throughput², so that every point counts by its relative error.
/// A log-spaced grid over σ and κ finds the basin; a pattern search refines it.
/// Returns (λ, σ, κ, R²), or `None` with fewer than [`MIN_POINTS`] distinct worker counts.
pub fn fit(points: &[(f64, f64)]) -> Option<(f64, f64, f64, f64)> {
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() < MIN_POINTS || points.iter().any(|p| !(p.1 > 0.0 && p.0 >= 1.0)) {
        return None;
    }
    let w: Vec<f64> = points.iter().map(|p| 1.0 / (p.1 * p.1)).collect();
    let err = |s: f64, k: f64| best_lambda(points, &w, s.max(0.0), k.max(0.0)).1;
    // Coarse grid: 0 and 10^-8 … 10^0.5 for both.
    let axis: Vec<f64> = std::iter::once(0.0)
        .chain((0..=68).map(|i| 10f64.powf(-8.0 + 0.125 * f64::from(i))))
        .collect();
    let (mut s, mut k, mut best) = (0.0, 0.0, f64::INFINITY);
    for &si in &axis {
        for &ki in &axis {
            let e = err(si, ki);
            if e < best {
                (s, k, best) = (si, ki, e);
            }
        }
    }
    // Pattern search in relative steps (and absolute ones near zero), projected to ≥ 0.
    let mut step = 0.5;
    while step > 1e-7 {
        let mut moved = false;
        for (ds, dk) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
            let ns = (s + ds * step * s.max(1e-6)).max(0.0);
            let nk = (k + dk * step * k.max(1e-9)).max(0.0);
            let e = err(ns, nk);
            if e < best {
                (s, k, best) = (ns, nk, e);
                moved = true;
            }
        }
        if !moved {
            step /= 2.0;
        }
    }
    let (lambda, sse) = best_lambda(points, &w, s, k);
    let wsum: f64 = w.iter().sum();
    let mean = points.iter().zip(&w).map(|(p, wi)| wi * p.1).sum::<f64>() / wsum;
    let sst: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, wi)| wi * (p.1 - mean).powi(2))
        .sum();
    let r2 = if sst > 0.0 { 1.0 - sse / sst } else { 1.0 };
    Some((lambda, s, k, r2))
}

/// What a group of throughputs gave: a fit, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaling {
    Fit(UslFit),
    /// Fewer than [`MIN_POINTS`] worker counts within the allowed cores.
    TooFew {
        workload: String,
        model: String,
        variant: String,
        points: Vec<usize>,
    },
}

/// The fits of every (workload, model, variant) throughput curve of a run, made from the
/// worker counts not above the allowed cores (oversubscribed points measure the scheduler).
/// The values of a workload's varying parameters that one curve holds.
type Part = Vec<(String, Option<u64>)>;

pub fn scaling(r: &Results) -> Vec<Scaling> {
    let cores = r.machine.allowed_cpus.len().max(1);
    let mut groups: Vec<(&str, &str, &str, Part)> = Vec::new();
    for m in r.measurements.iter().filter(|m| is_curve_point(m)) {
        let part: Vec<(String, Option<u64>)> = varying(r, &m.case.workload)
            .into_iter()
            .map(|k| {
                let v = m.param(&k);
                (k, v)
            })
            .collect();
        let g = (
            m.case.workload.as_str(),
            m.case.model.as_str(),
            m.case.variant.as_str(),
            part,
        );
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
        .into_iter()
        .map(|(w, model, variant, part)| {
            let ms: Vec<&Measurement> = r
                .measurements
                .iter()
                .filter(|m| {
                    is_curve_point(m)
                        && m.case.workload == w
                        && m.case.model == model
                        && m.case.variant == variant
                        && m.case.workers <= cores
                        && part.iter().all(|(k, v)| m.param(k) == *v)
                })
                .collect();
            let shown: Vec<String> = part
                .iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
                .collect();
            let variant = if shown.is_empty() {
                variant.to_string()
            } else {
                format!("{variant} ({})", shown.join(", "))
            };
            fit_curve((w, model, &variant), &ms, cores)
        })
        .collect()
}

/// The parameters that vary within workload `w`'s curve points (a `--work` sweep): each value
/// makes curves of its own, and is part of the name the fit is shown under.
fn varying(r: &Results, w: &str) -> Vec<String> {
    let ms: Vec<&Measurement> = r
        .measurements
        .iter()
        .filter(|m| is_curve_point(m) && m.case.workload == w)
        .collect();
    let mut keys: Vec<String> = ms
        .iter()
        .flat_map(|m| m.case.params.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| {
        let mut vals: Vec<Option<u64>> = ms.iter().map(|m| m.param(k)).collect();
        vals.sort();
        vals.dedup();
        vals.len() > 1
    });
    keys
}

/// One curve's fit (workload, model, variant as shown), with its predictions at multiples of
/// the machine's `cores`, or why there is none.
fn fit_curve(
    (w, model, variant): (&str, &str, &str),
    ms: &[&Measurement],
    cores: usize,
) -> Scaling {
    let points: Vec<(f64, f64)> = ms
        .iter()
        .map(|m| (m.case.workers as f64, m.median))
        .collect();
    let counts: Vec<usize> = ms.iter().map(|m| m.case.workers).collect();
    let Some((lambda, sigma, kappa, r2)) = fit(&points) else {
        return Scaling::TooFew {
            workload: w.into(),
            model: model.into(),
            variant: variant.into(),
            points: counts,
        };
    };
    let mut f = UslFit {
        workload: w.into(),
        model: model.into(),
        variant: variant.into(),
        sigma,
        kappa,
        lambda,
        r2,
        peak_workers: (kappa > 0.0).then(|| ((1.0 - sigma).max(0.0) / kappa).sqrt()),
        points: counts,
        predicted: Vec::new(),
    };
    f.predicted = PREDICT_AT
        .iter()
        .map(|&x| (x * cores, f.at((x * cores) as f64)))
        .collect();
    Scaling::Fit(f)
}

/// A throughput against the worker count: the sequential model runs one worker's pace at any
/// count, so it has no scaling curve.
fn is_curve_point(m: &Measurement) -> bool {
    m.is(Metric::Throughput) && !m.info && !super::derived::is_reference(&m.case.model)
}

/// The fits alone.
pub fn fits(r: &Results) -> Vec<UslFit> {
    scaling(r)
        .into_iter()
        .filter_map(|s| match s {
            Scaling::Fit(f) => Some(f),
            Scaling::TooFew { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SplitMix64;

    /// A 64-core curve with known σ and κ, as a results file holds it: at each worker count
    /// the median of 10 samples, each off by up to ±`noise` (uniform, deterministic).
    fn curve(sigma: f64, kappa: f64, noise: f64, seed: u64) -> Vec<(f64, f64)> {
        let mut rng = SplitMix64::new(seed);
        [1, 2, 4, 8, 16, 32, 64]
            .iter()
            .map(|&n| {
                let x = usl(1e9, sigma, kappa, f64::from(n));
                let samples: Vec<f64> = (0..10)
                    .map(|_| {
                        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                        x * (1.0 + noise * (2.0 * u - 1.0))
                    })
                    .collect();
                (f64::from(n), crate::stats::median(&samples))
            })
            .collect()
    }

    #[test]
    fn an_exact_curve_is_recovered_exactly() {
        let (l, s, k, r2) = fit(&curve(0.03, 0.0004, 0.0, 1)).unwrap();
        assert!((l / 1e9 - 1.0).abs() < 1e-4, "{l}");
        assert!((s / 0.03 - 1.0).abs() < 1e-3, "{s}");
        assert!((k / 0.0004 - 1.0).abs() < 1e-3, "{k}");
        assert!(r2 > 0.9999);
    }

    #[test]
    fn sigma_and_kappa_are_recovered_within_ten_percent_through_two_percent_noise() {
        for seed in 1..=20 {
            let (_, s, k, _) = fit(&curve(0.05, 0.0005, 0.02, seed)).unwrap();
            assert!((s / 0.05 - 1.0).abs() < 0.10, "seed {seed}: σ {s}");
            assert!((k / 0.0005 - 1.0).abs() < 0.10, "seed {seed}: κ {k}");
        }
    }

    #[test]
    fn linear_scaling_fits_zero_contention_and_no_peak() {
        let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0].iter().map(|&n| (n, 5.0 * n)).collect();
        let (l, s, k, _) = fit(&pts).unwrap();
        assert!(
            (l - 5.0).abs() < 1e-6 && s < 1e-6 && k < 1e-9,
            "{l} {s} {k}"
        );
    }

    #[test]
    fn three_worker_counts_are_too_few() {
        assert!(fit(&[(1.0, 1.0), (2.0, 1.9), (4.0, 3.5)]).is_none());
        assert!(fit(&[(1.0, 1.0), (1.0, 1.1), (2.0, 1.9), (2.0, 2.0), (4.0, 3.5)]).is_none());
    }
}
