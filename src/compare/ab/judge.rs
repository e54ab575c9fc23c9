//! Paired judging: each pair of adjacent samples (base, head) becomes one log-ratio, signed so
//! that positive is worse; a row (one key, or a group of keys) is judged on the Hodges–Lehmann
//! centre of its log-ratios with the signed-rank test's interval, and called under Holm's
//! family-wise control over every row of the job.

use serde::{Deserialize, Serialize};

use crate::results::Better;

/// What a row came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    /// Worse beyond the threshold, and worse at all beyond the family-wise error rate.
    Regressed,
    /// The interval still reaches a change of the threshold or more: the job could not tell.
    Undecided,
    /// Better beyond the threshold, as surely as a regression would have to be.
    Improved,
    /// The interval excludes any worsening of the threshold or more.
    Unchanged,
}

impl Call {
    pub fn name(self) -> &'static str {
        match self {
            Call::Regressed => "regressed",
            Call::Undecided => "undecided",
            Call::Improved => "improved",
            Call::Unchanged => "unchanged",
        }
    }
}

/// One pair's change, signed so that positive is worse: ln(head ÷ base) for a figure where
/// lower is better, its negative where higher is. `floor` is added to both (a figure that can
/// be 0, such as a peak-RSS growth, compares as its floor).
pub fn worse_log(base: f64, head: f64, better: Better, floor: f64) -> Option<f64> {
    let (a, b) = (base + floor, head + floor);
    if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
        return None;
    }
    let r = (b / a).ln();
    Some(match better {
        Better::Lower => r,
        Better::Higher => -r,
    })
}

