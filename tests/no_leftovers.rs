//! After a run, no worker process of the harness remains: no zombie, no orphan.
//! One test in its own binary, so that no other test's children are counted.

mod common;

use std::path::Path;

use threadfork::__private::exec::testing::Fault;
use threadfork::__private::exec::{Bound, Job, executor, run_sample, take_sample};
use threadfork::Model;
use threadfork::api::model::{Pattern, Pool};

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
    let process_pools = [Pattern::Map, Pattern::AsCompleted, Pattern::SubmitWait]
        .map(|q| Model::Pool(Pool::Processes, q));
    for model in [Model::Fork, Model::Spawn].into_iter().chain(process_pools) {
        for b in jobs
            .iter()
            .filter(|b| !(b.workload.info().start_only && model.pool().is_some()))
        {
            run_sample(model, &b.job(3, exe)).unwrap();
            let left = common::children_of(std::process::id());
            let name = b.workload.info().name;
            assert!(left.is_empty(), "{model} {name} left {left:?}");
        }
    }
    // A process pool whose worker crashed mid-sample: the case fails, the pool is closed,
    // and none of its workers is left, dead or alive.
    let crash = Job {
        fault: Fault::Abort,
        ..jobs[1].job(3, exe)
    };
    let mut e = executor(Model::Pool(Pool::Processes, Pattern::Map));
    e.open(&crash).unwrap();
    assert!(take_sample(e.as_mut(), &crash).is_err());
    e.close();
    let left = common::children_of(std::process::id());
    assert!(left.is_empty(), "a crashed process pool left {left:?}");
    // The binary's own run: after it exits, none of its workers may survive it.
    let out = common::TempDir::new("leftovers");
    let status = common::threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "counter",
            "--model",
            "fork,spawn,process-pool",
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
