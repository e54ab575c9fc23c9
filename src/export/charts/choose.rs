//! Which charts one run gets: per workload, per metric, per varying parameter.

use super::*;
use crate::api::model::Named;
use crate::export::summary::distinct;
use crate::results::derived::{self, ratio};
use crate::results::metric::{Chart as Drawn, Format};
use crate::results::{Measurement, Metric, Results};
use crate::sweep::granularity;

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

/// The workload's measurements of one metric, bare OS loops left out (they are context).
pub(crate) fn pick<'a>(r: &'a Results, workload: &'a str, metric: Metric) -> Vec<&'a Measurement> {
    r.measurements
        .iter()
        .filter(|m| m.case.workload == workload && m.metric == metric && !derived::is_bare(m))
        .collect()
}

/// A parameter whose value differs between `ms`: the x axis of a chart of them.
pub(crate) fn varying_param(ms: &[&Measurement]) -> Option<String> {
    let keys = distinct(ms.iter().flat_map(|m| m.case.params.keys().cloned()));
    keys.into_iter()
        .find(|k| distinct(ms.iter().map(|m| m.param(k))).len() > 1)
}

/// How a parameter's values read on an axis: sizes in memory as bytes, the rest as counts.
pub(crate) fn param_axis(name: &str, values: &[u64]) -> Axis {
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

pub(crate) fn y_axis(metric: Metric, log: bool) -> Axis {
    let f: fn(f64) -> String = match metric.facts().format {
        Format::Time => fmt_ns,
        Format::Bytes => fmt_bytes,
        Format::Rate => fmt_rate,
        Format::Count => fmt_count,
        Format::Times => fmt_speedup,
        Format::Ratio | Format::Added => fmt_ratio,
    };
    if log { Axis::Log(f) } else { Axis::Linear(f) }
}

pub(crate) fn series_label(m: &Measurement, variants: bool, workers: bool) -> String {
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

pub(crate) fn point(x: f64, m: &Measurement, log: bool) -> Pt {
    let mut p = Pt::of(x, m);
    if log {
        // A log axis has no zero: show "nothing" at its floor.
        p.y = p.y.max(1.0);
        p.lo = p.lo.map(|v| v.max(1.0));
        p.hi = p.hi.map(|v| v.max(1.0));
    }
    p
}

/// Throughput and efficiency against the worker count, one line per model and variant;
/// `family` names the models drawn when they are not all of the workload's ("pools").
pub(crate) fn worker_charts(
    r: &Results,
    (w, family): (&str, Option<&str>),
    ms: &[&Measurement],
    cap: &str,
    out: &mut Vec<Chart>,
) {
    let (stem, title) = match family {
        Some(f) => (format!("{w}-{f}"), format!("{w} on {f}")),
        None => (w.to_string(), w.to_string()),
    };
    let op = ms[0].op.clone().unwrap_or_else(|| "ops".into());
    let variants = distinct(ms.iter().map(|m| &m.case.variant)).len() > 1;
    let series = distinct(ms.iter().map(|m| (&m.case.model, &m.case.variant)));
    let mut lines = throughput_lines(r, w, ms, &series, variants);
    let medians: Vec<f64> = ms.iter().map(|m| m.median).filter(|v| *v > 0.0).collect();
    let spread = medians.iter().cloned().fold(0.0, f64::max)
        / medians.iter().cloned().fold(f64::INFINITY, f64::min);
    let log = spread > 20.0;
    let max_w = ms.iter().map(|m| m.case.workers).max().unwrap_or(1);
    let threads = crate::api::Model::Threads.name();
    if !variants
        && let Some(one) = ms
            .iter()
            .find(|m| m.case.model == threads && m.case.workers == 1)
    {
        // N workers can do at most what the allowed cores do: the ideal levels off there
        // (drawn on to 128 workers on a 2-core machine, it flattened every real line).
        let cores = r.machine.allowed_cpus.len().max(1);
        lines.push(Line::guide(
            "ideal: threads at 1 worker × min(N, cores)",
            (1..=max_w).map(|k| (k as f64, one.median * k.min(cores) as f64)),
        ));
    }
    out.push(Chart {
        stem: format!("{stem}-throughput"),
        title: format!("{title}: throughput vs workers"),
        caption: cap.into(),
        x_desc: "workers".into(),
        y_desc: format!(
            "{}{}",
            Metric::Throughput.axis(&op),
            if log { ", log scale" } else { "" }
        ),
        x: Axis::Linear(fmt_workers),
        y: y_axis(Metric::Throughput, log),
        categories: vec![],
        lines,
        legend: Legend::PerLine,
    });
    if series.len() > 8 || max_w < 2 {
        return;
    }
    out.push(efficiency_chart(
        r,
        (&stem, &title),
        ms,
        &series,
        variants,
        cap,
        max_w,
    ));
}

/// One line per model and variant of a workload's throughput, and each fitted series'
/// Universal Scalability Law curve, dashed, out to 8× the cores.
fn throughput_lines(
    r: &Results,
    w: &str,
    ms: &[&Measurement],
    series: &[(&String, &String)],
    variants: bool,
) -> Vec<Line> {
    // A case with a figure beside its throughput that its verdict passed with (the updates
    // a lock-free race lost); a pool's start-up is listed beside it too, but loses nothing.
    let lossy = |m: &Measurement| {
        r.measurements
            .iter()
            .any(|x| x.case == m.case && x.metric.is_outcome())
    };
    let mut lines: Vec<Line> = series
        .iter()
        .map(|(model, variant)| {
            // The sequential model is the reference, drawn once at one worker: its shares run
            // one after another, so more of them measure the same thing again.
            let mut pts: Vec<&&Measurement> = ms
                .iter()
                .filter(|m| &m.case.model == *model && &m.case.variant == *variant)
                .collect();
            if derived::is_reference(model) && pts.iter().any(|m| m.case.workers == 1) {
                pts.retain(|m| m.case.workers == 1);
            }
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
                look: Look::of_model(model),
            }
        })
        .collect();
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
    lines
}

/// Scaling efficiency against the worker count, for the models that run shares in parallel
/// (the sequential reference is 1/N by definition, not a finding).
fn efficiency_chart(
    r: &Results,
    (stem, title): (&str, &str),
    ms: &[&Measurement],
    series: &[(&String, &String)],
    variants: bool,
    cap: &str,
    max_w: usize,
) -> Chart {
    let mut eff: Vec<Line> = series
        .iter()
        .filter(|(model, _)| !derived::is_reference(model))
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
                .filter(|m| &m.case.model == *model && &m.case.variant == *variant)
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
            look: Look::of_model(model),
        })
        .filter(|l| !l.points.is_empty())
        .collect();
    eff.push(Line::guide(
        "perfect scaling",
        [(1.0, 1.0), (max_w as f64, 1.0)].into_iter(),
    ));
    Chart {
        stem: format!("{stem}-efficiency"),
        title: format!("{title}: scaling efficiency vs workers"),
        caption: cap.into(),
        x_desc: "workers".into(),
        y_desc: "throughput(N) ÷ (N × throughput(1))".into(),
        x: Axis::Linear(fmt_workers),
        y: Axis::Linear(fmt_ratio),
        categories: vec![],
        lines: eff,
        legend: Legend::PerLine,
    }
}

