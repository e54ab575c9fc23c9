//! The Markdown summary printed after a run (and by `report`): tables per workload, the
//! scaling efficiency per worker count, the harness's overhead, and findings in plain words.

use std::fmt::Write;

use super::format;
use crate::results::{Measurement, Metric, Results};

fn find<'a>(
    r: &'a Results,
    workload: &str,
    model: &str,
    variant: &str,
    workers: usize,
    metric: Metric,
    param: Option<(&str, u64)>,
) -> Option<&'a Measurement> {
    r.measurements.iter().find(|m| {
        m.workload == workload
            && m.model == model
            && m.variant == variant
            && m.workers == workers
            && m.metric == metric.name()
            && param.is_none_or(|(k, v)| m.param(k) == Some(v))
    })
}

/// Distinct values in order of first appearance.
fn distinct<T: PartialEq + Clone>(xs: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in xs {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// `a ÷ b`: the median of the per-round ratios when both were sampled round by round side by
/// side (same sample count), which cancels the machine's drift; else the ratio of medians.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let r = if a.len() == b.len() {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
        crate::stats::median(&ratios)
    } else {
        crate::stats::median(a) / crate::stats::median(b)
    };
    r.is_finite().then_some(r)
}

/// Throughput at N workers ÷ (N × throughput at 1 worker) of the same model and variant.
pub fn efficiency(r: &Results, m: &Measurement) -> Option<f64> {
    let one = find(
        r,
        &m.workload,
        &m.model,
        &m.variant,
        1,
        Metric::Throughput,
        None,
    )?;
    paired_ratio(&m.samples, &one.samples).map(|x| x / m.workers as f64)
}

/// Throughput ÷ what the cores it could use did alone in the same rounds: the sum of the
/// min(N, cores) fastest per-CPU bare loops, round by round. Unlike [`efficiency`], this
/// stays near 1 on a machine whose cores differ in speed.
pub fn efficiency_vs_cores(r: &Results, m: &Measurement) -> Option<f64> {
    let cores = r.cores_reference(m.samples.len(), m.workers)?;
    paired_ratio(&m.samples, &cores)
}

/// Throughput ÷ the sequential model's 1-worker throughput of the same workload.
pub fn speedup(r: &Results, m: &Measurement) -> Option<f64> {
    let variant = if m.workload == "counter" {
        "default"
    } else {
        &m.variant
    };
    let base = find(
        r,
        &m.workload,
        "sequential",
        variant,
        1,
        Metric::Throughput,
        None,
    )?;
    paired_ratio(&m.samples, &base.samples)
}

pub fn render(r: &Results) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "# threadfork run {}", r.run.id);
    let _ = writeln!(
        s,
        "\n{} · {} · {} logical / {} physical cores ({} allowed) · {} RAM · {} · {}{}\n",
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
    );
    calibration(&mut s, r);
    task_table(&mut s, r, "square");
    counter_table(&mut s, r);
    startup_table(&mut s, r);
    sequence_table(&mut s, r);
    if !r.failures.is_empty() {
        let _ = writeln!(s, "## Failed cases\n");
        for f in &r.failures {
            let _ = writeln!(
                s,
                "- {} / {} / {} / {} workers: {}",
                f.workload, f.model, f.variant, f.workers, f.reason
            );
        }
        s.push('\n');
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "## Notes\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
        s.push('\n');
    }
    s
}

fn calibration(s: &mut String, r: &Results) {
    let c = &r.calibration;
    let _ = writeln!(s, "## Calibration (same run)\n");
    if let Some(l) = &c.square_loop {
        let _ = writeln!(
            s,
            "- bare loop of squares, one core: **{}** (95% CI {} – {})",
            format::rate(l.median, "squares/s"),
            format::rate(l.ci95[0], "squares/s"),
            format::rate(l.ci95[1], "squares/s")
        );
    }
    if !c.per_cpu_loop.is_empty() {
        let speeds: Vec<String> = c
            .per_cpu_loop
            .iter()
            .map(|(cpu, st)| format!("cpu {cpu}: {}", format::rate(st.median, "squares/s")))
            .collect();
        let _ = writeln!(
            s,
            "- the same loop pinned to each CPU: {}",
            speeds.join(", ")
        );
    }
    if let Some(t) = &c.timer_overhead {
        let _ = writeln!(s, "- one CLOCK_MONOTONIC read: {}", format::ns(t.median));
    }
    for (model, st) in &c.bare_roundtrip {
        let what = match model.as_str() {
            "threads" => "std::thread::spawn + join",
            "pthread" => "pthread_create + pthread_join",
            "fork" => "fork + _exit + waitpid",
            "spawn" => "posix_spawn + waitpid",
            _ => model.as_str(),
        };
        let _ = writeln!(s, "- bare {what}: {}", format::ns(st.median));
    }
    s.push('\n');
}

