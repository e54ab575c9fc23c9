//! Startup cases: one worker of a start-only workload, started, run and joined or reaped,
//! each sample followed (or preceded, alternately) by one of the bare OS loop of the same
//! primitive. Interleaved, both see the same machine state, so their ratio is the harness's
//! own overhead and not a drift between two moments of the run.
//!
//! Each case runs in lean parents (`sweep::lean`): fresh processes of the host binary holding
//! only the ballast and idle threads asked for, so that a start-up does not depend on what
//! the run did before it. The parent's real state at every sample is kept beside the figures.
//!
//! A case's samples are taken in [`STARTUP_BURSTS`] bursts, each in a lean parent of its own,
//! spread over the run: the first before the task cases, the others between their rounds.
//! A start's level is the moment's more than the run's: on a shared VM, forty-eight
//! back-to-back runs' start-ups moved about half as much pooled four at a time as one at a time
//! (thread bare loop 14.6% → 8.1%, fork 8.5% → 4.3%; docs/studies/history.md), as independent
//! draws do, so one run's samples drawn from four moments stand still from run to run as four
//! runs would.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use super::lean::{LeanAnswer, Spec, measure_here, run_lean};
use super::plan::{Case, Plan};
use crate::api::Model;
use crate::api::study::CaseOutcome;
use crate::results::{CaseId, Measurement, Metric};

/// How many lean parents a start-up case's samples are taken in, at moments spread over the
/// run (fewer when the case takes fewer samples).
pub const STARTUP_BURSTS: usize = 4;

/// The bursts a plan's start-up cases take: [`STARTUP_BURSTS`], or one per sample when fewer.
pub fn bursts(plan: &Plan) -> usize {
    STARTUP_BURSTS.min(plan.startup_samples).max(1)
}

/// What one start-up case takes, in ns: each sample after a start not kept, beside its bare
/// loop(s) and the probe (about 0.1 ms); as many as fill the case's time, at least the samples
/// asked for; the parent's memory touched once per burst.
pub fn estimate_ns(plan: &Plan, model: Model, parent_rss: u64) -> f64 {
    let fork = if model == Model::Fork {
        parent_rss as f64 * plan.costs.fork_ns_per_byte
    } else {
        0.0
    };
    let bare = if model == Model::Threads { 2.0 } else { 1.0 };
    let round = (plan.costs.start(model) + fork) * (2.0 + bare) + 1e5;
    let filled =
        (plan.startup_fill.as_nanos() as f64 / round).min(super::lean::STARTUP_SAMPLES_MAX as f64);
    let kept = filled.max(plan.startup_samples as f64);
    // Each burst's lean parent warms up and touches its memory.
    let bursts = bursts(plan) as f64;
    (plan.warmup as f64 * bursts + kept) * round
        + bursts * parent_rss as f64 * plan.costs.touch_ns_per_byte
}

/// The start-up cases of a run, burst by burst: what each has gathered so far.
pub struct Bursts<'p> {
    plan: &'p Plan,
    cases: Vec<(Case, CaseId, Result<Option<LeanAnswer>, String>)>,
    taken: usize,
    bursts: usize,
}