/// Every sample of the start costs (the metrics the table draws as strips), one column per
/// model, at the parameter's smallest value; one series per metric, side by side.
pub(crate) fn strip_chart(
    r: &Results,
    w: &str,
    metrics: &[Metric],
    cap: &str,
    out: &mut Vec<Chart>,
) {
    let Some(&first) = metrics.first() else {
        return;
    };
    let starts = pick(r, w, first);
    let Some(lowest) = starts.iter().map(|m| &m.case.params).min() else {
        return;
    };
    let starts: Vec<&&Measurement> = starts.iter().filter(|m| &m.case.params == lowest).collect();
    let cats: Vec<String> = starts.iter().map(|m| m.case.model.clone()).collect();
    let strip = |metric: Metric, offset: f64| -> Vec<Pt> {
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
    // The series sit side by side within each model's column, 0.3 apart at most.
    let offset = |i: usize| match metrics.len() {
        1 => 0.0,
        k => -0.15 + 0.3 * i as f64 / (k - 1) as f64,
    };
    let lines = metrics
        .iter()
        .enumerate()
        .map(|(i, &metric)| Line {
            label: metric.title(""),
            points: strip(metric, offset(i)),
            dashed: false,
            points_only: true,
            look: Look::default(),
        })
        .collect();
    out.push(Chart {
        stem: format!("{w}-startup"),
        title: format!("{w}: start cost per model (every sample)"),
        caption: cap.into(),
        x_desc: "model".into(),
        y_desc: "time (log scale)".into(),
        x: Axis::Category,
        y: y_axis(first, true),
        categories: cats,
        lines,
        legend: Legend::PerLine,
    });
}

/// Each metric the table draws against a parameter (`Drawn::Param`; every metric but the
/// table's untabled ones when a parameter varies) against the parameter that varies — or,
/// when none does, against the worker count — one line per model, variant and width. A
/// reference model is drawn at one worker only: its N shares run one after another.
pub(crate) fn param_charts(
    w: &str,
    ms: &[&Measurement],
    param: Option<&str>,
    cap: &str,
    out: &mut Vec<Chart>,
) {
    // A start-up's parent is placed at the RSS it really had, measured beside the samples.
    let measured = param == Some("parent_rss") && ms.iter().all(|m| m.parent.is_some());
    let x_of = |m: &Measurement| match param {
        None => m.case.workers as u64,
        Some(p) => {
            let asked = m.param(p).unwrap_or(0);
            match &m.parent {
                Some(state) if measured => state.rss_median().unwrap_or(asked),
                _ => asked,
            }
        }
    };
    let shown = |m: &&&Measurement| {
        param.is_some() || !derived::is_reference(&m.case.model) || m.case.workers == 1
    };
    let ms: Vec<&Measurement> = ms.iter().filter(shown).copied().collect();
    let values: Vec<u64> = ms.iter().map(|m| x_of(m)).collect();
    let (x, x_name) = match param {
        Some(p) => (param_axis(p, &values), p.replace('_', " ")),
        None => (Axis::Linear(fmt_workers), "workers".to_string()),
    };
    let x_log = matches!(x, Axis::Log(_));
    let variants = distinct(ms.iter().map(|m| &m.case.variant)).len() > 1;
    let widths = param.is_some() && distinct(ms.iter().map(|m| m.case.workers)).len() > 1;
    for metric in distinct(ms.iter().map(|m| m.metric)) {
        let drawn = match metric.facts().chart {
            Drawn::Param => true,
            Drawn::Workers | Drawn::Strip => param.is_some(),
            Drawn::None => false,
        };
        let of: Vec<&&Measurement> = ms.iter().filter(|m| m.metric == metric).collect();
        if !drawn || of.is_empty() {
            continue;
        }
        let op = of[0].op.clone().unwrap_or_else(|| "ops".into());
        let log = metric.facts().format != Format::Rate || x_log;
        let lines = series_lines(&of, (variants, widths), &|m| x_of(m) as f64, log);
        out.push(Chart {
            stem: format!("{w}-{}-vs-{}", metric.slug(), x_name.replace(' ', "-")),
            title: format!("{w}: {} vs {x_name}", metric.name().replace('_', " ")),
            caption: cap.into(),
            x_desc: format!(
                "{}{}",
                if measured {
                    "the parent's RSS, measured at each sample (median)".to_string()
                } else {
                    x_name.clone()
                },
                if x_log { " (log scale)" } else { "" }
            ),
            y_desc: format!(
                "{}{}",
                metric.axis(&op),
                if log { ", log scale" } else { "" }
            ),
            x,
            y: y_axis(metric, log),
            categories: vec![],
            lines,
            legend: Legend::PerLine,
        });
    }
}

/// One line per series (model, and variant and width where they differ) of `of`, at `x_of`.
fn series_lines(
    of: &[&&Measurement],
    (variants, widths): (bool, bool),
    x_of: &dyn Fn(&Measurement) -> f64,
    log: bool,
) -> Vec<Line> {
    let labels = distinct(of.iter().map(|m| series_label(m, variants, widths)));
    labels
        .iter()
        .map(|l| {
            let mine: Vec<&&&Measurement> = of
                .iter()
                .filter(|m| &series_label(m, variants, widths) == l)
                .collect();
            Line {
                label: l.clone(),
                points: mine.iter().map(|m| point(x_of(m), m, log)).collect(),
                dashed: false,
                points_only: false,
                look: Look::of_model(&mine[0].case.model),
            }
        })
        .collect()
}

/// The granularity sweep (`--work`): speedup over sequential against the task size, one
/// chart per worker count, one line per model, each model's break-even task size marked.
pub(crate) fn granularity_charts(r: &Results, w: &str, cap: &str, out: &mut Vec<Chart>) {
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
                look: Look::of_model(&c.case.model),
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
                look: Look::default(),
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
            legend: Legend::PerLine,
        });
    }
}

