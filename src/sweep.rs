//! Runs a [`Plan`]: calibration first, then every case with warm-up and samples, verifying
//! every sample, and gathers the measurements, failures and notes into [`Results`].

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

/// Rounds of the clock-read calibration.
const TIMER_ROUNDS: usize = 10;

/// What a case gave: its measurements, or the reason it gave none.
pub type CaseOutcome = Result<Vec<Measurement>, String>;

/// Runs the whole plan. `stop` is checked between samples: once set, the run ends early and
/// the results say `incomplete`.
pub fn run(plan: &Plan, machine: Machine, stop: &AtomicBool, bar: &ProgressBar) -> Results {
    let started = Instant::now();
    let (started_at, stamp) = timestamps(SystemTime::now());
    let id = format!("{stamp}-{:04x}", std::process::id() & 0xffff);
    let cases = plan.cases();
    let rounds = (plan.warmup + plan.samples) as u64;
    let steps: u64 = cases
        .iter()
        .map(|c| {
            if matches!(c, Case::Task { .. }) {
                rounds
            } else {
                1
            }
        })
        .sum();
    bar.set_length(steps);
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
        calibration: Calibration::default(),
        measurements: Vec::new(),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let mut rest = cases.as_slice();
    while let Some(first) = rest.first() {
        if stop.load(Ordering::Relaxed) {
            results.run.incomplete = true;
            break;
        }
        // Task cases run together round by round (see run_task_group), and so do sequences.
        let group_len = match first {
            Case::Task { .. } => rest
                .iter()
                .take_while(|c| matches!(c, Case::Task { .. }))
                .count(),
            Case::Sequence { .. } => rest
                .iter()
                .take_while(|c| matches!(c, Case::Sequence { .. }))
                .count(),
            _ => 1,
        };
        let (group, tail) = rest.split_at(group_len);
        rest = tail;
        let outcomes = match first {
            Case::Task { .. } => run_task_group(plan, group, stop, bar, &mut results.calibration),
            Case::Sequence { .. } => {
                crate::sequence_case::run_group(plan, group, stop, bar, &mut results.notes)
            }
            &Case::Startup { model, parent_rss } => {
                let id = plan.case_id(first);
                bar.set_message(id.to_string());
                let outcome = run_startup(plan, model, parent_rss, &id, stop);
                bar.inc(1);
                vec![(id, outcome)]
            }
        };
        for (id, outcome) in outcomes {
            match outcome {
                Ok(ms) => results.measurements.extend(ms),
                Err(reason) if stop.load(Ordering::Relaxed) => {
                    results.run.incomplete = true;
                    results.notes.push(format!("{id}: interrupted ({reason})"));
                }
                Err(reason) => results.failures.push(Failure::new(&id, reason)),
            }
        }
    }
    if results.calibration.square_loop.is_none() && !stop.load(Ordering::Relaxed) {
        let rates = (0..rounds as usize)
            .map(|_| calibration::square_loop(plan.work, plan.tasks))
            .skip(plan.warmup)
            .collect();
        results.calibration.square_loop = Some(Stat::new("ops/s", rates));
    }
    // Ten reads of 100,000 clock reads each: the figure is stable to a fraction of a ns.
    let timer = (0..TIMER_ROUNDS)
        .map(|_| calibration::timer_overhead_ns(100_000))
        .collect();
    results.calibration.timer_overhead = Some(Stat::new("ns", timer));
    // The bare OS loops measured beside the startup cases double as calibration figures.
    for m in &results.measurements {
        if (m.variant == "bare" || m.variant == "pthread") && m.param("parent_rss") == Some(0) {
            let stat = Stat::new(&m.unit, m.samples.clone());
            let name = if m.variant == "pthread" {
                "pthread"
            } else {
                &m.model
            };
            results.calibration.bare_roundtrip.insert(name.into(), stat);
        }
    }
    results.run.duration_s = started.elapsed().as_secs_f64();
    results
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

/// One task case's samples as they accumulate.
struct TaskAcc<'p> {
    id: CaseId,
    model: ModelKind,
    spec: SampleSpec<'p>,
    throughput: Vec<f64>,
    rss: Vec<f64>,
    lost: Vec<f64>,
    probe: Vec<f64>,
    failed: Option<String>,
}

