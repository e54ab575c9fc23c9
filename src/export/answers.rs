//! The answers a reader comes for, first in the summary and at the top of `index.html`: one
//! line per question, each quoting measured, verified figures of this run (median and 95%
//! interval) and the case they come from. Where the run did not measure a question, the line
//! says which flag would. A user's workload is answered in its own terms: its op, its models,
//! its variants.

use crate::results::{CaseId, Measurement, Results};
use crate::units as format;

/// The built-in workloads, answered by the classic questions; every other workload is a
/// user's and is answered in its own terms.
const BUILT_IN: [&str; 4] = ["square", "counter", "empty", "sequence"];

/// One answer line and the measurements it quotes.
#[derive(Clone, Debug)]
pub struct Answer {
    pub line: String,
    pub quotes: Vec<Quote>,
}

/// A figure an answer quotes: the measurement's case and metric, and the median quoted.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub case: CaseId,
    pub metric: String,
    pub value: f64,
}

/// Collects an answer's line while it quotes measurements.
#[derive(Default)]
struct Line {
    quotes: Vec<Quote>,
}

impl Line {
    /// `m`'s median with its 95% interval (as ± per cent), in its own unit (a rate in `op`s),
    /// quoted.
    fn fig(&mut self, m: &Measurement, op: &str) -> String {
        self.quotes.push(Quote {
            case: m.case.clone(),
            metric: m.metric.clone(),
            value: m.median,
        });
        let f = |v: f64| match m.unit.as_str() {
            "ops/s" => format::rate_of(v, op),
            unit => format::value(v, unit),
        };
        // The 95% interval as its wider side's distance from the median, in per cent.
        let half = (m.median - m.ci95[0]).max(m.ci95[1] - m.median).max(0.0);
        let pct = if m.median != 0.0 {
            100.0 * half / m.median.abs()
        } else {
            0.0
        };
        if half == 0.0 {
            // Every sample gave the same figure (exact counts such as heap bytes).
            f(m.median)
        } else if pct < 10.0 {
            format!("{} ±{pct:.1}%", f(m.median))
        } else {
            format!("{} ±{pct:.0}%", f(m.median))
        }
    }

    fn done(self, line: String) -> Answer {
        Answer {
            line,
            quotes: self.quotes,
        }
    }
}

/// A verified Rust measurement of this run.
fn find<'a>(
    r: &'a Results,
    workload: &str,
    model: &str,
    variant: &str,
    workers: usize,
    metric: &str,
) -> Option<&'a Measurement> {
    r.measurements.iter().find(|m| {
        m.case.workload == workload
            && m.case.model == model
            && m.case.variant == variant
            && m.case.workers == workers
            && m.metric == metric
            && m.verified
            && m.runtime.is_none()
    })
}

/// The largest worker count measured for `workload` that the cores can run at once.
fn widest(r: &Results, workload: &str) -> Option<usize> {
    let cores = r.machine.allowed_cpus.len().max(1);
    r.measurements
        .iter()
        .filter(|m| m.case.workload == workload && m.case.workers <= cores)
        .map(|m| m.case.workers)
        .max()
}

fn op(r: &Results, workload: &str) -> String {
    r.workload(workload)
        .map(|w| w.op.clone())
        .unwrap_or_else(|| "ops".into())
}

/// Every answer of the run, in the order a reader asks them.
pub fn answers(r: &Results) -> Vec<Answer> {
    let mut out = Vec::new();
    out.extend(start(r));
    out.extend(parent_size(r));
    out.extend(cpu_bound(r));
    out.extend(lock(r));
    out.extend(sequence(r));
    out.extend(pools(r));
    for w in r.workload_names() {
        if !BUILT_IN.contains(&w.as_str()) {
            out.extend(user(r, &w));
        }
    }
    out
}

/// A start-up of `model` at the smallest parent size measured.
fn startup_at<'a>(r: &'a Results, model: &str, rss: u64) -> Option<&'a Measurement> {
    r.measurements.iter().find(|m| {
        m.case.workload == "empty"
            && m.case.model == model
            && m.case.variant == "default"
            && m.metric == "startup"
            && m.param("parent_rss") == Some(rss)
            && m.verified
            && m.runtime.is_none()
    })
}