/// The charts of one run: for each workload, what its measurements allow — each metric as
/// its row of the table says ([`Chart`]).
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
        let metrics = distinct(all.iter().map(|m| m.metric));
        let strips: Vec<Metric> = metrics
            .iter()
            .copied()
            .filter(|m| m.facts().chart == Drawn::Strip)
            .collect();
        strip_chart(r, &w, &strips, &cap, &mut out);
        let param = varying_param(&all);
        if param.is_some() {
            param_charts(&w, &all, param.as_deref(), &cap, &mut out);
            granularity_charts(r, &w, &cap, &mut out);
            continue;
        }
        for metric in metrics
            .into_iter()
            .filter(|m| m.facts().chart == Drawn::Workers)
        {
            // The pools get charts of their own (with the reference beside them): thirteen
            // lines on one chart are more than a reader can follow.
            let (pools, rest): (Vec<&Measurement>, Vec<&Measurement>) = pick(r, &w, metric)
                .into_iter()
                .partition(|m| Named::of(&m.case.model).is_pool());
            if !rest.is_empty() {
                worker_charts(r, (&w, None), &rest, &cap, &mut out);
            }
            if !pools.is_empty() {
                let mut with_seq = pools;
                with_seq.extend(rest.iter().filter(|m| derived::is_reference(&m.case.model)));
                worker_charts(r, (&w, Some("pools")), &with_seq, &cap, &mut out);
            }
        }
        param_charts(&w, &all, None, &cap, &mut out);
    }
    out
}