/// Runs the task cases of one workload round by round: each round takes one sample of every
/// case (and, for squares, one of the bare calibration loop) before the next round starts.
/// A shared machine drifts between fast and slow spells that last longer than a sample
/// (seen here: 1.7 and 2.9 G squares/s, half a second each); interleaving gives every case
/// the same mix of spells, so that sample i of one case and sample i of another are
/// measured side by side and their ratios (efficiency, overhead) are not the drift's.
fn run_task_group(
    plan: &Plan,
    cases: &[Case],
    stop: &AtomicBool,
    bar: &ProgressBar,
    cal: &mut Calibration,
) -> Vec<(CaseId, CaseOutcome)> {
    let cpus: &[usize] = if plan.pin { &plan.cpus } else { &[] };
    let mut accs: Vec<TaskAcc<'_>> = cases
        .iter()
        .filter_map(|case| match *case {
            Case::Task { model, workers, .. } => Some(TaskAcc {
                id: plan.case_id(case),
                model,
                spec: SampleSpec {
                    job: plan.job(case),
                    workers,
                    cpus,
                    exe: &plan.exe,
                    timeout: plan.case_timeout,
                    fault: plan.fault_for(model),
                },
                throughput: Vec::with_capacity(plan.samples),
                rss: Vec::with_capacity(plan.samples),
                lost: Vec::with_capacity(plan.samples),
                probe: Vec::with_capacity(plan.samples),
                failed: None,
            }),
            _ => None,
        })
        .collect();
    let squares = accs
        .iter()
        .any(|a| matches!(a.spec.job, Job::Square { .. }));
    let mut bare_loop = Vec::with_capacity(plan.samples);
    let mut per_cpu: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.samples); plan.cpus.len()];
    for round in 0..plan.warmup + plan.samples {
        let counted = round >= plan.warmup;
        if squares && !stop.load(Ordering::Relaxed) {
            let rate = calibration::square_loop(plan.work, plan.tasks);
            let rates = calibration::per_cpu_loops(&plan.cpus, plan.work, plan.tasks);
            if counted {
                bare_loop.push(rate);
                for (xs, r) in per_cpu.iter_mut().zip(rates) {
                    xs.extend(r);
                }
            }
        }
        for acc in accs.iter_mut().filter(|a| a.failed.is_none()) {
            bar.set_message(acc.id.to_string());
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let probe = calibration::probe();
            match task_sample(acc.model, &acc.spec) {
                Ok(s) if counted => {
                    acc.probe.push(probe);
                    acc.throughput.push(s.throughput);
                    acc.rss.extend(s.rss_bytes);
                    acc.lost.extend(s.lost_updates);
                }
                Ok(_) => {}
                // A sample cut short by Ctrl-C is no failure: the samples before it stand.
                Err(_) if stop.load(Ordering::Relaxed) => break,
                Err(reason) => acc.failed = Some(reason),
            }
            bar.inc(1);
        }
    }
    if squares && !bare_loop.is_empty() {
        cal.square_loop = Some(Stat::new("ops/s", bare_loop));
        for (cpu, xs) in plan.cpus.iter().zip(per_cpu) {
            if !xs.is_empty() {
                cal.per_cpu_loop
                    .insert(cpu.to_string(), Stat::new("ops/s", xs));
            }
        }
    }
    accs.into_iter()
        .map(|a| {
            let outcome = match a.failed {
                Some(reason) => Err(reason),
                None if a.throughput.is_empty() => {
                    Err("interrupted before its first sample".into())
                }
                None => {
                    let taken = a.throughput.len();
                    let mut out = vec![Measurement::new(
                        &a.id,
                        Metric::Throughput,
                        a.throughput,
                        true,
                    )];
                    if !a.rss.is_empty() && a.rss.len() == taken {
                        out.push(Measurement::new(&a.id, Metric::PeakRss, a.rss, true));
                    }
                    if !a.lost.is_empty() {
                        out.push(Measurement::new(&a.id, Metric::LostUpdates, a.lost, true));
                    }
                    Ok(out)
                }
            };
            (a.id, outcome)
        })
        .collect()
}

/// One verified task sample, reduced to its figures.
struct TaskSample {
    throughput: f64,
    rss_bytes: Option<f64>,
    lost_updates: Option<f64>,
}

