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
    let caption = format!(
        "{} runs: {}",
        runs.len(),
        runs.iter().map(run_label).collect::<Vec<_>>().join(" | ")
    );
    let names = distinct(runs.iter().flat_map(|r| r.workload_names()));
    names
        .iter()
        .flat_map(|w| workload_overlays(runs, w, &caption))
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
fn workload_overlays(runs: &[Results], w: &str, caption: &str) -> Vec<Chart> {
    let all: Vec<(usize, &Measurement)> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.measurements
                .iter()
                .filter(|m| m.case.workload == w && !derived::is_bare(m) && !m.info)
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
        let lines = run_lines(runs, &members, &x_of, param.is_some());
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
        });
    }
    out
}

/// One line per run and model of `members` (the run's index, a measurement): the run's colour,
/// the model's mark.
fn run_lines(
    runs: &[Results],
    members: &[(usize, &Measurement)],
    x_of: &dyn Fn(&Measurement) -> f64,
    log: bool,
) -> Vec<Line> {
    let models = distinct(members.iter().map(|(_, m)| m.case.model.as_str()));
    let mut lines = Vec::new();
    for (ri, r) in runs.iter().enumerate() {
        for (mi, model) in models.iter().enumerate() {
            let points: Vec<Pt> = members
                .iter()
                .filter(|(i, m)| *i == ri && m.case.model == *model)
                .map(|(_, m)| point(x_of(m), m, log))
                .collect();
            if !points.is_empty() {
                lines.push(Line {
                    label: format!("{model} · {}", run_label(r)),
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
    lines
}
