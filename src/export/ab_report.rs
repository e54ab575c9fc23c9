//! An A/B job as a reader sees it: Markdown (terminal, CI step summary, pull-request
//! comment) and the JSON verdict.

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::ab::judge::Call;
use crate::compare::ab::report::{AbResults, Key, Row, SCHEMA, SideInfo};

fn side_line(name: &str, s: &SideInfo) -> String {
    let injected = s
        .injected
        .as_ref()
        .map(|i| format!(", slowdown injected: {i}"))
        .unwrap_or_default();
    let build = s
        .build
        .as_ref()
        .map(|b| format!("{}; ", b.describe()))
        .unwrap_or_default();
    format!(
        "- {name}: `{}` ({build}threadfork {}, commit {}{injected})",
        s.exe.display(),
        s.harness,
        s.commit
    )
}

fn row_line(r: &Row) -> String {
    let ratio = r.ratio.map_or("–".into(), |x| format!("{x:.4}"));
    let interval = r
        .ratio_interval
        .map_or("too few pairs".into(), |[a, b]| format!("{a:.4} – {b:.4}"));
    let worse = r.worse_pct.map_or("–".into(), |w| format!("{w:+.2}%"));
    format!(
        "| {} | {} | {ratio} | {interval} | {worse} | {} | {} |",
        r.label,
        r.metric,
        r.pairs,
        r.call.name()
    )
}

const TABLE_HEAD: &str = "| row | metric | head ÷ base | interval | worse by | pairs | verdict |\n|---|---|---:|---|---:|---:|---|\n";

/// Where the job's time went.
fn time_line(p: &crate::compare::ab::report::Phases) -> String {
    let more = if p.more_rounds > 0 {
        format!(
            " ({} round(s) past the planned pairs, of the cases not yet decided)",
            p.more_rounds
        )
    } else {
        String::new()
    };
    format!(
        "Time: {:.0} s starting both sides, {:.0} s mapping parent memory, {:.0} s of start-up pairs, {:.0} s calibrating, {:.0} s of task pairs{more}.",
        p.hello_s, p.hold_s, p.startup_s, p.calibration_s, p.task_s
    )
}

/// Where the start-ups were taken: each side's serve process, as the parent at the start-ups
/// from no ballast — its resident and mapped memory and threads (medians over the pairs).
fn lean_line(r: &AbResults) -> Option<String> {
    let lean: Vec<&Key> = r
        .keys
        .iter()
        .filter(|k| k.case.params.get("parent_rss") == Some(&0) && !k.base_parent.is_empty())
        .collect();
    let side = |pick: fn(&Key) -> &Vec<[u64; 3]>| {
        let at = |i: usize| {
            let mut v: Vec<u64> = lean.iter().flat_map(|k| pick(k)).map(|p| p[i]).collect();
            v.sort_unstable();
            v.get(v.len() / 2).copied()
        };
        Some(format!(
            "{} resident, {} mapped, {} thread(s)",
            crate::units::bytes(at(0)? as f64),
            crate::units::bytes(at(1)? as f64),
            at(2)?
        ))
    };
    Some(format!(
        "Start-ups are taken in each side's serve process, a fresh process of its own build \
         that runs nothing else; as the parent of a start-up from no ballast (medians): base \
         {}; head {}.",
        side(|k| &k.base_parent)?,
        side(|k| &k.head_parent)?
    ))
}

/// The threshold, with the metrics of gated rows judged by a larger bar of their own:
/// "1% (startup and roundtrip: 5%)".
fn bars(r: &AbResults) -> String {
    let mut own: Vec<(f64, String)> = Vec::new();
    for row in r.gated().filter(|x| x.threshold > r.threshold) {
        let name = row.metric.to_string();
        if !own.iter().any(|(t, n)| *t == row.threshold && *n == name) {
            own.push((row.threshold, name));
        }
    }
    let mut text = pct(r.threshold);
    let mut levels: Vec<f64> = own.iter().map(|o| o.0).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    for t in levels {
        let names: Vec<&str> = (own.iter())
            .filter(|o| o.0 == t)
            .map(|o| o.1.as_str())
            .collect();
        text.push_str(&format!(" ({}: {})", names.join(" and "), pct(t)));
    }
    text
}

