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
        // The selection gives the sort's answer, odd and even.
        for xs in [
            vec![3.0, 1.0, 2.0],
            vec![4.0, 1.0, 3.0, 2.0],
            vec![5.0, -1.0, 9.0, 9.0, 0.5, 2.0],
        ] {
            assert_eq!(median_in_place(&mut xs.clone()), median(&xs), "{xs:?}");
        }
        assert!(median_in_place(&mut []).is_nan());
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

/// A percentile bootstrap interval of median(b) ÷ median(a) at `confidence`, resampling both
/// independently. More resamples are drawn for higher confidence so that the tails hold at
/// least 20 resampled ratios each.
pub fn ratio_of_medians_ci(a: &[f64], b: &[f64], confidence: f64) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let tail = ((1.0 - confidence) / 2.0).max(1e-6);
    let resamples = ((20.0 / tail) as usize).clamp(BOOTSTRAP_RESAMPLES, 200_000);
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut ra = vec![0.0; a.len()];
    let mut rb = vec![0.0; b.len()];
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for x in ra.iter_mut() {
            *x = a[rng.below(a.len())];
        }
        for x in rb.iter_mut() {
            *x = b[rng.below(b.len())];
        }
        let r = median_in_place(&mut rb) / median_in_place(&mut ra);
        if r.is_finite() {
            ratios.push(r);
        }
    }
    ratios.sort_by(f64::total_cmp);
    (
        percentile_sorted(&ratios, 100.0 * tail),
        percentile_sorted(&ratios, 100.0 * (1.0 - tail)),
    )
}

/// The 95% interval of median(b) ÷ median(a).
pub fn ratio_of_medians_ci95(a: &[f64], b: &[f64]) -> (f64, f64) {
    ratio_of_medians_ci(a, b, 0.95)
}

/// Median of a scratch buffer, reordering it (no allocation): a selection, not a sort.
pub fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, hi, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        hi
    } else {
        let lo = xs[..n / 2]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// Two-sided Mann–Whitney U test of `a` against `b`: (U of `a`, p-value). Exact from the
/// U distribution for small samples without ties; otherwise the normal approximation with
/// tie and continuity corrections.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut all: Vec<(f64, usize)> = a
        .iter()
        .map(|&x| (x, 0))
        .chain(b.iter().map(|&x| (x, 1)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks for ties.
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for item in &all[i..=j] {
            if item.1 == 0 {
                rank_sum_a += mid;
            }
        }
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u = rank_sum_a - f1 * (f1 + 1.0) / 2.0;
    let mean = f1 * f2 / 2.0;
    if tie_term == 0.0 && n1 * n2 <= 400 {
        return (u, exact_u_p(n1, n2, u));
    }
    let n = f1 + f2;
    let var = f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        return (u, 1.0);
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (u, (2.0 * normal_sf(z)).min(1.0))
}

/// Two-sided exact p-value of U under H0 (no ties), by counting arrangements.
fn exact_u_p(n1: usize, n2: usize, u: f64) -> f64 {
    let max_u = n1 * n2;
    // counts[m][k] = ways to get U = k with m items of the first sample among the smallest.
    // Built by the recurrence f(n1, n2, k) = f(n1-1, n2, k-n2) + f(n1, n2-1, k).
    let mut table = vec![vec![vec![0f64; max_u + 1]; n2 + 1]; n1 + 1];
    for row in table.iter_mut() {
        row[0][0] = 1.0;
    }
    for cell in table[0].iter_mut() {
        cell[0] = 1.0;
    }
    for i in 1..=n1 {
        for j in 1..=n2 {
            for k in 0..=i * j {
                let take = if k >= j { table[i - 1][j][k - j] } else { 0.0 };
                table[i][j][k] = take + table[i][j - 1][k];
            }
        }
    }
    let dist = &table[n1][n2];
    let total: f64 = dist.iter().sum();
    let mean = max_u as f64 / 2.0;
    let d = (u - mean).abs();
    let tail: f64 = dist
        .iter()
        .enumerate()
        .filter(|(k, _)| (*k as f64 - mean).abs() >= d - 1e-9)
        .map(|(_, c)| c)
        .sum();
    (tail / total).min(1.0)
}

/// Upper tail of the standard normal distribution (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
pub fn normal_sf(z: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * z / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-(z * z) / 2.0).exp()
}

#[cfg(test)]
mod compare_tests {
    use super::*;

    #[test]
    fn mann_whitney_exact_by_hand() {
        // Complete separation of 3 vs 3: U = 0, two-sided p = 2 / C(6,3) = 0.1.
        let (u, p) = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert_eq!(u, 0.0);
        assert!((p - 0.1).abs() < 1e-12, "{p}");
        // 5 vs 5 separated: p = 2 / 252.
        let (_, p) = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        // Identical samples: no evidence of a difference.
        let (_, p) = mann_whitney(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert!(p > 0.9, "{p}");
    }

    #[test]
    fn normal_tail_matches_tables() {
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_sf(1.959_964) - 0.025).abs() < 1e-6);
    }

    #[test]
    fn ratio_ci_brackets_a_known_shift() {
        let a: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i % 5)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.2).collect();
        let (lo, hi) = ratio_of_medians_ci95(&a, &b);
        assert!(lo <= 1.2 && 1.2 <= hi, "{lo} {hi}");
        assert!(lo > 1.1 && hi < 1.3);
    }
}

/// 64 random bits from the kernel (`/dev/urandom`), or from std's randomly keyed hasher where
/// that cannot be read: for run ids and temporary names that must not collide across hosts
/// and PID namespaces.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_le_bytes(b);
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}
