//! What other processes took from an A/B job, pair by pair and over the whole job.
//!
//! Each side reports, with every task sample, the share of its workers' time they spent
//! runnable but waiting for a CPU beyond what their own number explains
//! (`RawSample::interference`). A wait alone does not say who took the CPU: a pool's own
//! threads make its workers wait on a quiet machine too. So a pair is laid at others' door
//! only where, around it, the allowed CPUs were also busy beyond what this job's own processes
//! used — the orchestrator, both sides and every worker and pool process of theirs (each side
//! runs in a process group of its own) — by at least [`OTHERS_HOLD`] cores. Such a pair is
//! *spoilt*: it is not counted, and the spare rounds take others where a gated row needs
//! them; a case that cannot find enough clean pairs keeps its spoilt ones, and the report
//! counts them.

use serde::{Deserialize, Serialize};

use crate::host::protocol::Reply;
use crate::measure::sched::{CpuTimes, Recent, groups_cpu_ns};
use crate::results::{CONTAMINATED, OTHERS_HOLD};

/// A case's clean pairs before its spoilt ones are left out of its figures.
pub const CLEAN_ENOUGH: usize = 6;

/// The machine's busy time and this job's own CPU time at one instant.
#[derive(Clone, Copy)]
struct Reading {
    busy_ns: u64,
    own_ns: u64,
    at_ns: u64,
}

/// Readings of the allowed CPUs after each recent pair.
pub struct Watch {
    cpus: Vec<usize>,
    recent: Recent<Reading>,
    /// At the job's start: the machine's times for the whole job's figure.
    start: Option<CpuTimes>,
}

impl Watch {
    pub fn new() -> Watch {
        let cpus = crate::machine::allowed_cpus();
        let start = CpuTimes::now(&cpus);
        Watch {
            cpus,
            recent: Recent::default(),
            start,
        }
    }

    /// New sides were started: readings that counted the old ones' CPU time no longer
    /// compare with the new.
    pub fn restart(&mut self) {
        self.recent.clear();
    }

    /// Cores other processes held over the recent window that ends now, with `sides` the
    /// process groups of the running sides.
    pub fn others_now(&mut self, sides: &[u32]) -> Option<f64> {
        let t = CpuTimes::now(&self.cpus)?;
        let now = Reading {
            busy_ns: t.busy_ns,
            own_ns: t.own_ns + groups_cpu_ns(sides)?,
            at_ns: t.at_ns,
        };
        let from = self.recent.push(now.at_ns, now)?;
        let wall = now.at_ns.saturating_sub(from.at_ns).max(1) as f64;
        let busy = now.busy_ns.saturating_sub(from.busy_ns) as f64;
        let own = now.own_ns.saturating_sub(from.own_ns) as f64;
        Some(((busy - own) / wall).max(0.0))
    }

    /// Cores others held, and cores the hypervisor stole, over the whole job: read once every
    /// side has been reaped, when the job's own CPU time is all in its children's.
    pub fn over_job(&self) -> Option<(f64, f64)> {
        let end = CpuTimes::now(&self.cpus)?;
        Some(end.others_since(self.start.as_ref()?))
    }

    pub fn cores(&self) -> usize {
        self.cpus.len()
    }
}

/// Whether a pair is spoilt: a side's workers waited beyond [`CONTAMINATED`] of their time
/// while others held at least [`OTHERS_HOLD`] cores around it (or while that could not be
/// read).
pub fn spoilt(a: &Reply, b: &Reply, others: Option<f64>) -> bool {
    let waited = [a, b]
        .iter()
        .any(|r| r.interference.is_some_and(|i| i > CONTAMINATED));
    waited && others.is_none_or(|o| o >= OTHERS_HOLD)
}

/// What others took from the job, as the report says it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct JobInterference {
    /// Pairs not counted because a side's workers waited beyond the share: the job's spare
    /// rounds took others (or, with none, their case's own).
    pub retaken: usize,
    /// Spoilt pairs kept in a case's figures because it found too few clean ones.
    pub kept: usize,
    /// Cores other processes held over the job, of `cores` allowed CPUs.
    pub others_cores: Option<f64>,
    /// Cores the hypervisor stole over the job.
    pub steal_cores: Option<f64>,
    pub cores: usize,
    /// Seconds the budget grew by: the time the retaken pairs took, at most the budget again.
    #[serde(default)]
    pub grown_s: f64,
}

