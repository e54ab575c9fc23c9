//! Runs a [`Plan`]: the workloads' task cases round by round, the studies, then the startup
//! cases; verifies every sample, and gathers measurements, calibration, failures, findings
//! and notes into [`Results`].

pub mod granularity;
pub mod instructions;
pub mod lean;
pub mod plan;
pub mod rounds;
pub mod samples;
pub mod sizing;
pub mod startup;

use crate::measure::sched::CpuTimes;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use indicatif::ProgressBar;

use crate::api::study::{CaseOutcome, StudyRun};
use crate::api::{Model, Size};
use crate::error::BadInput;
use crate::exec::SampleError;
use crate::exec::bare::bare_run;
use crate::machine::{self, Machine};
use crate::measure::calibration;
use crate::results::{
    Calibration, Failure, Measurement, Results, RunInfo, SCHEMA, Stat, WorkloadInfo, timestamps,
};
use crate::units as format;
use plan::{Case, Plan};
use rounds::CalibrationAcc;

/// Rounds of the clock-read calibration.
const TIMER_ROUNDS: usize = 10;

/// A run id: the UTC start to the second, then 32 random bits, so that two runs started in
/// the same second on different hosts or PID namespaces never share an id.
pub fn new_run_id(stamp: &str) -> String {
    format!("{stamp}-{:08x}", crate::stats::random_u64() as u32)
}

/// How long the preflight times a workload's code: long enough that the clock and a cold cache
/// do not dominate, short next to any run.
pub const PREFLIGHT_NS: u64 = 20_000_000;

/// Times a few units of each workload's own code (one, then as many as fill
/// [`PREFLIGHT_NS`]) and records the time of one unit, which sizes time-sized samples; refuses
/// a plan whose fixed-size samples could not finish within `--case-timeout` here, from the
/// largest sample, all of which the sequential model runs on one thread.
pub fn preflight(plan: &mut Plan) -> Result<(), BadInput> {
    let max_workers = plan.workers.iter().copied().max().unwrap_or(1) as u64;
    measure_costs(plan);
    for w in 0..plan.workloads.len() {
        let sel = &plan.workloads[w];
        let info = sel.workload.info();
        let (name, per_worker) = match info.size {
            Size::Split(name) => (name, false),
            Size::PerWorker(name) => (name, true),
            Size::None => continue,
        };
        let Some(i) = info.params.iter().position(|p| p.name == name.name) else {
            continue;
        };
        let largest = sel.params[i].saturating_mul(if per_worker { max_workers } else { 1 });
        let mut b = rounds::bare_of(plan, w);
        let mut units = 1u64;
        let per_unit_ns = loop {
            b.params[i] = units;
            let (_, ns) = match bare_run(&b, None, plan.case_timeout) {
                Ok(r) => r,
                Err(SampleError::Interrupted) => return Ok(()),
                Err(e) => {
                    return Err(BadInput::new(format!(
                        "{}: its own code, run once on one thread with {name}={units}: {e}",
                        info.name
                    )));
                }
            };
            let per_unit = ns as f64 / units as f64;
            if ns >= PREFLIGHT_NS || units >= largest {
                break per_unit;
            }
            let want = (PREFLIGHT_NS as f64 / per_unit.max(1.0)) as u64;
            units = want.max(units.saturating_mul(2)).min(largest);
        };
        plan.workloads[w].unit_ns = Some(per_unit_ns);
        let task = plan.workloads[w].units_for(plan::POOL_TASK_NS);
        plan.workloads[w].chunk.get_or_insert(task);
        let estimate_ns = per_unit_ns * largest as f64;
        if !plan.workloads[w].time_sized && estimate_ns > plan.case_timeout.as_nanos() as f64 {
            return Err(BadInput::new(format!(
                "--param {name}: a sample of {name}={largest} of {} would take about {} on this machine ({} each, measured), over --case-timeout {}",
                info.name,
                format::ns(estimate_ns),
                format::ns(per_unit_ns),
                format::ns(plan.case_timeout.as_nanos() as f64),
            )));
        }
    }
    Ok(())
}

