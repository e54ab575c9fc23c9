//! The plotting engine: axes, lines, legend, SVG and PNG files.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::results::write_atomic;
use crate::units as format;

pub(crate) const WIDTH: u32 = 960;
pub(crate) const HEIGHT: u32 = 600;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const LEGEND_WIDTH: u32 = 250;

/// Sixteen colours: the colour-blind-safe eight of Okabe & Ito (2008) without black, then
/// darker and muted ones. The thirteen models take the first thirteen ([`super::model_colour`]),
/// so a model has one colour in every chart; more series than colours differ by their mark.
pub(crate) const PALETTE: [RGBColor; 16] = [
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
    RGBColor(0, 110, 110),
    RGBColor(130, 50, 150),
    RGBColor(170, 20, 60),
    RGBColor(110, 130, 0),
    RGBColor(40, 40, 40),
    RGBColor(250, 130, 170),
];

/// A series' colour, the shape of its mark (0 dot, 1 triangle, 2 square, 3 cross) and its
/// dash (none, dotted, long), from its [`super::Look`] or its place `i` in the chart.
pub(crate) fn look_of(line: &Line, i: usize) -> (RGBColor, usize, Option<(u32, u32)>) {
    let colour = PALETTE[line.look.colour.unwrap_or(i) % PALETTE.len()];
    let mark = line.look.mark.unwrap_or(i);
    (colour, mark % 4, dash_of(mark))
}

/// A mark's dash: solid for the first four, then dotted, then long dashes.
fn dash_of(mark: usize) -> Option<(u32, u32)> {
    match (mark / 4) % 3 {
        0 => None,
        1 => Some((2, 4)),
        _ => Some((12, 4)),
    }
}

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

pub(crate) fn fmt_count(v: f64) -> String {
    format::count(v.round().max(0.0) as u64)
}
/// Worker counts are whole numbers: ticks between them stay unlabelled.
pub(crate) fn fmt_workers(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}
pub(crate) fn fmt_rate(v: f64) -> String {
    format::rate(v, "ops/s")
}
pub(crate) fn fmt_ns(v: f64) -> String {
    format::ns(v)
}
pub(crate) fn fmt_bytes(v: f64) -> String {
    format::bytes(v)
}
pub(crate) fn fmt_ratio(v: f64) -> String {
    format!("{v:.2}")
}
pub(crate) fn fmt_speedup(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        format!("{v:.0e}×")
    } else {
        format!("{}×", format::sig3(v))
    }
}

/// The largest magnitude drawn: no measured figure comes near it, and past it plotters' tick
/// computation does not end (a results file held a median of 1.8e308).
pub(crate) const DRAWABLE: f64 = 1e18;

pub(crate) fn drawable(v: f64) -> bool {
    v.is_finite() && v.abs() <= DRAWABLE
}

pub(crate) fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
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

