//! The real binary, run as a user would: `run` on a tiny plan, `machine`, and bad input.

mod common;

use assert_cmd::prelude::*;
use common::{TempDir, json_files, threadfork};
use threadfork::__private::results::{self, SCHEMA};

/// A plan small enough for a test: squares on two models, two samples, tiny tasks.
fn tiny_run(out: &TempDir) -> std::process::Command {
    tiny_run_of(out, "sequential,threads")
}

/// [`tiny_run`] on the given models.
fn tiny_run_of(out: &TempDir, models: &str) -> std::process::Command {
    let mut cmd = threadfork();
    cmd.args([
        "run",
        "--quick",
        "--workload",
        "square,empty",
        "--model",
        models,
        "--workers",
        "1,2",
        "--samples",
        "2",
        "--tasks",
        "2000",
        "--parent-rss",
        "0",
        "--out",
    ])
    .arg(&out.0);
    cmd
}

#[test]
fn quick_run_writes_a_v2_results_file_that_loads_back() {
    let out = TempDir::new("cli-run");
    let assert = tiny_run(&out).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("## square: squares"), "{stdout}");
    assert!(stdout.contains("efficiency"), "{stdout}");
    assert!(stdout.contains("Harness overhead"), "{stdout}");

    let files = json_files(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let r = results::load(&files[0]).unwrap();
    assert_eq!(r.schema, SCHEMA);
    // results/<machine-id>/<run-id>.json
    assert_eq!(
        files[0].parent().unwrap().file_name().unwrap(),
        r.machine.id.as_str()
    );
    assert_eq!(files[0].file_stem().unwrap(), r.run.id.as_str());
    assert!(r.run.quick);
    assert!(r.failures.is_empty());
    assert!(r.calibration.bare_loop.contains_key("square"));
    assert!(r.calibration.probe.is_some());
    assert!(r.calibration.timer_overhead.is_some());

    let throughput: Vec<_> = r
        .measurements
        .iter()
        .filter(|m| m.metric.name() == "throughput" && m.case.workload == "square")
        .collect();
    assert_eq!(throughput.len(), 4, "2 models × 2 worker counts");
    for m in &throughput {
        assert!(m.verified);
        assert_eq!(m.samples.len(), 2);
        assert_eq!(m.unit, "ops/s");
        assert_eq!(m.better, results::Better::Higher);
        assert_eq!(m.param("work"), Some(100));
        assert_eq!(m.param("tasks"), Some(2000));
        assert!(m.min <= m.median && m.median <= m.max);
        assert!(m.ci95[0] <= m.median && m.median <= m.ci95[1]);
    }
    let startup = r
        .measurements
        .iter()
        .filter(|m| m.metric.name() == "startup")
        .count();
    assert_eq!(
        startup, 1,
        "one startup figure per model that starts workers (threads)"
    );
    // Beside the results file only its chart folder; no temporary file anywhere.
    let chart_dir = files[0].with_extension("");
    for f in out.files() {
        assert!(
            f == files[0] || f.starts_with(&chart_dir),
            "unexpected {}",
            f.display()
        );
        assert!(
            !f.file_name().unwrap().to_string_lossy().starts_with('.'),
            "temp file {}",
            f.display()
        );
    }
    assert!(chart_dir.join("index.html").exists());
}

#[test]
fn machine_prints_the_fingerprint() {
    let a = threadfork().arg("machine").assert().success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    for field in [
        "id ", "cpu ", "cores ", "memory ", "kernel ", "rustc ", "harness ",
    ] {
        assert!(text.contains(field), "missing {field}: {text}");
    }
    let a = threadfork().args(["machine", "--json"]).assert().success();
    let m: threadfork::__private::machine::Machine =
        serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(m.logical_cores >= 1);
    assert_eq!(m.id, threadfork::__private::machine::fingerprint().id);
}

/// Runs `args` after `run`, expecting exit code 2, one stderr line containing `needle`, and
/// no file written.
fn rejects(args: &[&str], needle: &str) {
    let out = TempDir::new("cli-bad");
    let mut cmd = threadfork();
    cmd.arg("run").args(args);
    if !args.contains(&"--out") {
        cmd.arg("--out").arg(&out.0);
    }
    let a = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(a.get_output().stdout.is_empty());
    assert!(out.files().is_empty(), "wrote {:?}", out.files());
}

#[test]
fn zero_workers_is_rejected() {
    rejects(
        &["--workers", "0"],
        "--workers: worker counts must be between 1",
    );
}

#[test]
fn non_numeric_workers_are_rejected() {
    rejects(&["--workers", "x"], "--workers: 'x' is not a worker count");
}

