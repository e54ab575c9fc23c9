//! `run --instructions`: every task workload's variants on each selected per-sample model at
//! one worker, each counted under callgrind in a process of its own — exact figures that two
//! runs of one build repeat, for CI machines too noisy for timings.

use std::sync::atomic::{AtomicBool, Ordering};

use super::plan::{Case, Plan};
use crate::api::Model;
use crate::api::study::CaseOutcome;
use crate::exec::count;
use crate::measure::instructions;
use crate::results::{CaseId, Measurement, Metric};

/// Counts per case: two, so that a count that depends on timing shows itself.
const COUNTS: usize = 2;

/// One counted case: workload index, model, variant index.
pub type CountCase = (usize, Model, usize);

/// The cases of a `--instructions` run.
pub fn cases(plan: &Plan) -> Vec<CountCase> {
    let mut out: Vec<CountCase> = plan
        .cases()
        .into_iter()
        .filter_map(|c| match c {
            // A pool runs the same shares as the per-sample models; counting collects only
            // inside a share, so its dispatch would not show.
            Case::Task {
                w, model, variant, ..
            } if model.pool().is_none() => Some((w, model, variant)),
            Case::Task { .. } | Case::Startup { .. } => None,
        })
        .collect();
    out.dedup();
    out
}

/// The case's name: every parameter is given, the size too (it is fixed, not timed).
pub fn case_id(plan: &Plan, &(w, model, v): &CountCase) -> CaseId {
    let sel = &plan.workloads[w];
    let info = sel.workload.info();
    CaseId {
        workload: info.name.into(),
        model: model.name().into(),
        variant: info.variants[v].into(),
        workers: 1,
        params: info
            .params
            .iter()
            .zip(&sel.params)
            .map(|(p, v)| (p.name.to_string(), *v))
            .collect(),
    }
}

/// Counts one case.
pub fn run_count(plan: &Plan, case: &CountCase, stop: &AtomicBool) -> CaseOutcome {
    if stop.load(Ordering::Relaxed) {
        return Err("interrupted".into());
    }
    let &(w, model, v) = case;
    let sel = &plan.workloads[w];
    let args = count::args(sel.workload.info().name, model, v, &sel.params);
    // A spawned worker is a process of its own: callgrind must follow it to count its share.
    let children = model == Model::Spawn;
    let env = crate::exec::testing::child_env();
    let mut counts = Vec::with_capacity(COUNTS);
    let mut report = None;
    for _ in 0..COUNTS {
        let (n, stdout) = instructions::count(&plan.exe, &args, &env, children, plan.case_timeout)?;
        report = Some(
            count::parse_report(&stdout)
                .ok_or("the counted run ended without reporting its sample")?,
        );
        counts.push(n as f64);
    }
    let (verified, ops) = report.ok_or("no count was made")?;
    let repeatable = counts.windows(2).all(|w| w[0] == w[1]);
    let mut m = Measurement::new(&case_id(plan, case), Metric::Instructions, counts, verified);
    m.ops_per_sample = Some(ops);
    // A share whose count depends on timing (a thread that spins until another answers) is
    // listed, never judged: an exact gate must not alarm on a scheduler's whim.
    m.info = !repeatable;
    Ok(vec![m])
}
