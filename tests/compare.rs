//! `threadfork compare` on synthetic runs: verdicts, directions, exit codes, bad files.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::prelude::*;
use common::{TempDir, threadfork};
use threadfork::__private::results::{CaseId, Measurement, Metric, Results};

/// Ten samples around `center` with ±2% deterministic spread.
fn samples(center: f64) -> Vec<f64> {
    (0..10)
        .map(|i| center * (1.0 + 0.005 * f64::from(i % 5) - 0.01))
        .collect()
}

fn case(workload: &str, model: &str, workers: usize) -> CaseId {
    CaseId {
        workload: workload.into(),
        model: model.into(),
        variant: "default".into(),
        workers,
        params: BTreeMap::new(),
    }
}

/// A run with throughput (higher is better) and startup (lower is better) figures, each
/// scaled by `scale(metric)`.
fn run(id: &str, machine: &str, scale: impl Fn(Metric) -> f64) -> Results {
    let mut measurements = Vec::new();
    for model in ["sequential", "threads", "fork", "spawn"] {
        for workers in [1, 2] {
            let c = case("square", model, workers);
            let t = 1e9 * workers as f64 * scale(Metric::Throughput);
            measurements.push(Measurement::new(&c, Metric::Throughput, samples(t), true));
        }
        let mut c = case("empty", model, 1);
        c.params.insert("parent_rss".into(), 0);
        let s = 100_000.0 * scale(Metric::Startup);
        measurements.push(Measurement::new(&c, Metric::Startup, samples(s), true));
    }
    common::synthetic_results(id, machine, None, measurements)
}

fn save(dir: &TempDir, r: &Results) -> PathBuf {
    let p = dir.0.join(format!("{}.json", r.run.id));
    r.save(&p).unwrap();
    p
}

/// A run of machine m1 with throughput 20% lower and startup 20% higher: both worse.
fn twenty_percent_worse(id: &str) -> Results {
    run(
        id,
        "m1",
        |m| if m == Metric::Throughput { 0.8 } else { 1.2 },
    )
}

/// Runs compare with `--json`, returning (exit code, parsed report).
fn compare(base: &PathBuf, cur: &PathBuf, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = threadfork()
        .arg("compare")
        .arg(base)
        .arg(cur)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), v)
}

fn verdicts(report: &serde_json::Value) -> Vec<(String, String)> {
    report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metric"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn identical_runs_show_no_regression() {
    let dir = TempDir::new("cmp-same");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    let b = save(&dir, &run("b", "m1", |_| 1.0));
    let (code, report) = compare(&a, &b, &[]);
    assert_eq!(code, 0);
    assert!(verdicts(&report).iter().all(|(_, v)| v == "unchanged"));
}