/// The mesh and every series of `chart` on a built chart context, whose coordinates (linear
/// or log on each axis) are a different type in each of the four cases: a macro, not a function.
macro_rules! draw_body {
    ($ctx:expr, $chart:expr, $x_fmt:expr, $y_fmt:expr, $err:expr, $y_log:expr) => {{
        let (chart, err, y_log) = ($chart, $err, $y_log);
        let mut ctx = $ctx;
        let mut mesh = ctx.configure_mesh();
        mesh.y_labels(12)
            .x_desc(chart.x_desc.as_str())
            .y_desc(chart.y_desc.as_str())
            .x_label_formatter($x_fmt)
            .y_label_formatter($y_fmt)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(235, 235, 235));
        if matches!(chart.x, Axis::Category) {
            mesh.x_labels(chart.categories.len() * 2 + 1);
        }
        mesh.draw().map_err(err)?;
        for (i, line) in chart.lines.iter().enumerate() {
            let (color, shape, dash) = look_of(line, i);
            let pts: Vec<(f64, f64)> = line
                .points
                .iter()
                .filter(|p| drawable(p.x) && drawable(p.y) && (!y_log || p.y > 0.0))
                .map(|p| (p.x, p.y))
                .collect();
            let style = ShapeStyle::from(&color).stroke_width(2);
            if line.points_only {
                ctx.draw_series(
                    pts.iter()
                        .map(|&p| Circle::new(p, 3, color.mix(0.7).filled())),
                )
                .map_err(err)?;
            } else {
                match (line.dashed, dash) {
                    (true, _) => {
                        ctx.draw_series(DashedLineSeries::new(pts.clone(), 8, 6, style))
                            .map_err(err)?;
                    }
                    (false, Some((size, gap))) => {
                        ctx.draw_series(DashedLineSeries::new(pts.clone(), size, gap, style))
                            .map_err(err)?;
                    }
                    (false, None) => {
                        ctx.draw_series(LineSeries::new(pts.clone(), style))
                            .map_err(err)?;
                    }
                }
                // A measured series (not a guide) gets its mark at every point: series that
                // coincide show as different shapes on one spot.
                if !line.dashed || line.points.iter().any(|p| p.lo.is_some()) {
                    let c = color.stroke_width(2);
                    match shape {
                        0 => {
                            ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                                .map_err(err)?;
                        }
                        1 => {
                            ctx.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 7, c)))
                                .map_err(err)?;
                        }
                        2 => {
                            ctx.draw_series(pts.iter().map(|&p| {
                                EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], c)
                            }))
                            .map_err(err)?;
                        }
                        _ => {
                            ctx.draw_series(pts.iter().map(|&p| Cross::new(p, 6, c)))
                                .map_err(err)?;
                        }
                    }
                }
            }
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

/// The title's font: bold, 22 px, or smaller for a long title (a user's key, a history
/// series) rather than running off both edges of the plot.
fn title_font<DB: DrawingBackend>(plot: &DrawingArea<DB, Shift>, title: &str) -> FontDesc<'static> {
    let room = f64::from(WIDTH - LEGEND_WIDTH) - 32.0;
    let font = |size: f64| (FONT, size).into_font().style(FontStyle::Bold);
    let size = [22.0, 19.0, 16.0, 14.0, 12.0]
        .into_iter()
        .find(|&size| {
            plot.estimate_text_size(title, &font(size).into())
                .is_ok_and(|(w, _)| f64::from(w) <= room)
        })
        .unwrap_or(12.0);
    font(size)
}

pub(crate) fn render<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()>
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
        .caption(&chart.title, title_font(&plot, &chart.title))
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
    draw_legend(chart, &legend).map_err(err)?;
    macro_rules! body {
        ($ctx:expr) => {
            draw_body!($ctx, chart, &x_fmt, &y_fmt, err, y_log)
        };
    }
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

/// The characters a legend line holds: at 14 px, DejaVu Sans's widest common letters take
/// about 8.5 px, and the panel leaves 218 px beside the swatch.
pub(crate) const LEGEND_CHARS: usize = 24;
/// The legend's text: 14 px, each wrapped line 17 px below the last.
const LEGEND_LINE: i32 = 17;

/// What one legend row shows beside its text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A series: its colour, mark and dash as drawn.
    Series(usize),
    /// A colour alone (a machine, in an overlay).
    Colour(usize),
    /// A mark alone, in grey (a model, in an overlay).
    Mark(usize),
    /// A heading, no swatch.
    Heading,
}

/// One legend row: its swatch at `y` and its text, wrapped, from `y`.
#[derive(Clone, Debug)]
pub(crate) struct LegendRow {
    pub y: i32,
    pub swatch: Swatch,
    pub text: Vec<String>,
}

impl LegendRow {
    /// The box each of its text lines takes (left, top, right, bottom), at the widest a
    /// character of the font takes: what no other row's text may intersect.
    #[cfg(test)]
    pub fn boxes(&self) -> Vec<[i32; 4]> {
        self.text
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let top = self.y - 7 + LEGEND_LINE * k as i32;
                let width = (t.chars().count() as f64 * 8.5).ceil() as i32;
                [32, top, 32 + width, top + 15]
            })
            .collect()
    }
}

