//! `run --instructions` under valgrind's callgrind (skipped, saying so, where valgrind is not
//! installed; `.ci/run` installs it and makes its absence a failure): counts that two runs of one build repeat exactly, on every per-sample model,
//! and a 2% change of a workload's code caught by `compare`.

mod common;

use common::{TempDir, threadfork};
use threadfork::__private::results;

/// A counted run of square on sequential, fork and spawn; `extra` adds flags. Returns the
/// folder (removed when dropped) and the results file.
fn counted(tag: &str, extra: &[&str]) -> (TempDir, std::path::PathBuf) {
    let out = TempDir::new(tag);
    let o = threadfork()
        .args(["run", "--instructions", "--quick", "--no-charts"])
        .args(["--workload", "square", "--model", "sequential,fork,spawn"])
        .args(["--tasks", "20000"])
        .args(extra)
        .arg("--out")
        .arg(&out.0)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "--instructions needs valgrind on PATH (apt-get install valgrind): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let file = common::json_files(&out).pop().expect("a results file");
    (out, file)
}

fn counts(file: &std::path::Path) -> Vec<(String, Vec<f64>, bool, Option<u64>)> {
    let r = results::load(file).unwrap();
    r.measurements
        .iter()
        .map(|m| {
            assert_eq!(m.metric.name(), "instructions");
            assert_eq!(m.case.workers, 1);
            (
                m.case.model.clone(),
                m.samples.clone(),
                m.verified,
                m.ops_per_sample,
            )
        })
        .collect()
}

#[test]
fn counts_repeat_exactly_and_a_two_percent_change_is_caught() {
    if !common::have(
        "valgrind",
        "counts_repeat_exactly_and_a_two_percent_change_is_caught",
    ) {
        return;
    }
    let (_da, a) = counted("instructions-a", &[]);
    let (_db, b) = counted("instructions-b", &[]);
    let (ca, cb) = (counts(&a), counts(&b));
    assert_eq!(ca.len(), 3, "{ca:?}");
    for (x, y) in ca.iter().zip(&cb) {
        // Two counts per run and two runs: all four equal, verified, over 20,000 tasks of 100.
        assert_eq!(x.1.len(), 2);
        assert_eq!(x.1[0], x.1[1], "{x:?}");
        assert_eq!(x.1, y.1, "{x:?} {y:?}");
        assert!(x.2, "{x:?}");
        assert_eq!(x.3, Some(2_000_000));
        // Only the share is counted: about 7 instructions per square, not the harness's
        // start-up (millions more).
        let per_op = x.1[0] / 2e6;
        assert!((5.0..12.0).contains(&per_op), "{per_op}");
    }
    threadfork().arg("compare").arg(&a).arg(&b).assert_code(0);
    // The workload's own code 2% longer: every model's count grows, compare exits 1.
    let (_ds, slower) = counted("instructions-slower", &["--inject-slowdown", "code=2"]);
    for (x, y) in ca.iter().zip(counts(&slower)) {
        let ratio = y.1[0] / x.1[0];
        assert!((1.015..1.03).contains(&ratio), "{x:?} {y:?}");
    }
    threadfork()
        .arg("compare")
        .arg(&a)
        .arg(&slower)
        .assert_code(1);
    threadfork()
        .arg("compare")
        .arg(&a)
        .arg(&slower)
        .args(["--instructions-threshold", "5%"])
        .assert_code(0);
}

trait AssertCode {
    fn assert_code(&mut self, code: i32);
}

impl AssertCode for std::process::Command {
    fn assert_code(&mut self, code: i32) {
        let o = self.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn ab_instructions_judges_the_exact_difference_of_two_builds() {
    if !common::have(
        "valgrind",
        "ab_instructions_judges_the_exact_difference_of_two_builds",
    ) {
        return;
    }
    let ab = |tag: &str, extra: &[&str]| {
        let out = TempDir::new(tag);
        let o = threadfork()
            .args([
                "ab",
                env!("CARGO_BIN_EXE_threadfork"),
                "--instructions",
                "--quick",
            ])
            .args([
                "--workload",
                "square",
                "--model",
                "sequential",
                "--tasks",
                "20000",
            ])
            .arg("--out")
            .arg(&out.0)
            .args(extra)
            .output()
            .unwrap();
        // Both sides' counted runs are kept, ordinary results files.
        assert_eq!(common::json_files(&out).len(), 2, "{o:?}");
        o.status.code()
    };
    assert_eq!(ab("ab-instructions-same", &[]), Some(0));
    assert_eq!(
        ab("ab-instructions-slower", &["--inject-slowdown", "code=2"]),
        Some(1)
    );
}
