//! The same charts with several runs overlaid (runs from several machines, or dates).

use super::*;
use crate::api::model::Named;
use crate::export::summary::distinct;
use crate::results::derived::{self};
use crate::results::{Measurement, Metric, Results};

/// The same questions for several runs overlaid: one chart per workload, metric, variant and
/// family of models (the per-sample models together, each pool apart), with one colour per
/// run (machine) and one mark and dash per model.
pub fn overlay_charts(runs: &[Results]) -> Vec<Chart> {
    let labels = run_labels(runs);
    let caption = runs_named(runs, &labels);
    let names = distinct(runs.iter().flat_map(|r| r.workload_names()));
    names
        .iter()
        .flat_map(|w| workload_overlays(runs, &labels, w, &caption))
        .collect()
}

/// The family a model is drawn with: the models that start workers per sample share a chart,
/// each pool has its own, a study's models share one.
fn family(model: &str) -> &'static str {
    match Named::of(model).facts() {
        Some(f) => f.pool.map_or("threads and processes", |p| p.name()),
        None => "models",
    }
}

/// One workload's overlays (see [`overlay_charts`]).
fn workload_overlays(runs: &[Results], labels: &[String], w: &str, caption: &str) -> Vec<Chart> {
    let all: Vec<(usize, &Measurement)> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.measurements
                .iter()
                .filter(|m| m.case.workload == w && !derived::is_bare(m) && !m.info)
                // The sequential reference is drawn at one worker only: more of its shares,
                // one after another, measure the same thing again.
                .filter(|m| m.case.workers == 1 || !derived::is_reference(&m.case.model))
                .map(move |m| (i, m))
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
    let x_of = |m: &Measurement| match &param {
        Some(p) => m.param(p).unwrap_or(0) as f64,
        None => m.case.workers as f64,
    };
    let keys = distinct(
        ms.iter()
            .filter(|m| wanted(m))
            .map(|m| (m.metric, m.case.variant.clone(), family(&m.case.model))),
    );
    let mut out = Vec::new();
    for (metric, variant, fam) in keys {
        let of = |m: &Measurement| {
            wanted(m)
                && m.metric == metric
                && m.case.variant == variant
                && family(&m.case.model) == fam
        };
        let members: Vec<(usize, &Measurement)> =
            all.iter().filter(|(_, m)| of(m)).copied().collect();
        let (lines, legend) = run_lines(labels, &members, &x_of, param.is_some());
        let Some(first) = ms.iter().find(|m| of(m)) else {
            continue;
        };
        let (x, x_desc) = match &param {
            Some(p) => {
                let values: Vec<u64> = ms.iter().filter_map(|m| m.param(p)).collect();
                (param_axis(p, &values), p.replace('_', " "))
            }
            None => (Axis::Linear(fmt_workers), "workers".to_string()),
        };
        let op = first.op.clone().unwrap_or_else(|| "ops".into());
        out.push(Chart {
            stem: format!("compare-{w}-{}-{variant}-{fam}", metric.slug()).replace(['_', ' '], "-"),
            title: format!(
                "{w} {}: {fam}{}",
                metric.name().replace('_', " "),
                if variant == "default" {
                    String::new()
                } else {
                    format!(", {variant}")
                }
            ),
            caption: caption.into(),
            x_desc,
            y_desc: metric.axis(&op),
            x,
            y: y_axis(metric, param.is_some()),
            categories: vec![],
            lines,
            legend,
        });
    }
    out
}

