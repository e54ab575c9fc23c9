//! How runs differ, in words: for every figure the first run's answers quote, what each other
//! run measured for the same case, as a ratio — said only where the change is more than the
//! runs' noise. Two runs of one machine are judged as `compare` judges them (its threshold and
//! this pair's run-to-run noise): two runs of one build minutes apart differ by more than their
//! own 95% intervals. Runs of different machines differ in every figure; there a figure is
//! said where the two intervals separate.

use std::path::Path;

use crate::compare::Judgement;
use crate::results::{Better, CaseId, Measurement, Metric, Quote, Results};
use crate::units as format;

/// What was said about a pair of runs: how it was decided, then one line per figure.
pub struct Differences {
    pub rules: Vec<String>,
    pub lines: Vec<String>,
}

/// Said when no figure the answers quote moved beyond the noise.
pub const NONE: &str = "No figure the answers quote differs beyond the runs' noise.";

/// compare's default threshold, for two runs of one machine.
const SAME_MACHINE_THRESHOLD: f64 = 0.05;

/// One line per quoted figure that moved beyond the runs' noise, for each later run against
/// the first ("… on AMD EPYC · 2 cores · … against … on Intel Xeon … — 1.41× faster"), and
/// the rule each pair was judged by.
pub fn differences(runs: &[Results]) -> Differences {
    let mut out = Differences {
        rules: Vec::new(),
        lines: Vec::new(),
    };
    let Some((first, rest)) = runs.split_first() else {
        return out;
    };
    // Each run is named in full once, then by its short label.
    let labels = super::charts::run_labels(runs);
    out.rules.push(format!(
        "Runs: {}.",
        super::charts::runs_named(runs, &labels)
    ));
    let a_label = labels[0].clone();
    for (other, b_label) in rest.iter().zip(&labels[1..]) {
        let changed = changed_keys(first, other);
        out.rules.push(match &changed {
            Some(Ok((_, sigma))) => format!(
                "{b_label} and {a_label} are runs of one machine: a figure is said where \
                 `compare` tells its change from this pair's noise (beyond {:.0}% and 4σ of \
                 the changes from key to key, σ {:.1}%).",
                100.0 * SAME_MACHINE_THRESHOLD,
                100.0 * sigma
            ),
            Some(Err(why)) => format!(
                "{b_label} and {a_label} are runs of one machine, which `compare` cannot judge \
                 ({why}): nothing is said of them."
            ),
            None => format!(
                "{b_label} and {a_label} are runs of different machines: a figure is said \
                 where the two runs' 95% intervals separate. Each interval is one run's own \
                 spread; runs of one machine also differ from run to run, which one run per \
                 machine cannot show (repeat runs and `compare` can)."
            ),
        });
        let mut seen = Vec::new();
        for q in super::answers::answers(first)
            .iter()
            .flat_map(|a| &a.quotes)
        {
            let key = (q.case.clone(), q.metric);
            if seen.contains(&key) {
                continue;
            }
            let judged = match &changed {
                None => true,
                Some(Ok((keys, _))) => keys.contains(&key),
                Some(Err(_)) => false,
            };
            seen.push(key);
            let (Some(a), Some(b)) = (quoted(first, q), quoted(other, q)) else {
                continue;
            };
            if let Some(line) = differ(a, b, b_label, &a_label).filter(|_| judged) {
                out.lines.push(line);
            }
        }
    }
    out
}

/// What `compare` judges between two runs of one machine: the keys (case, metric as measured)
/// it calls regressed or improved, and this pair's key-to-key noise; or why it cannot judge
/// them. `None` for runs of different machines.
type Judged = Option<Result<(Vec<(CaseId, Metric)>, f64), String>>;

fn changed_keys(a: &Results, b: &Results) -> Judged {
    if a.machine.id != b.machine.id {
        return None;
    }
    let report = crate::compare::compare(
        &[(a, Path::new(&a.run.id))],
        (b, Path::new(&b.run.id)),
        SAME_MACHINE_THRESHOLD,
        SAME_MACHINE_THRESHOLD,
        false,
    );
    Some(report.map_err(|e| e.to_string()).map(|report| {
        let keys = report
            .comparisons
            .iter()
            .filter(|c| matches!(c.verdict, Judgement::Regressed | Judgement::Improved))
            .map(|c| (c.case.clone(), c.metric))
            .collect();
        (keys, report.noise_sigma)
    }))
}

/// `r`'s verified measurement of the case and metric `q` quotes.
fn quoted<'a>(r: &'a Results, q: &Quote) -> Option<&'a Measurement> {
    r.measurements
        .iter()
        .find(|m| m.case == q.case && m.metric == q.metric && m.verified)
}

/// `b` against `a` in words, or nothing when their intervals overlap or a median is 0.
fn differ(a: &Measurement, b: &Measurement, b_label: &str, a_label: &str) -> Option<String> {
    let overlap = b.ci95[0] <= a.ci95[1] && a.ci95[0] <= b.ci95[1];
    if overlap || a.median <= 0.0 || b.median <= 0.0 {
        return None;
    }
    // "Better" by the metric's own sense: a higher throughput, a shorter start.
    let gain = match a.better {
        Better::Higher => b.median / a.median,
        Better::Lower => a.median / b.median,
    };
    let (up, down) = a.metric.words();
    let (k, word) = if gain >= 1.0 {
        (gain, up)
    } else {
        (1.0 / gain, down)
    };
    // A rate in the workload's own op ("squares/s"), else the figure in its unit.
    let op = a.op.as_deref().unwrap_or("ops");
    let f = |m: &Measurement| m.metric.show(m.median, op);
    Some(format!(
        "`{}` {}: {} on {b_label} against {} on {a_label} — {}× {word}.",
        a.case,
        a.metric.name().replace('_', " "),
        f(b),
        f(a),
        format::sig3(k)
    ))
}