fn parent_sizes(r: &Results) -> Vec<u64> {
    let mut v: Vec<u64> = r
        .measurements
        .iter()
        .filter(|m| m.case.workload == "empty" && m.metric == "startup")
        .filter_map(|m| m.param("parent_rss"))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// How long a process takes to start against a thread.
fn start(r: &Results) -> Option<Answer> {
    let Some(&lo) = parent_sizes(r).first() else {
        return Some(Line::default().done(
            "Starting a process vs a thread: not measured (add `--workload empty`).".into(),
        ));
    };
    let mut l = Line::default();
    let thread = startup_at(r, "threads", lo);
    let mut parts = Vec::new();
    if let Some(t) = thread {
        parts.push(format!("thread {}", l.fig(t, "")));
    }
    for model in ["fork", "spawn"] {
        if let Some(m) = startup_at(r, model, lo) {
            let times = thread.map_or(String::new(), |t| {
                format!(" ({}× a thread)", format::sig3(m.median / t.median))
            });
            parts.push(format!("{model} {}{times}", l.fig(m, "")));
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(l.done(format!(
        "Starting a worker, request to first instruction (empty, parent holding {} of ballast; ± is the 95% interval): {}.",
        format::bytes(lo as f64),
        parts.join("; ")
    )))
}

/// How a start grows with the parent's size, where several sizes were measured.
fn parent_size(r: &Results) -> Option<Answer> {
    let sizes = parent_sizes(r);
    let (&lo, &hi) = (sizes.first()?, sizes.last()?);
    if lo == hi {
        return None;
    }
    let mut l = Line::default();
    let parts: Vec<String> = ["fork", "spawn", "threads"]
        .iter()
        .filter_map(|model| {
            let (a, b) = (startup_at(r, model, lo)?, startup_at(r, model, hi)?);
            let ratio = b.median / a.median;
            Some(format!(
                "{model} {}× ({} → {})",
                format::sig3(ratio),
                l.fig(a, ""),
                l.fig(b, "")
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        l.done(format!(
            "A bigger parent ({} → {} of ballast): {}.",
            format::bytes(lo as f64),
            format::bytes(hi as f64),
            parts.join("; ")
        ))
    })
}

/// What more workers buy for CPU-bound work, against one worker run sequentially.
fn cpu_bound(r: &Results) -> Option<Answer> {
    let w = widest(r, "square")?;
    let op = op(r, "square");
    let mut l = Line::default();
    let Some(seq) = find(r, "square", "sequential", "default", 1, "throughput") else {
        return Some(
            l.done(
                "CPU-bound work: no sequential reference at 1 worker (add `--model sequential`)."
                    .into(),
            ),
        );
    };
    if w < 2 {
        return Some(
            l.done("CPU-bound work: one worker only on this run (add `--workers 1,2`).".into()),
        );
    }
    let reference = l.fig(seq, &op);
    let mut parts = Vec::new();
    for model in ["threads", "fork", "spawn"] {
        if let Some(m) = find(r, "square", model, "default", w, "throughput") {
            let k = m.median / seq.median;
            parts.push(format!("{model} {}× ({})", format::sig3(k), l.fig(m, &op)));
        }
    }
    let best_pool = r
        .measurements
        .iter()
        .filter(|m| {
            m.case.workload == "square"
                && m.case.workers == w
                && m.metric == "throughput"
                && m.verified
                && m.runtime.is_none()
                && crate::api::Model::parse(&m.case.model).is_some_and(|x| x.pool().is_some())
        })
        .max_by(|a, b| a.median.total_cmp(&b.median));
    if let Some(p) = best_pool {
        let k = p.median / seq.median;
        parts.push(format!(
            "best pool {} {}× ({})",
            p.case.model,
            format::sig3(k),
            l.fig(p, &op)
        ));
    }
    Some(l.done(format!(
        "CPU-bound work (square), {w} workers against 1 run sequentially ({reference}): {}.",
        parts.join("; ")
    )))
}

/// What a lock costs uncontended and contended, and what dropping it loses.
fn lock(r: &Results) -> Vec<Answer> {
    let mut out = Vec::new();
    let Some(w) = widest(r, "counter").filter(|&w| w >= 2) else {
        return out;
    };
    let op = op(r, "counter");
    let one = find(r, "counter", "threads", "std-mutex", 1, "throughput");
    let many = find(r, "counter", "threads", "std-mutex", w, "throughput");
    if let (Some(a), Some(b)) = (one, many) {
        let mut l = Line::default();
        let line = format!(
            "A lock (counter, std-mutex on threads): uncontended {} at 1 worker; contended {} at {w} ({}× the uncontended rate).",
            l.fig(a, &op),
            l.fig(b, &op),
            format::sig3(b.median / a.median)
        );
        out.push(l.done(line));
    }
    let lost = find(r, "counter", "threads", "no-lock", w, "lost_updates");
    let ran = find(r, "counter", "threads", "no-lock", w, "throughput");
    if let (Some(lost), Some(ops)) = (lost, ran.and_then(|m| m.ops_per_sample)) {
        // Said only where it holds: every locked case passed its exact check.
        let exact = r.failures.iter().all(|f| f.case.workload != "counter")
            && r.measurements
                .iter()
                .filter(|m| m.case.workload == "counter" && m.case.variant != "no-lock")
                .all(|m| m.verified);
        let mut l = Line::default();
        let line = format!(
            "Without the lock (counter, no-lock on threads, {w} workers): {} updates lost of {ops} a sample ({:.0}%){}.",
            l.fig(lost, &op),
            100.0 * lost.median / ops as f64,
            if exact {
                "; every locked variant ended at exactly workers × increments"
            } else {
                ""
            }
        );
        out.push(l.done(line));
    }
    out
}

/// What a lazy sequence saves against an eager one, at the largest n.
fn sequence(r: &Results) -> Option<Answer> {
    let at = |model: &str, metric: &str, n: u64| {
        r.measurements.iter().find(|m| {
            m.case.workload == "sequence"
                && m.case.model == model
                && m.case.variant == "range"
                && m.metric == metric
                && m.param("n") == Some(n)
                && m.verified
                && m.runtime.is_none()
        })
    };
    let n = r
        .measurements
        .iter()
        .filter(|m| m.case.workload == "sequence")
        .filter_map(|m| m.param("n"))
        .max()?;
    let (eh, lh) = (at("eager", "heap_bytes", n)?, at("lazy", "heap_bytes", n)?);
    let (ef, lf) = (at("eager", "first_item", n)?, at("lazy", "first_item", n)?);
    let mut l = Line::default();
    let line = format!(
        "Lazy vs eager (sequence of n = {}): heap {} eager against {} lazy; first item after {} eager against {} lazy.",
        format::count(n),
        l.fig(eh, ""),
        l.fig(lh, ""),
        l.fig(ef, ""),
        l.fig(lf, "")
    );
    Some(l.done(line))
}

/// What opening a pool costs, and from which task size a pool pays.
fn pools(r: &Results) -> Vec<Answer> {
    let mut out = Vec::new();
    let Some(w) = widest(r, "square") else {
        return out;
    };
    let mut l = Line::default();
    let parts: Vec<String> = ["thread-pool-map", "rayon-map", "process-pool-map"]
        .iter()
        .filter_map(|model| {
            let m = r.measurements.iter().find(|m| {
                m.case.workload == "square"
                    && m.case.model == *model
                    && m.case.workers == w
                    && m.metric == "pool_start"
                    && m.verified
            })?;
            Some(format!(
                "{} {}",
                model.trim_end_matches("-map"),
                l.fig(m, "")
            ))
        })
        .collect();
    if !parts.is_empty() {
        out.push(l.done(format!(
            "Opening a pool of {w} workers (request to every worker running): {}.",
            parts.join("; ")
        )));
    }
    let mut works: Vec<Option<u64>> = r
        .measurements
        .iter()
        .filter(|m| m.case.workload == "square" && m.metric == "throughput")
        .map(|m| m.param("work"))
        .collect();
    works.sort_unstable();
    works.dedup();
    let swept = works.len() > 1;
    if !parts.is_empty() && !swept {
        out.push(Line::default().done(
            "From which task size a pool pays: not measured (add `--work 1,10,100,1000,10000`)."
                .into(),
        ));
    }
    out
}

/// A user's workload in its own terms: the best model against sequential, and each variant
/// against the first.
fn user(r: &Results, w: &str) -> Vec<Answer> {
    let mut out = Vec::new();
    let op = op(r, w);
    let Some(n) = widest(r, w) else {
        return out;
    };
    let tp = |m: &&Measurement| {
        m.case.workload == w
            && m.metric == "throughput"
            && m.verified
            && m.runtime.is_none()
            && m.case.workers == n
    };
    // The variants in the order they were measured, each once.
    let mut variants: Vec<String> = Vec::new();
    for m in r.measurements.iter().filter(|m| m.case.workload == w) {
        if !variants.contains(&m.case.variant) {
            variants.push(m.case.variant.clone());
        }
    }
    let first = variants.first().cloned().unwrap_or_default();
    let best = r
        .measurements
        .iter()
        .filter(tp)
        .filter(|m| m.case.variant == first)
        .max_by(|a, b| a.median.total_cmp(&b.median));
    if let Some(b) = best {
        let mut l = Line::default();
        let seq = find(r, w, "sequential", &first, 1, "throughput");
        let vs = seq.map_or(String::new(), |s| {
            format!(
                ", {}× its sequential run at 1 worker ({})",
                format::sig3(b.median / s.median),
                l.fig(s, &op)
            )
        });
        let line = format!(
            "{w} ({first}), {n} workers: fastest on {} at {}{vs}.",
            b.case.model,
            l.fig(b, &op)
        );
        out.push(l.done(line));
    }
    for v in variants.iter().skip(1) {
        let pair = r.measurements.iter().filter(tp).find_map(|a| {
            (a.case.variant == first)
                .then(|| find(r, w, &a.case.model, v, n, "throughput").map(|b| (a, b)))
                .flatten()
        });
        if let Some((a, b)) = pair {
            let mut l = Line::default();
            let line = format!(
                "{w}: {v} runs at {}× {first} on {} with {n} workers ({} against {}).",
                format::sig3(b.median / a.median),
                a.case.model,
                l.fig(b, &op),
                l.fig(a, &op)
            );
            out.push(l.done(line));
        }
    }
    out
}
