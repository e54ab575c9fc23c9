//! The summary of a run as a [`Doc`]: calibration, then one section per workload with a
//! table of every case and metric, the derived figures (efficiency, speedup, harness
//! overhead), the workload's findings, failures and notes. Built from the results alone: the
//! op names, units, `better` and verification come from the file, never from a workload's name.

use super::doc::{Block, Doc, Table};
use crate::api::model::Named;
use crate::results::derived::{self, ratio};
use crate::results::metric::Format;
use crate::results::usl;
use crate::results::{CaseId, Measurement, Metric, Results};
use crate::units as format;

/// Distinct values in order of first appearance.
pub fn distinct<T: PartialEq + Clone>(xs: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in xs {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// The summary's heading line: the machine and the kind of run.
pub fn machine_line(r: &Results) -> String {
    let m = &r.machine;
    let took = match r.run.estimated_s {
        Some(e) => format!(
            " · took {} (estimated {})",
            format::ns(r.run.duration_s * 1e9),
            format::ns(e * 1e9)
        ),
        None => format!(" · took {}", format::ns(r.run.duration_s * 1e9)),
    };
    format!(
        "{} · {} · {} logical / {} physical cores ({} allowed) · {} RAM · {} · {}{}{took}",
        m.hostname,
        m.cpu_brand,
        m.logical_cores,
        m.physical_cores.map_or("?".into(), |p| p.to_string()),
        m.allowed_cpus.len(),
        format::bytes(m.memory_bytes as f64),
        m.kernel,
        if r.run.quick { "quick run" } else { "full run" },
        if r.run.incomplete {
            " · INCOMPLETE (interrupted)"
        } else {
            ""
        },
    )
}

/// The whole summary: the run, its answers, then the details.
pub fn summary(r: &Results) -> Doc {
    let mut d = Doc::default();
    d.push(Block::Title(format!("threadfork run {}", r.run.id)));
    d.push(Block::Para(machine_line(r)));
    if let Some(load) = &r.run.load {
        d.push(Block::Para(load.line()));
    }
    answers_block(&mut d, r);
    details(&mut d, r);
    d
}

/// The "Answers" section of a run: one line per question.
pub fn answers_block(d: &mut Doc, r: &Results) {
    let lines: Vec<String> = super::answers::answers(r)
        .into_iter()
        .map(|a| a.line)
        .collect();
    if !lines.is_empty() {
        d.push(Block::Heading("Answers".into()));
        d.push(Block::List(lines));
    }
}

/// Everything of the summary after its answers.
pub fn details(d: &mut Doc, r: &Results) {
    calibration(d, r);
    for name in r.workload_names() {
        workload(d, r, &name);
    }
    if !r.failures.is_empty() {
        d.push(Block::Heading("Failed cases".into()));
        d.push(Block::List(
            r.failures
                .iter()
                .map(|f| format!("{}: {}", f.case, f.reason))
                .collect(),
        ));
    }
    if !r.notes.is_empty() {
        d.push(Block::Heading("Notes".into()));
        d.push(Block::List(r.notes.clone()));
    }
}

fn op_of(r: &Results, workload: &str) -> String {
    r.workload(workload)
        .map(|w| w.op.clone())
        .or_else(|| {
            r.measurements
                .iter()
                .find(|m| m.case.workload == workload)
                .and_then(|m| m.op.clone())
        })
        .unwrap_or_else(|| "ops".into())
}

fn calibration(d: &mut Doc, r: &Results) {
    let c = &r.calibration;
    let mut items = Vec::new();
    for (w, st) in &c.bare_loop {
        let op = op_of(r, w);
        items.push(format!(
            "{w}'s own code called directly on one core (the bare loop): {} (95% CI {} – {})",
            format::rate_of(st.median, &op),
            format::rate_of(st.ci95[0], &op),
            format::rate_of(st.ci95[1], &op)
        ));
        if let Some(per) = c.per_cpu_loop.get(w).filter(|p| !p.is_empty()) {
            let speeds: Vec<String> = per
                .iter()
                .map(|(cpu, st)| format!("cpu {cpu}: {}", format::rate_of(st.median, &op)))
                .collect();
            items.push(format!(
                "the same pinned to each CPU: {}",
                speeds.join(", ")
            ));
        }
    }
    if let Some(p) = &c.probe {
        items.push(format!(
            "core-speed probe beside every sample: median {} (range {} – {})",
            format::rate_of(p.median, "steps"),
            format::rate_of(p.min, "steps"),
            format::rate_of(p.max, "steps"),
        ));
    }
    if let Some(t) = &c.timer_overhead {
        items.push(format!(
            "one CLOCK_MONOTONIC read: {}",
            format::ns(t.median)
        ));
    }
    for (model, st) in &c.bare_roundtrip {
        // The pthread loop is a variant of the threads model's bare loop, keyed by its own name.
        let what = match Named::of(model).facts() {
            Some(f) if !f.bare.is_empty() => f.bare,
            _ if model == derived::PTHREAD_VARIANT => "pthread_create + pthread_join",
            _ => model.as_str(),
        };
        items.push(format!("bare {what}: {}", format::ns(st.median)));
    }
    if !items.is_empty() {
        d.push(Block::Heading("Calibration (same run)".into()));
        d.push(Block::List(items));
    }
}

fn cell(m: &Measurement, op: &str) -> String {
    let op = m.op.as_deref().unwrap_or(op);
    let v = if m.metric.facts().format == Format::Rate {
        format!(
            "{} ({} – {}){}",
            format::rate_of(m.median, op),
            format::rate_of(m.ci95[0], op),
            format::rate_of(m.ci95[1], op),
            crate::api::answers::interference_mark(m)
        )
    } else if m.metric.is_exact() || m.is(Metric::Instructions) {
        let per_op = m
            .ops_per_sample
            .filter(|&n| n > 0)
            .map_or(String::new(), |n| {
                format!(" ({:.2} per {op})", m.median / n as f64)
            });
        if m.info {
            // Two counts of one build that differ: the share waits on another thread.
            format!(
                "{:.0} – {:.0}{per_op}, varies with timing: not judged",
                m.min, m.max
            )
        } else {
            format!("{:.0}{per_op}", m.median)
        }
    } else if m.info {
        let from = m.parent.as_ref().and_then(|p| {
            let threads = p.threads.get(p.threads.len() / 2)?;
            Some(format!(
                ", from a parent of {} RSS and {threads} thread{}",
                format::bytes(p.rss_median()? as f64),
                if *threads == 1 { "" } else { "s" }
            ))
        });
        format!(
            "{} (median){}",
            m.metric.show(m.median, op),
            from.unwrap_or_default()
        )
    } else {
        m.metric.show(m.median, op)
    };
    let v = if m.dominated.is_some() {
        format!("{v} †")
    } else {
        v
    };
    if m.verified {
        v
    } else {
        format!("{v} (unverified)")
    }
}

fn workload(d: &mut Doc, r: &Results, name: &str) {
    let ms: Vec<&Measurement> = r
        .measurements
        .iter()
        .filter(|m| m.case.workload == name)
        .collect();
    let failed = r.failures.iter().any(|f| f.case.workload == name);
    // A study whose figures sit in other workloads' tables (a runtime's) still has its words.
    let has_findings = r.findings.get(name).is_some_and(|f| !f.is_empty());
    if ms.is_empty() && !failed && !has_findings {
        return;
    }
    let op = op_of(r, name);
    d.push(Block::Heading(if ms.is_empty() {
        name.to_string()
    } else {
        format!("{name}: {op}")
    }));
    if let Some(w) = r.workload(name) {
        // A workload's own description ends as a sentence, whether or not its author wrote the
        // period, before the sentences that follow it.
        let mut line = w.description.trim_end().to_string();
        if !line.is_empty() && !line.ends_with(['.', '!', '?']) {
            line.push('.');
        }
        if !w.params.is_empty() {
            let ps: Vec<String> = w.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&format!("Parameters: {}.", ps.join(", ")));
        }
        let pools = ms.iter().any(|m| Named::of(&m.case.model).is_pool());
        if let Some(n) = w.pool_task_units.filter(|_| pools) {
            line.push_str(&format!(
                " Pools hand out {} {} per task (--chunk).",
                format::count(n),
                if n == 1 { "unit" } else { "units" }
            ));
        }
        if !line.is_empty() {
            d.push(Block::Para(line));
        }
    }
    // The sequential reference once, at one worker: its N shares run one after another, so
    // at N workers it measures the same thing again (the results file keeps those rows).
    let rows: Vec<&Measurement> = ms
        .iter()
        .copied()
        .filter(|m| !(derived::is_reference(&m.case.model) && m.case.workers > 1))
        .collect();
    if !rows.is_empty() {
        d.push(Block::Table(table(r, &rows, &op)));
    }
    if ms.iter().any(|m| !m.verified) {
        d.push(Block::Para(
            "Figures marked unverified: the workload does not check this result, so no stated \
             check stands behind them."
                .into(),
        ));
    }
    dominated(d, &ms);
    if let Some((share, t1)) = derived::harness_share(r, name) {
        let bare = &r.calibration.bare_loop[name];
        let per_round = derived::ratio_samples(&t1.samples, &bare.samples, 1.0);
        d.push(Block::Para(match derived::unresolved(&per_round, 1.0) {
            // The harness cannot run the workload's code faster than the code alone.
            Some(sigma) => format!(
                "Harness overhead: unresolved at this machine's noise — threads at 1 worker came out at {:.1}% of the bare loop beside them, which no harness can be; the per-round ratios spread by σ {:.0}%, so the two were measured in different states of the machine.",
                100.0 * share,
                100.0 * sigma
            ),
            None => format!(
                "Harness overhead: threads at 1 worker run at {:.1}% of the bare loop measured beside them (median of the per-round ratios; medians {} and {}).",
                100.0 * share,
                format::rate_of(t1.median, &op),
                format::rate_of(bare.median, &op),
            ),
        }));
    }
    if let Some(f) = r.findings.get(name).filter(|f| !f.is_empty()) {
        d.push(Block::List(f.clone()));
    }
    scaling(d, r, name);
}

/// The cases whose samples measure starting and scheduling more workers than cores rather
/// than their work: named once, with the rule and the widest gap, under the table that shows
/// their figures (marked there).
fn dominated(d: &mut Doc, ms: &[&Measurement]) {
    let marked: Vec<&&Measurement> = ms
        .iter()
        .filter(|m| m.dominated.is_some() && m.is(crate::results::Metric::Throughput))
        .collect();
    let Some(first) = marked.first() else {
        return;
    };
    let names: Vec<String> = marked
        .iter()
        .map(|m| format!("{} {} ×{}", m.case.model, m.case.variant, m.case.workers))
        .collect();
    d.push(Block::Para(format!(
        "Dominated by scheduling (marked †; left out of speedups, efficiencies and the \
         scalability fit): {}. The rule: past the cores, a sample must hold at least {}× the \
         units and last {}× the time of a sample of one unit per worker; calibration aims at \
         twice that, up to {}× --sample-time. For example {}: {}.",
        names.join(", "),
        crate::sweep::sizing::FLOOR_SHARE,
        crate::sweep::sizing::FLOOR_SHARE,
        crate::sweep::sizing::MOST_STRETCH,
        first.case,
        first.dominated.as_deref().unwrap_or_default()
    )));
}

/// The Universal Scalability Law fits of the workload's throughput curves, or why there are none.
fn scaling(d: &mut Doc, r: &Results, name: &str) {
    let cores = r.machine.allowed_cpus.len();
    let mut fitted = Table {
        head: [
            "model",
            "variant",
            "σ (contention)",
            "κ (coherency)",
            "λ",
            "R²",
            "peak at N*",
        ]
        .into_iter()
        .map(String::from)
        .chain(
            usl::PREDICT_AT
                .iter()
                .map(|x| format!("predicted at {}", x * cores)),
        )
        .collect(),
        numeric: vec![false, false, true, true, true, true, true, true, true, true],
        rows: Vec::new(),
    };
    let mut too_few = Vec::new();
    for s in usl::scaling(r) {
        match s {
            usl::Scaling::Fit(f) if f.workload == name => {
                let op = op_of(r, name);
                let mut row = vec![
                    f.model.clone(),
                    f.variant.clone(),
                    format!("{:.4}", f.sigma),
                    format!("{:.2e}", f.kappa),
                    format::rate_of(f.lambda, &op),
                    format!("{:.3}", f.r2),
                    f.peak_workers
                        .map_or("none (κ = 0)".into(), |n| format!("{n:.0} workers")),
                ];
                row.extend(f.predicted.iter().map(|(_, x)| format::rate_of(*x, &op)));
                fitted.rows.push(row);
            }
            usl::Scaling::TooFew {
                workload,
                model,
                variant,
                points,
            } if workload == name => too_few.push(format!(
                "{model}/{variant} ({} worker counts)",
                points.len()
            )),
            _ => {}
        }
    }
    let none_fitted = fitted.rows.is_empty();
    if !none_fitted {
        d.push(Block::Para(format!(
            "Universal Scalability Law, X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted to the worker counts up to the {cores} allowed cores; predictions beyond them are extrapolations."
        )));
        d.push(Block::Table(fitted));
    }
    if too_few.is_empty() {
        return;
    }
    // On a machine of few cores no case can be fitted: one line says so, naming none.
    let need = format!(
        "{} or more worker counts up to the {cores} allowed cores",
        usl::MIN_POINTS
    );
    d.push(Block::Para(if none_fitted {
        format!(
            "Scaling: too few core counts to fit the Universal Scalability Law ({need} are needed)."
        )
    } else {
        format!(
            "Scaling: too few core counts to fit {} ({need} are needed).",
            too_few.join(", ")
        )
    }));
}

/// One row per case, one column per metric (and the figures derived from it, as its row of
/// the table lists them), and a column for each parameter that differs between the rows.
fn table(r: &Results, ms: &[&Measurement], op: &str) -> Table {
    let cases: Vec<&CaseId> = distinct(ms.iter().map(|m| &m.case));
    let metrics: Vec<Metric> = distinct(ms.iter().map(|m| m.metric));
    let varying: Vec<&String> = distinct(cases.iter().flat_map(|c| c.params.keys()))
        .into_iter()
        .filter(|k| distinct(cases.iter().map(|c| c.params.get(*k))).len() > 1)
        .collect();
    let variants = distinct(cases.iter().map(|c| &c.variant)).len() > 1;
    let mut t = Table::default();
    let col = |t: &mut Table, h: String, numeric: bool| {
        t.head.push(h);
        t.numeric.push(numeric);
    };
    for p in &varying {
        col(&mut t, p.replace('_', " "), true);
    }
    col(&mut t, "model".into(), false);
    if variants {
        col(&mut t, "variant".into(), false);
    }
    col(&mut t, "workers".into(), true);
    // A derived column is shown only when some row has it.
    let mut shown: Vec<(Metric, Metric)> = Vec::new();
    for &metric in &metrics {
        col(&mut t, metric.title(op), true);
        for &d in metric.facts().columns {
            let any = ms
                .iter()
                .any(|m| m.metric == metric && !derived::column_samples(d, r, m).is_empty());
            if any {
                col(&mut t, d.title(op), true);
                shown.push((metric, d));
            }
        }
    }
    for case in cases {
        let mut row: Vec<String> = varying
            .iter()
            .map(|p| {
                let v = case.params.get(*p).copied().unwrap_or(0);
                if p.contains("rss") || p.contains("bytes") {
                    format::bytes(v as f64)
                } else {
                    format::count(v)
                }
            })
            .collect();
        row.push(case.model.clone());
        if variants {
            row.push(case.variant.clone());
        }
        row.push(case.workers.to_string());
        for &metric in &metrics {
            let m = ms.iter().find(|m| m.case == *case && m.metric == metric);
            row.push(m.map_or("–".into(), |m| cell(m, op)));
            for &(_, d) in shown.iter().filter(|(mm, _)| *mm == metric) {
                let samples = m
                    .map(|m| derived::column_samples(d, r, m))
                    .unwrap_or_default();
                row.push(derived_cell(d, &samples));
            }
        }
        t.rows.push(row);
    }
    t
}

/// A derived figure's cell: its median per-round ratio, or — past what physics allows
/// (its row's cap) beyond the ratios' spread — unresolved.
fn derived_cell(d: Metric, samples: &[f64]) -> String {
    let beyond = d
        .facts()
        .cap
        .and_then(|cap| derived::unresolved(samples, cap));
    match (ratio(samples), beyond) {
        (None, _) => "–".into(),
        (Some(_), Some(sigma)) => format!("unresolved (σ {:.0}%)", 100.0 * sigma),
        (Some(x), None) => d.show(x, ""),
    }
}

/// The Markdown summary printed after a run and by `report`.
pub fn render(r: &Results) -> String {
    super::doc::markdown(&summary(r))
}

/// Whether a measurement is the throughput of a case (for the charts).
pub fn is_throughput(m: &Measurement) -> bool {
    m.is(Metric::Throughput)
}