/// Measures what a worker costs on each model of the plan beyond its work: a whole sample of
/// the plan's first workload with its smallest work, at the largest worker count of the plan
/// (creating, releasing, joining or reaping many at once costs more per worker than one alone,
/// and past the cores far more: measured where it is paid, not extrapolated), the faster of
/// two, per worker; and, when startup cases hold parent memory, what a fork costs more per
/// byte of it. The numbers the estimate is made of.
fn measure_costs(plan: &mut Plan) {
    use crate::exec::bare::bare_fork_roundtrip;
    use crate::exec::{Job, run_sample};
    use crate::measure::ballast::Ballast;
    let t = plan.case_timeout;
    let n = plan.workers.iter().copied().max().unwrap_or(1);
    let task = plan
        .workloads
        .iter()
        .find(|s| !s.workload.info().start_only && s.size_index().is_some());
    for &model in &plan.models.clone() {
        let per_worker = task.and_then(|sel| {
            let variants = sel.workload.info().variants.len();
            let variant = (0..variants).find(|&v| sel.workload.supports(model, v))?;
            let mut params = sel.params.clone();
            let i = sel.size_index()?;
            params[i] = match sel.workload.info().size {
                Size::Split(_) => n as u64,
                _ => 1,
            };
            let job = Job {
                variant,
                params: &params,
                cpus: &[],
                ..Job::new(&sel.workload, &params, n, &plan.exe)
            };
            let job = Job { timeout: t, ..job };
            (0..2)
                .filter_map(|_| {
                    let t0 = crate::measure::clock::now_ns();
                    run_sample(model, &job).ok()?;
                    Some((crate::measure::clock::now_ns() - t0) as f64 / n as f64)
                })
                .reduce(f64::min)
        });
        let ns = match model {
            // The sequential thread rests before each share.
            Model::Sequential => crate::exec::sequential::SHARE_NAP.as_nanos() as f64,
            _ => per_worker.unwrap_or(0.0),
        };
        plan.costs.start_ns.push((model, ns));
    }
    let median3 = |f: &mut dyn FnMut() -> Option<f64>| {
        let mut xs: Vec<f64> = (0..3).filter_map(|_| f()).collect();
        xs.sort_by(f64::total_cmp);
        xs.get(xs.len() / 2).copied().unwrap_or(0.0)
    };
    let rss = plan.parent_rss.iter().copied().max().unwrap_or(0);
    let startups = plan
        .cases()
        .iter()
        .any(|c| matches!(c, Case::Startup { .. }));
    if rss > 0 && startups {
        const PROBE_BYTES: u64 = 64 << 20;
        let t0 = crate::measure::clock::now_ns();
        if let Ok(b) = Ballast::new(PROBE_BYTES) {
            let touched = crate::measure::clock::now_ns() - t0;
            let with = median3(&mut || bare_fork_roundtrip(t).ok());
            drop(b);
            let without = median3(&mut || bare_fork_roundtrip(t).ok());
            plan.costs.touch_ns_per_byte = touched as f64 / PROBE_BYTES as f64;
            plan.costs.fork_ns_per_byte = (with - without).max(0.0) / PROBE_BYTES as f64;
        }
    }
}

/// What the plan should take here, in seconds: every sample's work (the sample time, or a
/// fixed size at the preflight's pace) and its workers' start costs, the calibration and the
/// bare loops, the startup cases with their parent memory, and the studies' own estimates.
pub fn estimate_s(plan: &Plan) -> f64 {
    let rounds = (plan.warmup + plan.samples) as f64;
    let cores = plan.cpus.len().max(1);
    let mut ns = 0.0;
    let mut task_workloads: Vec<usize> = Vec::new();
    for case in plan.cases() {
        match case {
            Case::Task {
                w, model, workers, ..
            } => {
                let sel = &plan.workloads[w];
                if !task_workloads.contains(&w) {
                    task_workloads.push(w);
                }
                // A pool starts its workers when it opens (POOL_OPENS times), not per sample.
                let pool = model.pool().is_some();
                let start = if pool {
                    0.0
                } else {
                    plan.costs.start(model) * workers as f64
                };
                if pool {
                    ns += rounds::POOL_OPENS as f64 * plan.costs.start(model) * workers as f64;
                }
                let parallel = if model == Model::Sequential {
                    1
                } else {
                    workers.min(cores)
                };
                let (work, extra) = if sel.time_sized {
                    // Calibration takes about four samples (strong scaling), most shorter; a
                    // pool's starts from a few hundred tasks and takes about six.
                    let extra = match (plan.scaling, pool) {
                        (plan::Scaling::Strong, false) => 3.0,
                        (plan::Scaling::Strong, true) => 5.0,
                        _ => 0.0,
                    };
                    // Calibration puts the fastest sample at 1.3× the target; the rest are slower.
                    (1.5 * plan.sample_ns as f64, extra)
                } else {
                    let units = sel.size_index().map_or(0, |i| sel.params[i]) as f64;
                    let total = match sel.workload.info().size {
                        Size::PerWorker(_) => units * workers as f64,
                        _ => units,
                    };
                    (sel.unit_ns.unwrap_or(0.0) * total / parallel as f64, 0.0)
                };
                ns += (rounds + extra) * (work + start);
                // Past the cores, the floor (three samples of one unit per worker), and a
                // calibration that takes about two more samples to settle: their samples vary
                // more. Each costs at least the workers' start.
                if workers > cores && sel.size_index().is_some() {
                    ns += 5.0 * plan.costs.start(model) * workers as f64;
                }
            }
            Case::Startup {
                model, parent_rss, ..
            } => ns += startup::estimate_ns(plan, model, parent_rss),
        }
    }
    for &w in &task_workloads {
        // Each round's bare loop, and the same on every CPU.
        let sel = &plan.workloads[w];
        let one = if sel.time_sized {
            plan.sample_ns as f64
        } else {
            sel.unit_ns.unwrap_or(0.0) * sel.size_index().map_or(0, |i| sel.params[i]) as f64
        };
        ns += rounds * one * (1 + plan.cpus.len()) as f64;
    }
    let studies: f64 = plan
        .studies
        .iter()
        .map(|s| s.study.estimate_s(&plan.study_plan(&s.models)))
        .sum();
    ns / 1e9 + studies
}

