//! Start-up cases run in a lean parent: a fresh process of the host binary that holds only the
//! ballast and idle threads asked for. Its real state is recorded beside every start-up
//! figure, and no lean parent outlives the run, whatever ends it.

mod common;

use threadfork::__private::results::ParentState;

use std::process::Stdio;
use std::time::Duration;

use common::{TempDir, json_files, threadfork};

const MIB: u64 = 1 << 20;

fn results(dir: &TempDir) -> serde_json::Value {
    let file = json_files(dir).pop().expect("a results file");
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// Lean parents that the threadfork of pid `run` started and that still exist.
fn lean_parents(run: u32) -> Vec<String> {
    let mark = format!("__threadfork-lean {run}");
    let ps = std::process::Command::new("ps")
        .args(["-eo", "pid=,args="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&mark))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_start_up_figure_carries_its_parents_state_and_the_ballast_asked() {
    let dir = TempDir::new("lean-state");
    let child = threadfork()
        .args(["run", "--quick", "--no-charts", "--workload", "empty"])
        .args(["--model", "threads,fork,spawn", "--parent-rss", "0,64M"])
        .args(["--parent-threads", "3", "--out"])
        .arg(&dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = results(&dir);
    let ms = r["measurements"].as_array().unwrap();
    let startups: Vec<_> = ms.iter().filter(|m| m["workload"] == "empty").collect();
    // startup + roundtrip of 3 models, 4 bare loops, at two sizes.
    assert_eq!(startups.len(), 2 * (3 * 2 + 4));
    for m in startups {
        // The parent's per-sample state as threadfork reads it (runs of repeated values
        // written once with their count).
        let p: ParentState = serde_json::from_value(m["parent"].clone()).unwrap();
        let n = m["samples"].as_array().unwrap().len();
        // The quick run's 20 samples at least; more while they fill the case's time, to 400.
        assert!((20..=400).contains(&n), "{n} samples in {m}");
        for (series, len) in [
            ("rss_bytes", p.rss_bytes.len()),
            ("mapped_bytes", p.mapped_bytes.len()),
            ("threads", p.threads.len()),
        ] {
            assert_eq!(len, n, "{series} of {m}");
        }
        // The thread that starts the workers and the three idle ones, nothing else; a worker
        // thread joined just before a reading may still be leaving the kernel's count.
        let mut threads = p.threads.clone();
        threads.sort_unstable();
        assert_eq!(threads[threads.len() / 2], 4, "{m}");
        assert!(threads[0] >= 4 && threads[threads.len() - 1] <= 5, "{m}");
        let asked = m["params"]["parent_rss"].as_u64().unwrap();
        assert_eq!(p.ballast_bytes, asked);
        let base = p.base_rss_bytes;
        assert!(base > 0);
        if asked > 0 {
            let mut rss = p.rss_bytes.clone();
            rss.sort_unstable();
            let held = rss[rss.len() / 2].saturating_sub(base) as f64;
            assert!(
                (held - asked as f64).abs() <= 0.05 * asked as f64,
                "the parent held {held} bytes above its base, asked {asked}"
            );
        }
        assert!(asked < 64 * MIB || p.mapped_bytes[0] >= asked);
    }
    assert_eq!(lean_parents(pid), Vec::<String>::new());
}

/// A run whose lean parent misbehaves (`--inject-fault KIND:lean`): its start-up cases fail with
/// the reason, and no lean parent is left.
fn faulty_run(kind: &str) -> (std::process::Output, TempDir) {
    let dir = TempDir::new("lean-fault");
    let child = threadfork()
        .args(["run", "--quick", "--no-charts", "--workload", "empty"])
        .args([
            "--model",
            "fork",
            "--parent-rss",
            "0",
            "--case-timeout",
            "1s",
        ])
        .args(["--inject-fault", &format!("{kind}:lean"), "--out"])
        .arg(&dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert_eq!(lean_parents(pid), Vec::<String>::new());
    (o, dir)
}

fn failure_reasons(dir: &TempDir) -> Vec<String> {
    results(dir)["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_lean_parent_that_hangs_is_stopped_and_its_case_fails_with_the_reason() {
    let (o, dir) = faulty_run("hang");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let reasons = failure_reasons(&dir);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("the lean parent gave no sign of life for 14 s and was stopped"),
        "{reasons:?}"
    );
}

#[test]
fn a_lean_parent_that_dies_fails_its_case_with_how_it_ended() {
    let (o, dir) = faulty_run("abort");
    assert_eq!(o.status.code(), Some(1));
    let reasons = failure_reasons(&dir);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("the lean parent ended (signal: 6 (SIGABRT)")
            && reasons[0].contains("before it answered"),
        "{reasons:?}"
    );
}

#[test]
fn ctrl_c_during_a_start_up_case_leaves_no_lean_parent() {
    let dir = TempDir::new("lean-interrupt");
    let child = threadfork()
        .args(["run", "--quick", "--no-charts", "--workload", "empty"])
        .args([
            "--model",
            "fork",
            "--parent-rss",
            "0",
            "--case-timeout",
            "60s",
        ])
        .args(["--inject-fault", "hang:lean", "--out"])
        .arg(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the lean parent is up, then interrupt the run as Ctrl-C would.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let pid = child.id();
    while lean_parents(pid).is_empty() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!lean_parents(pid).is_empty(), "no lean parent was started");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(lean_parents(pid), Vec::<String>::new());
}
