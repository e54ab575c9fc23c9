//! CSV (RFC 4180), for a spreadsheet or a CI system's trend charts: one line per figure of a
//! run, per judged key of a comparison, per row of an A/B job.

use super::{Exporter, Report};

pub struct Csv;

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn render(&self, report: Report<'_>) -> String {
        let (head, rows): (&[&str], Vec<Vec<String>>) = match report {
            Report::Run(r) => (&RUN_HEAD, run_rows(r)),
            Report::Compare(c) => (&COMPARE_HEAD, compare_rows(c)),
            Report::Ab(r, _) => (&AB_HEAD, ab_rows(r)),
        };
        let mut s = line(head.iter().map(|h| h.to_string()));
        for row in rows {
            s.push_str(&line(row.into_iter()));
        }
        s
    }
}

const RUN_HEAD: [&str; 13] = [
    "workload", "model", "variant", "workers", "params", "metric", "unit", "median", "ci95_lo",
    "ci95_hi", "samples", "op", "verified",
];

const COMPARE_HEAD: [&str; 14] = [
    "workload", "model", "variant", "workers", "params", "metric", "unit", "base", "current",
    "ratio", "ratio_lo", "ratio_hi", "p_value", "verdict",
];

const AB_HEAD: [&str; 9] = [
    "row",
    "group",
    "metric",
    "pairs",
    "ratio",
    "ratio_lo",
    "ratio_hi",
    "worse_pct",
    "verdict",
];

fn params(p: &std::collections::BTreeMap<String, u64>) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn case_cells(c: &crate::results::CaseId) -> [String; 5] {
    [
        c.workload.clone(),
        c.model.clone(),
        c.variant.clone(),
        c.workers.to_string(),
        params(&c.params),
    ]
}

fn run_rows(r: &crate::results::Results) -> Vec<Vec<String>> {
    r.measurements
        .iter()
        .map(|m| {
            let mut row = case_cells(&m.case).to_vec();
            row.extend([
                m.metric.to_string(),
                m.unit.clone(),
                m.median.to_string(),
                m.ci95[0].to_string(),
                m.ci95[1].to_string(),
                m.samples.len().to_string(),
                m.op.clone().unwrap_or_default(),
                m.verified.to_string(),
            ]);
            row
        })
        .collect()
}

fn compare_rows(c: &crate::compare::Report) -> Vec<Vec<String>> {
    c.comparisons
        .iter()
        .map(|k| {
            let mut row = case_cells(&k.case).to_vec();
            row.extend([
                k.label.clone(),
                k.unit.clone(),
                k.base_median.to_string(),
                k.current_median.to_string(),
                k.ratio.to_string(),
                k.ratio_ci95[0].to_string(),
                k.ratio_ci95[1].to_string(),
                k.p_value.to_string(),
                k.verdict.name().to_string(),
            ]);
            row
        })
        .collect()
}

fn ab_rows(r: &crate::compare::ab::report::AbResults) -> Vec<Vec<String>> {
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    r.rows
        .iter()
        .map(|row| {
            vec![
                row.label.clone(),
                row.group.to_string(),
                row.metric.to_string(),
                row.pairs.to_string(),
                opt(row.ratio),
                opt(row.ratio_interval.map(|i| i[0])),
                opt(row.ratio_interval.map(|i| i[1])),
                opt(row.worse_pct),
                row.call.name().to_string(),
            ]
        })
        .collect()
}

/// One record: a field with a comma, quote or line break is quoted, its quotes doubled.
fn line(cells: impl Iterator<Item = String>) -> String {
    let fields: Vec<String> = cells
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c
            }
        })
        .collect();
    fields.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_where_they_must_be() {
        let l = line(["a".to_string(), "b,c".into(), "say \"hi\"".into()].into_iter());
        assert_eq!(l, "a,\"b,c\",\"say \"\"hi\"\"\"\r\n");
    }
}