/// Threads held open by in-process pools past which the task cases run in two groups.
const POOL_THREADS_APART: usize = 64;

/// The task cases in the groups they run in, round by round within each. Together as a rule;
/// but when the in-process pools would hold more than [`POOL_THREADS_APART`] threads open
/// (a worker ladder up to 64 or 128), the pool cases run after the others, the process pools
/// before the in-process ones: every `fork` of a worker copies the harness's mappings, two or
/// four for each pool thread. 1,500 open pool threads made forking 128 per-sample workers cost
/// most of a sample in the kernel, and opening a 128-worker process pool beside them took
/// 3–7 s (25–55 ms a fork); opened from a harness without them, about 0.15 s (1.2 ms a fork).
fn task_groups(tasks: Vec<Case>) -> Vec<Vec<Case>> {
    let in_process_pool = |c: &Case| match c {
        Case::Task { model, .. } => model.facts().pool.is_some() && !model.is_process(),
        Case::Startup { .. } => false,
    };
    let pool_threads: usize = tasks
        .iter()
        .filter(|c| in_process_pool(c))
        .map(|c| match c {
            Case::Task { workers, .. } => *workers,
            Case::Startup { .. } => 0,
        })
        .sum();
    if pool_threads <= POOL_THREADS_APART {
        return vec![tasks];
    }
    let (in_process, rest): (Vec<Case>, Vec<Case>) = tasks.into_iter().partition(in_process_pool);
    let (processes, rest): (Vec<Case>, Vec<Case>) = rest
        .into_iter()
        .partition(|c| matches!(c, Case::Task { model, .. } if model.pool().is_some()));
    vec![rest, processes, in_process]
}

/// Runs the whole plan. `stop` is checked between samples: once set, the run ends early and
/// the results say `incomplete`.
pub fn run(plan: &Plan, machine: Machine, stop: &AtomicBool, bar: &ProgressBar) -> Results {
    let started = Instant::now();
    let (started_at, stamp) = timestamps(SystemTime::now());
    let cases = plan.cases();
    let rounds = (plan.warmup + plan.samples) as u64;
    let study_plan = |models| plan.study_plan(models);
    let steps: u64 = cases
        .iter()
        .map(|c| match c {
            Case::Task { .. } => rounds,
            Case::Startup { parent_rss, .. } => startup::bursts(plan, *parent_rss) as u64,
        })
        .sum::<u64>()
        + plan
            .studies
            .iter()
            .map(|s| s.study.steps(&study_plan(&s.models)))
            .sum::<u64>();
    bar.set_length(steps);
    let mut results = empty_results(plan, machine, started_at, &stamp);
    if plan.instructions {
        count_instructions(plan, &mut results, stop, bar);
    } else {
        // A spawned worker's private bytes are its own, not pages of a fresh build's
        // executable that the kernel has yet to write back.
        crate::sys::exe::settle();
        let before = CpuTimes::now(&plan.cpus);
        measure(plan, &cases, &mut results, stop, bar);
        let times = before.zip(CpuTimes::now(&plan.cpus));
        results.run.load = samples::load(&results.measurements, times, plan.cpus.len());
    }
    results.run.duration_s = started.elapsed().as_secs_f64();
    results
}

