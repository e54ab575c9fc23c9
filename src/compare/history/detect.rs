//! Change points in one series of a figure's medians over runs (in logs): robust binary
//! segmentation. The noise σ is taken from the series' own run-to-run differences (their MAD,
//! or their spread without the largest tenth where that is more: a few steps hardly move
//! either, and a series flipping between two levels is not called steady); within a segment each value is
//! clipped to its median ± [`CLIP`] σ, so that one wild run cannot pass for a step; the split
//! that best separates the two sides' means is kept when its t (in σ) clears the two-sided
//! normal quantile at `alpha` over every place it could have fallen (Bonferroni), and both
//! sides are searched again — so two nearby steps are both found. No random permutation: the
//! same series gives the same answer every time, in O(n) per split.

use crate::stats::{mad, median};

/// How far from its segment's median (in σ) a value counts at most.
pub const CLIP: f64 = 4.0;

/// Runs on each side of a change, at least: one run alone is an outlier until another agrees.
pub const MIN_SEGMENT: usize = 2;

/// One change point: the first index of the new level, the change of the log median (new ÷
/// old, in logs) between the segments around it, and its 95% interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub at: usize,
    pub log_change: f64,
    pub lo: f64,
    pub hi: f64,
}

/// E[z² | z² below its 90th percentile] for a standard normal z: (0.9 − 2·1.645·φ(1.645)) ÷ 0.9,
/// what the lower nine tenths of a normal's squares average, against 1 for all of them.
const TRIMMED_VAR_90: f64 = 0.6230;

/// The run-to-run noise of a series: 1.4826 · MAD of its first differences ÷ √2, or their
/// root mean square without the largest tenth, as a normal's σ, where that is more; or a tiny
/// floor for a series that never moves (exact counts: any change is a change).
pub fn noise(x: &[f64]) -> f64 {
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    if d.len() < 2 {
        return 1e-9;
    }
    let robust = 1.4826 * mad(&d) / std::f64::consts::SQRT_2;
    // The root mean square of the differences without their largest tenth (where a few steps
    // fall), scaled to a normal's σ: a series that flips between two levels run after run has
    // half its differences near zero, and its MAD says less than it moves.
    let mut sq: Vec<f64> = d.iter().map(|v| v * v).collect();
    sq.sort_by(f64::total_cmp);
    let keep = (sq.len() * 9).div_ceil(10).max(1);
    let trimmed = (sq[..keep].iter().sum::<f64>() / keep as f64 / TRIMMED_VAR_90 / 2.0).sqrt();
    robust.max(trimmed).max(1e-9)
}

/// The upper `p` quantile of the standard normal (Acklam's approximation, refined once).
fn z_upper(p: f64) -> f64 {
    let p = p.clamp(1e-300, 0.5);
    // Beasley–Springer–Moro style tail: t = sqrt(-2 ln p).
    let t = (-2.0 * p.ln()).sqrt();
    let z = t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t);
    z.max(0.0)
}

/// A step must stand this many standard errors (of the two sides' means) above the split's
/// bar to be found 9 times in 10: the normal quantile of a 90% power.
const POWER_90: f64 = 1.2816;

/// And this many σ (one run's noise), however many runs surround it, for its place to be
/// right within two runs about 9 times in 10: on normal noise a step of 1.4σ was placed so in
/// 85 of 100 series, one of 1.6σ in 91 (the test below holds it).
pub const PLACE_SIGMAS: f64 = 1.6;

/// The smallest step (in logs) a search of `n` runs of noise `sigma` at level `alpha` finds,
/// and places within two runs, about 9 times in 10 once `after` runs hold the new level (the
/// rest before it): the split's bar over every place plus a 90% power, in standard errors of
/// the two sides' means, and no less than [`PLACE_SIGMAS`].
pub fn smallest_seen(n: usize, sigma: f64, alpha: f64, after: usize) -> f64 {
    let after = after.clamp(MIN_SEGMENT, n.saturating_sub(MIN_SEGMENT).max(MIN_SEGMENT));
    let before = n.saturating_sub(after).max(1);
    let places = (n.saturating_sub(2 * MIN_SEGMENT) + 1).max(1) as f64;
    let bar = z_upper(alpha / (2.0 * places));
    let found = sigma * (1.0 / before as f64 + 1.0 / after as f64).sqrt() * (bar + POWER_90);
    found.max(PLACE_SIGMAS * sigma)
}

/// The change points of `x` at family-wise level `alpha` per series, in order of place.
pub fn change_points(x: &[f64], alpha: f64) -> Vec<Change> {
    let sigma = noise(x);
    let mut cuts = Vec::new();
    split(x, 0, x.len(), sigma, alpha, &mut cuts);
    cuts.sort_unstable();
    // Each change measured between the segments on either side of it.
    let mut bounds = vec![0];
    bounds.extend(&cuts);
    bounds.push(x.len());
    cuts.iter()
        .enumerate()
        .map(|(i, &at)| {
            let (a, b) = (&x[bounds[i]..at], &x[at..bounds[i + 2]]);
            let change = median(b) - median(a);
            // A median's standard error is √(π/2) that of a mean.
            let se = 1.2533 * sigma * (1.0 / a.len() as f64 + 1.0 / b.len() as f64).sqrt();
            Change {
                at,
                log_change: change,
                lo: change - 1.96 * se,
                hi: change + 1.96 * se,
            }
        })
        .collect()
}

