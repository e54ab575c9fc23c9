//! What gates an A/B job: the rows whose verdict sets the exit code. The rest are listed and
//! judged, never failing. A job whose gated rows stay undecided is inconclusive: exit 3, or
//! what `--undecided pass|fail` makes of it.

use super::report::{AbResults, Key, Row, Scope};
use crate::compare::ab::judge::Call;
pub use crate::compare::ab::judge::{INCONCLUSIVE_EXIT, Undecided};
use crate::error::BadInput;
use crate::results::CaseId;
use crate::results::metric::Gate;

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

/// Which of `rows` gate. With `--gate`, the rows whose label begins with one of the items,
/// part by part (`counter/threads` gates `counter / threads / …`). By default, each metric's
/// [`Gate`] column: a pooled figure (throughput) gates each workload's every-model row and
/// each variant's (a workload of one model: its model's row, or its one key); a start cost
/// gates each model's row (or its one key); a process's fixed-once peak RSS never gates. The
/// default is what a job can settle: the widest rows pool the most pairs, and a change of a
/// workload's code moves every model's pairs together.
pub fn gated(rows: &[Row], gate: &[String]) -> Vec<bool> {
    if !gate.is_empty() {
        return rows.iter().map(|r| named(r, gate)).collect();
    }
    let workload = |r: &Row| r.label.split(" / ").next().unwrap_or("").to_string();
    let model = |r: &Row| r.label.split(" / ").nth(1).unwrap_or("").to_string();
    // Whether a row of `scope` exists for the row's workload (and model) and metric.
    let has = |r: &Row, scope: Scope, same_model: bool| {
        rows.iter().any(|o| {
            o.scope == scope
                && o.metric == r.metric
                && workload(o) == workload(r)
                && (!same_model || model(o) == model(r))
        })
    };
    rows.iter()
        .map(|r| match (r.metric.facts().gate, r.scope) {
            (Gate::Never, _) => false,
            (Gate::Pooled, Scope::Workload | Scope::Variant) => true,
            (Gate::Pooled, Scope::Model) => !has(r, Scope::Workload, false),
            (Gate::Pooled, Scope::Key) => {
                !has(r, Scope::Workload, false) && !has(r, Scope::Model, true)
            }
            (Gate::PerModel, Scope::Model) => true,
            (Gate::PerModel, Scope::Key) => !has(r, Scope::Model, true),
            (Gate::PerModel, Scope::Variant | Scope::Workload) => false,
        })
        .collect()
}

/// Whether `--gate`'s items name the row.
fn named(row: &Row, gate: &[String]) -> bool {
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
pub fn pairs_factor(row: &Row) -> Option<f64> {
    let threshold = row.threshold;
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
    let gates = gated(&judged, gate);
    let mut open: Vec<(f64, usize)> = judged
        .iter()
        .enumerate()
        .filter(|&(i, r)| r.call == Call::Undecided && gates[i])
        .map(|(i, r)| (pairs_factor(r).unwrap_or(2.0), i))
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
        let gates = gated(&self.rows, &self.gate);
        self.rows
            .iter()
            .zip(gates)
            .filter(|(_, g)| *g)
            .map(|(r, _)| r)
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
                let t = r.threshold * 100.0;
                match (r.ratio_interval, pairs_factor(r)) {
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
    use crate::results::{Better, Metric};

    fn row(label: &str, scope: Scope, metric: Metric, interval: [f64; 2]) -> Row {
        Row {
            label: label.into(),
            group: scope != Scope::Key,
            scope,
            threshold: metric.gate_threshold(0.01),
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
    fn the_default_gate_is_each_metrics_widest_rows_and_a_list_names_rows_by_parts() {
        use Metric::{PeakRss, Roundtrip, Startup, Throughput};
        use Scope::{Key, Model, Variant, Workload};
        let i = [0.93, 1.03];
        // (row, gated by default)
        let table = [
            (row("square / every model", Workload, Throughput, i), true),
            (
                row("square / threads / every key", Model, Throughput, i),
                false,
            ),
            (
                row("square / threads / 2 workers", Key, Throughput, i),
                false,
            ),
            (row("square / every model", Workload, PeakRss, i), false),
            (row("square / fork / every key", Model, PeakRss, i), false),
            (
                row("counter / pshared / every model", Variant, Throughput, i),
                true,
            ),
            // A start cost gates per model, never pooled.
            (row("empty / fork / every key", Model, Startup, i), true),
            (row("empty / spawn / every key", Model, Roundtrip, i), true),
            (row("empty / every model", Workload, Startup, i), false),
            (row("empty / fork / 1 GiB parent", Key, Startup, i), false),
            // A workload of one model gates its model's row; of one key, the key.
            (
                row("solo / threads / every key", Model, Throughput, i),
                true,
            ),
            (row("solo / threads / 2 workers", Key, Throughput, i), false),
            (row("one / threads / 1 worker", Key, Throughput, i), true),
        ];
        let rows: Vec<Row> = table.iter().map(|(r, _)| r.clone()).collect();
        for ((r, want), got) in table.iter().zip(gated(&rows, &[])) {
            assert_eq!(got, *want, "{} {}", r.label, r.metric);
        }
        let list = parse_gate(&["square,counter/threads".into()]).unwrap();
        let named = |l: &[String]| -> Vec<String> {
            let g = gated(&rows, l);
            (rows.iter().zip(g))
                .filter(|(_, g)| *g)
                .map(|(r, _)| format!("{} {}", r.label, r.metric))
                .collect()
        };
        assert_eq!(named(&list).len(), 5);
        assert!(named(&["counter/fork".into()]).is_empty());
        assert!(parse_gate(&[",".into()]).is_err());
        // ±5% at a 1% threshold: about 25× the pairs; a start's 5% bar: 2×.
        assert_eq!(pairs_factor(&rows[0]), Some(25.0));
        assert_eq!(pairs_factor(&rows[6]), Some(2.0));
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
