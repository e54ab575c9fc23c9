//! `index.html` beside the charts: the machine, every chart, the summary's tables rendered
//! from the same structure as the Markdown, and for several runs a side-by-side table.
//! Self-contained: no script, no font or style from the network, so it opens from disk.

use std::fmt::Write;

use super::doc::esc;
use crate::results::{Key, Results};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td,th{text-align:left}td.n{text-align:right}
figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
.machine td{text-align:left}";

fn machine_table(runs: &[Results]) -> String {
    let mut s = String::from("<table class=\"machine\">\n<tr><th></th>");
    // Each column named by its machine's short label (the run id is in the rows below).
    for label in super::charts::run_labels(runs) {
        let _ = write!(s, "<th>{}</th>", esc(&label));
    }
    s.push_str("</tr>\n");
    type Row = (&'static str, fn(&Results) -> String);
    let rows: [Row; 11] = [
        ("run", |r| r.run.id.clone()),
        ("machine id", |r| r.machine.id.clone()),
        ("host", |r| r.machine.hostname.clone()),
        ("CPU", |r| r.machine.cpu_brand.clone()),
        ("cores (logical / physical / allowed)", |r| {
            format!(
                "{} / {} / {}",
                r.machine.logical_cores,
                r.machine
                    .physical_cores
                    .map_or("?".into(), |p| p.to_string()),
                r.machine.allowed_cpus.len()
            )
        }),
        ("memory", |r| {
            crate::units::bytes(r.machine.memory_bytes as f64)
        }),
        ("OS / kernel", |r| {
            format!("{} / {}", r.machine.os, r.machine.kernel)
        }),
        ("rustc", |r| r.machine.rustc.clone()),
        ("harness", |r| {
            format!("{} ({})", r.run.harness_version, r.run.git_commit)
        }),
        ("started", |r| r.run.started_at.clone()),
        ("arguments", |r| {
            let mut a = r.run.args.join(" ");
            if r.run.incomplete {
                a.push_str(" — INCOMPLETE (interrupted)");
            }
            a
        }),
    ];
    for (name, f) in rows {
        let _ = write!(s, "<tr><td>{}</td>", esc(name));
        for r in runs {
            let _ = write!(s, "<td>{}</td>", esc(&f(r)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// Medians of every key, one column per run.
fn side_by_side(runs: &[Results]) -> String {
    let mut keys: Vec<Key> = Vec::new();
    for r in runs {
        for m in &r.measurements {
            let k = m.key();
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let mut s =
        String::from("<h2>Side by side (medians)</h2>\n<table>\n<tr><th>case</th><th>metric</th>");
    let labels = super::charts::run_labels(runs);
    for label in &labels {
        let _ = write!(s, "<th>{}</th>", esc(label));
    }
    // The ratio column names its runs: "Intel Xeon ÷ AMD EPYC".
    let ratio_of = match (labels.first(), labels.last()) {
        (Some(a), Some(b)) if labels.len() > 1 => format!("{b} ÷ {a}"),
        _ => "last ÷ first".into(),
    };
    let _ = writeln!(s, "<th>{}</th></tr>", esc(&ratio_of));
    for k in keys {
        let (case, metric) = &k;
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td>",
            esc(&case.to_string()),
            esc(metric.name())
        );
        let medians: Vec<Option<(f64, crate::results::Metric)>> = runs
            .iter()
            .map(|r| {
                let m = r.measurements.iter().find(|m| m.key() == k)?;
                Some((m.median, m.metric))
            })
            .collect();
        for m in &medians {
            let op = runs
                .iter()
                .find_map(|r| r.workload(&case.workload).map(|w| w.op.clone()))
                .unwrap_or_else(|| "ops".into());
            let cell = m.map_or("–".into(), |(v, metric)| metric.show(v, &op));
            let _ = write!(s, "<td class=\"n\">{}</td>", esc(&cell));
        }
        let ratio = match (medians.first(), medians.last()) {
            (Some(Some((a, _))), Some(Some((b, _)))) if *a > 0.0 => {
                format!("{}×", crate::units::sig3(b / a))
            }
            _ => "–".into(),
        };
        let _ = writeln!(s, "<td class=\"n\">{ratio}</td></tr>");
    }
    s.push_str("</table>\n");
    s
}

/// The whole page. `charts` are (file name, title) pairs relative to the page.
pub fn page(runs: &[Results], charts: &[(String, String)]) -> String {
    let mut s = String::new();
    let title = match runs {
        [one] => format!("threadfork run {}", one.run.id),
        many => format!("threadfork: {} runs", many.len()),
    };
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    s.push_str(&machine_table(runs));
    // What a reader comes for, before any chart.
    for (r, label) in runs.iter().zip(super::charts::run_labels(runs)) {
        let mut d = super::doc::Doc::default();
        if runs.len() > 1 {
            d.push(super::doc::Block::Heading(format!(
                "{label}: run {}",
                r.run.id
            )));
        }
        super::summary::answers_block(&mut d, r);
        s.push_str(&super::doc::html(&d));
    }
    if runs.len() > 1 {
        let words = super::differ::differences(runs);
        let mut d = super::doc::Doc::default();
        d.push(super::doc::Block::Heading("How the runs differ".into()));
        for rule in words.rules {
            d.push(super::doc::Block::Para(rule));
        }
        d.push(if words.lines.is_empty() {
            super::doc::Block::Para(super::differ::NONE.into())
        } else {
            super::doc::Block::List(words.lines)
        });
        s.push_str(&super::doc::html(&d));
        s.push_str(&side_by_side(runs));
    }
    s.push_str("<h2>Charts</h2>\n");
    for (file, title) in charts {
        let _ = writeln!(
            s,
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
            esc(file),
            esc(title),
            esc(title)
        );
    }
    for r in runs {
        // The details of each run; its answers are at the top.
        let mut d = super::doc::Doc::default();
        d.push(super::doc::Block::Title(format!(
            "threadfork run {}",
            r.run.id
        )));
        super::summary::details(&mut d, r);
        s.push_str(&super::doc::html(&d));
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_a_results_file_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
