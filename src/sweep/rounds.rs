//! Task cases, round by round: each round takes one sample of every case — and of each
//! workload's bare loop — before the next round starts. A shared machine drifts between fast
//! and slow spells that last longer than a sample (seen here: 1.7 and 2.9 G squares/s, half a
//! second each); interleaving gives every case the same mix of spells, so that sample i of one
//! case and sample i of another are measured side by side and their ratios (efficiency,
//! overhead) are not the drift's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use super::plan::{Case, Plan, Scaling};
use crate::api::study::CaseOutcome;
use crate::api::workload::Verdict;
use crate::api::{Model, Size};
use crate::exec::bare::{bare_run, rate};
use crate::exec::{Bound, Executor, Job, RawSample, SampleError, executor, take_sample};
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
struct TaskAcc {
    id: CaseId,
    w: usize,
    case: Case,
    /// The case's parameter values: the workload's, with a time-sized workload's size set
    /// for this case.
    params: Vec<u64>,
    exec: Box<dyn Executor>,
    /// The size parameter's index, for a case whose samples are sized by time (strong).
    sized: Option<usize>,
    throughput: Vec<f64>,
    durations: Vec<f64>,
    rss: Vec<Option<f64>>,
    extra: Option<(&'static str, Vec<f64>)>,
    probe: Vec<f64>,
    ops_per_sample: u64,
    verified: bool,
    failed: Option<String>,
    /// What opening the case's pool took, each time it was opened (empty: not a pool).
    opens: Vec<f64>,
}

/// The name of a pool's start-up figure: from asking for the pool to every worker running.
pub use crate::results::schema::POOL_START;

/// Times a pool is opened for its start-up figure.
pub const POOL_OPENS: usize = 5;

/// One verified task sample, reduced to its figures.
pub(crate) struct Figures {
    pub(crate) throughput: f64,
    pub(crate) elapsed_ns: f64,
    pub(crate) rss_bytes: Option<f64>,
    pub(crate) extra: Option<(&'static str, f64)>,
    pub(crate) ops: u64,
    pub(crate) verified: bool,
    /// The workers' own cores' speed around the sample.
    pub(crate) probe: Option<f64>,
}

pub(crate) fn figures(model: Model, raw: &RawSample) -> Result<Figures, String> {
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
        elapsed_ns: raw.elapsed_ns() as f64,
        rss_bytes: rss.map(|b| b as f64),
        extra,
        ops: raw.ops(),
        verified,
        probe: raw.probe(),
    })
}

/// A workload's bare loop: its first variant that runs sequentially, else its first; a
/// time-sized one sized to last about the sample time.
pub fn bare_of(plan: &Plan, w: usize) -> Bound {
    let sel = &plan.workloads[w];
    let variants = sel.workload.info().variants.len();
    let variant = (0..variants)
        .find(|&v| sel.workload.supports(Model::Sequential, v))
        .unwrap_or(0);
    let mut params = sel.params.clone();
    if let Some(i) = sel
        .size_index()
        .filter(|_| sel.time_sized && sel.unit_ns.is_some())
    {
        params[i] = sel.units_for(plan.sample_ns);
    }
    Bound {
        workload: sel.workload.clone(),
        variant,
        params,
    }
}

/// One sample of a case with its own parameters.
pub(crate) fn take(
    plan: &Plan,
    case: &Case,
    params: &[u64],
    exec: &mut dyn Executor,
) -> Result<RawSample, SampleError> {
    let job = Job {
        params,
        ..plan.job(case)
    };
    take_sample(exec, &job)
}

/// A time-sized case's starting size: from what one core does in the sample time, times the
/// cores its workers can use (strong scaling), or given to every worker (weak).
pub(crate) fn starting_size(
    plan: &Plan,
    w: usize,
    model: Model,
    workers: usize,
) -> Option<(usize, u64)> {
    let sel = &plan.workloads[w];
    let i = sel
        .size_index()
        .filter(|_| sel.time_sized && sel.unit_ns.is_some())?;
    let one = sel.units_for(plan.sample_ns);
    let busy = workers.min(plan.cpus.len().max(1)) as u64;
    let n = workers as u64;
    let per_worker = matches!(sel.workload.info().size, Size::PerWorker(_));
    // Strong scaling starts at a sixteenth of the guess and lets calibration grow it: the guess
    // is the bare loop's pace, and a contended variant runs tens of times slower than that.
    let units = match (plan.scaling, per_worker) {
        (Scaling::Strong, false) => (one * busy / 16).max(n),
        (Scaling::Strong, true) => (one * busy / n / 16).max(1),
        (Scaling::Weak, false) => one * n,
        (Scaling::Weak, true) => one,
    };
    // A pool's pace is its dispatch's when tasks are small: submit-wait of one-square tasks
    // runs 10^4× slower than the bare loop the guess comes from. Its calibration starts from
    // a few hundred tasks per worker and grows (16× a step).
    let units = match (model.pool(), plan.scaling) {
        (Some(_), Scaling::Strong) if per_worker => units.min(POOL_START_UNITS),
        (Some(_), Scaling::Strong) => units.min(POOL_START_UNITS * n),
        _ => units,
    };
    Some((i, units))
}

