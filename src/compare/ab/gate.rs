//! What gates an A/B job: the rows whose verdict sets the exit code. The rest are listed and
//! judged, never failing. A job whose gated rows stay undecided is inconclusive: exit 3, or
//! what `--undecided pass|fail` makes of it.

use super::report::{AbResults, Key, Row};
use crate::compare::ab::judge::Call;
pub use crate::compare::ab::judge::{INCONCLUSIVE_EXIT, Undecided};
use crate::error::BadInput;
use crate::results::CaseId;
use crate::results::Metric;

/// Splits `--gate square,counter/threads` into its items (each a row label's leading parts).
pub fn parse_gate(list: &[String]) -> Result<Vec<String>, BadInput> {
    let items: Vec<String> = list
        .iter()
        .flat_map(|l| l.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if !list.is_empty() && items.is_empty() {
        return Err(BadInput::new(
            "--gate: give rows as WORKLOAD[/MODEL], e.g. --gate square,counter/threads",
        ));
    }
    Ok(items)
}

/// Whether `row` gates: by default every group row but a process's fixed-once peak RSS (the
/// rows a user asked for, each summing several keys); with `--gate`, the rows whose label
/// begins with one of the items, part by part (`counter/threads` gates `counter / threads /
/// …`).
pub fn gates(row: &Row, gate: &[String]) -> bool {
    if gate.is_empty() {
        return row.group && row.metric != Metric::PeakRss;
    }
    let parts: Vec<&str> = row.label.split(" / ").map(str::trim).collect();
    gate.iter().any(|g| {
        let want: Vec<&str> = g.split('/').map(str::trim).collect();
        want.len() <= parts.len() && want.iter().zip(&parts).all(|(a, b)| a == b)
    })
}

/// About how many times its pairs an undecided row would need to settle at its present
/// spread: its interval must shrink until it clears the threshold on one side — to the
/// distance between its centre and the threshold (at least half the threshold) — and it
/// shrinks as the square root of the pairs.
pub fn pairs_factor(row: &Row, threshold: f64) -> Option<f64> {
    let [lo, hi] = row.ratio_interval?;
    let half = (hi - lo) / 2.0;
    let worse = row.worse_pct? / 100.0;
    let reach = (worse - threshold).abs().max(threshold / 2.0);
    Some((half / reach).powi(2).ceil().max(2.0))
}

/// The cases that should take more pairs: those of the gated rows still undecided, the rows
/// chosen by how many times their pairs each would need to settle at its present spread
/// ([`pairs_factor`]) — the fewest first, with every row within four times of
/// that, however wide — so that the spare time goes where it can decide a row. Start-up rows
/// included. Which rows go on depends on their spread, never on which way they lean; every row
/// is judged once, at the end, on all its pairs, so a row's alarm still needs all its pairs
/// to say so at the job's family-wise level.
pub fn wanted_more(keys: &[Key], threshold: f64, gate: &[String]) -> Vec<CaseId> {
    let (rows, _, _) = super::report::judged_rows(keys, threshold);
    let judged = super::report::judge_rows(keys, threshold);
    let mut open: Vec<(f64, usize)> = judged
        .iter()
        .enumerate()
        .filter(|(_, r)| r.call == Call::Undecided && gates(r, gate))
        .map(|(i, r)| (pairs_factor(r, threshold).unwrap_or(2.0), i))
        .collect();
    open.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(fewest, _)) = open.first() else {
        return Vec::new();
    };
    let mut cases: Vec<CaseId> = Vec::new();
    for &(_, i) in open.iter().filter(|(f, _)| *f <= 4.0 * fewest) {
        for k in &rows[i].2 {
            if !cases.contains(&k.case) {
                cases.push(k.case.clone());
            }
        }
    }
    cases
}