#[test]
fn twenty_percent_worse_is_flagged_on_every_affected_key() {
    let dir = TempDir::new("cmp-worse");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    // Throughput 20% lower and startup 20% higher: both worse.
    let b = save(&dir, &twenty_percent_worse("b"));
    let (code, report) = compare(&a, &b, &[]);
    assert_eq!(code, 1);
    let v = verdicts(&report);
    assert_eq!(v.len(), 12);
    assert!(v.iter().all(|(_, v)| v == "regressed"), "{v:?}");
    // The text table puts the regressions first and says so.
    let out = threadfork()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("12 regressed"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_small_change_under_the_threshold_is_unchanged() {
    let dir = TempDir::new("cmp-small");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    let b = save(
        &dir,
        &run(
            "b",
            "m1",
            |m| if m == Metric::Throughput { 0.98 } else { 1.02 },
        ),
    );
    let (code, report) = compare(&a, &b, &["--threshold", "5%"]);
    assert_eq!(code, 0);
    assert!(verdicts(&report).iter().all(|(_, v)| v == "unchanged"));
}

#[test]
fn directions_follow_better() {
    let dir = TempDir::new("cmp-dir");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    // Both figures 20% lower: worse throughput, better startup.
    let b = save(&dir, &run("b", "m1", |_| 0.8));
    let (code, report) = compare(&a, &b, &[]);
    assert_eq!(code, 1);
    for (metric, verdict) in verdicts(&report) {
        match metric.as_str() {
            "throughput" => assert_eq!(verdict, "regressed"),
            "startup" => assert_eq!(verdict, "improved"),
            other => panic!("unexpected metric {other}"),
        }
    }
}

#[test]
fn runs_from_two_machines_are_compared_on_ratios() {
    let dir = TempDir::new("cmp-machines");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    // Twice as fast everywhere: absolute figures differ, ratios do not.
    let b = save(
        &dir,
        &run(
            "b",
            "m2",
            |m| if m == Metric::Throughput { 2.0 } else { 0.5 },
        ),
    );
    let (code, report) = compare(&a, &b, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["mode"], "ratios");
    let metrics: Vec<String> = verdicts(&report).into_iter().map(|(m, _)| m).collect();
    assert!(metrics.contains(&"speedup".to_string()), "{metrics:?}");
    assert!(metrics.contains(&"efficiency".to_string()));
    // The start-up ratio is a figure of its own, on the model it divides (fork ÷ threads).
    assert!(metrics.contains(&"thread_startup_ratio".to_string()));
    let out = threadfork()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("absolute figures were not judged"));
    // --absolute judges them anyway: twice as fast is an improvement on every key.
    let (code, report) = compare(&a, &b, &["--absolute"]);
    assert_eq!(code, 0);
    assert_eq!(report["mode"], "absolute");
    assert!(verdicts(&report).iter().all(|(_, v)| v == "improved"));
}

#[test]
fn markdown_output_is_a_table() {
    let dir = TempDir::new("cmp-md");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    let out = threadfork()
        .args(["compare", "--markdown"])
        .arg(&a)
        .arg(&a)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("## threadfork compare"));
    assert!(text.contains("| verdict | case | metric |"));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn folders_resolve_to_their_newest_run() {
    let dir = TempDir::new("cmp-folder");
    let sub = TempDir::new("cmp-folder-b");
    save(&dir, &run("20260101T000000Z-0001", "m1", |_| 0.5));
    save(&dir, &run("20260102T000000Z-0001", "m1", |_| 1.0));
    let b = save(&sub, &run("b", "m1", |_| 1.0));
    let (code, report) = compare(&dir.0, &b, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["base"]["run_id"], "20260102T000000Z-0001");
}

/// Expects exit code 2 and one stderr line containing `needle`.
fn unusable(base: &std::path::Path, cur: &std::path::Path, needle: &str) {
    let a = threadfork()
        .arg("compare")
        .arg(base)
        .arg(cur)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

#[test]
fn unusable_inputs_exit_two_with_one_line() {
    let dir = TempDir::new("cmp-bad");
    let good = save(&dir, &run("good", "m1", |_| 1.0));
    let foreign = dir.0.join("foreign.json");
    std::fs::write(&foreign, br#"{"schema": "someone-else/v3", "data": []}"#).unwrap();
    unusable(
        &good,
        &foreign,
        "schema \"someone-else/v3\" is not supported",
    );
    let corrupt = dir.0.join("corrupt.json");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&corrupt, &text[..text.len() / 2]).unwrap();
    unusable(&good, &corrupt, "not valid JSON");
    unusable(&good, &dir.0.join("missing.json"), "cannot read");
    let empty_dir = TempDir::new("cmp-empty");
    unusable(&empty_dir.0, &good, "no results file");
    // Nothing in common: a run with no measurements.
    let mut none = run("none", "m1", |_| 1.0);
    none.measurements.clear();
    let none = save(&dir, &none);
    unusable(&good, &none, "no measurement in common");
    let a = threadfork()
        .args(["compare", "--threshold", "abc"])
        .arg(&good)
        .arg(&good)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--threshold"));
}

#[test]
fn a_failed_case_a_missing_key_or_an_incomplete_run_does_not_pass() {
    let dir = TempDir::new("compare-gate");
    let base = save(&dir, &run("base", "m", |_| 1.0));
    // A current run whose case failed: exit 1, the failure listed first.
    let mut r = run("failed", "m", |_| 1.0);
    r.failures.push(threadfork::__private::results::Failure {
        case: r.measurements[0].case.clone(),
        reason: "worker process 42 was killed by SIGKILL".into(),
    });
    let failed = save(&dir, &r);
    let (code, v) = compare(&base, &failed, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["regressed"], 0);
    assert!(v["failed"][0].as_str().unwrap().contains("SIGKILL"), "{v}");
    assert_eq!(compare(&base, &failed, &["--allow-failed"]).0, 0);
    let text = threadfork()
        .arg("compare")
        .arg(&base)
        .arg(&failed)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("FAILED in the current run"));
    // A current run without a key the baseline has: exit 1.
    let mut r = run("missing", "m", |_| 1.0);
    r.measurements.remove(0);
    let missing = save(&dir, &r);
    assert_eq!(compare(&base, &missing, &[]).0, 1);
    assert_eq!(compare(&base, &missing, &["--allow-missing"]).0, 0);
    // An interrupted run: exit 2, one line.
    let mut r = run("incomplete", "m", |_| 1.0);
    r.run.incomplete = true;
    let incomplete = save(&dir, &r);
    let o = threadfork()
        .arg("compare")
        .arg(&base)
        .arg(&incomplete)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("incomplete"));
    assert_eq!(compare(&base, &incomplete, &["--allow-incomplete"]).0, 0);
}

