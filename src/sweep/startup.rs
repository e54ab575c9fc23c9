//! Startup cases: one worker of a start-only workload, started, run and joined or reaped,
//! each sample followed (or preceded, alternately) by one of the bare OS loop of the same
//! primitive. Interleaved, both see the same machine state, so their ratio is the harness's
//! own overhead and not a drift between two moments of the run.

use std::sync::atomic::{AtomicBool, Ordering};

use super::plan::{Case, Plan};
use crate::api::Model;
use crate::api::study::CaseOutcome;
use crate::api::workload::Verdict;
use std::time::Duration;

use crate::exec::bare::{BareSpawn, bare_fork_roundtrip};
use crate::exec::{RawSample, executor, take_sample};
use crate::measure::ballast::Ballast;
use crate::measure::calibration;
use crate::measure::probe::probe;
use crate::results::derived::{BARE_VARIANT, PTHREAD_VARIANT};
use crate::results::{CaseId, Measurement, Metric};

/// A bare loop of an OS or std primitive, with nothing of the harness around it.
enum Bare {
    /// `std::thread::spawn` + `join`: what the threads model is built on.
    StdThread,
    /// `pthread_create` + `pthread_join`: the OS primitive under std's threads.
    Pthread,
    Fork,
    Spawn(BareSpawn),
}

impl Bare {
    /// The bare loops measured beside `model`'s startup, with their variant names.
    fn for_model(model: Model, exe: &std::path::Path) -> Vec<(&'static str, Bare)> {
        match model {
            Model::Threads => vec![
                (BARE_VARIANT, Bare::StdThread),
                (PTHREAD_VARIANT, Bare::Pthread),
            ],
            Model::Fork => vec![(BARE_VARIANT, Bare::Fork)],
            Model::Spawn => BareSpawn::new(exe)
                .map(|s| vec![(BARE_VARIANT, Bare::Spawn(s))])
                .unwrap_or_default(),
            Model::Sequential | Model::Pool(..) => Vec::new(),
        }
    }

    fn roundtrip(&self, timeout: Duration) -> Result<f64, String> {
        match self {
            Bare::StdThread => {
                calibration::bare_std_thread_roundtrip().map_err(|e| format!("{e:#}"))
            }
            Bare::Pthread => calibration::bare_thread_roundtrip().map_err(|e| format!("{e:#}")),
            Bare::Fork => bare_fork_roundtrip(timeout).map_err(|e| e.to_string()),
            Bare::Spawn(s) => s.roundtrip(timeout).map_err(|e| e.to_string()),
        }
    }
}

fn interrupted(stop: &AtomicBool) -> Result<(), String> {
    if stop.load(Ordering::Relaxed) {
        Err("interrupted".into())
    } else {
        Ok(())
    }
}

/// Runs one startup case: startup and roundtrip of the workload's worker, and the bare loops.
pub fn run_startup(plan: &Plan, case: &Case, stop: &AtomicBool) -> CaseOutcome {
    let &Case::Startup {
        model, parent_rss, ..
    } = case
    else {
        return Err("not a startup case".into());
    };
    let id = plan.case_id(case);
    let ballast = Ballast::new(parent_rss).map_err(|e| format!("{e:#}"))?;
    let job = plan.job(case);
    let mut exec = executor(model);
    exec.open(&job).map_err(|e| e.to_string())?;
    let bare = Bare::for_model(model, &plan.exe);
    let n = plan.startup_samples;
    let mut startup = Vec::with_capacity(n);
    let mut roundtrip = Vec::with_capacity(n);
    let mut bare_rt: Vec<Vec<f64>> = vec![Vec::with_capacity(n); bare.len()];
    let mut probes = Vec::with_capacity(n);
    let bare_all = || -> Result<Vec<f64>, String> {
        bare.iter()
            .map(|(_, b)| b.roundtrip(plan.case_timeout))
            .collect()
    };
    let mut sample = || -> Result<RawSample, String> {
        let raw = take_sample(exec.as_mut(), &job).map_err(|e| e.to_string())?;
        match &raw.verdict {
            Verdict::Failed(why) => Err(why.clone()),
            _ => Ok(raw),
        }
    };
    let mut verified = true;
    for i in 0..plan.warmup + n {
        interrupted(stop)?;
        // The core's speed of the moment, beside the sample: the judge of a start cost.
        let p = probe();
        // Alternate which goes first: whatever one leaves behind (a child's teardown, a
        // freed stack) then weighs on both alike.
        let (raw, b) = if i % 2 == 0 {
            let raw = sample()?;
            (raw, bare_all()?)
        } else {
            let b = bare_all()?;
            (sample()?, b)
        };
        if i < plan.warmup {
            continue;
        }
        verified &= raw.verdict != Verdict::Unverified;
        probes.extend(p);
        let w = raw.workers[0];
        startup.push(w.started_ns.saturating_sub(w.requested_ns) as f64);
        roundtrip.push(w.joined_ns.saturating_sub(w.requested_ns) as f64);
        for (xs, x) in bare_rt.iter_mut().zip(b) {
            xs.push(x);
        }
    }
    exec.close();
    drop(ballast);
    let mut out = vec![
        Measurement::new(&id, Metric::Startup, startup, verified).with_probe(&probes),
        Measurement::new(&id, Metric::Roundtrip, roundtrip, verified).with_probe(&probes),
    ];
    // A bare loop is verified by its child's clean exit, checked on every sample.
    for ((variant, _), xs) in bare.iter().zip(bare_rt) {
        let bare_id = CaseId {
            variant: (*variant).into(),
            ..id.clone()
        };
        out.push(Measurement::new(&bare_id, Metric::Roundtrip, xs, true).with_probe(&probes));
    }
    Ok(out)
}
