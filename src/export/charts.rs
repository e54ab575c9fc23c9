//! Charts drawn with plotters, as SVG and PNG, for any workload: throughput and efficiency
//! vs workers, start costs per model, each metric against a parameter that varies (parent
//! RSS, n), and the same charts overlaid for several runs. Every file is written atomically.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::summary::distinct;
use crate::results::derived::{self, ratio};
use crate::results::{Measurement, Metric, Results, write_atomic};
use crate::sweep::granularity;
use crate::units as format;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 600;
const FONT: &str = "sans-serif";
const LEGEND_WIDTH: u32 = 250;

/// Colour-blind-safe palette (Okabe & Ito, 2008), then darker fallbacks.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
    RGBColor(240, 200, 40),
    RGBColor(60, 60, 160),
    RGBColor(140, 70, 20),
];

/// Registers the bundled fonts under the generic family name plotters asks for; criterion's
/// own charts, drawn with the same plotters build, need it too.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The fonts are bundled, so charts look the same on every machine and need no
        // system font library.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// One point with an optional interval (drawn as an error bar).
#[derive(Clone, Copy, Debug)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Pt {
    fn of(x: f64, m: &Measurement) -> Pt {
        Pt {
            x,
            y: m.median,
            lo: Some(m.ci95[0]),
            hi: Some(m.ci95[1]),
        }
    }
}

/// A labelled series: a line through its points, or only points (raw samples).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<Pt>,
    pub dashed: bool,
    pub points_only: bool,
}

impl Line {
    /// A dashed reference line through `points` (an ideal, a perfect-scaling level).
    fn guide(label: &str, points: impl Iterator<Item = (f64, f64)>) -> Line {
        Line {
            label: label.into(),
            points: points
                .map(|(x, y)| Pt {
                    x,
                    y,
                    lo: None,
                    hi: None,
                })
                .collect(),
            dashed: true,
            points_only: false,
        }
    }
}

/// How an axis shows its values.
#[derive(Clone, Copy, Debug)]
pub enum Axis {
    Linear(fn(f64) -> String),
    Log(fn(f64) -> String),
    /// Categories at 0, 1, 2, … named by `Chart::categories`.
    Category,
}

/// Everything one chart needs.
#[derive(Clone, Debug)]
pub struct Chart {
    pub stem: String,
    pub title: String,
    pub caption: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x: Axis,
    pub y: Axis,
    pub categories: Vec<String>,
    pub lines: Vec<Line>,
}

fn fmt_count(v: f64) -> String {
    format::count(v.round().max(0.0) as u64)
}
/// Worker counts are whole numbers: ticks between them stay unlabelled.
fn fmt_workers(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}
fn fmt_rate(v: f64) -> String {
    format::rate(v, "ops/s")
}
fn fmt_ns(v: f64) -> String {
    format::ns(v)
}
fn fmt_bytes(v: f64) -> String {
    format::bytes(v)
}
fn fmt_ratio(v: f64) -> String {
    format!("{v:.2}")
}
fn fmt_speedup(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        format!("{v:.0e}×")
    } else {
        format!("{}×", format::sig3(v))
    }
}

/// The largest magnitude drawn: no measured figure comes near it, and past it plotters' tick
/// computation does not end (a results file held a median of 1.8e308).
const DRAWABLE: f64 = 1e18;

fn drawable(v: f64) -> bool {
    v.is_finite() && v.abs() <= DRAWABLE
}

fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|&v| drawable(v) && (!log || v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.6, hi * 1.6)
    } else {
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.05).max(1e-9);
        ((lo - pad).min(0.0_f64.max(lo - pad)), hi + pad)
    }
}