fn task_table(s: &mut String, r: &Results, workload: &str) {
    let rows: Vec<&Measurement> = r.select(workload, Metric::Throughput).collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## {workload}: throughput (squares per second, higher is better)\n"
    );
    let _ = writeln!(
        s,
        "| model | workers | median | 95% CI | efficiency | vs cores' own speed | vs sequential | peak RSS |"
    );
    let _ = writeln!(s, "|---|---:|---:|---|---:|---:|---:|---:|");
    for m in &rows {
        let rss = find(
            r,
            workload,
            &m.model,
            &m.variant,
            m.workers,
            Metric::PeakRss,
            None,
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} – {} | {} | {} | {} | {} |",
            m.model,
            m.workers,
            format::rate(m.median, "ops/s"),
            format::rate(m.ci95[0], ""),
            format::rate(m.ci95[1], ""),
            efficiency(r, m).map_or("–".into(), |e| format!("{e:.2}")),
            efficiency_vs_cores(r, m).map_or("–".into(), |e| format!("{e:.2}")),
            speedup(r, m).map_or("–".into(), |x| format!("{x:.2}×")),
            rss.map_or("–".into(), |x| format::bytes(x.median)),
        );
    }
    s.push('\n');
    if let (Some(t1), Some(bare)) = (
        find(
            r,
            workload,
            "threads",
            "default",
            1,
            Metric::Throughput,
            None,
        ),
        r.calibration.square_loop.as_ref(),
    ) {
        let _ = writeln!(
            s,
            "Harness overhead: threads at 1 worker run at **{:.1}%** of the bare loop measured beside them (median of the per-round ratios; medians {} and {}).\n",
            100.0 * paired_ratio(&t1.samples, &bare.samples).unwrap_or(f64::NAN),
            format::rate(t1.median, "ops/s"),
            format::rate(bare.median, "ops/s"),
        );
    }
}

fn counter_table(s: &mut String, r: &Results) {
    let rows: Vec<&Measurement> = r.select("counter", Metric::Throughput).collect();
    if rows.is_empty() {
        return;
    }
    let hold = rows[0].param("hold_ns").unwrap_or(0);
    let sleep = rows[0].param("hold_sleep") == Some(1);
    let _ = writeln!(
        s,
        "## counter: locked increments per second ({} increments per worker, hold {})\n",
        rows[0].param("increments").unwrap_or(0),
        match (hold, sleep) {
            (0, _) => "none".to_string(),
            (ns, true) => format!("{} sleep", format::ns(ns as f64)),
            (ns, false) => format!("{} busy-wait", format::ns(ns as f64)),
        }
    );
    let _ = writeln!(
        s,
        "| model | variant | workers | median | 95% CI | lost updates |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---|---:|");
    for m in &rows {
        let lost = find(
            r,
            "counter",
            &m.model,
            &m.variant,
            m.workers,
            Metric::LostUpdates,
            None,
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} – {} | {} |",
            m.model,
            m.variant,
            m.workers,
            format::rate(m.median, "ops/s"),
            format::rate(m.ci95[0], ""),
            format::rate(m.ci95[1], ""),
            lost.map_or("exact".into(), |l| format!(
                "{:.0} of {} (median)",
                l.median,
                m.param("increments").unwrap_or(0) * m.workers as u64
            )),
        );
    }
    s.push('\n');
}

fn startup_table(s: &mut String, r: &Results) {
    let rows: Vec<&Measurement> = r
        .select("empty", Metric::Startup)
        .filter(|m| m.variant == "default")
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Startup: request → the worker's first instruction (lower is better)\n"
    );
    let _ = writeln!(
        s,
        "| model | parent RSS | startup | roundtrip (start + empty task + join/reap) | bare roundtrip | harness adds |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for m in &rows {
        let rss = m.param("parent_rss").unwrap_or(0);
        let rt = find(
            r,
            "empty",
            &m.model,
            "default",
            1,
            Metric::Roundtrip,
            Some(("parent_rss", rss)),
        );
        let bare = r
            .calibration
            .bare_roundtrip
            .get(&m.model)
            .filter(|_| rss == 0);
        let adds = match (rt, bare) {
            (Some(rt), Some(b)) => paired_ratio(&rt.samples, &b.samples)
                .map_or("–".into(), |x| format!("{:+.1}%", 100.0 * (x - 1.0))),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            m.model,
            format::bytes(rss as f64),
            format::ns(m.median),
            rt.map_or("–".into(), |x| format::ns(x.median)),
            bare.map_or("–".into(), |b| format::ns(b.median)),
            adds
        );
    }
    s.push('\n');
    for line in startup_findings(r) {
        let _ = writeln!(s, "- {line}");
    }
    s.push('\n');
}