impl<'p> Bursts<'p> {
    /// The start-up cases among `cases`, none measured yet.
    pub fn new(plan: &'p Plan, cases: &[Case]) -> Bursts<'p> {
        let cases = cases
            .iter()
            .filter(|c| matches!(c, Case::Startup { .. }))
            .map(|c| (c.clone(), plan.case_id(c), Ok(None)))
            .collect();
        Bursts {
            plan,
            cases,
            taken: 0,
            bursts: bursts(plan),
        }
    }

    /// Whether the next burst is due at the start of round `round` of `rounds`: the bursts
    /// after the first fall evenly over the rounds.
    pub fn due(&self, round: usize, rounds: usize) -> bool {
        due(self.taken, self.bursts, round, rounds)
    }

    /// The next burst of every start-up case that has not failed, each in a lean parent.
    pub fn take(&mut self, stop: &AtomicBool, bar: &ProgressBar) {
        if self.taken >= self.bursts {
            return;
        }
        let k = self.taken;
        self.taken += 1;
        for (case, id, gathered) in &mut self.cases {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let Ok(sofar) = gathered else { continue };
            bar.set_message(id.to_string());
            match burst(self.plan, case, (k, self.bursts), stop) {
                Ok(f) => match sofar {
                    Some(all) => all.append(f),
                    None => *sofar = Some(f),
                },
                Err(e) => *gathered = Err(e),
            }
            bar.inc(1);
        }
    }

    /// Every case's outcome, its bursts not yet taken taken first; a case a stop kept from
    /// any sample is left out, as an unstarted case is.
    pub fn finish(mut self, stop: &AtomicBool, bar: &ProgressBar) -> Vec<(CaseId, CaseOutcome)> {
        while self.taken < self.bursts && !stop.load(Ordering::Relaxed) {
            self.take(stop, bar);
        }
        let plan = self.plan;
        self.cases
            .into_iter()
            .filter_map(|(case, id, gathered)| match gathered {
                Ok(None) => None,
                Ok(Some(f)) => Some((id, Ok(measurements(plan, &case, f)))),
                Err(e) => Some((id, Err(e))),
            })
            .collect()
    }
}

/// Whether, `taken` of `bursts` bursts taken, the next is due at the start of round `round` of
/// `rounds`: burst k at round k × rounds ÷ bursts.
fn due(taken: usize, bursts: usize, round: usize, rounds: usize) -> bool {
    taken < bursts && round * bursts >= taken * rounds
}

/// Burst `k`'s share of `total` over `n` bursts: the shares add up to `total` exactly.
fn share(total: usize, (k, n): (usize, usize)) -> usize {
    total * (k + 1) / n - total * k / n
}

/// Burst `k` of `n` of one start-up case: its share of the case's samples and of its fill
/// time, in a lean parent of its own.
fn burst(
    plan: &Plan,
    case: &Case,
    (k, n): (usize, usize),
    stop: &AtomicBool,
) -> Result<LeanAnswer, String> {
    let &Case::Startup {
        w,
        model,
        parent_rss,
    } = case
    else {
        return Err("not a startup case".into());
    };
    let spec = Spec {
        workload: plan.workloads[w].workload.info().name.to_string(),
        params: plan.workloads[w].params.clone(),
        model: model.to_string(),
        parent_rss,
        parent_threads: plan.parent_threads,
        warmup: plan.warmup,
        samples: share(plan.startup_samples, (k, n)),
        fill_ms: share(plan.startup_fill.as_millis() as usize, (k, n)) as u64,
        timeout_ms: plan.case_timeout.as_millis() as u64,
        exe: plan.exe.clone(),
        slowdown: plan.injected.slowdown.map(|s| s.spec()),
        fault: plan.injected.lean_fault.map(str::to_string),
    };
    if plan.lean_parent {
        run_lean(&spec, stop)
    } else {
        measure_here(&spec, &plan.workloads[w].workload)
    }
}

/// A start-up case's measurements from its bursts' figures: startup and roundtrip of the
/// workload's worker, and the bare loops.
fn measurements(plan: &Plan, case: &Case, f: LeanAnswer) -> Vec<Measurement> {
    let id = plan.case_id(case);
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bursts_share_the_samples_exactly_and_fall_evenly_over_the_rounds() {
        for total in [1, 5, 20, 23, 50] {
            let n = STARTUP_BURSTS.min(total);
            let shares: Vec<usize> = (0..n).map(|k| share(total, (k, n))).collect();
            assert_eq!(shares.iter().sum::<usize>(), total, "{shares:?}");
            assert!(shares.iter().all(|&s| s >= 1), "{shares:?}");
        }
        // The first burst comes before the rounds; the other three at a quarter, a half and
        // three quarters of them.
        let mut taken = 1;
        let mut at = Vec::new();
        for round in 0..25 {
            if due(taken, 4, round, 25) {
                at.push(round);
                taken += 1;
            }
        }
        assert_eq!(at, [7, 13, 19]);
        assert!(!due(4, 4, 24, 25));
    }

    #[test]
    fn a_later_lean_parents_figures_follow_the_first_ones_index_for_index() {
        let answer = |x: f64, rss: u64| LeanAnswer {
            startup: vec![x, x + 1.0],
            roundtrip: vec![2.0 * x, 2.0 * x + 1.0],
            bare: vec![("bare".into(), vec![3.0 * x, 3.0 * x + 1.0])],
            probes: vec![x],
            verified: true,
            parent: crate::results::ParentState {
                base_rss_bytes: rss,
                ballast_bytes: 7,
                rss_bytes: vec![rss, rss],
                mapped_bytes: vec![rss, rss],
                threads: vec![1, 1],
            },
            ..LeanAnswer::default()
        };
        let mut all = answer(10.0, 100);
        all.append(LeanAnswer {
            verified: false,
            ..answer(20.0, 200)
        });
        assert_eq!(all.startup, [10.0, 11.0, 20.0, 21.0]);
        assert_eq!(all.roundtrip, [20.0, 21.0, 40.0, 41.0]);
        assert_eq!(all.bare[0].1, [30.0, 31.0, 60.0, 61.0]);
        assert_eq!(all.probes, [10.0, 20.0]);
        assert_eq!(all.parent.rss_bytes, [100, 100, 200, 200]);
        assert_eq!(all.parent.base_rss_bytes, 100);
        assert!(!all.verified);
    }
}