/// Draws `chart` into `dir` as `<stem>.svg` and `<stem>.png`; returns both paths.
pub fn draw(chart: &Chart, dir: &Path) -> Result<Vec<PathBuf>> {
    register_fonts();
    let svg_path = dir.join(format!("{}.svg", chart.stem));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        render(chart, &root).with_context(|| format!("drawing {}", chart.stem))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing {}: {e}", chart.stem))?;
    }
    write_atomic(&svg_path, svg.as_bytes())
        .with_context(|| format!("cannot write {}", svg_path.display()))?;
    let png_path = dir.join(format!("{}.png", chart.stem));
    // The bitmap encoder picks the format by extension: draw to a hidden .png, then rename.
    // Whatever fails, the hidden file goes.
    let tmp = dir.join(format!(
        ".tmp-{}-{:08x}-{}.png",
        std::process::id(),
        crate::stats::random_u64() as u32,
        chart.stem
    ));
    let drawn = (|| -> Result<()> {
        let root = BitMapBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area();
        render(chart, &root).with_context(|| format!("drawing {}", chart.stem))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", png_path.display()))?;
        std::fs::rename(&tmp, &png_path)
            .with_context(|| format!("cannot write {}", png_path.display()))
    })();
    if drawn.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    drawn?;
    Ok(vec![svg_path, png_path])
}

fn render<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("{e}");
    root.fill(&WHITE).map_err(err)?;
    let (plot, foot) = root.split_vertically(HEIGHT - 28);
    // The legend gets a panel of its own on the right, so it never covers the data.
    let (plot, legend) = plot.split_horizontally(WIDTH - LEGEND_WIDTH);
    foot.draw(&Text::new(
        chart.caption.clone(),
        (12, 6),
        (FONT, 14).into_font().color(&RGBColor(90, 90, 90)),
    ))
    .map_err(err)?;
    let xs = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.x));
    let ys = chart.lines.iter().flat_map(|l| {
        l.points
            .iter()
            .flat_map(|p| [Some(p.y), p.lo, p.hi])
            .flatten()
    });
    let x_log = matches!(chart.x, Axis::Log(_));
    let y_log = matches!(chart.y, Axis::Log(_));
    let (x0, x1) = match chart.x {
        Axis::Category => (-0.6, chart.categories.len() as f64 - 0.4),
        _ => bounds(xs, x_log),
    };
    let (y0, y1) = bounds(ys, y_log);
    let mut builder = ChartBuilder::on(&plot);
    builder
        .caption(&chart.title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(96);
    let cats = chart.categories.clone();
    let x_fmt = move |v: &f64| match chart.x {
        Axis::Linear(f) | Axis::Log(f) => f(*v),
        Axis::Category => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                cats.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
    };
    let y_fmt = |v: &f64| match chart.y {
        Axis::Linear(f) | Axis::Log(f) => f(*v),
        Axis::Category => String::new(),
    };
    macro_rules! body {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            let mut mesh = ctx.configure_mesh();
            mesh.y_labels(12)
                .x_desc(chart.x_desc.as_str())
                .y_desc(chart.y_desc.as_str())
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 16))
                .light_line_style(RGBColor(235, 235, 235));
            if matches!(chart.x, Axis::Category) {
                mesh.x_labels(chart.categories.len() * 2 + 1);
            }
            mesh.draw().map_err(err)?;
            for (i, line) in chart.lines.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let pts: Vec<(f64, f64)> = line
                    .points
                    .iter()
                    .filter(|p| drawable(p.x) && drawable(p.y) && (!y_log || p.y > 0.0))
                    .map(|p| (p.x, p.y))
                    .collect();
                let style = ShapeStyle::from(&color).stroke_width(2);
                let anno = if line.points_only {
                    ctx.draw_series(
                        pts.iter()
                            .map(|&p| Circle::new(p, 3, color.mix(0.7).filled())),
                    )
                    .map_err(err)?
                } else if line.dashed {
                    ctx.draw_series(DashedLineSeries::new(pts.clone(), 8, 6, style))
                        .map_err(err)?
                } else {
                    ctx.draw_series(LineSeries::new(pts.clone(), style))
                        .map_err(err)?;
                    ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                        .map_err(err)?
                };
                let _ = anno;
                let bars = line.points.iter().filter_map(|p| match (p.lo, p.hi) {
                    (Some(lo), Some(hi))
                        if hi > lo
                            && drawable(lo)
                            && drawable(hi)
                            && drawable(p.y)
                            && (!y_log || lo > 0.0) =>
                    {
                        Some(ErrorBar::new_vertical(
                            p.x,
                            lo,
                            p.y,
                            hi,
                            color.stroke_width(1),
                            8,
                        ))
                    }
                    _ => None,
                });
                ctx.draw_series(bars).map_err(err)?;
            }
        }};
    }
    draw_legend(chart, &legend).map_err(err)?;
    match (x_log, y_log) {
        (false, false) => body!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?),
        (false, true) => body!(
            builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(err)?
        ),
        (true, false) => body!(
            builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(err)?
        ),
        (true, true) => body!(
            builder
                .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                .map_err(err)?
        ),
    }
    Ok(())
}

