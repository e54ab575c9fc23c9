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

/// Whether the epochs' centres agree within their own sampling noise: Cochran's Q below the
/// χ² 95% point. A build's change moves every epoch alike; what one pair of processes was
/// dealt moves one. (In A/A jobs here: a spawn roundtrip group at +83% in one epoch and +6% in
/// the other; a no-lock counter at +13% and +40%.)
pub(super) fn epochs_agree(xs: &[(usize, f64)]) -> bool {
    const CHI2_95: [f64; 4] = [3.841, 5.991, 7.815, 9.488];
    let est = epoch_estimates(xs);
    est.len() < 2 || cochran_q(&est) <= CHI2_95[(est.len() - 2).min(CHI2_95.len() - 1)]
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
