//! JUnit XML, which CI systems show as test results: one test case per case of a run, per
//! judged key of a comparison, per row of an A/B job. A regression or an unverified case is a
//! failure, a case that could not run an error, an A/B row the job could not decide skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Exporter, Report};
use crate::compare::Judgement;
use crate::compare::ab::judge::Call;

pub struct Junit;

/// How one test case ended.
enum Outcome {
    Passed,
    Failure(String),
    Error(String),
    Skipped(String),
}

struct Case {
    class: String,
    name: String,
    outcome: Outcome,
}

impl Exporter for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }

    fn render(&self, report: Report<'_>) -> String {
        let (suite, cases) = match report {
            Report::Run(r) => ("threadfork run", run_cases(r)),
            Report::Compare(c) => ("threadfork compare", compare_cases(c)),
            Report::Ab(r, _) => ("threadfork ab", ab_cases(r)),
        };
        xml(suite, &cases)
    }
}

fn run_cases(r: &crate::results::Results) -> Vec<Case> {
    // Every case once: verified when each of its figures passed its check.
    let mut verified: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for m in &r.measurements {
        let e = verified
            .entry(m.case.to_string())
            .or_insert((class(&m.case.workload, &m.case.model), true));
        e.1 &= m.verified;
    }
    let mut out: Vec<Case> = verified
        .into_iter()
        .map(|(name, (class, ok))| Case {
            class,
            name,
            outcome: if ok {
                Outcome::Passed
            } else {
                Outcome::Failure("a figure of this case did not pass its check".into())
            },
        })
        .collect();
    out.extend(failed(&r.failures));
    out
}

fn compare_cases(c: &crate::compare::Report) -> Vec<Case> {
    let mut out: Vec<Case> = c
        .comparisons
        .iter()
        .map(|k| {
            let change = format!(
                "current ÷ base {:.4} (interval {:.4} – {:.4}), p = {:.3}",
                k.ratio, k.ratio_ci95[0], k.ratio_ci95[1], k.p_value
            );
            Case {
                class: class(&k.case.workload, &k.case.model),
                name: format!("{} / {}", k.case, k.metric),
                outcome: match k.verdict {
                    Judgement::Regressed => Outcome::Failure(format!("regressed: {change}")),
                    _ => Outcome::Passed,
                },
            }
        })
        .collect();
    out.extend(c.failed.iter().map(|f| Case {
        class: "threadfork.compare.failed".into(),
        name: f.clone(),
        outcome: Outcome::Error(format!("the case failed in the current run: {f}")),
    }));
    out.extend(c.missing().iter().map(|k| Case {
        class: "threadfork.compare.missing".into(),
        name: k.clone(),
        outcome: Outcome::Failure("in the baseline, missing from the current run".into()),
    }));
    out
}

fn ab_cases(r: &crate::compare::ab::report::AbResults) -> Vec<Case> {
    let mut out: Vec<Case> = r
        .rows
        .iter()
        .map(|row| {
            let ratio = match (row.ratio, row.ratio_interval) {
                (Some(x), Some([a, b])) => format!("head ÷ base {x:.4} (interval {a:.4} – {b:.4})"),
                (Some(x), None) => format!("head ÷ base {x:.4} (too few pairs for an interval)"),
                _ => "no pairs".into(),
            };
            Case {
                class: if row.group {
                    "threadfork.ab.groups".into()
                } else {
                    "threadfork.ab.keys".into()
                },
                name: format!("{} / {}", row.label, row.metric),
                outcome: match row.call {
                    Call::Regressed => Outcome::Failure(format!("regressed: {ratio}")),
                    Call::Undecided => Outcome::Skipped(format!(
                        "undecided: {ratio}; the job could not rule out a change of {:.1}% or more",
                        r.threshold * 100.0
                    )),
                    Call::Improved | Call::Unchanged => Outcome::Passed,
                },
            }
        })
        .collect();
    out.extend(failed(&r.failures));
    out
}

/// Cases that could not run: errors, with their reasons.
fn failed(failures: &[crate::results::Failure]) -> impl Iterator<Item = Case> + '_ {
    failures.iter().map(|f| Case {
        class: class(&f.case.workload, &f.case.model),
        name: f.case.to_string(),
        outcome: Outcome::Error(f.reason.clone()),
    })
}

fn class(workload: &str, model: &str) -> String {
    format!("threadfork.{workload}.{model}")
}

fn xml(suite: &str, cases: &[Case]) -> String {
    let count = |f: fn(&Outcome) -> bool| cases.iter().filter(|c| f(&c.outcome)).count();
    let failures = count(|o| matches!(o, Outcome::Failure(_)));
    let errors = count(|o| matches!(o, Outcome::Error(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let head = format!(
        "name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\"",
        escape(suite),
        cases.len()
    );
    let _ = writeln!(s, "<testsuites {head}>");
    let _ = writeln!(s, "  <testsuite {head}>");
    for c in cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&c.class),
            escape(&c.name)
        );
        let (tag, message) = match &c.outcome {
            Outcome::Passed => {
                let _ = writeln!(s, "{open}/>");
                continue;
            }
            Outcome::Failure(m) => ("failure", m),
            Outcome::Error(m) => ("error", m),
            Outcome::Skipped(m) => ("skipped", m),
        };
        let _ = writeln!(s, "{open}>");
        let _ = writeln!(s, "      <{tag} message=\"{}\"/>", escape(message));
        let _ = writeln!(s, "    </testcase>");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// Text as an XML attribute value.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            // XML 1.0 has no other control characters at all.
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_text_is_escaped_and_counts_add_up() {
        assert_eq!(escape("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot;&#10;");
        let cases = [
            Case {
                class: "k".into(),
                name: "ok".into(),
                outcome: Outcome::Passed,
            },
            Case {
                class: "k".into(),
                name: "slow".into(),
                outcome: Outcome::Failure("regressed".into()),
            },
            Case {
                class: "k".into(),
                name: "?".into(),
                outcome: Outcome::Skipped("undecided".into()),
            },
        ];
        let x = xml("s", &cases);
        assert!(x.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(x.contains("<testcase classname=\"k\" name=\"ok\"/>"));
        assert!(x.contains("<failure message=\"regressed\"/>"));
    }
}