impl AbResults {
    /// The rows that gate this job.
    pub fn gated(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| gates(r, &self.gate))
    }

    /// Gated rows left undecided.
    pub fn undecided_gated(&self) -> Vec<&Row> {
        self.gated().filter(|r| r.call == Call::Undecided).collect()
    }

    /// 1 when a gated row regressed or a case failed; when gated rows stay undecided,
    /// [`INCONCLUSIVE_EXIT`] (or 0 / 1 under `--undecided pass|fail`); else 0.
    pub fn exit_code(&self) -> u8 {
        let regressed = self.gated().any(|r| r.call == Call::Regressed);
        if regressed || !self.failures.is_empty() {
            return 1;
        }
        if self.undecided_gated().is_empty() {
            return 0;
        }
        match self.undecided {
            Undecided::Inconclusive => INCONCLUSIVE_EXIT,
            Undecided::Pass => 0,
            Undecided::Fail => 1,
        }
    }

    /// What an inconclusive job says of each undecided gated row, and what would decide it.
    pub fn undecided_lines(&self) -> Vec<String> {
        self.undecided_gated()
            .iter()
            .map(|r| {
                let t = self.threshold * 100.0;
                match (r.ratio_interval, pairs_factor(r, self.threshold)) {
                    (Some([lo, hi]), Some(k)) => format!(
                        "{} could not rule out +{t:.0}% (interval {lo:.3}–{hi:.3}, {} pairs); about {k:.0}× the pairs, or a quieter machine",
                        r.label, r.pairs
                    ),
                    _ => format!("{} has too few pairs to judge ({})", r.label, r.pairs),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::test_key as key;
    use super::*;
    use crate::results::Better;

    fn row(label: &str, group: bool, metric: Metric, interval: [f64; 2]) -> Row {
        Row {
            label: label.into(),
            group,
            metric,
            better: Better::Higher,
            pairs: 20,
            ratio: Some(1.0),
            ratio_interval: Some(interval),
            worse_pct: Some(0.0),
            epochs_worse_pct: vec![],
            call: Call::Undecided,
        }
    }

    #[test]
    fn the_default_gate_is_the_group_rows_but_peak_rss_and_a_list_names_rows_by_parts() {
        let group = row(
            "square / every model",
            true,
            Metric::Throughput,
            [0.93, 1.03],
        );
        let rss = row("square / every model", true, Metric::PeakRss, [0.9, 1.1]);
        let key = row(
            "counter / threads / 2 workers",
            false,
            Metric::Throughput,
            [0.9, 1.1],
        );
        assert!(gates(&group, &[]) && !gates(&rss, &[]) && !gates(&key, &[]));
        let list = parse_gate(&["square,counter/threads".into()]).unwrap();
        assert!(gates(&key, &list) && gates(&group, &list));
        assert!(!gates(&key, &["counter/fork".into()]));
        assert!(parse_gate(&[",".into()]).is_err());
        // ±5% at a 1% threshold: about 25× the pairs.
        assert_eq!(pairs_factor(&group, 0.01), Some(25.0));
        assert_eq!(Undecided::parse(Some("pass")).unwrap(), Undecided::Pass);
        assert!(Undecided::parse(Some("maybe")).is_err());
    }

    #[test]
    fn more_pairs_go_to_the_gated_rows_undecided_that_need_the_fewest() {
        let gate = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // No change at all, a 5% threshold: settled as unchanged, nothing takes more pairs.
        assert!(wanted_more(&[key("threads", 0.0, 0.0)], 0.05, &gate(&["w"])).is_empty());
        // A key `shift` slower whose pairs scatter evenly by up to ±`swing` around it, in
        // each epoch alike.
        let steady = |model: &str, n: u64, shift: f64, swing: f64| {
            let mut k = key(model, 0.0, 0.0);
            k.case.params.insert("n".into(), n);
            let half = k.base.len() / 2;
            k.head = (k.base.iter().enumerate())
                .map(|(i, b)| {
                    let u = (i % half) as f64 / (half - 1) as f64 * 2.0 - 1.0;
                    let u = if n % 2 == 0 { -u } else { u };
                    b / (1.0 + shift) * (swing * u).exp()
                })
                .collect();
            k
        };
        // A change at the threshold, not told yet, on threads; one whose pairs swing by ±40%
        // on fork: threads would settle with a few times its pairs, fork with hundreds.
        let keys = [
            steady("threads", 1, 0.009, 0.01),
            steady("threads", 2, 0.009, 0.01),
            steady("fork", 1, 0.009, 0.4),
            steady("fork", 2, 0.009, 0.4),
        ];
        let rows = super::super::report::judge_rows(&keys, 0.01);
        assert!(rows.iter().all(|r| r.call == Call::Undecided), "{rows:?}");
        let models = |cases: Vec<CaseId>| {
            let mut m: Vec<String> = cases.into_iter().map(|c| c.model).collect();
            m.dedup();
            m
        };
        // Both gated: the one that needs the fewest pairs goes on.
        let both = wanted_more(&keys, 0.01, &gate(&["w/threads", "w/fork"]));
        assert_eq!(models(both), vec!["threads"]);
        // Gated alone, the wide one goes on however wide: no cutoff leaves it out.
        let wide = wanted_more(&keys, 0.01, &gate(&["w/fork"]));
        assert_eq!(models(wide), vec!["fork"]);
        // A row that does not gate takes no more pairs.
        assert!(wanted_more(&keys, 0.01, &gate(&["other"])).is_empty());
    }
}