/// The z with P(Z > z) = `p` for a standard normal Z (bisection on the tail).
fn normal_quantile_upper(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if crate::stats::normal_sf(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// The one-sided Wilcoxon signed-rank p-value that the pairs' changes lean worse (above 0):
/// exact zeros left out, mid-ranks for ties, the normal approximation with its tie and
/// continuity corrections. Nearly as sharp as a t-test on well-behaved data, and a sample
/// spoiled by the host counts only by its rank.
pub fn signed_rank_p_worse(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs
        .iter()
        .copied()
        .filter(|x| *x != 0.0 && x.is_finite())
        .collect();
    let n = v.len();
    if n == 0 {
        return 1.0;
    }
    v.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let (mut w_plus, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && v[j + 1].abs() == v[i].abs() {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        w_plus += v[i..=j].iter().filter(|x| **x > 0.0).count() as f64 * mid;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    if var <= 0.0 {
        return 1.0;
    }
    let z = (w_plus - mean - 0.5) / var.sqrt();
    crate::stats::normal_sf(z).min(1.0)
}

/// The Hodges–Lehmann centre of `xs` (the median of all pairwise means, the Walsh averages)
/// and its interval at confidence 1 − `alpha`, the signed-rank test's, from the Walsh
/// averages' order statistics. `None` when too few pairs exist for an interval at that level.
pub fn hodges_lehmann(xs: &[f64], alpha: f64) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n < 2 {
        return None;
    }
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in i..n {
            walsh.push((v[i] + v[j]) / 2.0);
        }
    }
    walsh.sort_by(f64::total_cmp);
    let m = walsh.len();
    let centre = if m % 2 == 1 {
        walsh[m / 2]
    } else {
        (walsh[m / 2 - 1] + walsh[m / 2]) / 2.0
    };
    let nf = n as f64;
    let z = normal_quantile_upper(alpha / 2.0);
    let k =
        (nf * (nf + 1.0) / 4.0 - z * (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt()).floor();
    if k < 1.0 {
        return None;
    }
    let k = k as usize;
    Some((centre, walsh[k - 1], walsh[m - k]))
}

/// One judged row before family-wise control: its centre and interval in log units, and the
/// sign test's p-value that it is worse at all.
#[derive(Clone, Debug)]
pub struct Judged {
    pub centre: f64,
    pub lo: f64,
    pub hi: f64,
    pub p_worse: f64,
}

/// Judges one row's log-ratios, its interval at `alpha` (already divided among the rows).
pub fn judge(xs: &[f64], alpha: f64) -> Option<Judged> {
    let (centre, lo, hi) = hodges_lehmann(xs, alpha)?;
    Some(Judged {
        centre,
        lo,
        hi,
        p_worse: signed_rank_p_worse(xs),
    })
}

/// Holm's step-down at family-wise level `alpha` over the rows in `family`: which of them are
/// worse at all, and the one-sided level each row of the family was judged at — a row found
/// worse at its step's (`alpha / (m − rank)`), every other at the level the step-down stopped
/// at (`alpha / (m − r)`, r rows found worse): the levels of the intervals consistent with
/// the decisions (a row called worse has its interval's worse end beyond no change). A row
/// outside the family is never found worse here and gets no level.
pub fn holm(
    rows: &[Option<Judged>],
    family: &[usize],
    alpha: f64,
) -> (Vec<bool>, Vec<Option<f64>>) {
    let p = |k: usize| rows[k].as_ref().map_or(1.0, |r| r.p_worse);
    let mut order = family.to_vec();
    order.sort_by(|&i, &j| p(i).total_cmp(&p(j)));
    let m = order.len();
    let mut worse = vec![false; rows.len()];
    let mut level = vec![None; rows.len()];
    let mut found = 0;
    for (rank, &i) in order.iter().enumerate() {
        let step = alpha / (m - rank) as f64;
        if p(i) > step {
            break;
        }
        worse[i] = true;
        level[i] = Some(step);
        found += 1;
    }
    let rest = alpha / (m - found).max(1) as f64;
    for &i in &order[found..] {
        level[i] = Some(rest);
    }
    (worse, level)
}

/// A row's call. Regressed when found `worse` and its centre is beyond the threshold (`t`, a
/// log-ratio); improved when its family-wise interval (`surely`, the level the step-down
/// judged it at) lies wholly on the better side and its centre beyond the threshold that way —
/// as surely as a regression would have to be; unchanged when its own interval (`plainly`, at
/// [`UNCHANGED_ALPHA`]) rules out a worsening of the threshold; else undecided (too few pairs
/// included).
pub fn call(surely: Option<&Judged>, plainly: Option<&Judged>, worse: bool, t: f64) -> Call {
    match (surely, plainly) {
        (Some(r), _) if worse && r.centre > t => Call::Regressed,
        (Some(r), _) if r.hi < 0.0 && r.centre < -t => Call::Improved,
        (_, Some(r)) if r.hi < t => Call::Unchanged,
        _ => Call::Undecided,
    }
}

/// The level of the interval that calls a row unchanged: its own two-sided 95% interval, with
/// no share of the family-wise rate. A job says "no regression" only when every gated row
/// rules out a worsening of the threshold, so a missed regression needs its own row's
/// interval to miss (an intersection–union test: the job's error is at most one row's). The
/// one-sided 2.5% on the worse side leaves room for the looks a job takes before it stops.
pub const UNCHANGED_ALPHA: f64 = 0.05;

/// What an inconclusive job exits with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Undecided {
    /// Exit 3: the job saw too little to say (the default).
    #[default]
    Inconclusive,
    /// Exit 0: a neutral check.
    Pass,
    /// Exit 1: a failed check.
    Fail,
}

impl Undecided {
    pub fn parse(s: Option<&str>) -> Result<Undecided, crate::error::BadInput> {
        match s {
            None => Ok(Undecided::Inconclusive),
            Some("pass") => Ok(Undecided::Pass),
            Some("fail") => Ok(Undecided::Fail),
            Some(other) => Err(crate::error::BadInput::new(format!(
                "--undecided: '{other}' is not pass or fail"
            ))),
        }
    }
}

/// The exit code of an inconclusive job.
pub const INCONCLUSIVE_EXIT: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls every row as one family (Holm at `alpha` over all of them).
    fn call_all(rows: &[Option<Judged>], alpha: f64, t: f64) -> Vec<Call> {
        let family: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].is_some()).collect();
        let (worse, _) = holm(rows, &family, alpha);
        rows.iter()
            .zip(worse)
            .map(|(r, w)| call(r.as_ref(), r.as_ref(), w, t))
            .collect()
    }

    #[test]
    fn the_hodges_lehmann_interval_and_the_signed_rank_test_match_their_tables() {
        // 1..=20 shifted to centre on 0: symmetric, so the centre is 0 and p is ½.
        let xs: Vec<f64> = (1..=20).map(|i| f64::from(i) - 10.5).collect();
        let (c, lo, hi) = hodges_lehmann(&xs, 0.05).unwrap();
        assert!(c.abs() < 1e-12 && lo < 0.0 && hi > 0.0, "{c} {lo} {hi}");
        assert!((signed_rank_p_worse(&xs) - 0.5).abs() < 0.05);
        // n = 20 all positive: W+ = 210, z = (210 − 105 − 0.5) / √717.5 = 3.90.
        let pos: Vec<f64> = (1..=20).map(f64::from).collect();
        let p = signed_rank_p_worse(&pos);
        assert!((4e-5..6e-5).contains(&p), "{p}");
        // Two pairs cannot make a 99.9% interval.
        assert!(hodges_lehmann(&pos[..2], 0.001).is_none());
    }

    #[test]
    fn a_row_worse_in_every_pair_regresses_and_a_noisy_one_stays_undecided() {
        let worse: Vec<f64> = (0..30).map(|i| 0.05 + 0.001 * f64::from(i % 5)).collect();
        let noisy: Vec<f64> = (0..30)
            .map(|i| if i % 2 == 0 { 0.2 } else { -0.2 })
            .collect();
        let same: Vec<f64> = (0..30).map(|i| 0.001 * f64::from(i % 3) - 0.001).collect();
        let rows = vec![
            judge(&worse, 0.05 / 3.0),
            judge(&noisy, 0.05 / 3.0),
            judge(&same, 0.05 / 3.0),
        ];
        let calls = call_all(&rows, 0.05, (1.02f64).ln());
        assert_eq!(calls, [Call::Regressed, Call::Undecided, Call::Unchanged]);
        // The same shift the other way is an improvement, never a regression.
        let better: Vec<f64> = worse.iter().map(|x| -x).collect();
        let calls = call_all(&[judge(&better, 0.05)], 0.05, (1.02f64).ln());
        assert_eq!(calls, [Call::Improved]);
    }

    #[test]
    fn unchanged_goes_by_the_rows_own_interval_and_a_regression_by_the_family_wise_one() {
        let t = 1.02f64.ln();
        // 60 pairs spread ±6% around +0.5% worse: its own 95% interval rules out +2%, an
        // interval at a two-hundredth share of 5% does not.
        let xs: Vec<f64> = (0..60)
            .map(|i| 0.005 + 0.06 * (f64::from(i % 7) - 3.0) / 3.0)
            .collect();
        let wide = judge(&xs, 0.05 / 200.0).unwrap();
        let own = judge(&xs, UNCHANGED_ALPHA).unwrap();
        assert!(wide.hi > t && own.hi < t, "{} {}", wide.hi, own.hi);
        assert_eq!(call(Some(&wide), Some(&wide), false, t), Call::Undecided);
        assert_eq!(call(Some(&wide), Some(&own), false, t), Call::Unchanged);
        // A narrow own interval never makes a regression or an improvement: those need the
        // family-wise one.
        let slower: Vec<f64> = xs.iter().map(|x| x + 0.05).collect();
        let (wide, own) = (
            judge(&slower, 0.001).unwrap(),
            judge(&slower, 0.05).unwrap(),
        );
        assert_eq!(call(Some(&wide), Some(&own), true, t), Call::Regressed);
        assert_eq!(call(None, Some(&own), true, t), Call::Undecided);
    }

    #[test]
    fn a_log_ratio_is_signed_so_that_worse_is_positive() {
        let slower = worse_log(100.0, 90.0, Better::Higher, 0.0).unwrap();
        assert!(slower > 0.0);
        let longer = worse_log(100.0, 110.0, Better::Lower, 0.0).unwrap();
        assert!(longer > 0.0);
        assert_eq!(worse_log(0.0, 0.0, Better::Lower, 0.0), None);
        assert_eq!(worse_log(0.0, 0.0, Better::Lower, 4096.0), Some(0.0));
    }
}