/// The legend's rows, top to bottom: one per series; or, for an overlay, the colours (the
/// runs) under one heading and the marks (the models) under another. Each row starts below
/// the last line of the one before.
pub(crate) fn legend_rows(chart: &Chart) -> Vec<LegendRow> {
    let mut items: Vec<(Swatch, &str)> = Vec::new();
    match &chart.legend {
        Legend::PerLine => {
            items.extend(
                chart
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (Swatch::Series(i), l.label.as_str())),
            );
        }
        Legend::Grouped { colours, marks } => {
            items.push((Swatch::Heading, colours.0.as_str()));
            items.extend(
                colours
                    .1
                    .iter()
                    .map(|(i, t)| (Swatch::Colour(*i), t.as_str())),
            );
            items.push((Swatch::Heading, marks.0.as_str()));
            items.extend(marks.1.iter().map(|(i, t)| (Swatch::Mark(*i), t.as_str())));
        }
    }
    let mut y = 60;
    items
        .into_iter()
        .map(|(swatch, text)| {
            let text = wrap(text, LEGEND_CHARS);
            let row = LegendRow { y, swatch, text };
            y += LEGEND_LINE * (row.text.len() as i32 - 1) + 24;
            row
        })
        .collect()
}

/// The legend in the right-hand panel, as [`legend_rows`] lays it out.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    chart: &Chart,
    area: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = (FONT, 14).into_font();
    let grey = RGBColor(90, 90, 90);
    for row in legend_rows(chart) {
        let y = row.y;
        match row.swatch {
            Swatch::Series(i) => {
                let line = &chart.lines[i];
                let (color, shape, dash) = look_of(line, i);
                if line.points_only {
                    area.draw(&Circle::new((14, y), 4, color.filled()))?;
                } else {
                    swatch_line(area, color, line.dashed, dash, y)?;
                    if !line.dashed || line.points.iter().any(|p| p.lo.is_some()) {
                        mark(area, color, shape, y)?;
                    }
                }
            }
            Swatch::Colour(c) => {
                let color = PALETTE[c % PALETTE.len()];
                area.draw(&Rectangle::new([(4, y - 6), (24, y + 6)], color.filled()))?;
            }
            Swatch::Mark(m) => {
                swatch_line(area, grey, false, dash_of(m), y)?;
                mark(area, grey, m % 4, y)?;
            }
            Swatch::Heading => {}
        }
        let style = match row.swatch {
            Swatch::Heading => font.clone().style(FontStyle::Bold),
            _ => font.clone(),
        };
        for (k, part) in row.text.iter().enumerate() {
            let top = y - 7 + LEGEND_LINE * k as i32;
            let x = if row.swatch == Swatch::Heading { 4 } else { 32 };
            area.draw(&Text::new(part.clone(), (x, top), style.clone()))?;
        }
    }
    Ok(())
}

/// A legend row's line: solid, dashed (a guide) or in the series' dash.
fn swatch_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    color: RGBColor,
    guide: bool,
    dash: Option<(u32, u32)>,
    y: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let segments: &[(i32, i32)] = match (guide, dash) {
        (true, _) => &[(4, 11), (17, 24)],
        (false, Some(_)) => &[(2, 6), (10, 14), (18, 22)],
        (false, None) => &[(4, 24)],
    };
    for &(a, b) in segments {
        area.draw(&PathElement::new(
            vec![(a, y), (b, y)],
            color.stroke_width(3),
        ))?;
    }
    Ok(())
}

/// A legend row's mark: a dot, a triangle, a square or a cross.
fn mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    color: RGBColor,
    shape: usize,
    y: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let m = color.stroke_width(2);
    match shape {
        0 => area.draw(&Circle::new((14, y), 4, color.filled())),
        1 => area.draw(&TriangleMarker::new((14, y), 7, m)),
        2 => area.draw(&Rectangle::new([(9, y - 5), (19, y + 5)], m)),
        _ => area.draw(&Cross::new((14, y), 6, m)),
    }
}

/// Splits `text` into lines of at most `width` characters at spaces.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
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