/// What the workloads are: a workload swept over `--work` is described once, its parameters
/// without the one that varies (every measurement names its own).
fn describe_workloads(plan: &Plan) -> Vec<WorkloadInfo> {
    let mut workloads: Vec<WorkloadInfo> = Vec::new();
    for s in &plan.workloads {
        let d = s.describe();
        match workloads.iter_mut().find(|w| w.name == d.name) {
            Some(w) => {
                w.params.retain(|k, v| d.params.get(k) == Some(v));
                // Swept values may run at paces of their own: a task size of each is not one.
                if w.pool_task_units != d.pool_task_units {
                    w.pool_task_units = None;
                }
            }
            None => workloads.push(d),
        }
    }
    workloads.extend(plan.studies.iter().map(|s| WorkloadInfo {
        name: s.study.name().into(),
        op: s.study.op().into(),
        description: s.study.describe().into(),
        params: BTreeMap::new(),
        pool_task_units: None,
    }));
    workloads
}

/// The results of `plan` before anything is measured.
fn empty_results(plan: &Plan, machine: Machine, started_at: String, stamp: &str) -> Results {
    Results {
        schema: SCHEMA.into(),
        run: RunInfo {
            id: new_run_id(stamp),
            started_at,
            duration_s: 0.0,
            args: plan.args.clone(),
            quick: plan.quick,
            harness_version: machine::HARNESS_VERSION.into(),
            git_commit: machine::GIT_COMMIT.into(),
            incomplete: false,
            estimated_s: plan.estimated_s,
            injected: plan.injected.slowdown.map(|s| s.spec()),
            load: None,
        },
        machine,
        workloads: describe_workloads(plan),
        calibration: Calibration::default(),
        measurements: Vec::new(),
        failures: Vec::new(),
        scaling: Vec::new(),
        findings: BTreeMap::new(),
        answers: Vec::new(),
        notes: Vec::new(),
        runtimes: plan.runtimes.clone(),
    }
}

/// `--instructions`: each case counted under callgrind.
fn count_instructions(plan: &Plan, results: &mut Results, stop: &AtomicBool, bar: &ProgressBar) {
    let cases = instructions::cases(plan);
    bar.set_length(cases.len() as u64);
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in &cases {
        let id = instructions::case_id(plan, case);
        bar.set_message(id.to_string());
        outcomes.push((id, instructions::run_count(plan, case, stop)));
        bar.inc(1);
    }
    gather(results, outcomes, stop);
    if stop.load(Ordering::Relaxed) {
        results.run.incomplete = true;
    }
}

/// Every case of `plan` measured: the start-ups, each in a lean parent, then the task cases
/// group by group, then the studies; then what the run found.
fn measure(
    plan: &Plan,
    cases: &[Case],
    results: &mut Results,
    stop: &AtomicBool,
    bar: &ProgressBar,
) {
    let study_plan = |models| plan.study_plan(models);
    let mut cal = CalibrationAcc::default();
    let tasks: Vec<Case> = cases
        .iter()
        .filter(|c| matches!(c, Case::Task { .. }))
        .cloned()
        .collect();
    // The start-ups' first burst before the task cases: the machine is then as a run of
    // start-ups alone finds it. The others fall between the first group's rounds, so that a
    // case's samples come from moments spread over the run (`startup::Bursts`).
    let mut bursts = startup::Bursts::new(plan, cases);
    bursts.take(stop, bar);
    let mut outcomes = Vec::new();
    for (g, group) in task_groups(tasks).into_iter().enumerate() {
        let mut between = |round: usize, rounds: usize| {
            while g == 0 && bursts.due(round, rounds) && !stop.load(Ordering::Relaxed) {
                bursts.take(stop, bar);
            }
        };
        outcomes.extend(rounds::run_task_group(
            plan,
            &group,
            stop,
            bar,
            &mut cal,
            &mut between,
        ));
    }
    let mut outcomes: Vec<_> = bursts
        .finish(stop, bar)
        .into_iter()
        .chain(outcomes)
        .collect();
    for s in &plan.studies {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut run = StudyRun {
            stop,
            bar,
            notes: &mut results.notes,
        };
        outcomes.extend(s.study.run(&study_plan(&s.models), &mut run));
    }
    gather(results, outcomes, stop);
    results.notes.append(&mut cal.notes);
    if stop.load(Ordering::Relaxed) {
        results.run.incomplete = true;
    }
    results.calibration = calibration_from(cal, &results.measurements);
    crate::sweep::granularity::derive(results);
    results.findings = findings(plan, &results.measurements);
    results.answers = answers(plan, results);
    let pools = crate::sweep::granularity::findings(results);
    if !pools.is_empty() {
        results.findings.insert("pools".into(), pools);
    }
    results.scaling = crate::results::usl::fits(results);
}

