//! How big a task case's samples are: the starting size from the preflight's pace, the
//! calibration that grows or shrinks it to the sample time, and — past the cores — the floor
//! of one unit per worker that the samples must dominate, or the case is marked as dominated
//! by scheduling.

use super::plan::{Case, Plan, Scaling};
use crate::api::workload::Verdict;
use crate::api::{Model, Size};
use crate::exec::{Executor, Job, RawSample, SampleError, take_sample};
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

/// The rule for more workers than cores: a case measures its work when its samples last at
/// least this many times its floor — a sample of one unit per worker, which is all starting,
/// releasing, scheduling and collecting the workers — so that they are at most a quarter of
/// the sample's window.
pub const FLOOR_SHARE: f64 = 4.0;

/// How far past `--sample-time` an oversubscribed case's samples may be stretched to last
/// [`FLOOR_SHARE`] × its floor; a case that would need more is marked as dominated by
/// scheduling.
pub const MOST_STRETCH: f64 = 4.0;

/// What a sample of the smallest size (one unit per worker) takes: all starting, releasing,
/// scheduling and collecting the workers, with next to no work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Floor {
    /// The median of three such samples.
    pub(crate) ns: f64,
    /// Units in one such sample.
    pub(crate) units: u64,
}

/// The floor of a case that has more workers than cores; `None` for a case within the cores,
/// without a size, or whose floor sample failed (the case's own samples then say why).
pub(crate) fn floor(
    plan: &Plan,
    case: &Case,
    params: &[u64],
    exec: &mut dyn Executor,
) -> Option<Floor> {
    let &Case::Task { w, workers, .. } = case else {
        return None;
    };
    let i = plan.workloads[w].size_index()?;
    if workers <= plan.cpus.len().max(1) {
        return None;
    }
    let mut smallest = params.to_vec();
    smallest[i] = min_units(plan, case);
    let times = (0..3)
        .map(|_| {
            let raw = take(plan, case, &smallest, exec).ok()?;
            (!matches!(raw.verdict, Verdict::Failed(_))).then(|| raw.elapsed_ns().max(1) as f64)
        })
        .collect::<Option<Vec<f64>>>()?;
    Some(Floor {
        ns: crate::stats::median(&times),
        units: smallest[i],
    })
}

/// Why an oversubscribed case's samples are dominated by scheduling — they hold fewer than
/// [`FLOOR_SHARE`] × the floor's units, or last less than [`FLOOR_SHARE`] × its time (medians)
/// — or `None`.
pub(crate) fn dominated(
    workers: usize,
    cores: usize,
    floor: Floor,
    units: u64,
    durations: &[f64],
) -> Option<String> {
    let elapsed = crate::stats::median(durations);
    let few = (units as f64) < FLOOR_SHARE * floor.units as f64;
    let short = elapsed < FLOOR_SHARE * floor.ns;
    let what = match (few, short) {
        (false, false) => return None,
        (true, _) => format!(
            "its samples hold {units} units, under {FLOOR_SHARE}× the {} of one unit per worker",
            floor.units
        ),
        (false, true) => format!(
            "its samples took {} (median), under {FLOOR_SHARE}× the {} of one unit per worker",
            crate::units::ns(elapsed),
            crate::units::ns(floor.ns)
        ),
    };
    Some(format!(
        "{workers} workers on {cores} cores: {what}, so starting and scheduling the workers, \
         not the work, set their pace"
    ))
}

/// Units per worker a pool's calibration starts from.
const POOL_START_UNITS: u64 = 256;

/// Where calibration aims the fastest sample it saw, as a multiple of `--sample-time`: a
/// contended lock's pace changes up to threefold from one sample to the next (seen here with
/// the process-shared lock), so the fastest of two is put a little above the target and the
/// luckiest later sample still lasts about a third of it.
const AIM: f64 = 1.3;

/// Calibration samples of a time-sized case (strong scaling): its size (`params[i]`) is
/// scaled by [`AIM`] × `target` (ns) ÷ elapsed until the fastest of three samples at one size
/// lasts between the target and twice it. Eight samples at most.
pub(crate) fn calibrate(
    plan: &Plan,
    case: &Case,
    params: &mut [u64],
    exec: &mut dyn Executor,
    (i, target): (usize, f64),
) -> Result<(), String> {
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
pub(crate) fn min_units(plan: &Plan, case: &Case) -> u64 {
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
pub(crate) fn grow(
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
pub(crate) const SHORTEST_SHARE: f64 = 1.0 / 3.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_dominated_by_scheduling_under_four_times_its_floor_in_time_or_units() {
        let ms = 1e6;
        let floor = Floor {
            ns: 10.0 * ms,
            units: 128,
        };
        let why = dominated(128, 2, floor, 10_000, &[30.0 * ms, 39.0 * ms, 20.0 * ms]).unwrap();
        assert!(
            why.starts_with("128 workers on 2 cores: its samples took 30.0 ms"),
            "{why}"
        );
        assert!(why.contains("the 10.0 ms of one unit per worker"), "{why}");
        let why = dominated(128, 2, floor, 500, &[90.0 * ms]).unwrap();
        assert!(why.contains("hold 500 units, under 4× the 128"), "{why}");
        assert_eq!(dominated(128, 2, floor, 512, &[40.0 * ms, 45.0 * ms]), None);
    }
}
