//! Test-only slowdowns (the hidden `--inject-slowdown TARGET=PCT`), for measuring what the
//! regression gate can see: real extra work put where a real regression would be — in a
//! workload's own code, in the `fork` / `spawn` start-up of every caller (bare loops too, as a
//! kernel change would), or in threadfork's process-shared lock. A run made with one is marked
//! in its results and refused as a baseline.

use std::hint::black_box;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::api::workload::{Erased, Orders, Output};
use crate::error::BadInput;
use crate::measure::clock::now_ns;
use crate::sys::futex::{self, FutexMutex};
use crate::sys::shared::SharedArea;

/// The environment variable that carries the slowdown into spawned workers.
pub const ENV: &str = "THREADFORK_INJECT_SLOWDOWN";

/// Where the extra work goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A workload's own code: each share of a workload without shared state is followed by
    /// PCT% more of the same share (its result dropped), so both its time and its
    /// instruction count grow by PCT%. Workloads with shared state are left alone (running
    /// their code twice would change what they verify).
    Code,
    /// `fork` and `spawn`, for every caller: for `fork`, each side spins PCT% of the time
    /// the call took to return to it (the child: request → its first instruction); for a
    /// spawn, a spin of PCT% of the call's own time (a running mean of the last calls)
    /// before each call.
    Start,
    /// threadfork's process-shared lock: each acquisition spins PCT% of an uncontended
    /// lock–unlock pair's cost, measured once per process.
    Lock,
}

/// A slowdown: a percentage per target (0: none). Slowdowns on different targets may be
/// injected together, each judged on its own group (`code=5,start=10,lock=20`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slowdown {
    pct: [u32; 3],
}

const TARGETS: [(Target, &str); 3] = [
    (Target::Code, "code"),
    (Target::Start, "start"),
    (Target::Lock, "lock"),
];

impl Slowdown {
    /// Parses `code=20`, `start=35`, `lock=10` or several of them joined by commas (each
    /// target once; percent in 1..=500).
    pub fn parse(text: &str) -> Result<Slowdown, BadInput> {
        let bad = || {
            BadInput::new(format!(
                "--inject-slowdown: '{text}' is not TARGET=PCT[,TARGET=PCT] (code, start or lock, each once; 1 to 500)"
            ))
        };
        let mut s = Slowdown::default();
        for part in text.split(',') {
            let (t, p) = part.split_once('=').ok_or_else(bad)?;
            let i = TARGETS
                .iter()
                .position(|(_, name)| *name == t.trim())
                .ok_or_else(bad)?;
            let pct: u32 = p.trim().trim_end_matches('%').parse().map_err(|_| bad())?;
            if !(1..=500).contains(&pct) || s.pct[i] != 0 {
                return Err(bad());
            }
            s.pct[i] = pct;
        }
        Ok(s)
    }

    /// The percentage on `target` (0: none).
    pub fn pct(&self, target: Target) -> u32 {
        self.pct[target as usize]
    }