fn task_sample(model: ModelKind, spec: &SampleSpec<'_>) -> Result<TaskSample, String> {
    let raw = model::run_sample(model, spec).map_err(|e| e.to_string())?;
    let lost = verify_task(spec.job, &raw).map_err(|e| e.to_string())?;
    let secs = raw.elapsed_ns().max(1) as f64 / 1e9;
    let rss = if model.is_process() {
        Some(raw.workers.iter().map(|w| w.private_bytes).sum())
    } else {
        raw.rss_growth_bytes
    };
    Ok(TaskSample {
        throughput: raw.ops() as f64 / secs,
        rss_bytes: rss.map(|b| b as f64),
        lost_updates: lost.map(|l| l as f64),
    })
}

/// A bare loop of an OS or std primitive, with nothing of the harness around it.
enum Bare {
    /// `std::thread::spawn` + `join`: what the threads model is built on.
    StdThread,
    /// `pthread_create` + `pthread_join`: the OS primitive under std's threads.
    Pthread,
    Fork,
    Spawn(calibration::BareSpawn),
}

impl Bare {
    /// The bare loops measured beside `model`'s startup, with their variant names.
    fn for_model(model: ModelKind, exe: &std::path::Path) -> Vec<(&'static str, Bare)> {
        match model {
            ModelKind::Threads => vec![("bare", Bare::StdThread), ("pthread", Bare::Pthread)],
            ModelKind::Fork => vec![("bare", Bare::Fork)],
            ModelKind::Spawn => calibration::BareSpawn::new(exe)
                .map(|s| vec![("bare", Bare::Spawn(s))])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn roundtrip(&self) -> anyhow::Result<f64> {
        match self {
            Bare::StdThread => calibration::bare_std_thread_roundtrip(),
            Bare::Pthread => calibration::bare_thread_roundtrip(),
            Bare::Fork => calibration::bare_fork_roundtrip(),
            Bare::Spawn(s) => s.roundtrip(),
        }
    }
}

/// Startup and roundtrip of one worker with an empty job, each sample followed by one of the
/// bare OS loop (variant `bare`): interleaved, both see the same machine state, so their ratio
/// is the harness's own overhead and not a drift between two moments of the run.
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
        fault: crate::model::fault::Fault::None,
    };
    let bare = Bare::for_model(model, &plan.exe);
    let n = plan.startup_samples;
    let mut startup = Vec::with_capacity(n);
    let mut roundtrip = Vec::with_capacity(n);
    let mut bare_rt: Vec<Vec<f64>> = vec![Vec::with_capacity(n); bare.len()];
    let bare_all = || -> Result<Vec<f64>, String> {
        bare.iter()
            .map(|(_, b)| b.roundtrip().map_err(|e| format!("{e:#}")))
            .collect()
    };
    for i in 0..plan.warmup + n {
        interrupted(stop)?;
        // Alternate which goes first: whatever one leaves behind (a child's teardown, a
        // freed stack) then weighs on both alike.
        let (raw, b) = if i % 2 == 0 {
            let raw = model::run_sample(model, &spec).map_err(|e| e.to_string())?;
            (raw, bare_all()?)
        } else {
            let b = bare_all()?;
            (
                model::run_sample(model, &spec).map_err(|e| e.to_string())?,
                b,
            )
        };
        if i < plan.warmup {
            continue;
        }
        let w = raw.workers[0];
        startup.push(w.started_ns.saturating_sub(w.requested_ns) as f64);
        roundtrip.push(w.joined_ns.saturating_sub(w.requested_ns) as f64);
        for (xs, x) in bare_rt.iter_mut().zip(b) {
            xs.push(x);
        }
    }
    drop(ballast);
    let mut out = vec![
        Measurement::new(id, Metric::Startup, startup, true),
        Measurement::new(id, Metric::Roundtrip, roundtrip, true),
    ];
    for ((variant, _), xs) in bare.iter().zip(bare_rt) {
        let bare_id = CaseId {
            variant: (*variant).into(),
            ..id.clone()
        };
        out.push(Measurement::new(&bare_id, Metric::Roundtrip, xs, true));
    }
    Ok(out)
}
