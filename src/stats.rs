//! Robust statistics for samples: median, MAD, percentiles, and bootstrap confidence
//! intervals from a fixed-seed generator so that the same samples always give the same CI.

/// Resamples drawn for a bootstrap interval: 2,000 keeps the 2.5% and 97.5% percentiles of
/// the resampled medians stable to about a percent of the interval's width (Efron & Tibshirani,
/// "An Introduction to the Bootstrap", ch. 19: ≥ 1,000 for percentile intervals).
pub const BOOTSTRAP_RESAMPLES: usize = 2_000;

/// The seed every bootstrap starts from, so that results files are reproducible.
pub const BOOTSTRAP_SEED: u64 = 0x7468_7265_6164_666b; // "threadfk"

/// A small, fast generator (SplitMix64): statistically sound for resampling indices.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index in 0..n (n > 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The p-th percentile (0 ≤ p ≤ 100) of sorted data, interpolating linearly between ranks
/// (Hyndman & Fan type 7, as numpy and R use by default). NaN for empty data.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = rank.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
        }
    }
}

pub fn percentile(xs: &[f64], p: f64) -> f64 {
    percentile_sorted(&sorted(xs), p)
}

pub fn median(xs: &[f64]) -> f64 {
    percentile(xs, 50.0)
}

/// Median absolute deviation from the median (unscaled).
pub fn mad(xs: &[f64]) -> f64 {
    let m = median(xs);
    let dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
    median(&dev)
}

/// A percentile bootstrap interval of `stat` over `xs` at `confidence` (e.g. 0.95).
pub fn bootstrap_ci(
    xs: &[f64],
    confidence: f64,
    resamples: usize,
    seed: u64,
    stat: impl Fn(&[f64]) -> f64,
) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = SplitMix64::new(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for b in buf.iter_mut() {
            *b = xs[rng.below(xs.len())];
        }
        stats.push(stat(&buf));
    }
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0 * 100.0;
    (
        percentile_sorted(&stats, tail),
        percentile_sorted(&stats, 100.0 - tail),
    )
}

/// The 95% bootstrap interval of the median, with the fixed seed.
pub fn median_ci95(xs: &[f64]) -> (f64, f64) {
    bootstrap_ci(xs, 0.95, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, median)
}

/// The summary every measurement carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub mad: f64,
    pub min: f64,
    pub max: f64,
    pub ci95: (f64, f64),
}

pub fn summarize(xs: &[f64]) -> Summary {
    let s = sorted(xs);
    Summary {
        median: percentile_sorted(&s, 50.0),
        mad: mad(xs),
        min: s.first().copied().unwrap_or(f64::NAN),
        max: s.last().copied().unwrap_or(f64::NAN),
        ci95: median_ci95(xs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4, 5], [0, 25, 90, 100]) = [1, 2, 4.6, 5]
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&xs, 0.0), 1.0);
        assert_eq!(percentile(&xs, 25.0), 2.0);
        assert!((percentile(&xs, 90.0) - 4.6).abs() < 1e-12);
        assert_eq!(percentile(&xs, 100.0), 5.0);
    }

    #[test]
    fn mad_by_hand() {
        // median 2; deviations 1, 1, 0, 0, 2, 4, 7 → sorted 0,0,1,1,2,4,7 → 1
        assert_eq!(mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]), 1.0);
        assert_eq!(mad(&[5.0, 5.0, 5.0]), 0.0);
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_median() {
        let xs: Vec<f64> = (1..=21).map(f64::from).collect();
        let a = median_ci95(&xs);
        let b = median_ci95(&xs);
        assert_eq!(a, b);
        assert!(a.0 <= 11.0 && 11.0 <= a.1);
        assert!(a.0 >= 1.0 && a.1 <= 21.0);
        // Constant data: a zero-width interval at the constant.
        assert_eq!(median_ci95(&[7.0; 5]), (7.0, 7.0));
    }

    #[test]
    fn summary_fields() {
        let s = summarize(&[2.0, 9.0, 4.0]);
        assert_eq!((s.median, s.min, s.max, s.mad), (4.0, 2.0, 9.0, 2.0));
    }

    #[test]
    fn generator_indices_stay_in_range() {
        let mut r = SplitMix64::new(1);
        assert!((0..10_000).all(|_| r.below(7) < 7));
    }
}