/// Units per worker a pool's calibration starts from.
const POOL_START_UNITS: u64 = 256;

/// Where calibration aims the fastest sample it saw, as a multiple of `--sample-time`: a
/// contended lock's pace changes up to threefold from one sample to the next (seen here with
/// the process-shared lock), so the fastest of two is put a little above the target and the
/// luckiest later sample still lasts about a third of it.
const AIM: f64 = 1.3;

/// Calibration samples of a time-sized case (strong scaling): its size (`params[i]`) is
/// scaled by [`AIM`] × target ÷ elapsed until the fastest of three samples at one size lasts
/// between the target and twice it. Eight samples at most.
pub(crate) fn calibrate(
    plan: &Plan,
    case: &Case,
    params: &mut [u64],
    exec: &mut dyn Executor,
    i: usize,
) -> Result<(), String> {
    let target = plan.sample_ns as f64;
    let limit = plan.case_timeout.as_nanos() as f64 / 2.0;
    let min_units = min_units(plan, case);
    // The fastest sample at the current size, and how many were taken at it.
    let (mut fastest, mut taken) = (f64::INFINITY, 0);
    for _ in 0..8 {
        let raw = take(plan, case, params, exec).map_err(|e| e.to_string())?;
        if let Verdict::Failed(why) = raw.verdict {
            return Err(why);
        }
        fastest = fastest.min(raw.elapsed_ns().max(1) as f64);
        taken += 1;
        let in_range = (target..=target * 2.0).contains(&fastest);
        if in_range && taken >= 3 {
            break;
        }
        if in_range {
            continue;
        }
        if !grow(params, i, fastest, target, limit, min_units) {
            break;
        }
        (fastest, taken) = (f64::INFINITY, 0);
    }
    Ok(())
}

/// The smallest size a case's sample may have: one unit per worker of a split workload.
fn min_units(plan: &Plan, case: &Case) -> u64 {
    match *case {
        Case::Task { w, workers, .. }
            if matches!(plan.workloads[w].workload.info().size, Size::Split(_)) =>
        {
            workers as u64
        }
        _ => 1,
    }
}

/// Scales a case's size so that a sample that took `elapsed` would take [`AIM`] × `target`
/// (at most 16× either way, and never past half the case timeout); false if it cannot move.
fn grow(
    params: &mut [u64],
    i: usize,
    elapsed: f64,
    target: f64,
    limit: f64,
    min_units: u64,
) -> bool {
    let factor = (AIM * target / elapsed)
        .clamp(1.0 / 16.0, 16.0)
        .min(limit / elapsed);
    let next = ((params[i] as f64 * factor).round() as u64).max(min_units);
    let moved = next != params[i];
    params[i] = next;
    moved
}

/// A time-sized sample shorter than this share of `--sample-time` was mis-sized (a contended
/// lock had a lucky run): it is taken again at a size grown to match.
const SHORTEST_SHARE: f64 = 1.0 / 3.0;

/// Runs the task cases round by round; returns each case's outcome.
pub fn run_task_group(
    plan: &Plan,
    cases: &[Case],
    stop: &AtomicBool,
    bar: &ProgressBar,
    cal: &mut CalibrationAcc,
) -> Vec<(CaseId, CaseOutcome)> {
    let mut accs: Vec<TaskAcc> = Vec::new();
    let mut opened: Vec<(CaseId, CaseOutcome)> = Vec::new();
    for case in cases {
        match open_case(plan, case, stop, bar) {
            Some(Ok(acc)) => accs.push(acc),
            Some(Err(failed)) => opened.push(failed),
            None => {}
        }
    }
    let mut workloads: Vec<usize> = accs.iter().map(|a| a.w).collect();
    workloads.dedup();
    // A workload whose bare loop failed once (timed out, a wrong result) is not tried again.
    let mut bare_failed: Vec<usize> = Vec::new();
    for round in 0..plan.warmup + plan.samples {
        let counted = round >= plan.warmup;
        for &w in &workloads {
            if !stop.load(Ordering::Relaxed) && !bare_failed.contains(&w) {
                bare_round(plan, w, counted, cal, &mut bare_failed);
            }
        }
        for acc in accs.iter_mut().filter(|a| a.failed.is_none()) {
            bar.set_message(acc.id.to_string());
            if stop.load(Ordering::Relaxed) || !sample_case(plan, acc, counted, stop, bar, cal) {
                break;
            }
        }
    }
    for acc in &mut accs {
        acc.exec.close();
    }
    opened
        .into_iter()
        .chain(accs.into_iter().map(|a| case_outcome(plan, a)))
        .collect()
}

