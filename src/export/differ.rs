//! How runs differ, in words: for every figure the first run's answers quote, what each other
//! run measured for the same case, as a ratio — said only where the two 95% intervals separate.

use crate::results::{Better, Measurement, Quote, Results};
use crate::units as format;

/// One line per quoted figure that moved beyond both runs' noise, for each later run against
/// the first ("AMD EPYC · 2 cores starts `empty / fork / …` 1.41× faster than Intel Xeon …").
pub fn differences(runs: &[Results]) -> Vec<String> {
    let Some((first, rest)) = runs.split_first() else {
        return Vec::new();
    };
    let a_label = super::charts::run_label(first);
    let mut out = Vec::new();
    for other in rest {
        let b_label = super::charts::run_label(other);
        let mut seen = Vec::new();
        for q in super::answers::answers(first)
            .iter()
            .flat_map(|a| &a.quotes)
        {
            let key = (q.case.clone(), q.metric.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let (Some(a), Some(b)) = (quoted(first, q), quoted(other, q)) else {
                continue;
            };
            if let Some(line) = differ(a, b, &b_label, &a_label) {
                out.push(line);
            }
        }
    }
    out
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
    let (up, down) = match a.unit.as_str() {
        "bytes" => ("smaller", "larger"),
        "ops/s" | "ns" => ("faster", "slower"),
        _ => ("better", "worse"),
    };
    let (k, word) = if gain >= 1.0 {
        (gain, up)
    } else {
        (1.0 / gain, down)
    };
    // A rate in the workload's own op ("squares/s"), else the figure in its unit.
    let f = |m: &Measurement| match (m.unit.as_str(), &m.op) {
        ("ops/s", Some(op)) => format::rate_of(m.median, op),
        (unit, _) => format::value(m.median, unit),
    };
    Some(format!(
        "`{}` {}: {} on {b_label} against {} on {a_label} — {}× {word}.",
        a.case,
        a.metric.replace('_', " "),
        f(b),
        f(a),
        format::sig3(k)
    ))
}