/// Runs `compare BASE… CURRENT --json` with several baseline files.
fn compare_many(bases: &[PathBuf], cur: &PathBuf) -> (i32, serde_json::Value) {
    let out = threadfork()
        .arg("compare")
        .args(bases)
        .arg(cur)
        .arg("--json")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), v)
}

/// Four baseline runs that differ by about 2.5% from one another, as runs of one build do.
fn baselines(dir: &TempDir) -> Vec<PathBuf> {
    [1.00, 1.03, 0.97, 1.01]
        .iter()
        .enumerate()
        .map(|(i, s)| save(dir, &run(&format!("base{i}"), "m", |_| *s)))
        .collect()
}

#[test]
fn several_baseline_runs_judge_each_key_against_its_spread_between_them() {
    let dir = TempDir::new("cmp-many");
    let bases = baselines(&dir);
    // Within the baseline's own spread: nothing to report.
    let same = save(&dir, &run("same", "m", |_| 1.02));
    let (code, v) = compare_many(&bases, &same);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["baselines"].as_array().unwrap().len(), 4);
    assert!(v["between_run_sigma"].as_f64().unwrap() > 0.01);
    // Square 30% slower everywhere: its keys and its groups regress.
    let slower = save(
        &dir,
        &run("slower", "m", |m| {
            if m == Metric::Throughput { 0.7 } else { 1.0 }
        }),
    );
    let (code, v) = compare_many(&bases, &slower);
    assert_eq!(code, 1);
    let groups: Vec<&serde_json::Value> = v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["workers"] == 0)
        .collect();
    assert!(groups.iter().any(|g| g["verdict"] == "regressed"), "{v}");
    assert!(
        groups
            .iter()
            .filter(|g| g["workload"] == "empty")
            .all(|g| g["verdict"] == "unchanged")
    );
    // Folders work as baselines too: every run in them.
    let folder = dir.0.join("base-folder");
    std::fs::create_dir(&folder).unwrap();
    for b in &bases {
        std::fs::copy(b, folder.join(b.file_name().unwrap())).unwrap();
    }
    let (code, v) = compare(&folder, &slower, &[]);
    assert_eq!((code, v["baselines"].as_array().unwrap().len()), (1, 4));
}

#[test]
fn a_key_worse_alone_while_its_group_holds_is_unconfirmed_and_does_not_fail() {
    let dir = TempDir::new("cmp-alone");
    let bases = baselines(&dir);
    // One key of the threads group (2 keys) 15% slower, the other unchanged: beyond the key's
    // own spread, but the group's mean moves by half that, within its spread.
    let mut r = run("alone", "m", |_| 1.0);
    for m in r.measurements.iter_mut() {
        if m.case.model == "threads" && m.case.workers == 1 && m.metric.name() == "throughput" {
            *m = Measurement::new(&m.case, Metric::Throughput, samples(0.85e9), true);
        }
    }
    let alone = save(&dir, &r);
    let (code, v) = compare_many(&bases, &alone);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["unconfirmed"], 1, "{v}");
    assert_eq!(v["regressed"], 0);
}

#[test]
fn a_run_made_with_an_injected_slowdown_is_never_a_baseline() {
    let dir = TempDir::new("cmp-injected");
    let mut r = run("injected", "m", |_| 1.0);
    r.run.injected = Some("code=20".into());
    let injected = save(&dir, &r);
    let good = save(&dir, &run("good", "m", |_| 1.0));
    let out = threadfork()
        .arg("compare")
        .arg(&injected)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--inject-slowdown code=20"));
    // As the run judged it is fine: that is what it is for.
    assert_eq!(compare(&good, &injected, &[]).0, 0);
}

