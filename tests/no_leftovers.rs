//! After a run, no worker process of the harness remains: no zombie, no orphan.
//! One test in its own binary, so that no other test's children are counted.

mod common;

use std::path::Path;

use threadfork::model::{ModelKind, SampleSpec, run_sample};
use threadfork::workload::{CounterVariant, Hold, Job};

#[test]
fn every_child_is_reaped() {
    let exe = Path::new(env!("CARGO_BIN_EXE_threadfork"));
    let jobs = [
        Job::Empty,
        Job::Square {
            work: 100,
            tasks: 500,
        },
        Job::Counter {
            increments: 1000,
            hold: Hold::None,
            variant: CounterVariant::Pshared,
        },
    ];
    for model in [ModelKind::Fork, ModelKind::Spawn] {
        for job in jobs {
            let spec = SampleSpec::new(job, 3, exe);
            run_sample(model, &spec).unwrap();
            let left = common::children_of(std::process::id());
            assert!(left.is_empty(), "{model} {job:?} left {left:?}");
        }
    }
    // The binary's own run: after it exits, none of its workers may survive it.
    let out = common::TempDir::new("leftovers");
    let status = common::threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "counter",
            "--model",
            "fork,spawn",
        ])
        .args([
            "--workers",
            "2",
            "--samples",
            "1",
            "--increments",
            "1000",
            "--parent-rss",
            "0",
        ])
        .arg("--out")
        .arg(&out.0)
        .output()
        .unwrap();
    assert!(status.status.success());
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args="])
        .output()
        .unwrap();
    let workers = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(env!("CARGO_BIN_EXE_threadfork")) && l.contains(" worker "))
        .count();
    assert_eq!(workers, 0, "orphaned spawn workers survive the harness");
}
