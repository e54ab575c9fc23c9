//! What a job's epochs say apart: each epoch is a fresh pair of side processes, and what one
//! pair was dealt (its memory's layout, its cores) stays with it for the whole epoch.

/// Each epoch's centre and the inverse variance of it, the variance from its Hodges–Lehmann
/// interval at one σ.
fn epoch_estimates(xs: &[(usize, f64)]) -> Vec<(f64, f64)> {
    let last = xs.iter().map(|p| p.0).max().unwrap_or(0);
    let mut est = Vec::new();
    for e in 0..=last {
        let mine: Vec<f64> = xs.iter().filter(|p| p.0 == e).map(|p| p.1).collect();
        // One σ: the interval at 68.27%.
        if let Some((c, lo, hi)) = super::judge::hodges_lehmann(&mine, 0.3173) {
            let se = ((hi - lo) / 2.0).max(1e-6);
            est.push((c, 1.0 / (se * se)));
        }
    }
    est
}

/// Cochran's Q over the epochs' estimates: their spread in units of their own noise.
fn cochran_q(est: &[(f64, f64)]) -> f64 {
    let total: f64 = est.iter().map(|e| e.1).sum();
    let mean = est.iter().map(|e| e.0 * e.1).sum::<f64>() / total;
    est.iter().map(|(c, w)| w * (c - mean).powi(2)).sum()
}

/// Whether the epochs' centres agree: within their own sampling noise (Cochran's Q below the
/// χ² 95% point), or all worse and within a factor of two of each other. A build's change
/// moves every epoch alike; what one pair of processes was dealt moves one. (In A/A jobs here:
/// a spawn roundtrip group at +83% in one epoch and +6% in the other; a no-lock counter at
/// +13% and +40%.) Noise alone is too strict a judge of a large change over many pairs: a
/// slower build's every-model row came out +17.5% and +23.1% in its two epochs of 750 pairs
/// each — one change, disagreeing only beyond the epochs' tiny noise.
pub(super) fn epochs_agree(xs: &[(usize, f64)]) -> bool {
    const CHI2_95: [f64; 4] = [3.841, 5.991, 7.815, 9.488];
    let est = epoch_estimates(xs);
    if est.len() < 2 || cochran_q(&est) <= CHI2_95[(est.len() - 2).min(CHI2_95.len() - 1)] {
        return true;
    }
    let centres = epoch_centres(xs);
    let (lo, hi) = centres
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &c| {
            (a.min(c), b.max(c))
        });
    lo > 0.0 && lo >= hi / 2.0
}

/// Each epoch's Hodges–Lehmann centre of its own log-ratios, in epoch order.
pub(super) fn epoch_centres(xs: &[(usize, f64)]) -> Vec<f64> {
    let last = xs.iter().map(|p| p.0).max().unwrap_or(0);
    (0..=last)
        .filter_map(|e| {
            let mine: Vec<f64> = xs.iter().filter(|p| p.0 == e).map(|p| p.1).collect();
            super::judge::hodges_lehmann(&mine, 0.5).map(|(c, _, _)| c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs of two epochs centred on `a` and `b` (log-ratios), with a little noise.
    fn two(a: f64, b: f64) -> Vec<(usize, f64)> {
        let noise = |i: usize| 0.002 * ((i * 7 % 5) as f64 - 2.0);
        (0..200)
            .map(|i| (i / 100, if i < 100 { a } else { b } + noise(i)))
            .collect()
    }

    #[test]
    fn epochs_agree_on_one_change_and_not_on_one_processs_luck() {
        assert!(epochs_agree(&two(0.01, 0.01)));
        // One slower build: both epochs far worse, apart beyond their tiny noise.
        assert!(epochs_agree(&two(0.161, 0.208)));
        // What one pair of processes was dealt: one epoch far off, the other near nothing.
        assert!(!epochs_agree(&two(0.60, 0.058)));
        assert!(!epochs_agree(&two(0.122, 0.336)));
        assert!(!epochs_agree(&two(-0.1, 0.1)));
    }
}
