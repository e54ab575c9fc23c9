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
use super::samples::{Kept, SampleFigures, figures};
use super::sizing::{
    FLOOR_SHARE, Floor, MOST_STRETCH, SHORTEST_SHARE, calibrate, dominated, floor, grow, min_units,
    starting_size, take,
};
use crate::api::Model;
use crate::api::rounds::{Rounds, round_robin};
use crate::api::study::CaseOutcome;
use crate::exec::bare::{bare_run, rate};
use crate::exec::{Bound, Executor, Job, SampleError, executor};
use crate::measure::rss::parent_state;
use crate::measure::sched::CpuTimes;
use crate::results::{CaseId, Measurement, Metric, ParentState};

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
    /// The machine's CPU times read after each recent sample, oldest first.
    pub times: crate::measure::sched::Recent<CpuTimes>,
}

impl CalibrationAcc {
    /// Cores other processes held over the recent window that ends with this reading
    /// (through the readings of earlier samples).
    fn others_now(&mut self, cpus: &[usize]) -> Option<f64> {
        let now = CpuTimes::now(cpus)?;
        let from = self.times.push(now.at_ns, now);
        from.map(|b| now.others_since(&b).0)
    }
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
    kept: Kept,
    ops_per_sample: u64,
    verified: bool,
    failed: Option<String>,
    /// What opening the case's pool took, each time it was opened (empty: not a pool).
    opens: Vec<f64>,
    /// The state of the process the pool was opened from, at each opening.
    parent: Option<ParentState>,
    /// With more workers than cores: what a sample of one unit per worker takes.
    floor: Option<Floor>,
}

/// The least time the retakes of a group of cases may take.
const RETAKE_TIME_MIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Times a pool is opened for its start-up figure.
pub const POOL_OPENS: usize = 5;

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

/// Runs the task cases round by round; returns each case's outcome. `between` is called at
/// the start of every round with the round's index and the rounds' count (the start-up
/// bursts are taken there).
pub fn run_task_group(
    plan: &Plan,
    cases: &[Case],
    stop: &AtomicBool,
    bar: &ProgressBar,
    cal: &mut CalibrationAcc,
    between: &mut dyn FnMut(usize, usize),
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
    let rounds = Rounds {
        warmup: plan.warmup,
        samples: plan.samples,
    };
    let started = std::time::Instant::now();
    let stopped = || stop.load(Ordering::Relaxed);
    let mut round = 0;
    // The bare loops' figures and the cases' probes both go to the calibration.
    round_robin(
        rounds,
        &mut accs,
        cal,
        &stopped,
        |a| a.failed.is_some(),
        |cal, counted| {
            between(round, rounds.total());
            round += 1;
            for &w in &workloads {
                if !stopped() && !bare_failed.contains(&w) {
                    bare_round(plan, w, counted, cal, &mut bare_failed);
                }
            }
        },
        |cal, acc, counted| {
            bar.set_message(acc.id.to_string());
            sample_case(plan, acc, counted, stop, bar, cal)
        },
    );
    // Retakes may take as long again as the counted rounds, and at least a few seconds:
    // long enough for a busy spell to pass.
    let allowed = started.elapsed().max(RETAKE_TIME_MIN);
    retake_rounds(plan, &mut accs, stop, cal, allowed);
    for acc in &mut accs {
        acc.exec.close();
    }
    opened
        .into_iter()
        .chain(accs.into_iter().map(|a| case_outcome(plan, a)))
        .collect()
}