/// One row per series in the right-hand panel: a swatch in the series' colour and style,
/// then its label, wrapped to the panel's width.
fn draw_legend<DB: DrawingBackend>(
    chart: &Chart,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut y = 60;
    let font = (FONT, 14).into_font();
    for (i, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if line.points_only {
            area.draw(&Circle::new((14, y), 4, color.filled()))?;
        } else if line.dashed {
            area.draw(&PathElement::new(
                vec![(4, y), (11, y)],
                color.stroke_width(3),
            ))?;
            area.draw(&PathElement::new(
                vec![(17, y), (24, y)],
                color.stroke_width(3),
            ))?;
        } else {
            area.draw(&PathElement::new(
                vec![(4, y), (24, y)],
                color.stroke_width(3),
            ))?;
        }
        for (k, part) in wrap(&line.label, 28).iter().enumerate() {
            area.draw(&Text::new(
                part.clone(),
                (32, y - 7 + 17 * k as i32),
                font.clone(),
            ))?;
            if k > 0 {
                y += 17;
            }
        }
        y += 24;
    }
    Ok(())
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// "machine · run id · date" under every chart.
pub fn caption(r: &Results) -> String {
    format!(
        "{} · {} · {} cores · run {} · {}{}",
        r.machine.hostname,
        r.machine.cpu_brand,
        r.machine.allowed_cpus.len(),
        r.run.id,
        r.run.started_at,
        if r.run.quick { " · quick" } else { "" }
    )
}

/// A short label for a run among several: machine and date.
pub fn run_label(r: &Results) -> String {
    format!(
        "{} {}",
        r.machine.hostname,
        r.run.started_at.replace('T', " ").trim_end_matches('Z')
    )
}

/// The workload's measurements of one metric, bare OS loops left out (they are context).
fn pick<'a>(r: &'a Results, workload: &'a str, metric: &'a str) -> Vec<&'a Measurement> {
    r.measurements
        .iter()
        .filter(|m| m.case.workload == workload && m.metric == metric && !derived::is_bare(m))
        .collect()
}

/// A parameter whose value differs between `ms`: the x axis of a chart of them.
fn varying_param(ms: &[&Measurement]) -> Option<String> {
    let keys = distinct(ms.iter().flat_map(|m| m.case.params.keys().cloned()));
    keys.into_iter()
        .find(|k| distinct(ms.iter().map(|m| m.param(k))).len() > 1)
}

/// How a parameter's values read on an axis: sizes in memory as bytes, the rest as counts.
fn param_axis(name: &str, values: &[u64]) -> Axis {
    let bytes = name.contains("rss") || name.contains("bytes");
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(1);
    match (bytes, min > 0 && max / min.max(1) >= 100) {
        (true, true) => Axis::Log(fmt_bytes),
        (true, false) => Axis::Linear(fmt_bytes),
        (false, true) => Axis::Log(fmt_count),
        (false, false) => Axis::Linear(fmt_count),
    }
}

fn y_axis(unit: &str, log: bool) -> Axis {
    let f: fn(f64) -> String = match unit {
        "ns" => fmt_ns,
        "bytes" => fmt_bytes,
        "ops/s" => fmt_rate,
        _ => fmt_ratio,
    };
    if log { Axis::Log(f) } else { Axis::Linear(f) }
}

fn series_label(m: &Measurement, variants: bool, workers: bool) -> String {
    let mut l = m.case.model.clone();
    if variants {
        l.push('/');
        l.push_str(&m.case.variant);
    }
    if workers {
        l.push_str(&format!(" ×{}", m.case.workers));
    }
    l
}

