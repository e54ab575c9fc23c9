//! After a run, no worker process of the harness remains: no zombie, no orphan.
//! One test in its own binary, so that no other test's children are counted.

mod common;

use std::path::Path;

use threadfork::Model;
use threadfork::exec::{Bound, run_sample};

#[test]
fn every_child_is_reaped() {
    let exe = Path::new(env!("CARGO_BIN_EXE_threadfork"));
    let reg = threadfork::builtin::registry();
    let jobs = [
        Bound::new(reg.find("empty").unwrap(), "default", &[]).unwrap(),
        Bound::new(reg.find("square").unwrap(), "default", &[("tasks", 500)]).unwrap(),
        Bound::new(
            reg.find("counter").unwrap(),
            "pshared",
            &[("increments", 1000)],
        )
        .unwrap(),
    ];
    for model in [Model::Fork, Model::Spawn] {
        for b in &jobs {
            run_sample(model, &b.job(3, exe)).unwrap();
            let left = common::children_of(std::process::id());
            let name = b.workload.info().name;
            assert!(left.is_empty(), "{model} {name} left {left:?}");
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
        .filter(|l| {
            l.contains(env!("CARGO_BIN_EXE_threadfork")) && l.contains(" __threadfork-worker ")
        })
        .count();
    assert_eq!(workers, 0, "orphaned spawn workers survive the harness");
}
