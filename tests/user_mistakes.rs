//! A user's mistakes reported where they were made: a parameter the workload never declared,
//! a `run` or `verify` that panics, a check that fails at the preflight — each in one line
//! naming the user's own code (file and line), not threadfork's.

use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;
use threadfork::{Ctx, Output, Param, Registry, Sample, Size, Verdict, Workload};

mod common;

const ITEMS: Param = Param::new("items", 1000).range(1, 1 << 30);
const PARAMS: [Param; 1] = [ITEMS];
/// A parameter the workload reads but never lists in `params()`.
const ITMES: Param = Param::new("itmes", 1000);

/// What each workload gets wrong.
#[derive(Clone, Copy)]
enum Mistake {
    /// `run` reads a parameter it never declared.
    Undeclared,
    /// `verify` panics.
    VerifyPanics,
    /// `verify` always rejects the result.
    AlwaysRejects,
}

struct Mistaken(Mistake, &'static str);

impl Workload for Mistaken {
    type Shared = ();
    fn name(&self) -> &'static str {
        self.1
    }
    fn op(&self) -> &'static str {
        "items"
    }
    fn params(&self) -> &'static [Param] {
        &PARAMS
    }
    fn size(&self) -> Size {
        Size::Split(ITEMS)
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        if let Mistake::Undeclared = self.0 {
            let _ = ctx.get(ITMES); // UNDECLARED-LINE
        }
        Output::new(ctx.units(), 0)
    }
    fn verify(&self, _: &Sample<'_, ()>) -> Verdict {
        match self.0 {
            Mistake::VerifyPanics => panic!("the user's verify fell over"), // VERIFY-LINE
            Mistake::AlwaysRejects => Verdict::Failed("bin 0 holds 0, expected 7".into()),
            Mistake::Undeclared => Verdict::Passed,
        }
    }
}

/// The line of this file that holds `mark`, 1-based.
fn line_of(mark: &str) -> usize {
    include_str!("user_mistakes.rs")
        .lines()
        .position(|l| l.contains(mark) && !l.contains("line_of"))
        .expect("marked line")
        + 1
}

#[test]
fn an_undeclared_parameter_is_named_with_the_users_line_once_per_case() {
    threadfork::__private::exec::panics::install_hook();
    let reg = Registry::new().with(Mistaken(Mistake::Undeclared, "typo"));
    let mut plan = common::quick_plan(
        &reg,
        &["--model", "sequential,threads", "--param", "items=64"],
    );
    // The preflight runs the code once on one thread: the mistake stops the run there.
    let err = threadfork::__private::sweep::preflight(&mut plan)
        .unwrap_err()
        .to_string();
    let at = format!("tests/user_mistakes.rs:{}", line_of("UNDECLARED-LINE"));
    assert!(err.starts_with("typo: its own code, run once"), "{err}");
    assert!(err.contains("its run panicked"), "{err}");
    assert!(
        err.contains(
            "no parameter named 'itmes' was declared by this workload (it declares: items)"
        ),
        "{err}"
    );
    assert!(err.contains(&at), "the user's line {at}: {err}");
    assert!(!err.contains("src/api"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_verify_that_fails_at_the_preflight_says_its_check_failed() {
    threadfork::__private::exec::panics::install_hook();
    let reg = Registry::new().with(Mistaken(Mistake::AlwaysRejects, "rejects"));
    let mut plan = common::quick_plan(&reg, &["--model", "sequential"]);
    let err = threadfork::__private::sweep::preflight(&mut plan)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("its check failed: bin 0 holds 0, expected 7"),
        "{err}"
    );
    assert!(!err.contains("did not finish"), "{err}");
}

#[test]
fn a_verify_that_panics_fails_each_case_once_with_the_users_line() {
    threadfork::__private::exec::panics::install_hook();
    let reg = Registry::new().with(Mistaken(Mistake::VerifyPanics, "falls"));
    // Sized explicitly: past the preflight's check, into the cases.
    let plan = common::quick_plan(
        &reg,
        &[
            "--model",
            "sequential,threads,fork",
            "--workers",
            "1,2",
            "--param",
            "items=64",
        ],
    );
    let machine = threadfork::__private::machine::fingerprint();
    let r = threadfork::__private::sweep::run(
        &plan,
        machine,
        &AtomicBool::new(false),
        &ProgressBar::hidden(),
    );
    let at = format!("tests/user_mistakes.rs:{}", line_of("VERIFY-LINE"));
    assert_eq!(r.failures.len(), 6, "{:?}", r.failures);
    for f in &r.failures {
        assert!(
            f.reason
                .contains("its verify panicked: the user's verify fell over"),
            "{}",
            f.reason
        );
        assert!(f.reason.contains(&at), "{}", f.reason);
    }
}

/// Set when the test is over, so that the hung threads it left behind end too.
static RELEASE: AtomicBool = AtomicBool::new(false);

/// A start-only workload whose code never returns (until the test lets it go).
struct HangsAtStart;

impl Workload for HangsAtStart {
    type Shared = ();
    fn name(&self) -> &'static str {
        "hangs"
    }
    fn op(&self) -> &'static str {
        "starts"
    }
    fn size(&self) -> Size {
        Size::None
    }
    fn start_only(&self) -> bool {
        true
    }
    fn run(&self, _: &Ctx<'_, ()>) -> Output {
        while !RELEASE.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Output::new(1, 0)
    }
    fn verify(&self, _: &Sample<'_, ()>) -> Verdict {
        Verdict::Passed
    }
}

#[test]
fn a_start_only_workload_that_never_returns_on_threads_fails_at_the_case_deadline() {
    threadfork::__private::exec::panics::install_hook();
    let reg = Registry::new().with(HangsAtStart);
    let mut plan = common::quick_plan(
        &reg,
        &[
            "--model",
            "threads",
            "--parent-rss",
            "0",
            "--case-timeout",
            "300ms",
        ],
    );
    // This test binary is no host binary: the start-ups are taken in its own process.
    plan.lean_parent = false;
    let machine = threadfork::__private::machine::fingerprint();
    let started = std::time::Instant::now();
    let r = threadfork::__private::sweep::run(
        &plan,
        machine,
        &AtomicBool::new(false),
        &ProgressBar::hidden(),
    );
    RELEASE.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(!r.failures.is_empty(), "no case failed");
    for f in &r.failures {
        assert!(f.reason.contains("timed out"), "{}", f.reason);
    }
    assert!(
        r.measurements.iter().all(|m| m.case.model != "threads"),
        "a hung start was measured"
    );
    // Bounded by the deadlines, not by the workload (which never returns on its own).
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