fn point(x: f64, m: &Measurement, log: bool) -> Pt {
    let mut p = Pt::of(x, m);
    if log {
        // A log axis has no zero: show "nothing" at its floor.
        p.y = p.y.max(1.0);
        p.lo = p.lo.map(|v| v.max(1.0));
        p.hi = p.hi.map(|v| v.max(1.0));
    }
    p
}

fn y_desc(metric: &str, unit: &str, op: &str) -> String {
    match (metric, unit) {
        ("throughput", _) => format!("{op} per second (median, 95% CI)"),
        (_, "ns") => format!("{} (median)", metric.replace('_', " ")),
        (_, "bytes") => format!("{} (median; 0 drawn at 1 B)", metric.replace('_', " ")),
        _ => metric.replace('_', " "),
    }
}

/// Throughput and efficiency against the worker count, one line per model and variant.
fn worker_charts(r: &Results, w: &str, ms: &[&Measurement], cap: &str, out: &mut Vec<Chart>) {
    let op = ms[0].op.clone().unwrap_or_else(|| "ops".into());
    let variants = distinct(ms.iter().map(|m| &m.case.variant)).len() > 1;
    let series = distinct(ms.iter().map(|m| (&m.case.model, &m.case.variant)));
    // A case with a figure beside its throughput that its verdict passed with (the updates
    // a lock-free race lost); a pool's start-up is listed beside it too, but loses nothing.
    let lossy = |m: &Measurement| {
        r.measurements
            .iter()
            .any(|x| x.info && x.case == m.case && x.metric != crate::sweep::rounds::POOL_START)
    };
    let mut lines: Vec<Line> = series
        .iter()
        .map(|(model, variant)| {
            let pts: Vec<&&Measurement> = ms
                .iter()
                .filter(|m| &&m.case.model == model && &&m.case.variant == variant)
                .collect();
            let dashed = pts.iter().any(|m| lossy(m));
            Line {
                label: format!(
                    "{}{}",
                    series_label(pts[0], variants, false),
                    if dashed { " (loses updates)" } else { "" }
                ),
                points: pts
                    .iter()
                    .map(|m| Pt::of(m.case.workers as f64, m))
                    .collect(),
                dashed,
                points_only: false,
            }
        })
        .collect();
    // Each fitted series' Universal Scalability Law curve, dashed, out to 8× the cores.
    let cores = r.machine.allowed_cpus.len().max(1);
    for f in crate::results::usl::fits(r)
        .iter()
        .filter(|f| f.workload == w)
    {
        let top = crate::results::usl::PREDICT_AT.last().copied().unwrap_or(1) * cores;
        lines.push(Line::guide(
            &format!("{}/{} USL prediction", f.model, f.variant),
            (1..=top).map(|n| (n as f64, f.at(n as f64))),
        ));
    }
    let medians: Vec<f64> = ms.iter().map(|m| m.median).filter(|v| *v > 0.0).collect();
    let spread = medians.iter().cloned().fold(0.0, f64::max)
        / medians.iter().cloned().fold(f64::INFINITY, f64::min);
    let log = spread > 20.0;
    let max_w = ms.iter().map(|m| m.case.workers).max().unwrap_or(1);
    if !variants
        && let Some(one) = ms
            .iter()
            .find(|m| m.case.model == "threads" && m.case.workers == 1)
    {
        lines.push(Line::guide(
            "ideal: threads at 1 worker × N",
            (1..=max_w).map(|k| (k as f64, one.median * k as f64)),
        ));
    }
    out.push(Chart {
        stem: format!("{w}-throughput"),
        title: format!("{w}: throughput vs workers"),
        caption: cap.into(),
        x_desc: "workers".into(),
        y_desc: format!(
            "{}{}",
            y_desc("throughput", "ops/s", &op),
            if log { ", log scale" } else { "" }
        ),
        x: Axis::Linear(fmt_workers),
        y: y_axis("ops/s", log),
        categories: vec![],
        lines,
    });
    if series.len() > 8 || max_w < 2 {
        return;
    }
    let mut eff: Vec<Line> = series
        .iter()
        .map(|(model, variant)| Line {
            label: format!(
                "{model}{}",
                if variants {
                    format!("/{variant}")
                } else {
                    String::new()
                }
            ),
            points: ms
                .iter()
                .filter(|m| &&m.case.model == model && &&m.case.variant == variant)
                .filter_map(|m| {
                    Some(Pt {
                        x: m.case.workers as f64,
                        y: ratio(&derived::efficiency_samples(r, m))?,
                        lo: None,
                        hi: None,
                    })
                })
                .collect(),
            dashed: false,
            points_only: false,
        })
        .filter(|l| !l.points.is_empty())
        .collect();
    eff.push(Line::guide(
        "perfect scaling",
        [(1.0, 1.0), (max_w as f64, 1.0)].into_iter(),
    ));
    out.push(Chart {
        stem: format!("{w}-efficiency"),
        title: format!("{w}: scaling efficiency vs workers"),
        caption: cap.into(),
        x_desc: "workers".into(),
        y_desc: "throughput(N) ÷ (N × throughput(1))".into(),
        x: Axis::Linear(fmt_workers),
        y: Axis::Linear(fmt_ratio),
        categories: vec![],
        lines: eff,
    });
}

