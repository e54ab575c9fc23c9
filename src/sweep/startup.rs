//! Startup cases: one worker of a start-only workload, started, run and joined or reaped,
//! each sample followed (or preceded, alternately) by one of the bare OS loop of the same
//! primitive. Interleaved, both see the same machine state, so their ratio is the harness's
//! own overhead and not a drift between two moments of the run.
//!
//! Each case runs in lean parents (`sweep::lean`): fresh processes of the host binary holding
//! only the ballast and idle threads asked for, so that a start-up does not depend on what
//! the run did before it. The parent's real state at every sample is kept beside the figures.
//!
//! A case's samples are taken in bursts, each in a lean parent of its own, at moments spread
//! over the run (up to [`STARTUP_SLOTS`]): the first before the task cases, the others between
//! their rounds. Each lean parent's starts hold a level of their own: on a shared VM, one lean
//! parent's median thread start moved 14–37% from the next one's within a run, while the
//! means of four moved from run to run as independent draws do (docs/studies/history.md). A
//! run's starts are therefore drawn from sixteen lean parents, or from fewer where touching a
//! large parent's memory would cost too much (four at 1 GiB).

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use super::lean::{LeanAnswer, Spec, measure_here, run_lean};
use super::plan::{Case, Plan};
use crate::api::Model;
use crate::api::study::CaseOutcome;
use crate::results::{CaseId, Measurement, Metric};

/// The most lean parents a start-up case's samples are taken in: the moments, spread over the
/// run, at which each case may take a burst.
pub const STARTUP_SLOTS: usize = 16;

/// The fewest lean parents a case takes (but for one taking fewer samples).
const STARTUP_BURSTS_MIN: usize = 4;

/// What a case's lean parents may spend touching their memory, in ns: a case with a large
/// parent takes fewer of them (1 GiB at 0.25 ns a byte: four).
const PARENT_TOUCH_BUDGET_NS: f64 = 0.5e9;

/// How many lean parents a start-up case with `parent_rss` bytes of parent memory takes: as
/// many as touch their memory within `PARENT_TOUCH_BUDGET_NS`, from `STARTUP_BURSTS_MIN`
/// to [`STARTUP_SLOTS`], and no more than its samples.
pub fn bursts(plan: &Plan, parent_rss: u64) -> usize {
    let touch = parent_rss as f64 * plan.costs.touch_ns_per_byte;
    let afforded = if touch > 0.0 {
        (PARENT_TOUCH_BUDGET_NS / touch).floor() as usize
    } else {
        STARTUP_SLOTS
    };
    afforded
        .clamp(STARTUP_BURSTS_MIN, STARTUP_SLOTS)
        .min(plan.startup_samples)
        .max(1)
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
    let bursts = bursts(plan, parent_rss) as f64;
    (plan.warmup as f64 * bursts + kept) * round
        + bursts * parent_rss as f64 * plan.costs.touch_ns_per_byte
}

/// One start-up case's bursts: how many it takes, how many it has taken, what they gathered.
struct CaseBursts {
    case: Case,
    id: CaseId,
    bursts: usize,
    taken: usize,
    gathered: Result<Option<LeanAnswer>, String>,
}

/// The start-up cases of a run, slot by slot: at each of [`STARTUP_SLOTS`] moments spread
/// over the run, each case whose turn it is takes its next burst.
pub struct Bursts<'p> {
    plan: &'p Plan,
    cases: Vec<CaseBursts>,
    slot: usize,
}

