//! The public workload API, driven as a user's bench binary drives it: a workload whose
//! verification rejects its result fails its case, one that cannot verify is reported as
//! unverified everywhere, and shared state is one state across threads and forked processes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use indicatif::ProgressBar;
use threadfork::__private::results::Results;

mod common;
use threadfork::{Ctx, Mutex, Output, Param, Registry, Sample, Size, Verdict, Workload};

/// Adds its units to a shared total under threadfork's process-shared mutex.
struct Tally;

threadfork::shared_struct! {
    struct TallyState {
        total: Mutex<u64>,
        calls: AtomicU64,
    }
}

const ADDS: Param = Param::new("adds", 5_000).range(1, 1 << 30);
const TALLY_PARAMS: [Param; 1] = [ADDS];

impl Workload for Tally {
    type Shared = TallyState;
    fn name(&self) -> &'static str {
        "tally"
    }
    fn op(&self) -> &'static str {
        "adds"
    }
    fn params(&self) -> &'static [Param] {
        &TALLY_PARAMS
    }
    fn size(&self) -> Size {
        Size::PerWorker(ADDS)
    }
    fn run(&self, ctx: &Ctx<'_, TallyState>) -> Output {
        let mut done = 0;
        for _ in 0..ctx.units() {
            *ctx.shared().total.lock() += 1;
            done += 1;
        }
        ctx.shared().calls.fetch_add(1, Ordering::Relaxed);
        Output::new(done, 0)
    }
    fn verify(&self, s: &Sample<'_, TallyState>) -> Verdict {
        let total = *s.shared().total.lock();
        let calls = s.shared().calls.load(Ordering::Relaxed);
        Verdict::check(
            total == s.total_units() && calls == s.workers() as u64,
            || {
                format!(
                    "total {total} after {calls} calls, expected {}",
                    s.total_units()
                )
            },
        )
    }
}

/// Always reports a wrong checksum, which its verification catches.
struct Wrong;

impl Workload for Wrong {
    type Shared = ();
    fn name(&self) -> &'static str {
        "wrong"
    }
    fn op(&self) -> &'static str {
        "mistakes"
    }
    fn size(&self) -> Size {
        Size::None
    }
    fn run(&self, _: &Ctx<'_, ()>) -> Output {
        Output::new(1, 41)
    }
    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        Verdict::check(s.outputs().iter().all(|o| o.checksum == 42), || {
            "checksum 41, expected 42".into()
        })
    }
}

/// Has nothing to check.
struct Unchecked;

impl Workload for Unchecked {
    type Shared = ();
    fn name(&self) -> &'static str {
        "unchecked"
    }
    fn op(&self) -> &'static str {
        "guesses"
    }
    fn size(&self) -> Size {
        Size::None
    }
    fn run(&self, _: &Ctx<'_, ()>) -> Output {
        Output::new(1, 0)
    }
    fn verify(&self, _: &Sample<'_, ()>) -> Verdict {
        Verdict::Unverified
    }
}

/// Runs `threadfork run ARGS` over `registry` in this process (the spawn model needs a host
/// binary, so these runs use the other models).
fn run(registry: &Registry, args: &[&str]) -> Results {
    let plan = common::quick_plan(registry, args);
    let stop = AtomicBool::new(false);
    let machine = threadfork::__private::machine::fingerprint();
    threadfork::__private::sweep::run(&plan, machine, &stop, &ProgressBar::hidden())
}

#[test]
fn shared_state_is_one_state_across_threads_and_forked_processes() {
    let reg = Registry::new().with(Tally);
    let r = run(
        &reg,
        &["--model", "sequential,threads,fork", "--workers", "1,4"],
    );
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let tp: Vec<_> = r
        .select("tally", threadfork::__private::results::Metric::Throughput)
        .collect();
    assert_eq!(tp.len(), 6, "3 models × 2 worker counts");
    for m in tp {
        assert!(m.verified, "{}", m.case);
        assert_eq!(m.op.as_deref(), Some("adds"));
        assert_eq!(m.ops_per_sample, Some(5_000 * m.case.workers as u64));
        assert_eq!(
            m.probe.len(),
            m.samples.len(),
            "a probe beside every sample"
        );
    }
}

#[test]
fn a_rejected_result_fails_its_case_and_an_unverifiable_one_is_marked() {
    let reg = Registry::new().with(Wrong).with(Unchecked);
    let r = run(
        &reg,
        &["--model", "sequential,threads,fork", "--workers", "1"],
    );
    let wrong: Vec<_> = r
        .failures
        .iter()
        .filter(|f| f.case.workload == "wrong")
        .collect();
    assert_eq!(wrong.len(), 3, "{:?}", r.failures);
    assert!(
        wrong
            .iter()
            .all(|f| f.reason.contains("checksum 41, expected 42"))
    );
    assert!(r.measurements.iter().all(|m| m.case.workload != "wrong"));
    let unchecked: Vec<_> = r
        .measurements
        .iter()
        .filter(|m| m.case.workload == "unchecked")
        .collect();
    assert!(!unchecked.is_empty());
    assert!(unchecked.iter().all(|m| !m.verified));
    let summary = threadfork::__private::export::summary::render(&r);
    assert!(summary.contains("(unverified)"), "{summary}");
    assert!(summary.contains("Figures marked unverified"), "{summary}");
}

#[test]
fn bad_registrations_are_reported_not_run() {
    let reg = Registry::new().with(Tally).with(Tally);
    assert!(reg.problems()[0].contains("taken"), "{:?}", reg.problems());
}