/// Every sample of the start costs, one column per model, at the parameter's smallest value.
fn strip_chart(r: &Results, w: &str, cap: &str, out: &mut Vec<Chart>) {
    let starts = pick(r, w, "startup");
    let Some(lowest) = starts.iter().map(|m| &m.case.params).min() else {
        return;
    };
    let starts: Vec<&&Measurement> = starts.iter().filter(|m| &m.case.params == lowest).collect();
    let cats: Vec<String> = starts.iter().map(|m| m.case.model.clone()).collect();
    let strip = |metric: &str, offset: f64| -> Vec<Pt> {
        starts
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let m = pick(r, w, metric).into_iter().find(|m| m.case == s.case);
                m.into_iter().flat_map(move |m| {
                    let n = m.samples.len().max(1) as f64;
                    m.samples.iter().enumerate().map(move |(k, &y)| Pt {
                        x: i as f64 + offset + 0.12 * (k as f64 / n - 0.5),
                        y,
                        lo: None,
                        hi: None,
                    })
                })
            })
            .collect()
    };
    out.push(Chart {
        stem: format!("{w}-startup"),
        title: format!("{w}: start cost per model (every sample)"),
        caption: cap.into(),
        x_desc: "model".into(),
        y_desc: "time (log scale)".into(),
        x: Axis::Category,
        y: Axis::Log(fmt_ns),
        categories: cats,
        lines: vec![
            Line {
                label: "startup: request → first instruction".into(),
                points: strip("startup", -0.15),
                dashed: false,
                points_only: true,
            },
            Line {
                label: "roundtrip: start + run + join/reap".into(),
                points: strip("roundtrip", 0.15),
                dashed: false,
                points_only: true,
            },
        ],
    });
}

/// Each metric against the parameter that varies, one line per model, variant and width.
fn param_charts(w: &str, ms: &[&Measurement], param: &str, cap: &str, out: &mut Vec<Chart>) {
    let values: Vec<u64> = ms.iter().filter_map(|m| m.param(param)).collect();
    let x = param_axis(param, &values);
    let x_log = matches!(x, Axis::Log(_));
    let variants = distinct(ms.iter().map(|m| &m.case.variant)).len() > 1;
    let widths = distinct(ms.iter().map(|m| m.case.workers)).len() > 1;
    for metric in distinct(ms.iter().map(|m| m.metric.as_str())) {
        let of: Vec<&&Measurement> = ms.iter().filter(|m| m.metric == metric).collect();
        if of.iter().all(|m| m.info) {
            continue;
        }
        let unit = of[0].unit.clone();
        let op = of[0].op.clone().unwrap_or_else(|| "ops".into());
        let log = unit != "ops/s" || x_log;
        let labels = distinct(of.iter().map(|m| series_label(m, variants, widths)));
        let lines = labels
            .iter()
            .map(|l| Line {
                label: l.clone(),
                points: of
                    .iter()
                    .filter(|m| &series_label(m, variants, widths) == l)
                    .map(|m| point(m.param(param).unwrap_or(0) as f64, m, log))
                    .collect(),
                dashed: false,
                points_only: false,
            })
            .collect();
        out.push(Chart {
            stem: format!("{w}-{metric}-vs-{param}").replace('_', "-"),
            title: format!(
                "{w}: {} vs {}",
                metric.replace('_', " "),
                param.replace('_', " ")
            ),
            caption: cap.into(),
            x_desc: format!(
                "{}{}",
                param.replace('_', " "),
                if x_log { " (log scale)" } else { "" }
            ),
            y_desc: format!(
                "{}{}",
                y_desc(metric, &unit, &op),
                if log { ", log scale" } else { "" }
            ),
            x,
            y: y_axis(&unit, log),
            categories: vec![],
            lines,
        });
    }
}

