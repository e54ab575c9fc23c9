//! The `compare` report as plain text and as Markdown.

use std::fmt::Write;

use crate::compare::*;
use crate::units as format;

pub(crate) fn signed_pct(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:+.1}%", 100.0 * (ratio - 1.0))
    } else {
        "–".into()
    }
}

pub(crate) fn header_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if !r.failed.is_empty() {
        lines.push(format!(
            "FAILED in the current run ({}): {}",
            r.failed.len(),
            r.failed.join("; ")
        ));
    }
    if !r.missing().is_empty() {
        lines.push(format!(
            "MISSING from the current run ({} keys the baseline has): {}",
            r.missing().len(),
            r.missing().join("; ")
        ));
    }
    if !r.baselines.is_empty() {
        lines.push(format!(
            "baseline: {} runs of machine {}, {} … {}",
            r.baselines.len(),
            r.base.machine_id,
            r.baselines[0].started_at,
            r.base.started_at
        ));
    }
    lines.extend([
        format!(
            "base:    {} (run {}, machine {}, {})",
            r.base.file.display(),
            r.base.run_id,
            r.base.machine_id,
            r.base.started_at
        ),
        format!(
            "current: {} (run {}, machine {}, {})",
            r.current.file.display(),
            r.current.run_id,
            r.current.machine_id,
            r.current.started_at
        ),
    ]);
    lines.extend(method_lines(r));
    lines.push(verdict_line(r));
    lines
}

/// What the comparison was judged on: ratios or absolutes, the spread or noise the keys had
/// to clear, exact counts, the unconfirmed keys.
fn method_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(r.settings_differ.iter().cloned());
    if r.mode == crate::compare::Mode::Ratios {
        lines.push(
            "The runs come from different machines: compared on machine-independent ratios \
             (speedup, efficiency, startup ratios, heap bytes); absolute figures were not judged \
             (--absolute to judge them)."
                .into(),
        );
    }
    if let Some(pool) = r.between_run_sigma {
        lines.push(format!(
            "Each key held by {MIN_BASELINE_RUNS} or more baseline runs is judged against its own \
             spread between them (median σ {:.1}% over the keys; a change must exceed {NOISE_SIGMAS}× \
             the spread a new run is expected to show, and the threshold).",
            100.0 * pool
        ));
    } else if r.effective_threshold > r.threshold + 1e-9 {
        lines.push(format!(
            "These two runs differ by {:.1}% from key to key (robust σ of the changes): changes \
             under {:.1}% (4σ) cannot be told from that noise and are not judged; the \
             threshold asked for was {:.1}%.",
            100.0 * r.noise_sigma,
            100.0 * r.effective_threshold,
            100.0 * r.threshold
        ));
    }
    if r.comparisons.iter().any(is_exact) {
        lines.push(format!(
            "Instruction counts are exact (two counts of one build repeat): any change beyond \
             {:.1}% is judged (--instructions-threshold).",
            100.0 * r.instructions_threshold
        ));
    }
    if r.fixed_for_the_run > 0 {
        lines.push(format!(
            "{} peak RSS figure(s) of process pools listed, not judged: the private memory of a \
             pool's long-lived workers is one value for the whole run (every sample repeats it), \
             and where it falls — a page more or less copied on write — is settled once per \
             pool; fewer than {WELL_KNOWN_RUNS} baseline runs cannot tell its change from that.",
            r.fixed_for_the_run
        ));
    }
    if r.unconfirmed > 0 {
        lines.push(format!(
            "{} unconfirmed: worse beyond their own noise, but a key whose group (same \
             workload, model and metric at every worker count) did not regress, or, against \
             fewer than {WELL_KNOWN_RUNS} baseline runs, a group that moved alone (under \
             {GROUP_ALONE_SIGMAS}σ, no other model of its workload and metric worse) — listed, \
             not failed.",
            r.unconfirmed
        ));
    }
    lines
}

/// The counts of each verdict, at the threshold the keys were judged at.
fn verdict_line(r: &Report) -> String {
    // The threshold said is the one the keys were judged at: counts only, timed only, or both.
    let exact = r.comparisons.iter().filter(|c| is_exact(c)).count();
    let at = match (exact, r.comparisons.len() - exact) {
        (0, _) => format!("a {:.1}% threshold", 100.0 * r.threshold),
        (_, 0) => format!(
            "a {:.1}% threshold (--instructions-threshold)",
            100.0 * r.instructions_threshold
        ),
        _ => format!(
            "{:.1}% (timed figures) and {:.1}% (instruction counts) thresholds",
            100.0 * r.threshold,
            100.0 * r.instructions_threshold
        ),
    };
    format!(
        "{} regressed, {} improved, {} unchanged at {at}. Each change is current ÷ base \
         of the medians with its bootstrap interval at {:.3}% (family-wise 95% over the keys \
         judged); a verdict needs the whole interval beyond the threshold.",
        r.regressed,
        r.improved,
        r.unchanged,
        100.0 * r.confidence
    )
}

pub(crate) fn row_cells(c: &Comparison) -> [String; 8] {
    [
        c.verdict.name().to_string(),
        c.case(),
        c.label.clone(),
        if c.raw_unit == "ratio" {
            format!("{:.3}", c.base_raw)
        } else {
            format::value(c.base_raw, &c.raw_unit)
        },
        if c.raw_unit == "ratio" {
            format!("{:.3}", c.current_raw)
        } else {
            format::value(c.current_raw, &c.raw_unit)
        },
        signed_pct(c.ratio),
        format!(
            "{} … {}",
            signed_pct(c.ratio_ci95[0]),
            signed_pct(c.ratio_ci95[1])
        ),
        if c.p_value.is_finite() {
            format!("{:.3}", c.p_value)
        } else {
            "–".into()
        },
    ]
}

pub(crate) const HEADERS: [&str; 8] = [
    "verdict", "case", "metric", "base", "current", "change", "interval", "p",
];

/// A plain-text table for a terminal, worst first.
pub fn render_text(r: &Report) -> String {
    let mut s = header_lines(r).join("\n");
    s.push_str("\n\n");
    let rows: Vec<[String; 8]> = r.comparisons.iter().map(row_cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i >= 3 {
                l.push_str(&" ".repeat(pad));
                l.push_str(cell);
            } else {
                l.push_str(cell);
                l.push_str(&" ".repeat(pad));
            }
            l.push_str("  ");
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(s, "{}", line(&HEADERS.map(String::from)));
    for row in &rows {
        let _ = writeln!(s, "{}", line(row));
    }
    only_lists(&mut s, r);
    s
}

pub(crate) fn only_lists(s: &mut String, r: &Report) {
    for (title, list) in [
        ("only in base", &r.only_in_base),
        ("only in current", &r.only_in_current),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "\n{title} (not judged):");
            for item in list {
                let _ = writeln!(s, "  {item}");
            }
        }
    }
}

/// A Markdown table for a CI step summary or a pull-request comment.
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::from("## threadfork compare\n\n");
    for l in header_lines(r) {
        let _ = writeln!(s, "{l}  ");
    }
    s.push('\n');
    let _ = writeln!(s, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---|---:|");
    for c in &r.comparisons {
        let mut cells = row_cells(c);
        if c.verdict == Judgement::Regressed {
            cells[0] = "**regressed**".into();
        }
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    only_lists(&mut s, r);
    s
}
