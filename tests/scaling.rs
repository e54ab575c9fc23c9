//! `threadfork scaling`: the Universal Scalability Law fitted to a results file from a bigger
//! machine recovers its σ and κ; a run of this machine has too few core counts to fit.

mod common;

use std::collections::BTreeMap;

use assert_cmd::prelude::*;
use common::{TempDir, threadfork};
use threadfork::__private::results::usl::usl;
use threadfork::__private::results::{CaseId, Measurement, Metric};
use threadfork::__private::stats::SplitMix64;

const SIGMA: f64 = 0.04;
const KAPPA: f64 = 0.0003;

/// A results file of a 64-core machine: threads at 1, 2, 4, …, 64 workers, 10 samples each
/// off by up to ±2%.
fn synthetic(dir: &TempDir) -> std::path::PathBuf {
    let mut rng = SplitMix64::new(64);
    let measurements = [1, 2, 4, 8, 16, 32, 64]
        .iter()
        .map(|&n| {
            let case = CaseId {
                workload: "square".into(),
                model: "threads".into(),
                variant: "default".into(),
                workers: n,
                params: BTreeMap::new(),
            };
            let x = usl(2e9, SIGMA, KAPPA, n as f64);
            let samples = (0..10)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    x * (1.0 + 0.02 * (2.0 * u - 1.0))
                })
                .collect();
            Measurement::new(&case, Metric::Throughput, samples, true)
        })
        .collect();
    let r = common::synthetic_results("synthetic-64", "big-64", Some(64), measurements);
    let p = dir.0.join("big.json");
    r.save(&p).unwrap();
    p
}

#[test]
fn scaling_recovers_sigma_and_kappa_of_a_64_core_machine() {
    let dir = TempDir::new("scaling");
    let file = synthetic(&dir);
    let a = threadfork()
        .args(["scaling", "--json"])
        .arg(&file)
        .assert()
        .success();
    let fits: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let f = &fits[0];
    for key in [
        "workload",
        "model",
        "variant",
        "sigma",
        "kappa",
        "lambda",
        "r2",
        "peak_workers",
    ] {
        assert!(f.get(key).is_some(), "{key} missing: {f}");
    }
    let (s, k) = (f["sigma"].as_f64().unwrap(), f["kappa"].as_f64().unwrap());
    assert!((s / SIGMA - 1.0).abs() < 0.10, "σ {s}");
    assert!((k / KAPPA - 1.0).abs() < 0.10, "κ {k}");
    let peak = f["peak_workers"].as_f64().unwrap();
    assert!(
        (peak / ((1.0 - SIGMA) / KAPPA).sqrt() - 1.0).abs() < 0.10,
        "N* {peak}"
    );
    // The text form says the same, and the summary and charts show the fit.
    let a = threadfork().arg("scaling").arg(&file).assert().success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        text.contains("square/threads/default: σ 0.03") || text.contains("σ 0.04"),
        "{text}"
    );
    assert!(
        text.contains("peak at") && text.contains("predicted 128:"),
        "{text}"
    );
    let out = TempDir::new("scaling-report");
    let a = threadfork()
        .arg("report")
        .arg(&file)
        .arg("--out")
        .arg(&out.0)
        .assert()
        .success();
    let summary = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(summary.contains("Universal Scalability Law"), "{summary}");
    let svg = std::fs::read_to_string(out.0.join("square-throughput.svg")).unwrap();
    assert!(
        svg.contains("USL") && svg.contains("prediction"),
        "the dashed prediction is drawn"
    );
}

#[test]
fn a_run_of_this_machine_has_too_few_core_counts() {
    let out = TempDir::new("scaling-real");
    let file = common::tiny_square_run(&out);
    let a = threadfork().arg("scaling").arg(&file).assert().success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let cores = threadfork::__private::machine::allowed_cpus().len();
    if cores < 4 {
        assert!(text.contains("too few core counts to fit"), "{text}");
    }
    let a = threadfork()
        .args(["scaling", "--json"])
        .arg(&file)
        .assert()
        .success();
    let fits: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert!(fits.is_array());
}
