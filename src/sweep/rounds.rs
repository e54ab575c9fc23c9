//! Task cases, round by round: each round takes one sample of every case — and of each
//! workload's bare loop — before the next round starts. A shared machine drifts between fast
//! and slow spells that last longer than a sample (seen here: 1.7 and 2.9 G squares/s, half a
//! second each); interleaving gives every case the same mix of spells, so that sample i of one
//! case and sample i of another are measured side by side and their ratios (efficiency,
//! overhead) are not the drift's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use super::plan::{Case, Plan};
use super::study::CaseOutcome;
use crate::api::Model;
use crate::api::workload::Verdict;
use crate::exec::bare::{bare_run, rate};
use crate::exec::{Bound, Executor, Job, RawSample, SampleError, executor, take_sample};
use crate::measure::probe::probe;
use crate::results::{Better, CaseId, Measurement, Metric};

/// Same-run reference figures gathered while the task cases run.
#[derive(Default)]
pub struct CalibrationAcc {
    /// Per workload: its bare loop, one sample per counted round.
    pub bare_loop: BTreeMap<String, Vec<f64>>,
    /// Per workload, per CPU: its bare loop pinned there.
    pub per_cpu: BTreeMap<String, BTreeMap<usize, Vec<f64>>>,
    /// Every probe taken beside a sample.
    pub probe: Vec<f64>,
    /// What could not be measured, in words.
    pub notes: Vec<String>,
}

/// One task case's samples as they accumulate.
struct TaskAcc<'p> {
    id: CaseId,
    w: usize,
    job: Job<'p>,
    exec: Box<dyn Executor>,
    throughput: Vec<f64>,
    rss: Vec<Option<f64>>,
    extra: Option<(&'static str, Vec<f64>)>,
    probe: Vec<f64>,
    ops_per_sample: u64,
    verified: bool,
    failed: Option<String>,
}