impl<'p> Bursts<'p> {
    /// The start-up cases among `cases`, none measured yet.
    pub fn new(plan: &'p Plan, cases: &[Case]) -> Bursts<'p> {
        let cases = cases
            .iter()
            .filter_map(|c| match *c {
                Case::Startup { parent_rss, .. } => Some(CaseBursts {
                    case: c.clone(),
                    id: plan.case_id(c),
                    bursts: bursts(plan, parent_rss),
                    taken: 0,
                    gathered: Ok(None),
                }),
                Case::Task { .. } => None,
            })
            .collect();
        Bursts {
            plan,
            cases,
            slot: 0,
        }
    }

    /// Whether the next slot is due at the start of round `round` of `rounds`: the slots after
    /// the first fall evenly over the rounds.
    pub fn due(&self, round: usize, rounds: usize) -> bool {
        due(self.slot, STARTUP_SLOTS, round, rounds)
    }

    /// The next slot: the next burst of every start-up case whose turn it is and that has not
    /// failed, each in a lean parent of its own.
    pub fn take(&mut self, stop: &AtomicBool, bar: &ProgressBar) {
        if self.slot >= STARTUP_SLOTS {
            return;
        }
        let slot = self.slot;
        self.slot += 1;
        for c in &mut self.cases {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if !turn(c.taken, c.bursts, slot) {
                continue;
            }
            let k = c.taken;
            c.taken += 1;
            let Ok(sofar) = &mut c.gathered else { continue };
            bar.set_message(c.id.to_string());
            match burst(self.plan, &c.case, (k, c.bursts), stop) {
                Ok(f) => match sofar {
                    Some(all) => all.append(f),
                    None => *sofar = Some(f),
                },
                Err(e) => c.gathered = Err(e),
            }
            bar.inc(1);
        }
    }

    /// Every case's outcome, the slots not yet taken taken first; a case a stop kept from any
    /// sample is left out, as an unstarted case is.
    pub fn finish(mut self, stop: &AtomicBool, bar: &ProgressBar) -> Vec<(CaseId, CaseOutcome)> {
        while self.slot < STARTUP_SLOTS && !stop.load(Ordering::Relaxed) {
            self.take(stop, bar);
        }
        self.cases
            .into_iter()
            .filter_map(|c| match c.gathered {
                Ok(None) => None,
                Ok(Some(f)) => Some((c.id.clone(), Ok(measurements(&c.id, f)))),
                Err(e) => Some((c.id, Err(e))),
            })
            .collect()
    }
}

/// Whether, `taken` of `slots` slots taken, the next is due at the start of round `round` of
/// `rounds`: slot k at round k × rounds ÷ slots.
fn due(taken: usize, slots: usize, round: usize, rounds: usize) -> bool {
    taken < slots && round * slots >= taken * rounds
}

/// Whether a case that has taken `taken` of its `bursts` takes one at `slot`: burst j at
/// slot ⌈j × slots ÷ bursts⌉, so that a case's bursts spread over the slots as they do over
/// the run.
fn turn(taken: usize, bursts: usize, slot: usize) -> bool {
    taken < bursts && taken * STARTUP_SLOTS <= slot * bursts
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
fn measurements(id: &CaseId, f: LeanAnswer) -> Vec<Measurement> {
    let with_parent = |m: Measurement| Measurement {
        parent: Some(f.parent.clone()),
        ..m.with_probe(&f.probes)
    };
    let mut out = vec![
        with_parent(Measurement::new(id, Metric::Startup, f.startup, f.verified)),
        with_parent(Measurement::new(
            id,
            Metric::Roundtrip,
            f.roundtrip,
            f.verified,
        )),
    ];
    // A bare loop is verified by its child's clean exit, checked on every sample.
    for (variant, xs) in f.bare {
        let bare_id = CaseId {
            variant,
            ..id.clone()
        };
        out.push(with_parent(Measurement::new(
            &bare_id,
            Metric::Roundtrip,
            xs,
            true,
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bursts_share_the_samples_exactly_and_fall_evenly_over_the_run() {
        for total in [1, 5, 20, 23, 50] {
            let n = STARTUP_SLOTS.min(total);
            let shares: Vec<usize> = (0..n).map(|k| share(total, (k, n))).collect();
            assert_eq!(shares.iter().sum::<usize>(), total, "{shares:?}");
            assert!(shares.iter().all(|&s| s >= 1), "{shares:?}");
        }
        // Slots: the first before the rounds, the others evenly over 25 rounds; with fewer
        // rounds than slots, several in one round (the rest after them: `finish`).
        let placed = |rounds: usize| {
            let mut taken = 1;
            let mut at = Vec::new();
            for round in 0..rounds {
                while due(taken, STARTUP_SLOTS, round, rounds) {
                    at.push(round);
                    taken += 1;
                }
            }
            at
        };
        let at = placed(25);
        assert_eq!(at.len(), STARTUP_SLOTS - 1, "{at:?}");
        assert_eq!(at[..4], [2, 4, 5, 7]);
        assert_eq!(at[STARTUP_SLOTS - 2], 24);
        assert_eq!(placed(4), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
        // A case's bursts over the slots: every slot for sixteen, every fourth for four, all
        // taken by the last slot.
        for (bursts, want) in [
            (16, (0..16).collect::<Vec<_>>()),
            (4, vec![0, 4, 8, 12]),
            (5, vec![0, 4, 7, 10, 13]),
        ] {
            let mut taken = 0;
            let mut at = Vec::new();
            for slot in 0..STARTUP_SLOTS {
                if turn(taken, bursts, slot) {
                    at.push(slot);
                    taken += 1;
                }
            }
            assert_eq!(at, want);
        }
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
