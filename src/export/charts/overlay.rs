//! The same charts with several runs overlaid (runs from several machines, or dates).

use super::*;
use crate::export::summary::distinct;
use crate::results::derived::{self};
use crate::results::{Measurement, Metric, Results};

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