/// The granularity sweep (`--work`): speedup over sequential against the task size, one
/// chart per worker count, one line per model, each model's break-even task size marked.
fn granularity_charts(r: &Results, w: &str, cap: &str, out: &mut Vec<Chart>) {
    let curves: Vec<granularity::Curve> = granularity::curves(r)
        .into_iter()
        .filter(|c| c.case.workload == w)
        .collect();
    let widths = distinct(curves.iter().map(|c| c.case.workers));
    for n in widths {
        let of: Vec<&granularity::Curve> = curves.iter().filter(|c| c.case.workers == n).collect();
        let variants = distinct(of.iter().map(|c| &c.case.variant)).len() > 1;
        let label = |c: &granularity::Curve| {
            if variants {
                format!("{}/{}", c.case.model, c.case.variant)
            } else {
                c.case.model.clone()
            }
        };
        let pt = |x: u64, y: f64| Pt {
            x: x as f64,
            y,
            lo: None,
            hi: None,
        };
        let mut lines: Vec<Line> = of
            .iter()
            .map(|c| Line {
                label: label(c),
                points: c.points.iter().map(|&(x, y)| pt(x, y)).collect(),
                dashed: false,
                points_only: false,
            })
            .collect();
        let marks: Vec<Pt> = of
            .iter()
            .filter_map(|c| Some(pt(c.crossing?.round() as u64, granularity::BEATS)))
            .collect();
        if !marks.is_empty() {
            lines.push(Line {
                label: format!("break-even (speedup crosses {}×)", granularity::BEATS),
                points: marks,
                dashed: false,
                points_only: true,
            });
        }
        let works: Vec<u64> = of
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0))
            .collect();
        let (lo, hi) = (
            works.iter().copied().min().unwrap_or(1) as f64,
            works.iter().copied().max().unwrap_or(1) as f64,
        );
        lines.push(Line::guide(
            "sequential (1×)",
            [(lo, 1.0), (hi, 1.0)].into_iter(),
        ));
        out.push(Chart {
            stem: format!("{w}-speedup-vs-work-{n}w"),
            title: format!("{w}: speedup over sequential vs task size, {n} workers"),
            caption: cap.into(),
            x_desc: "work per task (log scale)".into(),
            y_desc: "throughput ÷ sequential's at the same task size, log scale".into(),
            x: Axis::Log(fmt_count),
            y: Axis::Log(fmt_speedup),
            categories: vec![],
            lines,
        });
    }
}

/// The charts of one run: for each workload, what its measurements allow.
pub fn charts_for(r: &Results) -> Vec<Chart> {
    let cap = caption(r);
    let mut out = Vec::new();
    for w in r.workload_names() {
        let all: Vec<&Measurement> = r
            .measurements
            .iter()
            .filter(|m| m.case.workload == w && !derived::is_bare(m))
            .collect();
        if all.is_empty() {
            continue;
        }
        if all.iter().any(|m| m.is(Metric::Startup)) {
            strip_chart(r, &w, &cap, &mut out);
        }
        match varying_param(&all) {
            Some(param) => {
                param_charts(&w, &all, &param, &cap, &mut out);
                granularity_charts(r, &w, &cap, &mut out);
            }
            None => {
                // The pools get charts of their own (with sequential for reference): thirteen
                // lines on one chart are more than a reader can follow.
                let tp = pick(r, &w, "throughput");
                let is_pool = |m: &&Measurement| {
                    crate::api::Model::parse(&m.case.model).is_some_and(|m| m.pool().is_some())
                };
                let (pools, rest): (Vec<&Measurement>, Vec<&Measurement>) =
                    tp.into_iter().partition(is_pool);
                if !rest.is_empty() {
                    worker_charts(r, &w, &rest, &cap, &mut out);
                }
                if !pools.is_empty() {
                    let mut with_seq = pools;
                    with_seq.extend(rest.iter().filter(|m| m.case.model == "sequential"));
                    let first = out.len();
                    worker_charts(r, &w, &with_seq, &cap, &mut out);
                    for c in &mut out[first..] {
                        c.stem = c.stem.replacen(&w, &format!("{w}-pools"), 1);
                        c.title = c.title.replacen(&w, &format!("{w} on pools"), 1);
                    }
                }
            }
        }
    }
    out
}