/// Plain words on how each model's startup grows with the parent's RSS.
pub fn startup_findings(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let sizes = distinct(
        r.select("empty", Metric::Startup)
            .filter_map(|m| m.param("parent_rss")),
    );
    let (Some(&lo), Some(&hi)) = (sizes.iter().min(), sizes.iter().max()) else {
        return out;
    };
    if lo == hi {
        return out;
    }
    for model in ["fork", "spawn", "threads"] {
        let a = find(
            r,
            "empty",
            model,
            "default",
            1,
            Metric::Startup,
            Some(("parent_rss", lo)),
        );
        let b = find(
            r,
            "empty",
            model,
            "default",
            1,
            Metric::Startup,
            Some(("parent_rss", hi)),
        );
        if let (Some(a), Some(b)) = (a, b) {
            let ratio = b.median / a.median;
            let verdict = if ratio >= 10.0 {
                "grows by an order of magnitude: the kernel copies the parent's page tables"
            } else if ratio >= 1.2 {
                "grows with the parent's size"
            } else {
                "stays flat: it does not depend on the parent's size"
            };
            out.push(format!(
                "{model} startup goes from {} with {} of parent RSS to {} with {} ({ratio:.1}×): {verdict}.",
                format::ns(a.median),
                format::bytes(lo as f64),
                format::ns(b.median),
                format::bytes(hi as f64),
            ));
        }
    }
    out
}

fn sequence_table(s: &mut String, r: &Results) {
    let rows: Vec<&Measurement> = r.select("sequence", Metric::Throughput).collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "## sequence: lazy iterator vs eager Vec vs pipeline\n");
    let _ = writeln!(
        s,
        "| n | variant | model | workers | heap bytes | peak RSS growth | first item | throughput |"
    );
    let _ = writeln!(s, "|---:|---|---|---:|---:|---:|---:|---:|");
    for m in &rows {
        let n = m.param("n").unwrap_or(0);
        let get = |metric| {
            find(
                r,
                "sequence",
                &m.model,
                &m.variant,
                m.workers,
                metric,
                Some(("n", n)),
            )
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            format::count(n),
            m.variant,
            m.model,
            m.workers,
            get(Metric::HeapBytes).map_or("–".into(), |x| format::bytes(x.median)),
            get(Metric::PeakRss).map_or("–".into(), |x| format::bytes(x.median)),
            get(Metric::FirstItem).map_or("–".into(), |x| format::ns(x.median)),
            format::rate(m.median, "items/s"),
        );
    }
    s.push('\n');
    for line in sequence_findings(r) {
        let _ = writeln!(s, "- {line}");
    }
    s.push('\n');
}

/// Per n: eager ÷ lazy for heap bytes and first-item time, in words.
pub fn sequence_findings(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let sizes = distinct(
        r.select("sequence", Metric::Throughput)
            .filter_map(|m| m.param("n")),
    );
    for n in sizes {
        let get = |model, metric| find(r, "sequence", model, "range", 1, metric, Some(("n", n)));
        let (Some(eh), Some(lh), Some(ef), Some(lf)) = (
            get("eager", Metric::HeapBytes),
            get("lazy", Metric::HeapBytes),
            get("eager", Metric::FirstItem),
            get("lazy", Metric::FirstItem),
        ) else {
            continue;
        };
        let heap = if lh.median > 0.0 {
            format!("{:.0}× the heap", eh.median / lh.median)
        } else {
            format!("{} of heap against none", format::bytes(eh.median))
        };
        out.push(format!(
            "n = {}: eager uses {heap} ({} vs {}) and hands over its first item {:.0}× later ({} vs {}).",
            format::count(n),
            format::bytes(eh.median),
            format::bytes(lh.median),
            ef.median / lf.median.max(1.0),
            format::ns(ef.median),
            format::ns(lf.median),
        ));
    }
    out
}
