//! Runs a [`Plan`]: the workloads' task cases round by round, the studies, then the startup
//! cases; verifies every sample, and gathers measurements, calibration, failures, findings
//! and notes into [`Results`].

pub mod plan;
pub mod rounds;
pub mod startup;
pub mod study;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use indicatif::ProgressBar;

use crate::api::Size;
use crate::error::BadInput;
use crate::exec::SampleError;
use crate::exec::bare::bare_run;
use crate::export::format;
use crate::machine::{self, Machine};
use crate::measure::calibration;
use crate::results::{
    Calibration, Failure, Measurement, Results, RunInfo, SCHEMA, Stat, WorkloadInfo, timestamps,
};
use plan::{Case, Plan};
use rounds::CalibrationAcc;
use study::{CaseOutcome, StudyPlan, StudyRun};

/// Rounds of the clock-read calibration.
const TIMER_ROUNDS: usize = 10;

/// A run id: the UTC start to the second, then 32 random bits, so that two runs started in
/// the same second on different hosts or PID namespaces never share an id.
pub fn new_run_id(stamp: &str) -> String {
    format!("{stamp}-{:08x}", crate::stats::random_u64() as u32)
}

/// How long the preflight times a workload's code: long enough that the clock and a cold cache
/// do not dominate, short next to any run.
const PREFLIGHT_NS: u64 = 20_000_000;

/// Refuses a plan whose samples could not finish within `--case-timeout` here: times a few
/// units of each workload's own code (one, then as many as fill [`PREFLIGHT_NS`]) and
/// extrapolates to its largest sample, all of which the sequential model runs on one thread.
pub fn preflight(plan: &Plan) -> Result<(), BadInput> {
    let max_workers = plan.workers.iter().copied().max().unwrap_or(1) as u64;
    for (w, sel) in plan.workloads.iter().enumerate() {
        let info = sel.workload.info();
        let (name, per_worker) = match info.size {
            Size::Split(name) => (name, false),
            Size::PerWorker(name) => (name, true),
            Size::None => continue,
        };
        let Some(i) = info.params.iter().position(|p| p.name == name) else {
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
                        "{}: its own code with {name}={units} did not finish: {e}",
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
        let estimate_ns = per_unit_ns * largest as f64;
        if estimate_ns > plan.case_timeout.as_nanos() as f64 {
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

/// Runs the whole plan. `stop` is checked between samples: once set, the run ends early and
/// the results say `incomplete`.
pub fn run(plan: &Plan, machine: Machine, stop: &AtomicBool, bar: &ProgressBar) -> Results {
    let started = Instant::now();
    let (started_at, stamp) = timestamps(SystemTime::now());
    let cases = plan.cases();
    let rounds = (plan.warmup + plan.samples) as u64;
    let study_plan = |models| StudyPlan {
        models,
        sizes: &plan.sizes,
        quick: plan.quick,
        workers: &plan.workers,
        samples: plan.samples,
        warmup: plan.warmup,
        timeout: plan.case_timeout,
    };
    let steps: u64 = cases
        .iter()
        .map(|c| match c {
            Case::Task { .. } => rounds,
            Case::Startup { .. } => 1,
        })
        .sum::<u64>()
        + plan
            .studies
            .iter()
            .map(|s| s.study.steps(&study_plan(&s.models)))
            .sum::<u64>();
    bar.set_length(steps);
    let mut workloads: Vec<WorkloadInfo> = plan.workloads.iter().map(|s| s.describe()).collect();
    workloads.extend(plan.studies.iter().map(|s| WorkloadInfo {
        name: s.study.name().into(),
        op: s.study.op().into(),
        description: s.study.describe().into(),
        params: BTreeMap::new(),
    }));
    let mut results = Results {
        schema: SCHEMA.into(),
        run: RunInfo {
            id: new_run_id(&stamp),
            started_at,
            duration_s: 0.0,
            args: plan.args.clone(),
            quick: plan.quick,
            harness_version: machine::HARNESS_VERSION.into(),
            git_commit: machine::GIT_COMMIT.into(),
            incomplete: false,
        },
        machine,
        workloads,
        calibration: Calibration::default(),
        measurements: Vec::new(),
        failures: Vec::new(),
        scaling: Vec::new(),
        findings: BTreeMap::new(),
        notes: Vec::new(),
    };
    let mut cal = CalibrationAcc::default();
    let tasks: Vec<Case> = cases
        .iter()
        .filter(|c| matches!(c, Case::Task { .. }))
        .cloned()
        .collect();
    let mut outcomes = rounds::run_task_group(plan, &tasks, stop, bar, &mut cal);
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
    for case in cases.iter().filter(|c| matches!(c, Case::Startup { .. })) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let id = plan.case_id(case);
        bar.set_message(id.to_string());
        outcomes.push((id, startup::run_startup(plan, case, stop)));
        bar.inc(1);
    }
    gather(&mut results, outcomes, stop);
    results.notes.append(&mut cal.notes);
    if stop.load(Ordering::Relaxed) {
        results.run.incomplete = true;
    }
    results.calibration = calibration_from(cal, &results.measurements);
    results.findings = findings(plan, &results.measurements);
    results.scaling = crate::results::usl::fits(&results);
    results.run.duration_s = started.elapsed().as_secs_f64();
    results
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
        timer_overhead: Some(Stat::new("ns", timer)),
        bare_roundtrip,
    }
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
    for s in &plan.studies {
        let f = s.study.findings(&of(s.study.name()));
        if !f.is_empty() {
            out.insert(s.study.name().to_string(), f);
        }
    }
    out
}