/// The same charts for several runs overlaid: one colour per run, one chart per workload,
/// model and variant (throughput vs workers), or per workload, metric and model (a metric vs
/// the parameter that varies).
pub fn overlay_charts(runs: &[Results]) -> Vec<Chart> {
    let caption = format!(
        "{} runs: {}",
        runs.len(),
        runs.iter().map(run_label).collect::<Vec<_>>().join(" | ")
    );
    let mut out = Vec::new();
    let names = distinct(runs.iter().flat_map(|r| r.workload_names()));
    for w in names {
        let all: Vec<(&Results, &Measurement)> = runs
            .iter()
            .flat_map(|r| {
                r.measurements
                    .iter()
                    .filter(|m| m.case.workload == w && !derived::is_bare(m) && !m.info)
                    .map(move |m| (r, m))
            })
            .collect();
        let ms: Vec<&Measurement> = all.iter().map(|(_, m)| *m).collect();
        let param = varying_param(&ms);
        let wanted = |m: &Measurement| match &param {
            None => m.is(Metric::Throughput),
            Some(_) => {
                (m.is(Metric::Startup) || m.is(Metric::HeapBytes) || m.is(Metric::Throughput))
                    && (m.case.workers == 1 || m.case.model.ends_with("pipeline"))
            }
        };
        let keys = distinct(ms.iter().filter(|m| wanted(m)).map(|m| {
            (
                m.metric.clone(),
                m.case.model.clone(),
                m.case.variant.clone(),
            )
        }));
        for (metric, model, variant) in keys {
            let lines: Vec<Line> = runs
                .iter()
                .map(|r| Line {
                    label: run_label(r),
                    points: all
                        .iter()
                        .filter(|(rr, m)| {
                            std::ptr::eq(*rr, r)
                                && m.metric == metric
                                && m.case.model == model
                                && m.case.variant == variant
                                && wanted(m)
                        })
                        .map(|(_, m)| {
                            let x = match &param {
                                Some(p) => m.param(p).unwrap_or(0) as f64,
                                None => m.case.workers as f64,
                            };
                            point(x, m, param.is_some())
                        })
                        .collect(),
                    dashed: false,
                    points_only: false,
                })
                .filter(|l| !l.points.is_empty())
                .collect();
            if lines.is_empty() {
                continue;
            }
            let unit = ms
                .iter()
                .find(|m| m.metric == metric)
                .map_or("ops/s".to_string(), |m| m.unit.clone());
            let (x, x_desc) = match &param {
                Some(p) => {
                    let values: Vec<u64> = ms.iter().filter_map(|m| m.param(p)).collect();
                    (param_axis(p, &values), p.replace('_', " "))
                }
                None => (Axis::Linear(fmt_workers), "workers".to_string()),
            };
            out.push(Chart {
                stem: format!("compare-{w}-{metric}-{model}-{variant}").replace('_', "-"),
                title: format!(
                    "{w} {}: {model}{}",
                    metric.replace('_', " "),
                    if variant == "default" {
                        String::new()
                    } else {
                        format!(" {variant}")
                    }
                ),
                caption: caption.clone(),
                x_desc,
                y_desc: format!("{} (median)", metric.replace('_', " ")),
                x,
                y: y_axis(&unit, param.is_some()),
                categories: vec![],
                lines,
            });
        }
    }
    out
}
