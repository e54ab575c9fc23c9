//! Startup cases: one worker of a start-only workload, started, run and joined or reaped,
//! each sample followed (or preceded, alternately) by one of the bare OS loop of the same
//! primitive. Interleaved, both see the same machine state, so their ratio is the harness's
//! own overhead and not a drift between two moments of the run.
//!
//! Each case runs in a lean parent (`sweep::lean`): a fresh process of the host binary holding
//! only the ballast and idle threads asked for, so that a start-up does not depend on what
//! the run did before it. The parent's real state at every sample is kept beside the figures.

use std::sync::atomic::AtomicBool;

use super::lean::{Spec, measure_here, run_lean};
use super::plan::{Case, Plan};
use crate::api::study::CaseOutcome;
use crate::results::{CaseId, Measurement, Metric};

/// Runs one startup case: startup and roundtrip of the workload's worker, and the bare loops.
pub fn run_startup(plan: &Plan, case: &Case, stop: &AtomicBool) -> CaseOutcome {
    let &Case::Startup {
        w,
        model,
        parent_rss,
    } = case
    else {
        return Err("not a startup case".into());
    };
    let id = plan.case_id(case);
    let spec = Spec {
        workload: plan.workloads[w].workload.info().name.to_string(),
        params: plan.workloads[w].params.clone(),
        model: model.to_string(),
        parent_rss,
        parent_threads: plan.parent_threads,
        warmup: plan.warmup,
        samples: plan.startup_samples,
        fill_ms: plan.startup_fill.as_millis() as u64,
        timeout_ms: plan.case_timeout.as_millis() as u64,
        exe: plan.exe.clone(),
        slowdown: plan.injected.slowdown.map(|s| s.spec()),
        fault: plan.injected.lean_fault.map(str::to_string),
    };
    let f = if plan.lean_parent {
        run_lean(&spec, stop)?
    } else {
        measure_here(&spec, &plan.workloads[w].workload)?
    };
    let with_parent = |m: Measurement| Measurement {
        parent: Some(f.parent.clone()),
        ..m.with_probe(&f.probes)
    };
    let mut out = vec![
        with_parent(Measurement::new(
            &id,
            Metric::Startup,
            f.startup.clone(),
            f.verified,
        )),
        with_parent(Measurement::new(
            &id,
            Metric::Roundtrip,
            f.roundtrip.clone(),
            f.verified,
        )),
    ];
    // A bare loop is verified by its child's clean exit, checked on every sample.
    for (variant, xs) in &f.bare {
        let bare_id = CaseId {
            variant: variant.clone(),
            ..id.clone()
        };
        out.push(with_parent(Measurement::new(
            &bare_id,
            Metric::Roundtrip,
            xs.clone(),
            true,
        )));
    }
    Ok(out)
}
