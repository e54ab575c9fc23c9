//! How runs shown together are named: a short label each (the CPU, then what tells runs of
//! one CPU apart), and one line that names each in full once.

use crate::results::Results;

/// A short name for a CPU: its maker and model, without trademarks, clock or "Processor"
/// ("Intel(R) Xeon(R) Processor @ 2.80GHz" → "Intel Xeon").
pub fn short_cpu(brand: &str) -> String {
    let plain = brand
        .replace("(R)", "")
        .replace("(TM)", "")
        .replace("(tm)", "");
    let before_clock = plain.split('@').next().unwrap_or_default();
    let words: Vec<&str> = before_clock
        .split_whitespace()
        .filter(|w| !matches!(*w, "Processor" | "CPU" | "with") && !w.ends_with("-Core"))
        .take(3)
        .collect();
    if words.is_empty() {
        "unknown CPU".into()
    } else {
        words.join(" ")
    }
}

/// Short labels for runs shown together: each run's CPU ([`short_cpu`]), with its cores
/// where those tell runs apart, then its start (to the minute), then its place, until every
/// label is its own.
pub fn run_labels(runs: &[Results]) -> Vec<String> {
    let cores = |r: &Results| format!(" · {} cores", r.machine.allowed_cpus.len());
    let when = |r: &Results| {
        let t = r.run.started_at.replace('T', " ");
        format!(" · {}", t.get(..16).unwrap_or(&t))
    };
    let mut labels: Vec<String> = runs
        .iter()
        .map(|r| short_cpu(&r.machine.cpu_brand))
        .collect();
    // What is added to a clashing label, step by step: cores, start, place.
    for step in 0..3 {
        let clashes: Vec<bool> = labels
            .iter()
            .map(|l| labels.iter().filter(|m| *m == l).count() > 1)
            .collect();
        if !clashes.contains(&true) {
            break;
        }
        for (i, r) in runs.iter().enumerate() {
            if clashes[i] {
                let more = match step {
                    0 => cores(r),
                    1 => when(r),
                    _ => format!(" #{}", i + 1),
                };
                labels[i].push_str(&more);
            }
        }
    }
    labels
}

/// The runs named once in full beside their short labels: "AMD EPYC: 2 cores, run … of
/// 2026-12-06 19:21 | Intel Xeon: Intel(R) Xeon(R) Processor @ 2.80GHz, 2 cores, …".
pub fn runs_named(runs: &[Results], labels: &[String]) -> String {
    runs.iter()
        .zip(labels)
        .map(|(r, l)| {
            let brand = &r.machine.cpu_brand;
            let full = if brand.trim() == l.as_str() {
                String::new()
            } else {
                format!("{brand}, ")
            };
            let t = r.run.started_at.replace('T', " ");
            format!(
                "{l}: {full}{} cores, {}",
                r.machine.allowed_cpus.len(),
                t.get(..16).unwrap_or(&t)
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