#[test]
fn unknown_workload_is_rejected() {
    rejects(
        &["--workload", "cubes"],
        "--workload: 'cubes' is not a workload",
    );
}

#[test]
fn unknown_model_is_rejected() {
    rejects(
        &["--model", "greenthreads"],
        "--model: 'greenthreads' is not a model",
    );
}

#[test]
fn zero_samples_are_rejected() {
    rejects(&["--samples", "0"], "--samples: must be at least 1");
}

#[test]
fn unwritable_output_folder_is_rejected() {
    let dir = TempDir::new("cli-file");
    let file = dir.0.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = file.join("results");
    rejects(&["--out", out.to_str().unwrap()], "--out: cannot write to");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn unknown_flag_is_one_line_and_exit_two() {
    rejects(&["--fastest"], "unexpected argument '--fastest'");
}

#[test]
fn a_start_slowdown_runs_every_forked_worker_and_marks_the_run() {
    // The injected spin runs in the forked children too (allocation-free, before they serve):
    // every fork case, the process pool's included, must still start, verify and be reaped.
    let out = TempDir::new("cli-inject-start");
    tiny_run_of(&out, "fork,process-pool-map")
        .args(["--no-charts", "--inject-slowdown", "start=35"])
        .assert()
        .success();
    let files = json_files(&out);
    let r = results::load(&files[0]).unwrap();
    assert_eq!(r.run.injected.as_deref(), Some("start=35"));
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let models: std::collections::BTreeSet<&str> = r
        .measurements
        .iter()
        .map(|m| m.case.model.as_str())
        .collect();
    assert!(
        models.contains("fork") && models.contains("process-pool-map"),
        "{models:?}"
    );
    assert!(r.measurements.iter().all(|m| m.verified));
}

#[test]
fn a_pools_start_records_the_state_of_the_process_it_was_opened_from() {
    let out = TempDir::new("cli-pool-parent");
    tiny_run_of(&out, "process-pool-map,thread-pool-map")
        .arg("--no-charts")
        .assert()
        .success();
    let r = results::load(&json_files(&out)[0]).unwrap();
    let starts: Vec<_> = r
        .measurements
        .iter()
        .filter(|m| m.metric.name() == "pool_start")
        .collect();
    assert!(!starts.is_empty());
    for m in starts {
        let p = m
            .parent
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no parent", m.case));
        let n = m.samples.len();
        assert_eq!(
            (p.rss_bytes.len(), p.mapped_bytes.len(), p.threads.len()),
            (n, n, n),
            "{}",
            m.case
        );
        assert!(p.rss_bytes.iter().all(|&b| b > 0));
        assert!(p.mapped_bytes.iter().zip(&p.rss_bytes).all(|(m, r)| m >= r));
        assert!(p.threads.iter().all(|&t| t >= 1));
        assert_eq!(p.ballast_bytes, 0);
        assert_eq!(p.base_rss_bytes, p.rss_bytes[0]);
    }
}

#[test]
fn pool_tasks_are_sized_to_the_workload_unless_chunk_or_the_granularity_sweep_says_otherwise() {
    let units = |extra: &[&str]| {
        let out = TempDir::new("cli-pool-task");
        threadfork()
            .args(["run", "--quick", "--no-charts", "--workload", "square"])
            .args([
                "--model",
                "thread-pool-map",
                "--workers",
                "1",
                "--samples",
                "1",
            ])
            .args(extra)
            .arg("--out")
            .arg(&out.0)
            .assert()
            .success();
        let r = results::load(&json_files(&out)[0]).unwrap();
        r.workload("square").unwrap().pool_task_units
    };
    // A unit of square is a task of 100 squares, well under 10 µs on any machine.
    let auto = units(&[]).unwrap();
    assert!(auto > 1, "{auto}");
    assert_eq!(units(&["--chunk", "3"]), Some(3));
    assert_eq!(units(&["--work", "1,10"]), Some(1));
}

#[test]
fn a_list_in_param_sweeps_that_parameter_one_case_per_value() {
    let out = TempDir::new("param-sweep");
    threadfork()
        .args(["run", "--quick", "--no-charts", "--workload", "counter"])
        .args(["--model", "threads", "--workers", "1", "--samples", "2"])
        .args(["--param", "increments=1000,3000", "--out"])
        .arg(&out.0)
        .assert()
        .success();
    let r = results::load(&json_files(&out).pop().unwrap()).unwrap();
    let mut seen: Vec<u64> = r
        .measurements
        .iter()
        .filter(|m| m.metric.name() == "throughput" && m.case.variant == "atomic")
        .map(|m| m.case.params["increments"])
        .collect();
    seen.sort();
    assert_eq!(seen, [1000, 3000]);
}