#[test]
fn instruction_counts_are_judged_exactly_at_their_own_threshold() {
    let dir = TempDir::new("cmp-instructions");
    let counted = |id: &str, n: f64| {
        let c = case("square", "sequential", 1);
        let m = Measurement::new(&c, Metric::Instructions, vec![n, n], true);
        save(&dir, &common::synthetic_results(id, "m", None, vec![m]))
    };
    let base = counted("ia", 1_000_000.0);
    let plus2 = counted("ib", 1_020_000.0);
    let plus_half = counted("ic", 1_005_000.0);
    let (code, v) = compare(&base, &plus2, &[]);
    assert_eq!((code, v["regressed"].as_u64()), (1, Some(1)), "{v}");
    assert_eq!(compare(&base, &plus_half, &[]).0, 0);
    assert_eq!(
        compare(&base, &plus2, &["--instructions-threshold", "3%"]).0,
        0
    );
    assert_eq!(compare(&base, &base, &[]).0, 0);
}

#[test]
fn a_group_reads_a_shared_change_off_its_steady_keys() {
    // Threads at 1 worker jump ±25% from run to run; every other key holds within 1%.
    let dir = TempDir::new("cmp-weighted");
    let steady = [1.00, 1.01, 0.99, 1.00, 1.005];
    let jumpy = [1.00, 1.35, 0.75, 1.20, 0.85];
    let with = |id: &str, f: &dyn Fn(&CaseId) -> f64| {
        let mut r = run(id, "m", |_| 1.0);
        for m in r
            .measurements
            .iter_mut()
            .filter(|m| m.metric.name() == "throughput")
        {
            let t = 1e9 * m.case.workers as f64 * f(&m.case);
            *m = Measurement::new(&m.case, Metric::Throughput, samples(t), true);
        }
        save(&dir, &r)
    };
    let bases: Vec<PathBuf> = (0..5)
        .map(|i| {
            with(&format!("w{i}"), &|c: &CaseId| {
                if c.model == "threads" && c.workers == 1 {
                    jumpy[i]
                } else {
                    steady[i]
                }
            })
        })
        .collect();
    // Square 12% slower on every steady key; the jumpy key happens to land where it was.
    let cur = with("w-cur", &|c: &CaseId| {
        if c.model == "threads" && c.workers == 1 {
            1.0
        } else {
            0.88
        }
    });
    let (code, v) = compare_many(&bases, &cur);
    assert_eq!(code, 1, "{v}");
    let threads = v["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["workers"] == 0 && c["model"] == "threads" && c["workload"] == "square")
        .expect("a threads group row");
    // Unweighted, the group would move 6% against the jumpy key's spread: unchanged.
    assert_eq!(threads["verdict"], "regressed", "{threads}");
    let ratio = threads["ratio"].as_f64().unwrap();
    assert!(ratio < 0.92, "read off the steady key: {ratio}");
}

#[test]
fn a_start_cost_is_judged_against_the_square_root_of_the_cores_speed() {
    let dir = TempDir::new("cmp-start-speed");
    // Startup 100 µs beside a probe of 1e9 steps/s; `speed` scales the probe, `cost` the time.
    let with = |id: &str, cost: f64, speed: f64| {
        let mut r = run(id, "m", |_| 1.0);
        for m in r
            .measurements
            .iter_mut()
            .filter(|m| m.metric.name() == "startup")
        {
            let probe = vec![1e9 * speed; m.samples.len()];
            let s = samples(100_000.0 * cost);
            *m = Measurement::new(&m.case, Metric::Startup, s, true).with_probe(&probe);
        }
        save(&dir, &r)
    };
    let base = with("s-base", 1.0, 1.0);
    let startup_verdicts = |v: &serde_json::Value| -> Vec<String> {
        verdicts(v)
            .into_iter()
            .filter(|(m, _)| m.starts_with("startup"))
            .map(|(m, verdict)| {
                assert_eq!(m, "startup × √core speed");
                verdict
            })
            .collect()
    };
    // A core a quarter as fast, start costs twice as long: a slower machine, not a regression.
    let (code, v) = compare(&base, &with("s-slow-core", 2.0, 0.25), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(startup_verdicts(&v).iter().all(|x| x == "unchanged"), "{v}");
    // The same core, start costs twice as long: the system regressed.
    let (code, v) = compare(&base, &with("s-slow-start", 2.0, 1.0), &[]);
    assert_eq!(code, 1, "{v}");
    let verdicts = startup_verdicts(&v);
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts.iter().all(|x| x == "regressed"), "{v}");
}

#[test]
fn against_ten_baseline_runs_a_group_that_moved_alone_fails() {
    let dir = TempDir::new("cmp-well-known");
    // Every key of a run scaled alike: each group's spread between the runs is about 2.3%.
    let spread = [1.00, 1.03, 0.97, 1.01, 0.99];
    let bases: Vec<PathBuf> = (0..10)
        .map(|i| save(&dir, &run(&format!("k{i}"), "m", |_| spread[i % 5])))
        .collect();
    // Square on threads alone 12% slower: about 5σ, under the 6σ a group alone needs against
    // fewer than 10 runs.
    let mut r = run("alone12", "m", |_| 1.0);
    for m in r.measurements.iter_mut() {
        if m.case.model == "threads" && m.metric.name() == "throughput" {
            let t = 0.88e9 * m.case.workers as f64;
            *m = Measurement::new(&m.case, Metric::Throughput, samples(t), true);
        }
    }
    let cur = save(&dir, &r);
    let threads_group = |v: &serde_json::Value| {
        v["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["workers"] == 0 && c["model"] == "threads" && c["workload"] == "square")
            .expect("a threads group row")["verdict"]
            .clone()
    };
    let (code, v) = compare_many(&bases[..5], &cur);
    assert_eq!((code, threads_group(&v)), (0, "unconfirmed".into()), "{v}");
    let (code, v) = compare_many(&bases, &cur);
    assert_eq!((code, threads_group(&v)), (1, "regressed".into()), "{v}");
}

#[test]
fn every_format_carries_the_same_verdicts_and_an_unknown_one_is_bad_input() {
    let dir = TempDir::new("cmp-formats");
    let a = save(&dir, &run("a", "m1", |_| 1.0));
    let b = save(&dir, &twenty_percent_worse("b"));
    let with = |format: &str| {
        let out = threadfork()
            .args(["compare", "--format", format])
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // JUnit: one test case per key, each regression a failure.
    let (code, xml, _) = with("junit");
    assert_eq!(code, 1);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("tests=\"12\" failures=\"12\" errors=\"0\" skipped=\"0\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 12);
    assert_eq!(xml.matches("<failure message=\"regressed: ").count(), 12);
    // CSV: a head and a line per key, each ending in its verdict.
    let (code, csv, _) = with("csv");
    assert_eq!(code, 1);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13, "{csv}");
    assert!(lines[0].starts_with("workload,model,variant,workers,params,metric"));
    assert!(
        lines[1..].iter().all(|l| l.ends_with(",regressed")),
        "{csv}"
    );
    // --markdown is --format markdown.
    assert_eq!(with("markdown").1, {
        let out = threadfork()
            .args(["compare", "--markdown"])
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    });
    let (code, out, err) = with("yaml");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("'yaml' is none of text, markdown, json, junit, csv"),
        "{err}"
    );

    // One run's figures through `report --format`: a CSV line per figure, a test case per case.
    let report = |format: &str| {
        let out = threadfork()
            .args(["report", "--format", format, "--out"])
            .arg(dir.0.join(format!("charts-{format}")))
            .arg(&a)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(report("csv").lines().count(), 12 + 1);
    let xml = report("junit");
    assert!(xml.contains("tests=\"12\" failures=\"0\""), "{xml}");
}

#[test]
fn a_process_pools_peak_rss_fixed_for_each_run_is_listed_not_judged() {
    let dir = TempDir::new("cmp-per-run");
    // The same step, one value repeated by every sample of each run, on a process pool and
    // on fork: the pool's is where its long-lived workers' memory fell; fork's is a fresh
    // child's per sample, and a change of it is judged.
    let with_rss = |id: &str, kib: f64| {
        let mut r = run(id, "m1", |_| 1.0);
        for model in ["process-pool-map", "fork"] {
            let c = case("square", model, 1);
            let m = Measurement::new(&c, Metric::PeakRss, vec![kib * 1024.0; 10], true);
            r.measurements.push(m);
        }
        r
    };
    let a = save(&dir, &with_rss("a", 440.0));
    let b = save(&dir, &with_rss("b", 2_480.0));
    let (code, report) = compare(&a, &b, &[]);
    assert_eq!(code, 1, "{report}");
    let verdict_of = |model: &str| {
        report["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["model"] == model && c["metric"] == "peak_rss")
            .map(|c| c["verdict"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(verdict_of("process-pool-map"), "info");
    assert_eq!(verdict_of("fork"), "regressed");
    assert_eq!(report["fixed_for_the_run"], 1);
    assert_eq!(report["regressed"], 1);
    let text = threadfork()
        .args(["compare", a.to_str().unwrap(), b.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("1 peak RSS figure(s) of process pools listed, not judged"),
        "{text}"
    );
}
