//! `index.html` beside the charts: the machine, the summary tables, every chart, and for
//! several runs a side-by-side table. Self-contained: no script, no font or style from the
//! network, so it opens from disk anywhere.

use std::fmt::Write;

use crate::results::{Key, Results};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline Markdown of our own summaries: **bold** only.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split("**").enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<strong>{part}</strong>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Converts the Markdown that [`super::summary::render`] writes (headings, lists, pipe
/// tables, paragraphs) to HTML.
pub fn markdown_to_html(md: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    let mut table: Vec<Vec<String>> = Vec::new();
    let flush_table = |table: &mut Vec<Vec<String>>, out: &mut String| {
        if table.is_empty() {
            return;
        }
        out.push_str("<table>\n");
        for (i, row) in table.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        table.clear();
    };
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with('|') {
            if t.starts_with("|---") || t.starts_with("|:--") {
                continue;
            }
            let cells = t
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            table.push(cells);
            continue;
        }
        flush_table(&mut table, &mut out);
        if let Some(item) = t.strip_prefix("- ") {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(out, "<li>{}</li>", inline(item));
            continue;
        }
        if in_list {
            out.push_str("</ul>\n");
            in_list = false;
        }
        if let Some(h) = t.strip_prefix("## ") {
            let _ = writeln!(out, "<h2>{}</h2>", inline(h));
        } else if let Some(h) = t.strip_prefix("# ") {
            let _ = writeln!(out, "<h1>{}</h1>", inline(h));
        } else if !t.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(t));
        }
    }
    flush_table(&mut table, &mut out);
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
.machine td{text-align:left}";

fn machine_table(runs: &[Results]) -> String {
    let mut s = String::from("<table class=\"machine\">\n<tr><th></th>");
    for r in runs {
        let _ = write!(s, "<th>run {}</th>", esc(&r.run.id));
    }
    s.push_str("</tr>\n");
    type Row = (&'static str, fn(&Results) -> String);
    let rows: [Row; 10] = [
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
            super::format::bytes(r.machine.memory_bytes as f64)
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
    for r in runs {
        let _ = write!(s, "<th>{}</th>", esc(&super::charts::run_label(r)));
    }
    s.push_str("</tr>\n");
    for k in keys {
        let (w, model, v, n, metric, params) = &k;
        let params: Vec<String> = params.iter().map(|(a, b)| format!("{a}={b}")).collect();
        let _ = write!(
            s,
            "<tr><td>{w} / {model} / {v} / {n} / {}</td><td>{metric}</td>",
            esc(&params.join(" "))
        );
        for r in runs {
            let cell = r
                .measurements
                .iter()
                .find(|m| m.key() == k)
                .map_or("–".into(), |m| super::format::value(m.median, &m.unit));
            let _ = write!(s, "<td>{}</td>", esc(&cell));
        }
        s.push_str("</tr>\n");
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
    if runs.len() > 1 {
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
        // The summary's own heading names the run.
        s.push_str(&markdown_to_html(&super::summary::render(r)));
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_tables_lists_and_headings_convert() {
        let html = markdown_to_html(
            "# T\n\n| a | b |\n|---|---:|\n| 1 | **2** |\n\n- x < y\n- z\n\ntext\n",
        );
        assert!(html.contains("<h1>T</h1>"));
        assert!(html.contains("<tr><th>a</th><th>b</th></tr>"));
        assert!(html.contains("<td><strong>2</strong></td>"));
        assert!(html.contains("<li>x &lt; y</li>"));
        assert!(html.contains("<p>text</p>"));
    }
}