/// One line per run and model of `members` (the run's index, a measurement): the run's colour,
/// the model's mark; and the legend that says so once (the runs by colour, the models by
/// mark), not once per line.
fn run_lines(
    labels: &[String],
    members: &[(usize, &Measurement)],
    x_of: &dyn Fn(&Measurement) -> f64,
    log: bool,
) -> (Vec<Line>, Legend) {
    let models = distinct(members.iter().map(|(_, m)| m.case.model.as_str()));
    let mut lines = Vec::new();
    for (ri, label) in labels.iter().enumerate() {
        for (mi, model) in models.iter().enumerate() {
            let points: Vec<Pt> = members
                .iter()
                .filter(|(i, m)| *i == ri && m.case.model == *model)
                .map(|(_, m)| point(x_of(m), m, log))
                .collect();
            if !points.is_empty() {
                lines.push(Line {
                    label: format!("{model} · {label}"),
                    points,
                    dashed: false,
                    points_only: false,
                    look: Look {
                        colour: Some(ri),
                        mark: Some(mi),
                    },
                });
            }
        }
    }
    let drawn = |ri: usize| lines.iter().any(|l: &Line| l.look.colour == Some(ri));
    let legend = Legend::Grouped {
        colours: (
            "runs".into(),
            labels
                .iter()
                .enumerate()
                .filter(|(ri, _)| drawn(*ri))
                .map(|(ri, l)| (ri, l.clone()))
                .collect(),
        ),
        marks: (
            "models".into(),
            models
                .iter()
                .enumerate()
                .map(|(mi, m)| (mi, m.to_string()))
                .collect(),
        ),
    };
    (lines, legend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::CaseId;

    /// Whether two boxes (left, top, right, bottom) share any pixel.
    fn intersect(a: [i32; 4], b: [i32; 4]) -> bool {
        a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
    }

    #[test]
    fn an_overlay_legend_of_three_machines_and_four_models_never_overlaps() {
        let labels: Vec<String> = [
            "Intel Xeon · 2026-12-06 08:30",
            "AMD EPYC 7B13 · 64 cores",
            "Intel Core i7-8700 · 2026-12-06 19:21",
        ]
        .map(String::from)
        .to_vec();
        let models = ["sequential", "threads", "fork", "process-pool-as-completed"];
        let ms: Vec<(usize, Measurement)> = (0..labels.len())
            .flat_map(|ri| {
                models.iter().flat_map(move |model| {
                    [1, 2].map(|workers| {
                        let case = CaseId {
                            workload: "w".into(),
                            model: model.to_string(),
                            variant: "default".into(),
                            workers,
                            params: Default::default(),
                        };
                        let m = Measurement::new(&case, Metric::Throughput, vec![1e9, 1.1e9], true);
                        (ri, m)
                    })
                })
            })
            .collect();
        let members: Vec<(usize, &Measurement)> = ms.iter().map(|(i, m)| (*i, m)).collect();
        let (lines, legend) = run_lines(&labels, &members, &|m| m.case.workers as f64, false);
        assert_eq!(lines.len(), 12);
        let chart = Chart {
            stem: "legend".into(),
            title: "w throughput".into(),
            caption: "runs".into(),
            x_desc: "workers".into(),
            y_desc: "squares/s".into(),
            x: Axis::Linear(fmt_workers),
            y: Axis::Linear(fmt_count),
            categories: vec![],
            lines,
            legend,
        };
        let rows = legend_rows(&chart);
        // A heading and a row per machine, a heading and a row per model: named once each.
        assert_eq!(rows.len(), 2 + labels.len() + models.len());
        let boxes: Vec<[i32; 4]> = rows.iter().flat_map(|r| r.boxes()).collect();
        for (i, a) in boxes.iter().enumerate() {
            assert!(
                a[2] <= LEGEND_WIDTH as i32,
                "{a:?} runs past the legend's panel"
            );
            assert!(a[3] <= HEIGHT as i32 - 28, "{a:?} runs below the chart");
            for b in &boxes[i + 1..] {
                assert!(!intersect(*a, *b), "{a:?} and {b:?} overlap");
            }
        }
        // And it draws.
        register_fonts();
        let mut svg = String::new();
        {
            use plotters::prelude::*;
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            render(&chart, &root).unwrap();
        }
        for label in &labels {
            let first = wrap(label, LEGEND_CHARS)[0].clone();
            assert!(svg.contains(&first), "{first} not drawn");
        }
    }

    #[test]
    fn per_line_legends_wrap_without_overlap() {
        let long = "process-pool-as-completed · Intel Xeon · 2026-12-06 08:30 (loses updates)";
        let lines = (0..12)
            .map(|i| Line {
                label: format!("{long} {i}"),
                points: vec![],
                dashed: false,
                points_only: false,
                look: Look::default(),
            })
            .collect();
        let chart = Chart {
            stem: "legend".into(),
            title: String::new(),
            caption: String::new(),
            x_desc: String::new(),
            y_desc: String::new(),
            x: Axis::Linear(fmt_workers),
            y: Axis::Linear(fmt_count),
            categories: vec![],
            lines,
            legend: Legend::PerLine,
        };
        let boxes: Vec<[i32; 4]> = legend_rows(&chart).iter().flat_map(|r| r.boxes()).collect();
        for (i, a) in boxes.iter().enumerate() {
            assert!(a[2] <= LEGEND_WIDTH as i32, "{a:?}");
            for b in &boxes[i + 1..] {
                assert!(!intersect(*a, *b), "{a:?} and {b:?} overlap");
            }
        }
    }
}
