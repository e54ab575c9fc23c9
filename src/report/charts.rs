//! Charts drawn with plotters, as SVG and PNG: throughput and efficiency vs workers, startup
//! strips and startup vs parent RSS, counter variants, sequence memory and first-item time,
//! and the same charts overlaid for several runs. Every file is written atomically.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::format;
use crate::results::{Measurement, Metric, Results, write_atomic};

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

fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
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
        root.present().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    write_atomic(&svg_path, svg.as_bytes())
        .with_context(|| format!("cannot write {}", svg_path.display()))?;
    let png_path = dir.join(format!("{}.png", chart.stem));
    // The bitmap encoder picks the format by extension: draw to a hidden .png, then rename.
    let tmp = dir.join(format!(".tmp-{}-{}.png", std::process::id(), chart.stem));
    {
        let root = BitMapBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area();
        render(chart, &root).with_context(|| format!("drawing {}", chart.stem))?;
        root.present().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    std::fs::rename(&tmp, &png_path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(vec![svg_path, png_path])
}

fn render<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("{e:?}");
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
                    .filter(|p| !y_log || p.y > 0.0)
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
                    (Some(lo), Some(hi)) if hi > lo && (!y_log || lo > 0.0) => Some(
                        ErrorBar::new_vertical(p.x, lo, p.y, hi, color.stroke_width(1), 8),
                    ),
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

fn distinct(xs: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in xs {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn pick<'a>(
    r: &'a Results,
    workload: &'a str,
    metric: Metric,
) -> impl Iterator<Item = &'a Measurement> + 'a {
    r.measurements
        .iter()
        .filter(move |m| m.workload == workload && m.metric == metric.name())
}

/// The charts of one run.
pub fn charts_for(r: &Results) -> Vec<Chart> {
    let cap = caption(r);
    let mut out = Vec::new();
    // 1 & 2: square throughput and efficiency vs workers.
    let models = distinct(pick(r, "square", Metric::Throughput).map(|m| m.model.clone()));
    if !models.is_empty() {
        let mut lines = Vec::new();
        let mut eff = Vec::new();
        for model in &models {
            let ms: Vec<&Measurement> = pick(r, "square", Metric::Throughput)
                .filter(|m| &m.model == model)
                .collect();
            lines.push(Line {
                label: model.clone(),
                points: ms.iter().map(|m| Pt::of(m.workers as f64, m)).collect(),
                dashed: false,
                points_only: false,
            });
            let one = ms.iter().find(|m| m.workers == 1);
            if let Some(one) = one {
                eff.push(Line {
                    label: model.clone(),
                    points: ms
                        .iter()
                        .filter_map(|m| {
                            let e = super::summary::efficiency(r, m)?;
                            Some(Pt {
                                x: m.workers as f64,
                                y: e,
                                lo: None,
                                hi: None,
                            })
                        })
                        .collect(),
                    dashed: false,
                    points_only: false,
                });
                if model == "threads" {
                    let max_w = ms.iter().map(|m| m.workers).max().unwrap_or(1);
                    lines.push(Line {
                        label: "ideal: threads at 1 worker × N".into(),
                        points: (1..=max_w)
                            .map(|w| Pt {
                                x: w as f64,
                                y: one.median * w as f64,
                                lo: None,
                                hi: None,
                            })
                            .collect(),
                        dashed: true,
                        points_only: false,
                    });
                }
            }
        }
        out.push(Chart {
            stem: "square-throughput".into(),
            title: "square_numbers: throughput vs workers".into(),
            caption: cap.clone(),
            x_desc: "workers".into(),
            y_desc: "squares per second (median, 95% CI)".into(),
            x: Axis::Linear(fmt_workers),
            y: Axis::Linear(fmt_rate),
            categories: vec![],
            lines,
        });
        eff.push(Line {
            label: "perfect scaling".into(),
            points: [1.0, models_max_workers(r)]
                .iter()
                .map(|&x| Pt {
                    x,
                    y: 1.0,
                    lo: None,
                    hi: None,
                })
                .collect(),
            dashed: true,
            points_only: false,
        });
        out.push(Chart {
            stem: "square-efficiency".into(),
            title: "square_numbers: scaling efficiency vs workers".into(),
            caption: cap.clone(),
            x_desc: "workers".into(),
            y_desc: "throughput(N) ÷ (N × throughput(1))".into(),
            x: Axis::Linear(fmt_workers),
            y: Axis::Linear(fmt_ratio),
            categories: vec![],
            lines: eff,
        });
    }
    // 3: startup and roundtrip strips, and startup vs parent RSS.
    let starts: Vec<&Measurement> = pick(r, "empty", Metric::Startup)
        .filter(|m| {
            m.variant == "default" && m.param("parent_rss") == Some(0) && m.model != "sequential"
        })
        .collect();
    if !starts.is_empty() {
        let cats: Vec<String> = starts.iter().map(|m| m.model.clone()).collect();
        let strip = |metric: Metric, offset: f64| -> Vec<Pt> {
            starts
                .iter()
                .enumerate()
                .flat_map(|(i, s)| {
                    let m = pick(r, "empty", metric).find(|m| {
                        m.model == s.model && m.variant == "default" && m.params == s.params
                    });
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
            stem: "startup".into(),
            title: "Start cost per model (every sample)".into(),
            caption: cap.clone(),
            x_desc: "model".into(),
            y_desc: "time (log scale)".into(),
            x: Axis::Category,
            y: Axis::Log(fmt_ns),
            categories: cats,
            lines: vec![
                Line {
                    label: "startup: request → first instruction".into(),
                    points: strip(Metric::Startup, -0.15),
                    dashed: false,
                    points_only: true,
                },
                Line {
                    label: "roundtrip: start + empty task + join/reap".into(),
                    points: strip(Metric::Roundtrip, 0.15),
                    dashed: false,
                    points_only: true,
                },
            ],
        });
    }
    let rss_models = distinct(
        pick(r, "empty", Metric::Startup)
            .filter(|m| m.variant == "default" && m.model != "sequential")
            .map(|m| m.model.clone()),
    );
    let sizes = distinct(
        pick(r, "empty", Metric::Startup)
            .filter_map(|m| m.param("parent_rss"))
            .map(|v| v.to_string()),
    );
    if sizes.len() > 1 {
        let lines = rss_models
            .iter()
            .map(|model| Line {
                label: model.clone(),
                points: pick(r, "empty", Metric::Startup)
                    .filter(|m| &m.model == model && m.variant == "default")
                    .map(|m| {
                        Pt::of(
                            m.param("parent_rss").unwrap_or(0) as f64 / (1u64 << 20) as f64,
                            m,
                        )
                    })
                    .collect(),
                dashed: false,
                points_only: false,
            })
            .collect();
        out.push(Chart {
            stem: "startup-vs-parent-rss".into(),
            title: "Startup vs the parent's resident memory".into(),
            caption: cap.clone(),
            x_desc: "parent RSS (MiB)".into(),
            y_desc: "startup (median, log scale)".into(),
            x: Axis::Linear(|v| format!("{v:.0}")),
            y: Axis::Log(fmt_ns),
            categories: vec![],
            lines,
        });
    }
    // 4: counter throughput per variant and model.
    let variants = distinct(
        pick(r, "counter", Metric::Throughput).map(|m| format!("{}/{}", m.model, m.variant)),
    );
    if !variants.is_empty() {
        let lines = variants
            .iter()
            .map(|mv| Line {
                label: mv.clone(),
                points: pick(r, "counter", Metric::Throughput)
                    .filter(|m| &format!("{}/{}", m.model, m.variant) == mv)
                    .map(|m| Pt::of(m.workers as f64, m))
                    .collect(),
                dashed: mv.ends_with("no-lock"),
                points_only: false,
            })
            .collect();
        out.push(Chart {
            stem: "counter-throughput".into(),
            title: "Locked increment: throughput per lock and model".into(),
            caption: cap.clone(),
            x_desc: "workers".into(),
            y_desc: "increments per second (log scale; dashed: no lock, loses updates)".into(),
            x: Axis::Linear(fmt_workers),
            y: Axis::Log(fmt_rate),
            categories: vec![],
            lines,
        });
    }
    // 5: sequences on log–log axes.
    for (metric, stem, title, y_desc, fmt) in [
        (
            Metric::HeapBytes,
            "sequence-heap",
            "Heap bytes vs n: lazy iterator, eager Vec, pipeline",
            "peak live heap bytes (log; 0 drawn at 1 B)",
            fmt_bytes as fn(f64) -> String,
        ),
        (
            Metric::PeakRss,
            "sequence-rss",
            "Peak RSS growth vs n",
            "peak RSS growth (log; 0 drawn at 1 B)",
            fmt_bytes,
        ),
        (
            Metric::FirstItem,
            "sequence-first-item",
            "Time to the first item vs n",
            "first item (log scale)",
            fmt_ns,
        ),
    ] {
        // Lazy and eager for both sequences, and the pipeline at its widest: the parallel eager
        // cases hold exactly what the eager one does and would only hide it.
        let widest = pick(r, "sequence", metric)
            .filter(|m| m.model == "pipeline")
            .map(|m| m.workers)
            .max()
            .unwrap_or(1);
        let shown = |m: &&Measurement| match m.model.as_str() {
            "pipeline" => m.workers == widest,
            "eager" => m.variant != "squares",
            _ => true,
        };
        let series = distinct(
            pick(r, "sequence", metric)
                .filter(shown)
                .map(|m| format!("{} {} ×{}", m.model, m.variant, m.workers)),
        );
        if series.is_empty() {
            continue;
        }
        let lines = series
            .iter()
            .map(|s| Line {
                label: s.clone(),
                points: pick(r, "sequence", metric)
                    .filter(|m| &format!("{} {} ×{}", m.model, m.variant, m.workers) == s)
                    .map(|m| {
                        let mut p = Pt::of(m.param("n").unwrap_or(0) as f64, m);
                        // A log axis has no zero: show "nothing" at its floor.
                        p.y = p.y.max(1.0);
                        p.lo = p.lo.map(|v| v.max(1.0));
                        p.hi = p.hi.map(|v| v.max(1.0));
                        p
                    })
                    .collect(),
                dashed: s.starts_with("pipeline"),
                points_only: false,
            })
            .collect();
        out.push(Chart {
            stem: stem.into(),
            title: title.into(),
            caption: cap.clone(),
            x_desc: "n (items, log scale)".into(),
            y_desc: y_desc.into(),
            x: Axis::Log(fmt_count),
            y: Axis::Log(fmt),
            categories: vec![],
            lines,
        });
    }
    out
}

fn models_max_workers(r: &Results) -> f64 {
    pick(r, "square", Metric::Throughput)
        .map(|m| m.workers)
        .max()
        .unwrap_or(1) as f64
}

/// The same charts for several runs overlaid: one colour per run, one chart per model.
pub fn overlay_charts(runs: &[Results]) -> Vec<Chart> {
    let caption = format!(
        "{} runs: {}",
        runs.len(),
        runs.iter().map(run_label).collect::<Vec<_>>().join(" | ")
    );
    let mut out = Vec::new();
    let mut overlay = |workload: &str,
                       metric: Metric,
                       x_param: Option<&str>,
                       stem: &str,
                       title: &str,
                       x_desc: &str,
                       y_desc: &str,
                       x: Axis,
                       y: Axis| {
        let models = distinct(runs.iter().flat_map(|r| {
            pick(r, workload, metric)
                .filter(|m| m.variant == "default" || workload == "sequence")
                .map(|m| format!("{}|{}", m.model, m.variant))
        }));
        for mv in models {
            let (model, variant) = mv.split_once('|').unwrap_or((&mv, "default"));
            let lines: Vec<Line> = runs
                .iter()
                .map(|r| Line {
                    label: run_label(r),
                    points: pick(r, workload, metric)
                        .filter(|m| {
                            m.model == model
                                && m.variant == variant
                                && (x_param.is_some() || m.workers >= 1)
                        })
                        .filter(|m| workload != "sequence" || m.workers == 1 || model == "pipeline")
                        .map(|m| {
                            let xv = match x_param {
                                Some("parent_rss") => {
                                    m.param("parent_rss").unwrap_or(0) as f64 / (1u64 << 20) as f64
                                }
                                Some(p) => m.param(p).unwrap_or(0) as f64,
                                None => m.workers as f64,
                            };
                            let mut p = Pt::of(xv, m);
                            p.y = p.y.max(1.0);
                            p
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
            out.push(Chart {
                stem: format!("compare-{stem}-{model}-{variant}"),
                title: format!(
                    "{title}: {model}{}",
                    if variant == "default" {
                        String::new()
                    } else {
                        format!(" {variant}")
                    }
                ),
                caption: caption.clone(),
                x_desc: x_desc.into(),
                y_desc: y_desc.into(),
                x,
                y,
                categories: vec![],
                lines,
            });
        }
    };
    overlay(
        "square",
        Metric::Throughput,
        None,
        "square-throughput",
        "square_numbers throughput",
        "workers",
        "squares per second",
        Axis::Linear(fmt_workers),
        Axis::Linear(fmt_rate),
    );
    overlay(
        "empty",
        Metric::Startup,
        Some("parent_rss"),
        "startup",
        "Startup vs parent RSS",
        "parent RSS (MiB)",
        "startup (log scale)",
        Axis::Linear(|v| format!("{v:.0}")),
        Axis::Log(fmt_ns),
    );
    overlay(
        "sequence",
        Metric::HeapBytes,
        Some("n"),
        "sequence-heap",
        "Heap bytes vs n",
        "n (log scale)",
        "heap bytes (log)",
        Axis::Log(fmt_count),
        Axis::Log(fmt_bytes),
    );
    out
}