/// Searches `x[lo..hi]` for its best split and, when it clears the bar, both sides again.
fn split(x: &[f64], lo: usize, hi: usize, sigma: f64, alpha: f64, cuts: &mut Vec<usize>) {
    let n = hi - lo;
    if n < 2 * MIN_SEGMENT {
        return;
    }
    let seg = &x[lo..hi];
    let m = median(seg);
    let y: Vec<f64> = seg
        .iter()
        .map(|v| v.clamp(m - CLIP * sigma, m + CLIP * sigma))
        .collect();
    let mut prefix = vec![0.0; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + y[i];
    }
    let mut best = (0.0, 0);
    for tau in MIN_SEGMENT..=n - MIN_SEGMENT {
        let (nl, nr) = (tau as f64, (n - tau) as f64);
        let diff = prefix[tau] / nl - (prefix[n] - prefix[tau]) / nr;
        let t = diff.abs() / (sigma * (1.0 / nl + 1.0 / nr).sqrt());
        if t > best.0 {
            best = (t, tau);
        }
    }
    let places = (n - 2 * MIN_SEGMENT + 1) as f64;
    if best.0 > z_upper(alpha / (2.0 * places)) {
        let at = lo + best.1;
        cuts.push(at);
        split(x, lo, at, sigma, alpha, cuts);
        split(x, at, hi, sigma, alpha, cuts);
    }
}

/// The plain gate history is compared with: the last run against the `n` before it, a
/// Welch-style t on the logs at two-sided level `alpha`. Whether it alarms at the last run.
pub fn last_against_previous(x: &[f64], n: usize, alpha: f64) -> bool {
    if x.len() < 3 {
        return false;
    }
    let last = x[x.len() - 1];
    let prev = &x[x.len() - 1 - n.min(x.len() - 1)..x.len() - 1];
    if prev.len() < 2 {
        return false;
    }
    let mean = prev.iter().sum::<f64>() / prev.len() as f64;
    let var = prev.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (prev.len() - 1) as f64;
    let se = (var * (1.0 + 1.0 / prev.len() as f64)).sqrt().max(1e-12);
    ((last - mean) / se).abs() > z_upper(alpha / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed pseudo-random noise sequence, roughly normal (sum of 4 uniforms).
    fn noisy(n: usize, sd: f64, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                let mut acc = 0.0;
                for _ in 0..4 {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    acc += (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                }
                acc * sd * 3f64.sqrt()
            })
            .collect()
    }

    #[test]
    fn one_step_is_found_at_its_run_in_its_direction_and_size() {
        let mut x = noisy(60, 0.01, 1);
        for v in &mut x[37..] {
            *v += (0.92f64).ln();
        }
        let found = change_points(&x, 0.01);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, 37);
        let pct = found[0].log_change.exp() - 1.0;
        assert!((pct + 0.08).abs() < 0.01, "{pct}");
        assert!(found[0].lo < found[0].log_change && found[0].log_change < found[0].hi);
    }

    #[test]
    fn a_flat_noisy_series_has_none_and_an_outlier_is_not_a_step() {
        for seed in 1..40 {
            let mut x = noisy(100, 0.02, seed);
            x[50] += 0.3;
            assert!(change_points(&x, 0.01).is_empty(), "seed {seed}");
        }
    }

    #[test]
    fn a_series_flipping_between_two_levels_is_noise_not_steps() {
        // Each run at one of two levels 30% apart, as a contended lock's key flips on a small
        // machine: over half the runs repeat the level before, so the MAD of the differences
        // alone would call the series steady.
        let pick = noisy(100, 1.0, 11);
        let fine = noisy(100, 0.005, 12);
        let x: Vec<f64> = (0..100)
            .map(|i| fine[i] + if pick[i] > 0.3 { 0.3 } else { 0.0 })
            .collect();
        assert!(noise(&x) > 0.1, "{}", noise(&x));
        assert!(change_points(&x, 0.05).is_empty());
    }

    #[test]
    fn two_nearby_steps_are_both_found() {
        let mut x = noisy(80, 0.01, 7);
        for v in &mut x[30..] {
            *v += 0.06;
        }
        for v in &mut x[36..] {
            *v -= 0.12;
        }
        let at: Vec<usize> = change_points(&x, 0.01).iter().map(|c| c.at).collect();
        assert_eq!(at, vec![30, 36]);
    }

    #[test]
    fn the_smallest_step_seen_is_found_nine_times_in_ten() {
        // 60 runs before, 40 after, σ 2%: the step `smallest_seen` names is found at its run
        // (within two) in about 9 of 10 series; one of two thirds its size in fewer.
        let d = smallest_seen(100, 0.02, 0.05, 40);
        let found = |size: f64| {
            (1..=200)
                .filter(|&seed| {
                    let mut x = noisy(100, 0.02, seed);
                    for v in &mut x[60..] {
                        *v += size;
                    }
                    change_points(&x, 0.05)
                        .iter()
                        .any(|c| c.at.abs_diff(60) <= 2)
                })
                .count()
        };
        assert!(found(d) >= 170, "{} of 200 at {d}", found(d));
        assert!(found(d * 2.0 / 3.0) < found(d) - 20);
        // Fewer runs after the step, a bigger step needed.
        assert!(smallest_seen(100, 0.02, 0.05, 3) > 1.5 * d);
    }

    #[test]
    fn the_same_series_gives_the_same_answer() {
        let mut x = noisy(200, 0.03, 3);
        for v in &mut x[120..] {
            *v += 0.1;
        }
        let first = change_points(&x, 0.01);
        for _ in 0..5 {
            assert_eq!(change_points(&x, 0.01), first);
        }
    }
}