impl JobInterference {
    /// One line for the report; none for a job saved before interference was read.
    pub fn line(&self) -> Option<String> {
        if self.cores == 0 {
            return None;
        }
        let share = format!("{:.0}%", CONTAMINATED * 100.0);
        let held = match self.others_cores {
            Some(o) => format!(
                "other processes held {o:.2} of {} cores over the job{}",
                self.cores,
                self.steal_cores
                    .filter(|&s| s >= 0.01)
                    .map(|s| format!(", the hypervisor stole {s:.2}"))
                    .unwrap_or_default()
            ),
            None => "what other processes held could not be read".to_string(),
        };
        let pairs = match (self.retaken, self.kept) {
            (0, 0) => format!("no pair spoilt (no side's workers waited > {share} of the window)"),
            (r, 0) => {
                format!("{r} pair(s) retaken: a side's workers waited > {share} of the window")
            }
            (r, k) => format!(
                "{r} pair(s) retaken: a side's workers waited > {share} of the window; {k} kept \
                 in cases that found too few clean ones"
            ),
        };
        let grown = if self.grown_s >= 0.5 {
            format!("; the budget grew by the {:.0} s they took", self.grown_s)
        } else {
            String::new()
        };
        Some(format!("Interference: {held}; {pairs}{grown}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(interference: Option<f64>) -> Reply {
        Reply {
            interference,
            ..Reply::default()
        }
    }

    #[test]
    fn a_pair_is_spoilt_only_when_a_side_waited_and_others_held_cores() {
        let quiet = reply(Some(0.01));
        let waited = reply(Some(0.2));
        assert!(!spoilt(&quiet, &quiet, Some(1.0)));
        assert!(spoilt(&quiet, &waited, Some(0.9)));
        assert!(spoilt(&waited, &quiet, None));
        // The wait was the job's own: a pool's threads, no one else on the CPUs.
        assert!(!spoilt(&waited, &quiet, Some(0.05)));
        assert!(!spoilt(&reply(None), &reply(None), Some(1.0)));
    }

    #[test]
    fn the_line_counts_retaken_and_kept_pairs() {
        let mut j = JobInterference {
            retaken: 41,
            kept: 0,
            others_cores: Some(0.9),
            steal_cores: Some(0.0),
            cores: 2,
            grown_s: 0.0,
        };
        assert_eq!(JobInterference::default().line(), None);
        assert_eq!(
            j.line().as_deref(),
            Some(
                "Interference: other processes held 0.90 of 2 cores over the job; 41 pair(s) \
             retaken: a side's workers waited > 10% of the window."
            )
        );
        j.kept = 3;
        assert!(
            j.line()
                .unwrap()
                .ends_with("3 kept in cases that found too few clean ones.")
        );
        j.grown_s = 12.4;
        assert!(
            j.line()
                .unwrap()
                .ends_with("clean ones; the budget grew by the 12 s they took.")
        );
    }

    #[test]
    fn a_process_groups_cpu_time_counts_its_own_work() {
        // SAFETY: getpgrp has no preconditions and cannot fail.
        let group = unsafe { nix::libc::getpgrp() } as u32;
        let before = groups_cpu_ns(&[group]).expect("/proc is readable");
        let own = crate::measure::sched::own_cpu_ns();
        while crate::measure::sched::own_cpu_ns() < own + 60_000_000 {
            std::hint::black_box(0u64);
        }
        let after = groups_cpu_ns(&[group]).expect("/proc is readable");
        // 60 ms of this process's CPU, counted in 10 ms ticks.
        assert!(after >= before + 40_000_000, "{before} → {after}");
        assert_eq!(groups_cpu_ns(&[u32::MAX]), Some(0));
        // The first reading has no window before it.
        let mut w = Watch::new();
        assert_eq!(w.others_now(&[]), None);
        assert!(w.others_now(&[]).is_some());
    }
}
