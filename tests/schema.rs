//! Results files of every schema threadfork wrote stay readable: the committed v1 runs and
//! baseline load, upgraded to v2, and compare and report take them.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::prelude::*;
use common::{TempDir, threadfork};
use threadfork::__private::results::{self, SCHEMA};

/// A results file's text, kept plain or compressed.
fn text(p: &Path) -> String {
    let bytes = results::io::unpacked(std::fs::read(p).unwrap()).unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Every committed results file of schema v1.
fn committed_v1() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if results::io::is_results_name(&p)
                && text(&p).contains("\"threadfork/results/v1\"")
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn committed_v1_runs_and_the_baseline_load_as_v2() {
    let files = committed_v1();
    assert!(files.len() >= 3, "{files:?}");
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().contains("baseline"))
    );
    for f in &files {
        let r = results::load(f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.schema, SCHEMA);
        assert!(!r.measurements.is_empty());
        assert!(
            r.calibration.bare_loop.contains_key("square"),
            "{}",
            f.display()
        );
        assert!(r.measurements.iter().all(|m| m.probe.is_empty()));
        assert!(
            r.measurements
                .iter()
                .filter(|m| m.metric.name() == "lost_updates")
                .all(|m| m.info)
        );
        // What older runs never read stays absent, never a default value.
        assert_eq!(r.machine.settings, None, "{}", f.display());
        assert_eq!(r.run.load, None);
        assert!(
            r.measurements
                .iter()
                .all(|m| m.interference.is_empty() && !m.interfered())
        );
    }
}

#[test]
fn a_v1_baseline_compares_with_and_reports_beside_a_v1_run() {
    let files = committed_v1();
    let base = files
        .iter()
        .find(|p| p.to_string_lossy().contains("baseline"))
        .unwrap();
    let run = files
        .iter()
        .find(|p| !p.to_string_lossy().contains("baseline"))
        .unwrap();
    threadfork()
        .arg("compare")
        .arg(base)
        .arg(run)
        .assert()
        .code(0);
    let out = TempDir::new("schema-report");
    threadfork()
        .arg("report")
        .arg(base)
        .arg(run)
        .arg("--out")
        .arg(&out.0)
        .assert()
        .success();
    assert!(out.0.join("index.html").exists());
}