/// Opens a case's executor. A pool is opened (and, but for the last time, closed)
/// [`POOL_OPENS`] times: what starting it costs is a figure of its own, beside the state of
/// the process that starts it, read before each opening — what its workers are forked from.
/// Returns the last opening's result, the openings' times and that state.
fn open_pool(
    exec: &mut dyn Executor,
    opening: &Job<'_>,
) -> (Result<(), SampleError>, Vec<f64>, Option<ParentState>) {
    let mut opens = Vec::new();
    let mut parent = ParentState::default();
    let mut before = parent_state();
    let mut result = exec.open(opening);
    while result.is_ok()
        && let Some(ns) = exec.opened_ns()
    {
        opens.push(ns as f64);
        if let Some((rss, mapped, threads)) = before {
            parent.rss_bytes.push(rss);
            parent.mapped_bytes.push(mapped);
            parent.threads.push(threads);
        }
        if opens.len() >= POOL_OPENS {
            break;
        }
        exec.close();
        before = parent_state();
        result = exec.open(opening);
    }
    // The orchestrator holds no ballast: its base is what it held at the first opening.
    parent.base_rss_bytes = parent.rss_bytes.first().copied().unwrap_or(0);
    let parent = (!opens.is_empty() && parent.rss_bytes.len() == opens.len()).then_some(parent);
    (result, opens, parent)
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
    let (result, opens, parent) = open_pool(exec.as_mut(), &opening);
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
        kept: Kept::new(plan.samples),
        ops_per_sample: 0,
        verified: true,
        failed: None,
        opens,
        parent,
        floor: None,
    };
    if !stop.load(Ordering::Relaxed) {
        acc.floor = floor(plan, &acc.case, &acc.params, acc.exec.as_mut());
    }
    if let Some((i, _)) = sized.filter(|_| plan.scaling == Scaling::Strong)
        && !stop.load(Ordering::Relaxed)
    {
        bar.set_message(format!("{}: sizing samples", acc.id));
        // Past the cores, samples are stretched (up to MOST_STRETCH × the sample time) until
        // the work dominates the floor.
        let sample = plan.sample_ns as f64;
        // Aimed at twice the rule's floor, so that slower samples than the calibration's
        // fastest still keep to it.
        let target = match acc.floor {
            Some(f) if FLOOR_SHARE * f.ns <= MOST_STRETCH * sample => sample
                .max(2.0 * FLOOR_SHARE * f.ns)
                .min(MOST_STRETCH * sample),
            _ => sample,
        };
        acc.failed = calibrate(
            plan,
            &acc.case,
            &mut acc.params,
            acc.exec.as_mut(),
            (i, target),
        )
        .err();
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
    let sample = take_figures(plan, acc, cal);
    bar.inc(1);
    match sample {
        Ok(f) if counted => {
            cal.probe.extend(f.probe);
            acc.ops_per_sample = f.ops;
            acc.verified &= f.verified;
            acc.kept.samples.push(f);
        }
        Ok(_) => {}
        // A sample cut short by Ctrl-C is no failure: the samples before it stand.
        Err(_) if stop.load(Ordering::Relaxed) => return false,
        Err(reason) => acc.failed = Some(reason),
    }
    true
}

/// One sample of `acc`'s case, with the others' share of the CPUs read around it (retaken
/// larger while a time-sized sample comes out far too short).
fn take_figures(
    plan: &Plan,
    acc: &mut TaskAcc,
    cal: &mut CalibrationAcc,
) -> Result<SampleFigures, String> {
    let model = acc.case.model();
    let mut sample;
    let mut tries = 0;
    loop {
        sample = take(plan, &acc.case, &acc.params, acc.exec.as_mut())
            .map_err(|e| e.to_string())
            .and_then(|raw| figures(model, &raw, plan.cpus.len()));
        let others = cal.others_now(&plan.cpus);
        if let Ok(f) = &mut sample {
            f.others = others;
        }
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
    sample
}

/// After the counted rounds, the samples others interfered with are taken again, case by
/// case, while the cases' retakes and the time allowed last: a clean retake replaces a
/// contaminated sample. A round that finds the machine still busy waits a little before the
/// next, so that a busy spell of a few seconds can pass.
fn retake_rounds(
    plan: &Plan,
    accs: &mut [TaskAcc],
    stop: &AtomicBool,
    cal: &mut CalibrationAcc,
    allowed: std::time::Duration,
) {
    let started = std::time::Instant::now();
    loop {
        let pending: Vec<usize> = (0..accs.len())
            .filter(|&i| accs[i].failed.is_none() && accs[i].kept.wants_retake())
            .collect();
        if pending.is_empty() || stop.load(Ordering::Relaxed) || started.elapsed() > allowed {
            return;
        }
        let mut cleaned = false;
        for i in pending {
            let acc = &mut accs[i];
            match take_figures(plan, acc, cal) {
                Ok(f) => cleaned |= acc.kept.retake(f),
                Err(_) if stop.load(Ordering::Relaxed) => return,
                Err(reason) => acc.failed = Some(reason),
            }
        }
        if !cleaned {
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
}

/// A case's measurements from its clean samples (throughput first, then peak RSS where every
/// sample had a reading, the workload's own figure and the context switches), its pool's
/// openings beside them.
fn case_outcome(plan: &Plan, a: TaskAcc) -> (CaseId, CaseOutcome) {
    if let Some(reason) = a.failed {
        return (a.id, Err(reason));
    }
    let mut ms = a.kept.measurements(&a.id, a.verified);
    if ms.is_empty() {
        return (a.id, Err("interrupted before its first sample".into()));
    }
    let cores = plan.cpus.len().max(1);
    let units = |i: usize| a.params.get(i).copied().unwrap_or(0);
    let size = plan.workloads[a.w].size_index().map_or(0, units);
    let marked = a
        .floor
        .and_then(|f| dominated(a.id.workers, cores, f, size, &ms[0].durations_ns));
    for m in &mut ms {
        m.dominated.clone_from(&marked);
    }
    ms[0].op = Some(plan.workloads[a.w].workload.info().op.into());
    ms[0].ops_per_sample = Some(a.ops_per_sample);
    if !a.opens.is_empty() {
        // Listed, not judged: one opening per sample, a handful in all.
        let mut m = Measurement::new(&a.id, Metric::PoolStart, a.opens, a.verified);
        m.parent = a.parent;
        ms.push(m);
    }
    (a.id, Ok(ms))
}
