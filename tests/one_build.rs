//! One build per run: a rebuild that replaces the executable on disk mid-run (what
//! `cargo build` in another terminal does) changes nothing the run measures — every spawned
//! worker and bare spawn loop still runs the build the run started from.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::TempDir;
use threadfork::__private::results;

#[test]
fn a_binary_replaced_mid_run_does_not_reach_the_run() {
    let dir = TempDir::new("one-build");
    let exe = dir.0.join("tf");
    std::fs::copy(env!("CARGO_BIN_EXE_threadfork"), &exe).unwrap();
    let marker = dir.0.join("the-new-build-ran");
    let out = dir.0.join("out");
    let mut child = std::process::Command::new(&exe)
        .args([
            "run",
            "--quick",
            "--no-charts",
            "--workload",
            "square,empty",
        ])
        .args(["--model", "spawn", "--workers", "1", "--parent-rss", "0"])
        .args(["--samples", "150", "--sample-time", "5ms"])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Past the preflight and calibration: the rounds are running.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too soon"
    );
    // The new "build": a program that leaves a mark and fails, renamed over the old path.
    let new = dir.0.join("tf.new");
    std::fs::write(
        &new,
        format!("#!/bin/sh\ntouch '{}'\nexit 3\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&new, &exe).unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        !marker.exists(),
        "a process of the run started the new build"
    );
    let file = common::json_files(&dir).pop().expect("a results file");
    let r = results::load(&file).unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let spawn = r
        .measurements
        .iter()
        .find(|m| m.case.workload == "square" && m.metric.name() == "throughput")
        .expect("square on spawn");
    assert_eq!(spawn.samples.len(), 150);
    assert!(spawn.verified);
}