/// The headline: regressed, inconclusive (which gated rows, and what would decide them) or
/// no regression — said only when every gated row is unchanged or improved.
fn verdict(r: &AbResults) -> String {
    let count = |c: Call| r.gated().filter(|x| x.call == c).count();
    let gated = r.gated().count();
    let (reg, und) = (count(Call::Regressed), count(Call::Undecided));
    let informative = r.rows.len() - gated;
    if reg > 0 || !r.failures.is_empty() {
        format!(
            "**Verdict: regressed** — {reg} of {gated} gated row(s) worse beyond {}, {} failed case(s)",
            bars(r),
            r.failures.len()
        )
    } else if und > 0 {
        format!(
            "**Verdict: inconclusive** — {und} of {gated} gated row(s) undecided: {} (exit {})",
            r.undecided_lines().join("; "),
            r.exit_code()
        )
    } else {
        format!(
            "**Verdict: no regression beyond {}** — every gated row unchanged or improved ({} unchanged, {} improved; {informative} more row(s) listed below, informative only)",
            bars(r),
            count(Call::Unchanged),
            count(Call::Improved),
        )
    }
}

/// The job in Markdown: the verdict first, then what regressed, failed or stayed undecided,
/// then every group row and every key.
pub fn markdown(r: &AbResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# threadfork ab {}\n", r.id);
    let m = &r.machine;
    let _ = writeln!(
        s,
        "{} · {} · {} logical cores ({} allowed) · took {:.0} s{}\n",
        m.hostname,
        m.cpu_brand,
        m.logical_cores,
        m.allowed_cpus.len(),
        r.duration_s,
        if r.incomplete {
            " · **incomplete (interrupted)**"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "{}\n", time_line(&r.phases));
    if let Some(line) = r.interference.line() {
        let _ = writeln!(s, "{line}\n");
    }
    if let Some(line) = lean_line(r) {
        let _ = writeln!(s, "{line}\n");
    }
    if let (Some(a), Some(b)) = (&r.base.build, &r.head.build)
        && let Some(why) = crate::compare::ab::build::same_build(a, b)
    {
        let _ = writeln!(s, "**{why}.**\n");
    }
    let _ = writeln!(s, "{}", side_line("base (A)", &r.base));
    let _ = writeln!(s, "{}\n", side_line("head (B)", &r.head));
    let verdict = verdict(r);
    let _ = writeln!(
        s,
        "{verdict}. Pairs of adjacent samples, order alternating (ABBA); each row is the Hodges–Lehmann centre of its pairs' ratios with the signed-rank interval; regressed and improved called under a {:.0}% family-wise error rate (Holm), unchanged when a row's own {:.0}% interval rules out the threshold.\n",
        r.alpha * 100.0,
        (1.0 - crate::compare::ab::judge::UNCHANGED_ALPHA) * 100.0
    );
    if !r.failures.is_empty() {
        let _ = writeln!(s, "## Failed cases\n");
        for f in &r.failures {
            let _ = writeln!(s, "- {}: {}", f.case, f.reason);
        }
        s.push('\n');
    }
    for (title, call) in [
        ("Regressed", Call::Regressed),
        ("Undecided", Call::Undecided),
    ] {
        let rows: Vec<&Row> = r.rows.iter().filter(|x| x.call == call).collect();
        if !rows.is_empty() {
            let _ = writeln!(s, "## {title}\n\n{TABLE_HEAD}{}\n", lines(&rows));
        }
    }
    let groups: Vec<&Row> = r.rows.iter().filter(|x| x.group).collect();
    let _ = writeln!(s, "## Groups\n\n{TABLE_HEAD}{}\n", lines(&groups));
    let keys: Vec<&Row> = r.rows.iter().filter(|x| !x.group).collect();
    let _ = writeln!(s, "## Keys\n\n{TABLE_HEAD}{}", lines(&keys));
    if !r.left_out.is_empty() {
        let _ = writeln!(
            s,
            "\nNot measured by ab: {} (studies run only in `run`).",
            r.left_out.join(", ")
        );
    }
    s
}

fn lines(rows: &[&Row]) -> String {
    rows.iter()
        .map(|r| row_line(r))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn pct(x: f64) -> String {
    format!("{}%", (x * 1000.0).round() / 10.0)
}

/// The verdict as JSON: exit code, every row, the failures.
pub fn json(r: &AbResults, path: Option<&Path>) -> serde_json::Value {
    serde_json::json!({
        "schema": SCHEMA,
        "id": r.id,
        "exit": r.exit_code(),
        "duration_s": r.duration_s,
        "gated": r.gated().map(|x| x.label.as_str()).collect::<Vec<_>>(),
        "undecided_gated": r.undecided_lines(),
        "threshold": r.threshold,
        "alpha": r.alpha,
        "incomplete": r.incomplete,
        "interference": r.interference,
        "base": r.base,
        "head": r.head,
        "rows": r.rows,
        "failures": r.failures,
        "results": path,
    })
}
