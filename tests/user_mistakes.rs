//! A user's mistakes reported where they were made: a parameter the workload never declared,
//! a `run` or `verify` that panics, a check that fails at the preflight — each in one line
//! naming the user's own code (file and line), not threadfork's.

use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;
use threadfork::{Ctx, Output, Param, Registry, Sample, Size, Verdict, Workload};

mod common;

const PARAMS: [Param; 1] = [Param::new("items", 1000).range(1, 1 << 30)];

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
        Size::Split("items")
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        if let Mistake::Undeclared = self.0 {
            let _ = ctx.param("itmes"); // UNDECLARED-LINE
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
    threadfork::exec::panics::install_hook();
    let reg = Registry::new().with(Mistaken(Mistake::Undeclared, "typo"));
    let mut plan = common::quick_plan(
        &reg,
        &["--model", "sequential,threads", "--param", "items=64"],
    );
    // The preflight runs the code once on one thread: the mistake stops the run there.
    let err = threadfork::sweep::preflight(&mut plan)
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
    threadfork::exec::panics::install_hook();
    let reg = Registry::new().with(Mistaken(Mistake::AlwaysRejects, "rejects"));
    let mut plan = common::quick_plan(&reg, &["--model", "sequential"]);
    let err = threadfork::sweep::preflight(&mut plan)
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
    threadfork::exec::panics::install_hook();
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
    let machine = threadfork::machine::fingerprint();
    let r = threadfork::sweep::run(
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
