//! A machine's history as a reader sees it: each change point in words, newest first, with
//! the runs and commits around it (text, Markdown, JSON, JUnit), and a page with one chart per
//! series that changed, the change points marked, and a table of the rest.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::charts::{self, Axis, Chart, Legend, Line, Look, Pt};
use super::doc::esc;
use crate::compare::history::{Found, History, Run};

/// "run 17 (commit abc1234, 2026-12-03 07:12)": runs are counted from 1.
fn run_words(h: &History, i: usize) -> String {
    let r: &Run = &h.runs[i];
    let when = r.started_at.replace('T', " ");
    format!(
        "run {} (commit {}, {})",
        i + 1,
        short(&r.commit),
        when.get(..16).unwrap_or(&when)
    )
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The commits between the last run before a change and the first after it, as git names
/// them where a repository is at hand: what to bisect.
fn between(h: &History, c: &Found) -> String {
    let (a, b) = (&h.runs[c.last_before].commit, &h.runs[c.first_after].commit);
    if a == b {
        return "the same commit (the change is the machine's, not the code's)".into();
    }
    let clean = |s: &str| s.trim_end_matches("-dirty").to_string();
    let range = format!("{}..{}", short(&clean(a)), short(&clean(b)));
    let count = std::process::Command::new("git")
        .args([
            "rev-list",
            "--count",
            &format!("{}..{}", clean(a), clean(b)),
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match count {
        Some(n) => format!("{range} ({n} commit(s): `git log {range}`)"),
        None => range,
    }
}

/// One change point in words.
pub fn line(h: &History, c: &Found) -> String {
    format!(
        "`{}` in {}: {:+.1}% (interval {:+.1} … {:+.1}%, {}) from {} on{}; last before: {}; commits between: {}",
        c.label,
        h.series[c.series].unit,
        c.change_pct,
        c.interval_pct[0],
        c.interval_pct[1],
        if c.worse { "worse" } else { "better" },
        run_words(h, c.first_after),
        if c.steady { ", steady since" } else { "" },
        run_words(h, c.last_before),
        between(h, c)
    )
}

/// The report in `format` (text, markdown, json or junit).
pub fn render(h: &History, format: &str, threshold: f64, window: usize, code: u8) -> String {
    match format {
        "json" => json(h, threshold, window, code),
        "junit" => junit(h, threshold, window),
        _ => words(h, threshold, window, code),
    }
}

fn words(h: &History, threshold: f64, window: usize, code: u8) -> String {
    let mut s = String::new();
    let (first, last) = (&h.runs[0], &h.runs[h.runs.len() - 1]);
    let _ = writeln!(
        s,
        "# threadfork history: {} runs of {} ({})\n\n{} … {}; {} series (keys and groups); change points by robust binary segmentation, each series at {:.0}% family-wise.\n",
        h.runs.len(),
        h.machine,
        h.cpu,
        first.started_at,
        last.started_at,
        h.series.len(),
        h.alpha * 100.0
    );
    let changes = h.newest_first();
    if changes.is_empty() {
        let _ = writeln!(s, "No change point in any series.");
    } else {
        let _ = writeln!(s, "## Change points, newest first\n");
        for c in changes {
            let _ = writeln!(s, "- {}", line(h, c));
        }
    }
    let _ = writeln!(
        s,
        "\nGate: {} (exit {code}): a change for the worse beyond {:.1}% whose first run is among the newest {window}.",
        if code == 1 {
            "regressed"
        } else {
            "no new regression"
        },
        threshold * 100.0
    );
    reach_words(&mut s, h, threshold, window);
    s
}

/// Each series' reach: (its index, its smallest step the gate fails for, in per cent),
/// widest reach last.
fn reach(h: &History, window: usize) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = (0..h.series.len())
        .map(|i| (i, h.gate_reach_pct(i, window)))
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

/// How many series can fail the gate for a step of the threshold, and the ones that cannot:
/// a series too noisy for the gate is said, not passed in silence.
fn reach_words(s: &mut String, h: &History, threshold: f64, window: usize) {
    let all = reach(h, window);
    let short_of: Vec<&(usize, f64)> = all.iter().filter(|r| r.1 > threshold * 100.0).collect();
    let _ = writeln!(
        s,
        "Reach: {} of {} series can fail it for a step of {:.1}% (about 9 times in 10, by their run-to-run noise); {}",
        all.len() - short_of.len(),
        all.len(),
        threshold * 100.0,
        if short_of.is_empty() {
            "every series can.".to_string()
        } else {
            "the rest only for bigger steps (a wider --window, or steadier runs, brings them in):"
                .to_string()
        }
    );
    for &&(i, pct) in short_of.iter().rev().take(5) {
        let x = &h.series[i];
        let _ = writeln!(
            s,
            "- `{}`: run-to-run noise {:.1}%, fails it for {:.0}% or more",
            x.label, x.noise_pct, pct
        );
    }
    if short_of.len() > 5 {
        let _ = writeln!(
            s,
            "- and {} more (`--json` gives each series' reach)",
            short_of.len() - 5
        );
    }
}

fn json(h: &History, threshold: f64, window: usize, code: u8) -> String {
    let changed: Vec<usize> = h.changes.iter().map(|c| c.series).collect();
    let v = serde_json::json!({
        "schema": "threadfork/history/v1",
        "machine": h.machine,
        "cpu": h.cpu,
        "runs": h.runs,
        "threshold": threshold,
        "window": window,
        "alpha": h.alpha,
        "exit": code,
        "series": h.series.iter().map(|s| &s.label).collect::<Vec<_>>(),
        "reach": reach(h, window).iter().map(|&(i, pct)| serde_json::json!({
            "series": h.series[i].label,
            "unit": h.series[i].unit,
            "noise_pct": h.series[i].noise_pct,
            "fails_for_pct": pct,
        })).collect::<Vec<_>>(),
        "changes": h.newest_first(),
        "changed_series": h.series.iter().enumerate()
            .filter(|(i, _)| changed.contains(i))
            .map(|(_, s)| s)
            .collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn junit(h: &History, threshold: f64, window: usize) -> String {
    let newest = h.runs.len().saturating_sub(window);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failing = |i: usize| {
        h.changes.iter().find(|c| {
            c.series == i
                && c.worse
                && c.change_pct.abs() >= threshold * 100.0
                && c.first_after >= newest
        })
    };
    let failures = (0..h.series.len())
        .filter(|&i| failing(i).is_some())
        .count();
    let _ = writeln!(
        s,
        "<testsuite name=\"threadfork history {}\" tests=\"{}\" failures=\"{failures}\">",
        esc(&h.machine),
        h.series.len()
    );
    for (i, x) in h.series.iter().enumerate() {
        let _ = write!(s, "  <testcase name=\"{}\"", esc(&x.label));
        match failing(i) {
            Some(c) => {
                let _ = writeln!(s, "><failure message=\"{}\"/></testcase>", esc(&line(h, c)));
            }
            None => s.push_str("/>\n"),
        }
    }
    s.push_str("</testsuite>\n");
    s
}

/// The most series drawn one chart each; the rest of the changed ones are in the table.
const MOST_CHARTS: usize = 60;

/// `index.html` and one chart per series with a change point (its medians ÷ the first run's,
/// the 95% intervals as bars, each change marked by a dashed line), then a table of the
/// change points and one of the other series.
pub fn write_page(h: &History, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut changed: Vec<usize> = h.changes.iter().map(|c| c.series).collect();
    changed.dedup();
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>threadfork history</title><style>body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.2em .5em}td.n{text-align:right}img{max-width:100%}</style></head><body>",
    );
    let _ = write!(
        page,
        "<h1>threadfork history: {}</h1><p>{} · {} runs, {} … {} · {} series</p><h2>Change points, newest first</h2>",
        esc(&h.machine),
        esc(&h.cpu),
        h.runs.len(),
        esc(&h.runs[0].started_at),
        esc(&h.runs[h.runs.len() - 1].started_at),
        h.series.len()
    );
    page.push_str("<table><tr><th>series</th><th>change</th><th>interval</th><th>from</th><th>last before</th></tr>");
    for c in h.newest_first() {
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{:+.1}%</td><td>{:+.1} … {:+.1}%</td><td>{}</td><td>{}</td></tr>",
            esc(&c.label),
            c.change_pct,
            c.interval_pct[0],
            c.interval_pct[1],
            esc(&run_words(h, c.first_after)),
            esc(&run_words(h, c.last_before))
        );
    }
    page.push_str("</table>");
    for &i in changed.iter().take(MOST_CHARTS) {
        let chart = series_chart(h, i);
        charts::draw(&chart, dir)?;
        let _ = write!(
            page,
            "<h3>{}</h3><img src=\"{}.png\" alt=\"{}\">",
            esc(&h.series[i].label),
            chart.stem,
            esc(&chart.title)
        );
    }
    page.push_str("<h2>The other series (no change point)</h2><table><tr><th>series</th><th>runs</th><th>first</th><th>last</th><th>last ÷ first</th><th>run-to-run noise</th></tr>");
    for (i, x) in h.series.iter().enumerate() {
        if changed.contains(&i) || x.points.is_empty() {
            continue;
        }
        let (a, b) = (x.points[0].1, x.points[x.points.len() - 1].1);
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{a:.4}</td><td class=\"n\">{b:.4}</td><td class=\"n\">{:.3}×</td><td class=\"n\">{:.1}%</td></tr>",
            esc(&x.label),
            x.points.len(),
            b / a,
            x.noise_pct
        );
    }
    page.push_str("</table></body></html>\n");
    let path = dir.join("index.html");
    crate::results::write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

/// One series over the runs, ÷ its first median, with its change points marked.
fn series_chart(h: &History, i: usize) -> Chart {
    let x = &h.series[i];
    let first = x.points[0].1;
    let points: Vec<Pt> = x
        .points
        .iter()
        .map(|(run, median, ci)| Pt {
            x: (*run + 1) as f64,
            y: median / first,
            lo: Some(ci[0] / first),
            hi: Some(ci[1] / first),
        })
        .collect();
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(p.lo.unwrap_or(p.y)), b.max(p.hi.unwrap_or(p.y)))
    });
    let mut lines = vec![Line {
        label: "median (95% interval), ÷ the first run's".into(),
        points,
        dashed: false,
        points_only: false,
        look: Look {
            colour: Some(0),
            mark: Some(0),
        },
    }];
    for c in h.changes.iter().filter(|c| c.series == i) {
        let at = c.first_after as f64 + 0.5;
        lines.push(Line {
            label: format!(
                "{:+.1}% from run {} ({})",
                c.change_pct,
                c.first_after + 1,
                short(&h.runs[c.first_after].commit)
            ),
            points: [lo, hi]
                .iter()
                .map(|&y| Pt {
                    x: at,
                    y,
                    lo: None,
                    hi: None,
                })
                .collect(),
            dashed: true,
            points_only: false,
            look: Look {
                colour: Some(if c.worse { 3 } else { 2 }),
                mark: None,
            },
        });
    }
    Chart {
        stem: format!("history-{i}"),
        title: x.label.clone(),
        caption: format!(
            "{} · {} runs · {} … {}",
            h.cpu,
            h.runs.len(),
            h.runs[0].started_at,
            h.runs[h.runs.len() - 1].started_at
        ),
        x_desc: "run".into(),
        y_desc: format!("median ÷ run 1's ({})", x.unit),
        x: Axis::Linear(charts::fmt_count),
        y: Axis::Linear(charts::fmt_ratio),
        categories: vec![],
        lines,
        legend: Legend::PerLine,
    }
}
