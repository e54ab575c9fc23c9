//! An A/B job's page: `index.html` beside its results file, with a chart of every group row's
//! change (head ÷ base, worse to the right) and its interval, the threshold marked, and every
//! row in a table. Self-contained: plain SVG and HTML, nothing from the network.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::ab::judge::Call;
use crate::compare::ab::report::{AbResults, Row};
use crate::export::doc::esc;
use crate::results::Better;

/// Width of the label column and of the plot, in pixels.
const LABEL_W: f64 = 430.0;
const PLOT_W: f64 = 420.0;
const ROW_H: f64 = 22.0;

fn colour(call: Call) -> &'static str {
    match call {
        Call::Regressed => "#c0392b",
        Call::Improved => "#1e8449",
        Call::Undecided => "#b9770e",
        Call::Unchanged => "#566573",
    }
}

/// How much worse head is, as a fraction, for a ratio of the figure (head ÷ base).
fn worse(row: &Row, ratio: f64) -> f64 {
    match row.better {
        Better::Lower => ratio - 1.0,
        Better::Higher => 1.0 / ratio - 1.0,
    }
}

/// The forest plot of `rows`: one line each, the centre a dot, the interval a bar.
pub fn svg(rows: &[&Row], threshold: f64) -> String {
    let spans: Vec<(f64, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let [a, b] = r.ratio_interval?;
            let (lo, hi) = (worse(r, a), worse(r, b));
            Some((worse(r, r.ratio?), lo.min(hi), lo.max(hi)))
        })
        .collect();
    // The axis: at least ±3 thresholds, at most ±50%, so one wild row does not flatten all.
    let reach = spans
        .iter()
        .flat_map(|s| [s.1.abs(), s.2.abs()])
        .fold(3.0 * threshold, f64::max)
        .min(0.5);
    let x = |v: f64| LABEL_W + PLOT_W * (v.clamp(-reach, reach) + reach) / (2.0 * reach);
    let height = ROW_H * (rows.len() as f64 + 2.5);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">",
        w = LABEL_W + PLOT_W + 20.0
    );
    let bottom = height - ROW_H;
    for (v, dash) in [(0.0, ""), (threshold, "4 3"), (-threshold, "4 3")] {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#999\" stroke-dasharray=\"{dash}\"/>",
            x(v),
            ROW_H * 0.5,
            bottom
        );
    }
    for v in [-reach, -reach / 2.0, 0.0, reach / 2.0, reach] {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{:+.0}%</text>",
            x(v),
            bottom + 15.0,
            v * 100.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">head worse than base →</text>",
        x(reach / 2.0),
        ROW_H * 0.5
    );
    for (i, r) in rows.iter().enumerate() {
        let y = ROW_H * (i as f64 + 1.5);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} · {}</text>",
            LABEL_W - 8.0,
            y + 4.0,
            esc(&r.label),
            esc(r.metric.name())
        );
        let (Some(ratio), Some([a, b])) = (r.ratio, r.ratio_interval) else {
            continue;
        };
        let (lo, hi) = (worse(r, a).min(worse(r, b)), worse(r, a).max(worse(r, b)));
        let c = colour(r.call);
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{c}\" stroke-width=\"2\"/><circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{c}\"><title>{}: {:+.2}% ({})</title></circle>",
            x(lo),
            x(hi),
            x(worse(r, ratio)),
            esc(&r.label),
            worse(r, ratio) * 100.0,
            r.call.name()
        );
    }
    s.push_str("</svg>");
    s
}

/// Writes `index.html` into `dir` (made if needed); returns its path.
pub fn write_page(r: &AbResults, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let groups: Vec<&Row> = r.rows.iter().filter(|x| x.group).collect();
    let keys: Vec<&Row> = r.rows.iter().filter(|x| !x.group).collect();
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>threadfork ab</title><style>body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.2em .5em}td.n{text-align:right}</style></head><body>",
    );
    let _ = write!(
        h,
        "<h1>threadfork ab {}</h1><p>{} · {} · base <code>{}</code> ({}) · head <code>{}</code> ({}) · threshold {:.1}% · {:.0} s</p>",
        esc(&r.id),
        esc(&r.machine.cpu_brand),
        esc(&r.machine.hostname),
        esc(&r.base.exe.display().to_string()),
        esc(&r.base.commit),
        esc(&r.head.exe.display().to_string()),
        esc(&r.head.commit),
        r.threshold * 100.0,
        r.duration_s
    );
    let verdict = if r
        .gated()
        .any(|x| x.call == crate::compare::ab::judge::Call::Regressed)
        || !r.failures.is_empty()
    {
        "regressed"
    } else if !r.undecided_gated().is_empty() {
        "inconclusive: gated rows undecided"
    } else {
        "no regression beyond the threshold"
    };
    let _ = write!(
        h,
        "<h2>Verdict: {verdict}</h2><p>Each row: how much worse the head build is than the base (the Hodges–Lehmann centre of its pairs, a dot) with its interval (a bar); dashed lines at ± the threshold. Red regressed, amber undecided, green improved, grey unchanged.</p><h2>Groups</h2>{}",
        svg(&groups, r.threshold)
    );
    let _ = write!(
        h,
        "<h2>Every row</h2><table><tr><th>row</th><th>metric</th><th>head ÷ base</th><th>interval</th><th>worse by</th><th>pairs</th><th>verdict</th></tr>"
    );
    for x in groups.iter().chain(&keys) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td style=\"color:{}\">{}</td></tr>",
            esc(&x.label),
            esc(x.metric.name()),
            x.ratio.map_or("–".into(), |v| format!("{v:.4}")),
            x.ratio_interval
                .map_or("–".into(), |[a, b]| format!("{a:.4} – {b:.4}")),
            x.worse_pct.map_or("–".into(), |w| format!("{w:+.2}%")),
            x.pairs,
            colour(x.call),
            x.call.name()
        );
    }
    h.push_str("</table>");
    if !r.failures.is_empty() {
        h.push_str("<h2>Failed cases</h2><ul>");
        for f in &r.failures {
            let _ = write!(
                h,
                "<li>{}: {}</li>",
                esc(&f.case.to_string()),
                esc(&f.reason)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    let path = dir.join("index.html");
    crate::results::io::write_atomic(&path, h.as_bytes())?;
    Ok(path)
}
