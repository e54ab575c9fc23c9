//! Runs a [`Plan`]: calibration first, then every case with warm-up and samples, verifying
//! every sample, and gathers the measurements, failures and notes into [`Results`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use indicatif::ProgressBar;

use crate::machine::{self, Machine};
use crate::measure::ballast::Ballast;
use crate::measure::calibration;
use crate::model::{self, ModelKind, RawSample, SampleSpec};
use crate::plan::{Case, Plan};
use crate::results::{
    Calibration, CaseId, Failure, Measurement, Metric, Results, RunInfo, SCHEMA, Stat, timestamps,
};
use crate::workload::{Job, VerifyError, counter, square};

/// What a case gave: its measurements, or the reason it gave none.
pub type CaseOutcome = Result<Vec<Measurement>, String>;

/// Runs the whole plan. `stop` is checked between samples: once set, the run ends early and
/// the results say `incomplete`.
pub fn run(plan: &Plan, machine: Machine, stop: &AtomicBool, bar: &ProgressBar) -> Results {
    let started = Instant::now();
    let (started_at, stamp) = timestamps(SystemTime::now());
    let id = format!("{stamp}-{:04x}", std::process::id() & 0xffff);
    let cases = plan.cases();
    bar.set_length(cases.len() as u64 + 1);
    bar.set_message("calibration");
    let calibration = calibrate(plan);
    bar.inc(1);
    let mut results = Results {
        schema: SCHEMA.into(),
        run: RunInfo {
            id,
            started_at,
            duration_s: 0.0,
            args: plan.args.clone(),
            quick: plan.quick,
            harness_version: machine::HARNESS_VERSION.into(),
            git_commit: machine::GIT_COMMIT.into(),
            incomplete: false,
        },
        machine,
        calibration,
        measurements: Vec::new(),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    for case in &cases {
        if stop.load(Ordering::Relaxed) {
            results.run.incomplete = true;
            break;
        }
        let id = plan.case_id(case);
        bar.set_message(id.to_string());
        match run_case(plan, case, &id, stop, &mut results.notes) {
            Ok(ms) => results.measurements.extend(ms),
            Err(reason) if stop.load(Ordering::Relaxed) => {
                results.run.incomplete = true;
                results.notes.push(format!("{id}: interrupted ({reason})"));
                break;
            }
            Err(reason) => results.failures.push(Failure::new(&id, reason)),
        }
        bar.inc(1);
    }
    results.run.duration_s = started.elapsed().as_secs_f64();
    results
}

/// The reference loops, measured before the cases.
pub fn calibrate(plan: &Plan) -> Calibration {
    let samples = plan.samples;
    let mut cal = Calibration::default();
    let rounds = plan.warmup + samples;
    let loop_rates: Vec<f64> = (0..rounds)
        .map(|_| calibration::square_loop(plan.work, plan.tasks))
        .skip(plan.warmup)
        .collect();
    cal.square_loop = Some(Stat::new("ops/s", loop_rates));
    let timer: Vec<f64> = (0..samples)
        .map(|_| calibration::timer_overhead_ns(100_000))
        .collect();
    cal.timer_overhead = Some(Stat::new("ns", timer));
    let has = |m: ModelKind| plan.models.contains(&m) && !plan.parent_rss.is_empty();
    let n = plan.startup_samples + plan.warmup;
    let mut bare = |name: &str, f: &mut dyn FnMut() -> anyhow::Result<f64>| {
        let xs: anyhow::Result<Vec<f64>> = (0..n).map(|_| f()).collect();
        if let Ok(xs) = xs {
            cal.bare_roundtrip
                .insert(name.into(), Stat::new("ns", xs[plan.warmup..].to_vec()));
        }
    };
    if has(ModelKind::Threads) {
        bare("threads", &mut calibration::bare_thread_roundtrip);
    }
    if has(ModelKind::Fork) {
        bare("fork", &mut calibration::bare_fork_roundtrip);
    }
    if has(ModelKind::Spawn)
        && let Ok(sp) = calibration::BareSpawn::new(&plan.exe)
    {
        bare("spawn", &mut || sp.roundtrip());
    }
    cal
}

/// Runs one case; `Err` holds the reason in words.
pub fn run_case(
    plan: &Plan,
    case: &Case,
    id: &CaseId,
    stop: &AtomicBool,
    notes: &mut Vec<String>,
) -> CaseOutcome {
    match *case {
        Case::Task { model, workers, .. } => {
            run_task(plan, model, plan.job(case), workers, id, stop)
        }
        Case::Startup { model, parent_rss } => run_startup(plan, model, parent_rss, id, stop),
        Case::Sequence {
            model,
            variant,
            n,
            workers,
        } => crate::sequence_case::run(plan, model, variant, n, workers, id, stop, notes),
    }
}

fn interrupted(stop: &AtomicBool) -> Result<(), String> {
    if stop.load(Ordering::Relaxed) {
        Err("interrupted".into())
    } else {
        Ok(())
    }
}

/// Checks a task sample against what its job must produce; returns lost updates (no-lock).
pub fn verify_task(job: Job, raw: &RawSample) -> Result<Option<u64>, VerifyError> {
    let n = raw.workers.len();
    match job {
        Job::Square { work, .. } => {
            for (k, w) in raw.workers.iter().enumerate() {
                let Job::Square { tasks, .. } = job.share(k, n) else {
                    unreachable!("a square job's share is a square job")
                };
                square::verify(work, tasks, w.checksum)?;
            }
        }
        Job::Counter {
            increments,
            variant,
            ..
        } => {
            let expected = increments * n as u64;
            let got = raw.counter_final.unwrap_or(0);
            if !variant.is_exact() {
                return counter::lost_updates(got, expected).map(Some);
            }
            counter::verify_exact(got, expected)?;
        }
        Job::Empty => {}
    }
    let expected_ops = job.ops()
        * if matches!(job, Job::Square { .. }) {
            1
        } else {
            n as u64
        };
    if raw.ops() != expected_ops {
        return Err(VerifyError::OpCount {
            what: "workers",
            got: raw.ops(),
            expected: expected_ops,
        });
    }
    Ok(None)
}

fn run_task(
    plan: &Plan,
    model: ModelKind,
    job: Job,
    workers: usize,
    id: &CaseId,
    stop: &AtomicBool,
) -> CaseOutcome {
    let cpus: &[usize] = if plan.pin { &plan.cpus } else { &[] };
    let spec = SampleSpec {
        job,
        workers,
        cpus,
        exe: &plan.exe,
        timeout: plan.case_timeout,
    };
    let mut throughput = Vec::with_capacity(plan.samples);
    let mut rss = Vec::with_capacity(plan.samples);
    let mut lost = Vec::with_capacity(plan.samples);
    for i in 0..plan.warmup + plan.samples {
        interrupted(stop)?;
        let raw = model::run_sample(model, &spec).map_err(|e| e.to_string())?;
        let lost_updates = verify_task(job, &raw).map_err(|e| e.to_string())?;
        if i < plan.warmup {
            continue;
        }
        let secs = raw.elapsed_ns().max(1) as f64 / 1e9;
        throughput.push(raw.ops() as f64 / secs);
        let bytes = if model.is_process() {
            Some(raw.workers.iter().map(|w| w.private_bytes).sum())
        } else {
            raw.rss_growth_bytes
        };
        rss.extend(bytes.map(|b| b as f64));
        lost.extend(lost_updates.map(|l| l as f64));
    }
    let mut out = vec![Measurement::new(id, Metric::Throughput, throughput, true)];
    if rss.len() == plan.samples {
        out.push(Measurement::new(id, Metric::PeakRss, rss, true));
    }
    if !lost.is_empty() {
        out.push(Measurement::new(id, Metric::LostUpdates, lost, true));
    }
    Ok(out)
}

fn run_startup(
    plan: &Plan,
    model: ModelKind,
    parent_rss: u64,
    id: &CaseId,
    stop: &AtomicBool,
) -> CaseOutcome {
    let ballast = Ballast::new(parent_rss).map_err(|e| format!("{e:#}"))?;
    let spec = SampleSpec {
        job: Job::Empty,
        workers: 1,
        cpus: &[],
        exe: &plan.exe,
        timeout: plan.case_timeout,
    };
    let mut startup = Vec::with_capacity(plan.startup_samples);
    let mut roundtrip = Vec::with_capacity(plan.startup_samples);
    for i in 0..plan.warmup + plan.startup_samples {
        interrupted(stop)?;
        let raw = model::run_sample(model, &spec).map_err(|e| e.to_string())?;
        if i < plan.warmup {
            continue;
        }
        let w = raw.workers[0];
        startup.push(w.started_ns.saturating_sub(w.requested_ns) as f64);
        roundtrip.push(w.joined_ns.saturating_sub(w.requested_ns) as f64);
    }
    drop(ballast);
    Ok(vec![
        Measurement::new(id, Metric::Startup, startup, true),
        Measurement::new(id, Metric::Roundtrip, roundtrip, true),
    ])
}

/// Groups measurements by case, keeping their order.
pub fn by_case(ms: &[Measurement]) -> BTreeMap<CaseId, Vec<&Measurement>> {
    let mut map: BTreeMap<CaseId, Vec<&Measurement>> = BTreeMap::new();
    for m in ms {
        let id = CaseId {
            workload: m.workload.clone(),
            model: m.model.clone(),
            variant: m.variant.clone(),
            workers: m.workers,
            params: m.params.clone(),
        };
        map.entry(id).or_default().push(m);
    }
    map
}