/// One verified task sample, reduced to its figures.
struct Figures {
    throughput: f64,
    rss_bytes: Option<f64>,
    extra: Option<(&'static str, f64)>,
    ops: u64,
    verified: bool,
}

fn figures(model: Model, raw: &RawSample) -> Result<Figures, String> {
    let (verified, extra) = match &raw.verdict {
        Verdict::Failed(why) => return Err(why.clone()),
        Verdict::Passed => (true, None),
        Verdict::PassedWith { metric, value } => (true, Some((*metric, *value))),
        Verdict::Unverified => (false, None),
    };
    let secs = raw.elapsed_ns().max(1) as f64 / 1e9;
    let rss = if model.is_process() {
        // Each child's private pages; absent when any child's could not be read.
        raw.workers
            .iter()
            .map(|w| w.private_bytes)
            .sum::<Option<u64>>()
    } else {
        raw.rss_growth_bytes
    };
    Ok(Figures {
        throughput: raw.ops() as f64 / secs,
        rss_bytes: rss.map(|b| b as f64),
        extra,
        ops: raw.ops(),
        verified,
    })
}

/// A workload's bare loop: its first variant that runs sequentially, else its first.
pub fn bare_of(plan: &Plan, w: usize) -> Bound {
    let sel = &plan.workloads[w];
    let variants = sel.workload.info().variants.len();
    let variant = (0..variants)
        .find(|&v| sel.workload.supports(Model::Sequential, v))
        .unwrap_or(0);
    Bound {
        workload: sel.workload.clone(),
        variant,
        params: sel.params.clone(),
    }
}

/// Runs the task cases round by round; returns each case's outcome.
pub fn run_task_group(
    plan: &Plan,
    cases: &[Case],
    stop: &AtomicBool,
    bar: &ProgressBar,
    cal: &mut CalibrationAcc,
) -> Vec<(CaseId, CaseOutcome)> {
    let mut accs: Vec<TaskAcc<'_>> = Vec::new();
    let mut opened: Vec<(CaseId, CaseOutcome)> = Vec::new();
    for case in cases {
        let &Case::Task { w, model, .. } = case else {
            continue;
        };
        let job = plan.job(case);
        let mut exec = executor(model);
        let id = plan.case_id(case);
        if let Err(e) = exec.open(&job) {
            opened.push((id, Err(e.to_string())));
            continue;
        }
        accs.push(TaskAcc {
            id,
            w,
            job,
            exec,
            throughput: Vec::with_capacity(plan.samples),
            rss: Vec::with_capacity(plan.samples),
            extra: None,
            probe: Vec::with_capacity(plan.samples),
            ops_per_sample: 0,
            verified: true,
            failed: None,
        });
    }
    let mut workloads: Vec<usize> = accs.iter().map(|a| a.w).collect();
    workloads.dedup();
    // A workload whose bare loop failed once (timed out, a wrong result) is not tried again.
    let mut bare_failed: Vec<usize> = Vec::new();
    for round in 0..plan.warmup + plan.samples {
        let counted = round >= plan.warmup;
        for &w in &workloads {
            if stop.load(Ordering::Relaxed) || bare_failed.contains(&w) {
                continue;
            }
            let b = bare_of(plan, w);
            let name = plan.workloads[w].workload.info().name.to_string();
            let runs: Result<Vec<f64>, SampleError> = std::iter::once(None)
                .chain(plan.cpus.iter().map(|&c| Some(c)))
                .map(|cpu| bare_run(&b, cpu, plan.case_timeout).map(rate))
                .collect();
            match runs {
                Ok(rates) if counted => {
                    cal.bare_loop
                        .entry(name.clone())
                        .or_default()
                        .push(rates[0]);
                    let per = cal.per_cpu.entry(name).or_default();
                    for (&cpu, r) in plan.cpus.iter().zip(&rates[1..]) {
                        per.entry(cpu).or_default().push(*r);
                    }
                }
                Ok(_) | Err(SampleError::Interrupted) => {}
                Err(e) => {
                    cal.notes.push(format!("{name}: bare loop left out: {e}"));
                    bare_failed.push(w);
                }
            }
        }
        for acc in accs.iter_mut().filter(|a| a.failed.is_none()) {
            bar.set_message(acc.id.to_string());
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let p = probe();
            let model = Model::parse(&acc.id.model).unwrap_or(Model::Sequential);
            let sample = take_sample(acc.exec.as_mut(), &acc.job)
                .map_err(|e| e.to_string())
                .and_then(|raw| figures(model, &raw));
            bar.inc(1);
            match sample {
                Ok(f) if counted => {
                    acc.probe.extend(p);
                    cal.probe.extend(p);
                    acc.throughput.push(f.throughput);
                    acc.rss.push(f.rss_bytes);
                    acc.ops_per_sample = f.ops;
                    acc.verified &= f.verified;
                    if let Some((metric, value)) = f.extra {
                        acc.extra.get_or_insert((metric, Vec::new())).1.push(value);
                    }
                }
                Ok(_) => {}
                // A sample cut short by Ctrl-C is no failure: the samples before it stand.
                Err(_) if stop.load(Ordering::Relaxed) => break,
                Err(reason) => acc.failed = Some(reason),
            }
        }
    }
    for acc in &mut accs {
        acc.exec.close();
    }
    opened
        .into_iter()
        .chain(accs.into_iter().map(|a| {
            let outcome =
                finish(plan, a.w, &a.id, a.failed, a.throughput, a.rss, a.extra).map(|mut ms| {
                    for m in &mut ms {
                        m.verified = a.verified;
                    }
                    ms[0].ops_per_sample = Some(a.ops_per_sample);
                    ms[0].probe = if a.probe.len() == ms[0].samples.len() {
                        a.probe
                    } else {
                        Vec::new()
                    };
                    ms
                });
            (a.id, outcome)
        }))
        .collect()
}

/// A case's measurements from its samples: throughput first, then peak RSS where every sample
/// had a reading, then the workload's extra figure.
fn finish(
    plan: &Plan,
    w: usize,
    id: &CaseId,
    failed: Option<String>,
    throughput: Vec<f64>,
    rss: Vec<Option<f64>>,
    extra: Option<(&'static str, Vec<f64>)>,
) -> CaseOutcome {
    if let Some(reason) = failed {
        return Err(reason);
    }
    if throughput.is_empty() {
        return Err("interrupted before its first sample".into());
    }
    let mut t = Measurement::new(id, Metric::Throughput, throughput, true);
    t.op = Some(plan.workloads[w].workload.info().op.into());
    let mut out = vec![t];
    if let Some(rss) = rss.into_iter().collect::<Option<Vec<f64>>>() {
        out.push(Measurement::new(id, Metric::PeakRss, rss, true));
    }
    if let Some((metric, values)) = extra {
        let mut m = Measurement::named(id, metric, "count", Better::Lower, values, true);
        m.info = true;
        out.push(m);
    }
    Ok(out)
}
