//! `threadfork history`: one machine's runs as series, the change points found at the right
//! run and said in words, the nightly gate's exit code by --window and --threshold, mixed
//! machines refused, and the same answer on every call.

mod common;

use std::path::PathBuf;

use common::{TempDir, synthetic_results, threadfork};
use threadfork::__private::results::{CaseId, Measurement, Metric};

/// A run of `machine` whose square throughput on threads (two worker counts) is `level` ×
/// 1 G squares/s, with a little noise of its own (`k` picks it).
fn run(dir: &TempDir, machine: &str, k: usize, level: f64) -> PathBuf {
    // A fixed pseudo-random wiggle of about ±0.5%, run by run.
    let mut z = (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^= z >> 29;
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^= z >> 32;
    let wiggle = 1.0 + 0.01 * ((z % 1000) as f64 / 1000.0 - 0.5);
    let ms: Vec<Measurement> = [1, 2]
        .iter()
        .map(|&workers| {
            let case = CaseId {
                workload: "square".into(),
                model: "threads".into(),
                variant: "default".into(),
                workers,
                params: Default::default(),
            };
            let x = 1e9 * workers as f64 * level * wiggle;
            Measurement::new(
                &case,
                Metric::Throughput,
                vec![x * 0.999, x, x * 1.001],
                true,
            )
        })
        .collect();
    let mut r = synthetic_results(&format!("20261201T{k:06}Z-{machine}"), machine, Some(2), ms);
    r.run.started_at = format!("2026-12-01T00:{:02}:{:02}Z", k / 60, k % 60);
    r.run.git_commit = format!("c{k:011}");
    let path = dir.0.join(format!("{machine}-{k:03}.json"));
    r.save(&path).unwrap();
    path
}

/// 30 runs of one machine, 8% slower from run `step` (0-based) on.
fn series(dir: &TempDir, machine: &str, step: usize) {
    for k in 0..30 {
        run(dir, machine, k, if k >= step { 0.92 } else { 1.0 });
    }
}

fn history(args: &[&str]) -> (Option<i32>, String, String) {
    let o = threadfork().arg("history").args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_step_is_found_at_its_run_and_said_with_the_runs_around_it() {
    let dir = TempDir::new("history-step");
    series(&dir, "m1", 20);
    let d = dir.0.to_string_lossy().into_owned();
    let (code, out, err) = history(&[&d, "--json", "--no-charts", "--window", "20"]);
    assert_eq!(code, Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "{out}");
    for c in changes {
        assert_eq!(c["first_after"], 20, "{c}");
        assert_eq!(c["last_before"], 19, "{c}");
        assert_eq!(c["worse"], true);
        let pct = c["change_pct"].as_f64().unwrap();
        assert!((pct + 8.0).abs() < 1.0, "{pct}");
    }
    // In words: the size, the run and commit it starts at, steady since.
    let (_, text, _) = history(&[&d, "--no-charts", "--window", "20"]);
    assert!(text.contains("from run 21 (commit c00000000020"), "{text}");
    assert!(text.contains("steady since"), "{text}");
    // The same answer on every call.
    let (_, again, _) = history(&[&d, "--json", "--no-charts", "--window", "20"]);
    assert_eq!(again, out);
}

#[test]
fn the_exit_code_follows_the_window_and_the_threshold() {
    let dir = TempDir::new("history-window");
    series(&dir, "m1", 20);
    let d = dir.0.to_string_lossy().into_owned();
    // The change is 10 runs old: outside a window of the newest 5, inside one of 15.
    assert_eq!(history(&[&d, "--no-charts", "--window", "5"]).0, Some(0));
    assert_eq!(history(&[&d, "--no-charts", "--window", "15"]).0, Some(1));
    // An 8% change does not fail a 10% threshold.
    let wide = ["--no-charts", "--window", "15", "--threshold", "10%"];
    assert_eq!(history(&[&[d.as_str()][..], &wide[..]].concat()).0, Some(0));
    // A flat series: nothing found, exit 0.
    let flat = TempDir::new("history-flat");
    series(&flat, "m1", 99);
    let f = flat.0.to_string_lossy().into_owned();
    let (code, out, _) = history(&[&f, "--no-charts", "--window", "30"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("No change point in any series."), "{out}");
    // A window of one run could never fail (a change is seen once two runs hold its level).
    let (code, out, err) = history(&[&d, "--no-charts", "--window", "1"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("--window: a change is seen once 2 runs"),
        "{err}"
    );
}

#[test]
fn runs_of_several_machines_are_refused_unless_one_is_named() {
    let dir = TempDir::new("history-machines");
    series(&dir, "m1", 20);
    for k in 0..5 {
        run(&dir, "m2", k, 1.0);
    }
    let d = dir.0.to_string_lossy().into_owned();
    let (code, out, err) = history(&[&d, "--no-charts"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("runs of 2 machines (m1, m2)"), "{err}");
    let (code, out, _) = history(&[&d, "--no-charts", "--machine", "m1", "--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 30);
}

#[test]
fn the_page_has_a_chart_per_changed_series() {
    let dir = TempDir::new("history-page");
    series(&dir, "m1", 20);
    let out = TempDir::new("history-page-out");
    let d = dir.0.to_string_lossy().into_owned();
    let o = out.0.to_string_lossy().into_owned();
    let (code, text, err) = history(&[&d, "--out", &o]);
    assert_eq!(code, Some(0), "{err}");
    let page = out.0.join("m1").join("index.html");
    assert!(text.contains(&page.display().to_string()), "{text}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Change points, newest first"));
    let pngs = std::fs::read_dir(out.0.join("m1"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    // Two keys and their group changed.
    assert_eq!(pngs, 3, "{html}");
}