    pub fn spec(&self) -> String {
        TARGETS
            .iter()
            .filter(|(t, _)| self.pct(*t) > 0)
            .map(|(t, name)| format!("{name}={}", self.pct(*t)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

static ACTIVE: OnceLock<Option<Slowdown>> = OnceLock::new();

/// The environment variable that carries the lock's extra spins into spawned workers (they
/// must not measure their own: that would put the measuring into their start-up).
const LOCK_SPINS_ENV: &str = "THREADFORK_INJECT_LOCK_SPINS";

/// Sets this process's slowdown (the CLI, once, before any worker starts).
pub fn set(s: Option<Slowdown>) {
    let _ = ACTIVE.set(s);
    if let Some(pct) = s.map(|s| s.pct(Target::Lock)).filter(|p| *p > 0) {
        set_lock_spins(pct);
    }
}

/// A counted child's slowdown, from the environment its parent gave it.
pub fn from_env() {
    let s = std::env::var(ENV)
        .ok()
        .and_then(|v| Slowdown::parse(&v).ok());
    let _ = ACTIVE.set(s);
    if let Some(n) = std::env::var(LOCK_SPINS_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        futex::LOCK_EXTRA_SPINS.store(n, Ordering::Relaxed);
    }
}

/// The active slowdown on `target`, if any. Allocation-free once set (a forked child
/// inherits its parent's value).
fn active(target: Target) -> Option<u32> {
    ACTIVE
        .get()
        .copied()
        .flatten()
        .map(|s| s.pct(target))
        .filter(|p| *p > 0)
}

/// The active slowdown's spec, for the results.
pub fn spec() -> Option<String> {
    ACTIVE.get().copied().flatten().map(|s| s.spec())
}

/// The argument a spawned worker gets: `-` for no slowdown, else its spec and, under a lock
/// slowdown, `/` and the spins this process measured. An argument, not the environment: a
/// command whose environment is changed builds a whole new one inside `spawn`, which a build
/// without a slowdown does not (in 3 of 20 A/B jobs here a code slowdown came with spawn
/// start-ups 3–6% slower): a change the slowdown must not bring with it.
pub fn child_arg() -> String {
    match passed_on() {
        None => "-".into(),
        Some((spec, 0)) => spec,
        Some((spec, spins)) => format!("{spec}/{spins}"),
    }
}

/// What a child is handed of this process's slowdown: its spec, and the lock spins measured
/// here (0 without a lock slowdown).
fn passed_on() -> Option<(String, u64)> {
    spec().map(|s| (s, futex::LOCK_EXTRA_SPINS.load(Ordering::Relaxed)))
}

/// A spawned worker's slowdown, from the argument its parent gave it ([`child_arg`]).
pub fn from_arg(arg: &str) {
    let (spec, spins) = arg.split_once('/').unwrap_or((arg, ""));
    let _ = ACTIVE.set(Slowdown::parse(spec).ok());
    if let Ok(n) = spins.parse::<u64>() {
        futex::LOCK_EXTRA_SPINS.store(n, Ordering::Relaxed);
    }
}

/// The environment a counted child gets: the slowdown and, under a lock
/// slowdown, the spins this process measured.
pub fn child_env() -> Vec<(&'static str, String)> {
    let Some((spec, spins)) = passed_on() else {
        return Vec::new();
    };
    let mut env = vec![(ENV, spec)];
    if spins > 0 {
        env.push((LOCK_SPINS_ENV, spins.to_string()));
    }
    env
}

/// Runs a share of `workload` and, under a `code` slowdown of a workload without shared
/// state, PCT% more of it. Every model and the bare loop call this.
pub fn run_share(workload: &dyn Erased, area: SharedArea<'_>, orders: &Orders<'_>) -> Output {
    let out = workload.run(area, orders);
    if let Some(pct) = active(Target::Code).filter(|_| workload.info().shared_size == 0) {
        let extra = Orders {
            units: (orders.units * u64::from(pct)).div_ceil(100),
            ..*orders
        };
        black_box(workload.run(area, &extra));
    }
    out
}

/// The running mean call time of a spawn in this process, in ns.
static SPAWN_MEAN_NS: AtomicU64 = AtomicU64::new(0);

/// A mean over the last few values: it follows the case being measured (a start's cost
/// depends on the parent's size; the cases run one after another) within a sample or two.
fn mean_with(m: u64, x: u64) -> u64 {
    if m == 0 { x } else { (m + x) / 2 }
}

/// Spins until `ns` have passed.
fn burn(ns: u64) {
    let until = now_ns() + ns;
    while now_ns() < until {
        futex::spin(64);
    }
}

/// Calls a spawn — under a `start` slowdown after a spin of PCT% of its mean call time.
pub fn spawn<R>(start: impl FnOnce() -> R) -> R {
    let Some(pct) = active(Target::Start) else {
        return start();
    };
    let m = SPAWN_MEAN_NS.load(Ordering::Relaxed);
    burn(m * u64::from(pct) / 100);
    let t0 = now_ns();
    let r = start();
    SPAWN_MEAN_NS.store(mean_with(m, now_ns().saturating_sub(t0)), Ordering::Relaxed);
    r
}

/// Calls `fork` — under a `start` slowdown, each side then spins PCT% of the time the call
/// took to return to it: the parent its own call, the child the time from the request to its
/// first instruction. A kernel whose `fork` does PCT% more work delays both alike, for every
/// caller, whatever the parent's size. Allocation-free: the forked child returns through here.
pub fn fork<R>(fork: impl FnOnce() -> R) -> R {
    let Some(pct) = active(Target::Start) else {
        return fork();
    };
    let t0 = now_ns();
    let r = fork();
    burn(now_ns().saturating_sub(t0) * u64::from(pct) / 100);
    r
}

/// Under a `lock` slowdown, sets the process-shared lock's extra spin per acquisition: PCT%
/// of an uncontended lock–unlock pair, measured here, before any worker starts (a forked
/// child inherits it; a spawned one is handed it). Both costs are the fastest of several
/// rounds, so that every process of a job injects the same share whatever the host was doing
/// while it measured.
fn set_lock_spins(pct: u32) {
    const PAIRS: u64 = 20_000;
    const ROUNDS: usize = 15;
    let m = FutexMutex::new();
    let fastest = |f: &dyn Fn()| {
        (0..ROUNDS)
            .map(|_| {
                let t0 = now_ns();
                f();
                now_ns().saturating_sub(t0)
            })
            .min()
            .unwrap_or(0) as f64
    };
    let pair_ns = fastest(&|| {
        for _ in 0..PAIRS {
            black_box(&m).lock();
            m.unlock();
        }
    }) / PAIRS as f64;
    let step_ns = fastest(&|| futex::spin(PAIRS * 16)) / (PAIRS * 16) as f64;
    let spins = (pair_ns * f64::from(pct) / 100.0 / step_ns.max(1e-3)).round() as u64;
    futex::LOCK_EXTRA_SPINS.store(spins.max(1), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_are_refused() {
        let s = Slowdown::parse("code=20").unwrap();
        assert_eq!((s.pct(Target::Code), s.pct(Target::Lock)), (20, 0));
        assert_eq!(Slowdown::parse("start=35%").unwrap().spec(), "start=35");
        let all = Slowdown::parse("lock=20, code=5,start=10").unwrap();
        assert_eq!(all.spec(), "code=5,start=10,lock=20");
        for bad in [
            "code",
            "disk=10",
            "lock=0",
            "lock=900",
            "code=x",
            "code=5,code=6",
            "",
        ] {
            assert!(Slowdown::parse(bad).is_err(), "{bad}");
        }
    }
}