fn gather(
    results: &mut Results,
    outcomes: Vec<(crate::results::CaseId, CaseOutcome)>,
    stop: &AtomicBool,
) {
    for (id, outcome) in outcomes {
        match outcome {
            Ok(ms) => results.measurements.extend(ms),
            Err(reason) if stop.load(Ordering::Relaxed) => {
                results.run.incomplete = true;
                results.notes.push(format!("{id}: interrupted ({reason})"));
            }
            Err(reason) => results.failures.push(Failure { case: id, reason }),
        }
    }
}

fn calibration_from(cal: CalibrationAcc, measurements: &[Measurement]) -> Calibration {
    let stat = |xs: Vec<f64>| Stat::new("ops/s", xs);
    // Ten reads of 100,000 clock reads each: the figure is stable to a fraction of a ns.
    let timer = (0..TIMER_ROUNDS)
        .map(|_| calibration::timer_overhead_ns(100_000))
        .collect();
    let mut bare_roundtrip = BTreeMap::new();
    // The bare OS loops measured beside the startup cases double as calibration figures.
    for m in measurements
        .iter()
        .filter(|m| crate::results::derived::is_bare(m) && m.param("parent_rss") == Some(0))
    {
        let name = if m.case.variant == crate::results::derived::PTHREAD_VARIANT {
            "pthread"
        } else {
            &m.case.model
        };
        bare_roundtrip.insert(name.to_string(), Stat::new(&m.unit, m.samples.clone()));
    }
    Calibration {
        bare_loop: cal
            .bare_loop
            .into_iter()
            .filter(|(_, xs)| !xs.is_empty())
            .map(|(w, xs)| (w, stat(xs)))
            .collect(),
        per_cpu_loop: cal
            .per_cpu
            .into_iter()
            .map(|(w, cpus)| {
                let cpus = cpus
                    .into_iter()
                    .filter(|(_, xs)| !xs.is_empty())
                    .map(|(cpu, xs)| (cpu.to_string(), stat(xs)))
                    .collect();
                (w, cpus)
            })
            .collect(),
        probe: (!cal.probe.is_empty()).then(|| Stat::new("steps/s", cal.probe)),
        probe_kind: Some(crate::measure::probe::PROBE_KIND.into()),
        timer_overhead: Some(Stat::new("ns", timer)),
        bare_roundtrip,
    }
}

/// Each workload's and study's answers on the run, in the plan's order, each workload once.
fn answers(plan: &Plan, r: &Results) -> Vec<crate::results::Answer> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for sel in &plan.workloads {
        let name = sel.workload.info().name;
        if !seen.contains(&name) {
            seen.push(name);
            out.extend(
                sel.workload
                    .answers(&crate::answers::RunFigures::new(r, name)),
            );
        }
    }
    for s in &plan.studies {
        out.extend(
            s.study
                .answers(&crate::answers::RunFigures::new(r, s.study.name())),
        );
    }
    out
}

/// Each workload's and study's own findings on its measurements.
fn findings(plan: &Plan, measurements: &[Measurement]) -> BTreeMap<String, Vec<String>> {
    let of = |name: &str| -> Vec<&Measurement> {
        measurements
            .iter()
            .filter(|m| m.case.workload == name)
            .collect()
    };
    let mut out = BTreeMap::new();
    for sel in &plan.workloads {
        let name = sel.workload.info().name;
        let f = sel.workload.findings(&of(name));
        if !f.is_empty() {
            out.insert(name.to_string(), f);
        }
    }
    // A study reads the whole run: the CPython runtime compares its figures with Rust's.
    let all: Vec<&Measurement> = measurements.iter().collect();
    for s in &plan.studies {
        let f = s.study.findings(&all);
        if !f.is_empty() {
            out.insert(s.study.name().to_string(), f);
        }
    }
    out
}