/// A task case opened (a pool started, `POOL_OPENS` times) and sized: its accumulator, or
/// the case's failure; `None` for a case that is not a task.
fn open_case(
    plan: &Plan,
    case: &Case,
    stop: &AtomicBool,
    bar: &ProgressBar,
) -> Option<Result<TaskAcc, (CaseId, CaseOutcome)>> {
    let &Case::Task {
        w, model, workers, ..
    } = case
    else {
        return None;
    };
    let mut params = plan.workloads[w].params.clone();
    let sized = starting_size(plan, w, model, workers);
    if let Some((i, units)) = sized {
        params[i] = units;
    }
    let mut exec = executor(model);
    let id = plan.case_id(case);
    let opening = Job {
        params: &params,
        ..plan.job(case)
    };
    // A pool is opened (and, but for the last time, closed) POOL_OPENS times: what
    // starting it costs is a figure of its own.
    let mut opens = Vec::new();
    let mut result = exec.open(&opening);
    while result.is_ok()
        && let Some(ns) = exec.opened_ns()
    {
        opens.push(ns as f64);
        if opens.len() >= POOL_OPENS {
            break;
        }
        exec.close();
        result = exec.open(&opening);
    }
    if let Err(e) = result {
        return Some(Err((id, Err(e.to_string()))));
    }
    let mut acc = TaskAcc {
        id,
        w,
        case: case.clone(),
        params,
        exec,
        sized: sized
            .filter(|_| plan.scaling == Scaling::Strong)
            .map(|(i, _)| i),
        throughput: Vec::with_capacity(plan.samples),
        durations: Vec::with_capacity(plan.samples),
        rss: Vec::with_capacity(plan.samples),
        extra: None,
        probe: Vec::with_capacity(plan.samples),
        ops_per_sample: 0,
        verified: true,
        failed: None,
        opens,
    };
    if let Some((i, _)) = sized.filter(|_| plan.scaling == Scaling::Strong)
        && !stop.load(Ordering::Relaxed)
    {
        bar.set_message(format!("{}: sizing samples", acc.id));
        acc.failed = calibrate(plan, &acc.case, &mut acc.params, acc.exec.as_mut(), i).err();
    }
    Some(Ok(acc))
}

/// One round of workload `w`'s bare loop, on no CPU in particular and on each pinned CPU,
/// kept in the calibration when the round counts.
fn bare_round(
    plan: &Plan,
    w: usize,
    counted: bool,
    cal: &mut CalibrationAcc,
    bare_failed: &mut Vec<usize>,
) {
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

/// One sample of `acc`'s case (retaken larger while a time-sized sample comes out far too
/// short), kept when the round counts. False when a stop cut the sample short.
fn sample_case(
    plan: &Plan,
    acc: &mut TaskAcc,
    counted: bool,
    stop: &AtomicBool,
    bar: &ProgressBar,
    cal: &mut CalibrationAcc,
) -> bool {
    let model = Model::parse(&acc.id.model).unwrap_or(Model::Sequential);
    let mut sample;
    let mut tries = 0;
    loop {
        sample = take(plan, &acc.case, &acc.params, acc.exec.as_mut())
            .map_err(|e| e.to_string())
            .and_then(|raw| figures(model, &raw));
        // A time-sized sample far shorter than the target was mis-sized: grow, retake.
        let target = plan.sample_ns as f64;
        let short = match (&sample, acc.sized) {
            (Ok(f), Some(i)) if f.elapsed_ns < SHORTEST_SHARE * target && tries < 3 => {
                Some((i, f.elapsed_ns))
            }
            _ => None,
        };
        let Some((i, elapsed)) = short else { break };
        let limit = plan.case_timeout.as_nanos() as f64 / 2.0;
        let min = min_units(plan, &acc.case);
        if !grow(&mut acc.params, i, elapsed.max(1.0), target, limit, min) {
            break;
        }
        tries += 1;
    }
    bar.inc(1);
    match sample {
        Ok(f) if counted => {
            acc.probe.extend(f.probe);
            cal.probe.extend(f.probe);
            acc.throughput.push(f.throughput);
            acc.durations.push(f.elapsed_ns);
            acc.rss.push(f.rss_bytes);
            acc.ops_per_sample = f.ops;
            acc.verified &= f.verified;
            if let Some((metric, value)) = f.extra {
                acc.extra.get_or_insert((metric, Vec::new())).1.push(value);
            }
        }
        Ok(_) => {}
        // A sample cut short by Ctrl-C is no failure: the samples before it stand.
        Err(_) if stop.load(Ordering::Relaxed) => return false,
        Err(reason) => acc.failed = Some(reason),
    }
    true
}

/// A case's measurements from its accumulated samples, its pool's openings beside them.
fn case_outcome(plan: &Plan, a: TaskAcc) -> (CaseId, CaseOutcome) {
    let outcome = finish(plan, a.w, &a.id, a.failed, a.throughput, a.rss, a.extra).map(|mut ms| {
        for m in &mut ms {
            m.verified = a.verified;
        }
        ms[0].ops_per_sample = Some(a.ops_per_sample);
        ms[0].durations_ns = a.durations;
        ms[0].probe = if a.probe.len() == ms[0].samples.len() {
            a.probe
        } else {
            Vec::new()
        };
        if !a.opens.is_empty() {
            // Listed, not judged: one opening per sample, a handful in all.
            let mut m =
                Measurement::named(&a.id, POOL_START, "ns", Better::Lower, a.opens, a.verified);
            m.info = true;
            ms.push(m);
        }
        ms
    });
    (a.id, outcome)
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
