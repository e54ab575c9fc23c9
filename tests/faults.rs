//! Worker faults and signals, end to end through the real binary: every fault is reported
//! with its reason, the other cases are still measured, the results file is valid and holds
//! the failure, and no worker process outlives the harness.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, json_files, threadfork};
use threadfork::__private::results;

/// Processes still alive that belong to the harness run writing to `out` (forked workers
/// share the harness's command line) or that were spawned by harness `pid`.
fn leftovers(out: &TempDir, pid: u32) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-eo", "pid=,stat=,args="])
        .output()
        .unwrap();
    let marker = out.0.to_string_lossy().into_owned();
    let spawned = " __threadfork-worker ";
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| {
            (l.contains(&marker) && !l.contains(" ps "))
                || (l.contains(spawned) && l.trim_end().ends_with(&format!(" {pid}")))
        })
        .map(String::from)
        .collect()
}

/// Runs a small plan of `model` with `fault` injected; returns (exit code, stderr, results).
fn run_with_fault(
    model: &str,
    fault: &str,
    extra: &[&str],
) -> (i32, String, results::Results, TempDir) {
    let out = TempDir::new("faults");
    let child = threadfork()
        .args(["run", "--quick", "--workload", "square,counter", "--model"])
        .arg(format!("sequential,{model}"))
        .args([
            "--workers",
            "1,2",
            "--samples",
            "2",
            "--tasks",
            "2000",
            "--increments",
            "1000",
        ])
        .args(["--parent-rss", "0", "--no-charts", "--inject-fault", fault])
        .args(extra)
        .arg("--out")
        .arg(&out.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert!(
        leftovers(&out, pid).is_empty(),
        "{:?}",
        leftovers(&out, pid)
    );
    let files = json_files(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let r = results::load(&files[0]).expect("a valid results file");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr, r, out)
}

/// The fault's model failed with `reason` in every case; the sequential cases were measured.
fn check_fault(model: &str, fault: &str, reason: &str, extra: &[&str]) {
    let (code, stderr, r, _out) = run_with_fault(model, fault, extra);
    assert_eq!(code, 1, "{stderr}");
    // The last line keeps the reason: every case's when they share it, else the first's.
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("case(s) failed: "), "{stderr}");
    assert!(last.contains(reason), "{last}");
    assert!(!r.failures.is_empty());
    for f in &r.failures {
        assert_eq!(f.case.model, model);
        assert!(f.reason.contains(reason), "{:?} lacks {reason:?}", f.reason);
    }
    let measured = r
        .measurements
        .iter()
        .filter(|m| m.case.model == "sequential" && m.metric.name() == "throughput")
        .count();
    assert_eq!(
        measured, 4,
        "square and counter, 1 and 2 workers, still measured"
    );
    assert!(!r.run.incomplete);
}

#[test]
fn a_panicking_thread_is_a_failed_case() {
    check_fault(
        "threads",
        "panic:threads",
        "worker thread 0 panicked: injected fault",
        &[],
    );
}

#[test]
fn a_panicking_forked_worker_is_a_failed_case() {
    check_fault(
        "fork",
        "panic:fork",
        "panicked: injected fault: worker 0 panicked",
        &[],
    );
}

#[test]
fn an_aborting_spawned_worker_is_a_failed_case() {
    check_fault("spawn", "abort:spawn", "was killed by SIGABRT", &[]);
}

#[test]
fn a_killed_worker_is_a_failed_case() {
    check_fault("fork", "kill:fork", "was killed by SIGKILL", &[]);
}

#[test]
fn a_worker_that_exits_early_is_a_failed_case() {
    check_fault("spawn", "exit:spawn", "exited with code 3", &[]);
}

#[test]
fn a_hung_worker_times_out_and_is_killed() {
    let started = Instant::now();
    check_fault(
        "fork",
        "hang:fork",
        "timed out after 0.3 s",
        &["--case-timeout", "300ms"],
    );
    check_fault(
        "spawn",
        "hang:spawn",
        "timed out after 0.3 s",
        &["--case-timeout", "300ms"],
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_fault_a_thread_cannot_contain_is_refused() {
    let out = threadfork()
        .args(["run", "--inject-fault", "abort:threads"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be contained"));
}

/// Starts a long run, lets it measure for a while, sends `signal`, and checks the exit code,
/// the incomplete results file and that no worker survives.
fn interrupt(signal: &str, code: i32) {
    let out = TempDir::new("signal");
    // Short rounds (a few ms each) and many of them: whatever the machine's speed, the
    // signal lands after some rounds were measured and long before the run would end.
    let child = threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "square",
            "--model",
            "threads,fork,spawn",
        ])
        .args(["--samples", "2000", "--tasks", "20000", "--parent-rss", "0"])
        .arg("--out")
        .arg(&out.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(2500));
    let sent = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stops promptly"
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("marked incomplete"), "{stderr}");
    assert!(
        leftovers(&out, pid).is_empty(),
        "{:?}",
        leftovers(&out, pid)
    );
    let files = json_files(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let r = results::load(&files[0]).expect("a complete, valid JSON file");
    assert!(r.run.incomplete);
    assert!(
        !r.measurements.is_empty(),
        "the cases measured before the signal are kept"
    );
    assert!(
        r.measurements
            .iter()
            .all(|m| m.verified && !m.samples.is_empty())
    );
    // No temporary file is left behind.
    assert!(
        out.files()
            .iter()
            .all(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
    );
}

#[test]
fn sigint_stops_the_run_and_keeps_what_was_measured() {
    interrupt("-INT", 130);
}

#[test]
fn sigterm_stops_the_run_and_keeps_what_was_measured() {
    interrupt("-TERM", 143);
}

#[test]
fn a_crashed_or_hung_process_pool_worker_is_a_failed_case() {
    check_fault(
        "process-pool-map",
        "abort:process-pool-map",
        "was killed by SIGABRT",
        &[],
    );
    check_fault(
        "process-pool-map",
        "hang:process-pool-map",
        "timed out after 0.3 s",
        &["--case-timeout", "300ms"],
    );
}

#[test]
fn a_panicking_pool_thread_is_a_failed_case() {
    check_fault(
        "thread-pool-map",
        "panic:thread-pool-map",
        "pool thread 0 panicked: injected fault",
        &[],
    );
}
