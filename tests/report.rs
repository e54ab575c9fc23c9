//! `threadfork report` and the charts `run` draws: every expected file, non-empty, with the
//! series' labels in the SVG; missing workloads mean fewer charts, not a crash.

mod common;

use assert_cmd::prelude::*;
use common::{TempDir, json_files, threadfork};

/// A real run of every workload, as small as it gets.
fn small_run(out: &TempDir) -> std::path::PathBuf {
    threadfork()
        .args([
            "run",
            "--quick",
            "--workers",
            "1,2",
            "--samples",
            "2",
            "--tasks",
            "2000",
        ])
        .args([
            "--increments",
            "2000",
            "--parent-rss",
            "0,16M",
            "--sizes",
            "1000,100000",
        ])
        .arg("--out")
        .arg(&out.0)
        .assert()
        .success();
    json_files(out).pop().expect("a results file")
}

const ALL_CHARTS: [&str; 11] = [
    "square-throughput",
    "square-efficiency",
    "empty-startup",
    "empty-startup-vs-parent-rss",
    "empty-roundtrip-vs-parent-rss",
    "counter-throughput",
    "sequence-heap-bytes-vs-n",
    "sequence-peak-rss-vs-n",
    "sequence-first-item-vs-n",
    "sequence-throughput-vs-n",
    "index",
];

#[test]
fn run_leaves_every_chart_and_the_index_beside_the_json() {
    let out = TempDir::new("report-run");
    let json = small_run(&out);
    let dir = json.with_extension("");
    for stem in ALL_CHARTS {
        let exts: &[&str] = if stem == "index" {
            &["html"]
        } else {
            &["svg", "png"]
        };
        for ext in exts {
            let p = dir.join(format!("{stem}.{ext}"));
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            assert!(len > 500, "{} missing or empty", p.display());
        }
    }
    let svg = std::fs::read_to_string(dir.join("square-throughput.svg")).unwrap();
    for label in ["sequential", "threads", "fork", "spawn", "ideal"] {
        assert!(svg.contains(label), "{label} not in the throughput chart");
    }
    let svg = std::fs::read_to_string(dir.join("counter-throughput.svg")).unwrap();
    for label in [
        "threads/std-mutex",
        "threads/parking-lot",
        "threads/channel",
        "fork/pshared",
        "spawn/no-lock",
    ] {
        assert!(svg.contains(label), "{label} not in the counter chart");
    }
    let svg = std::fs::read_to_string(dir.join("sequence-heap-bytes-vs-n.svg")).unwrap();
    for label in ["lazy/range", "eager/range", "pipeline/squares"] {
        assert!(svg.contains(label), "{label} not in the heap chart");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<img src=\"square-throughput.svg\""));
    assert!(html.contains("machine id"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "index.html must work offline"
    );
    assert!(!html.contains("NaN"));
    // No temporary file is left behind.
    assert!(
        out.files()
            .iter()
            .all(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
    );
}

#[test]
fn report_overlays_two_runs() {
    let a = TempDir::new("report-a");
    let b = TempDir::new("report-b");
    let (ja, jb) = (small_run(&a), small_run(&b));
    let out = TempDir::new("report-overlay");
    let done = threadfork()
        .arg("report")
        .arg(&ja)
        .arg(&jb)
        .arg("--out")
        .arg(&out.0)
        .assert()
        .success();
    // The runs' differences in words come first on stdout (or that none exceeds the noise).
    let stdout = String::from_utf8_lossy(&done.get_output().stdout).into_owned();
    assert!(stdout.starts_with("## How the runs differ"), "{stdout}");
    let svgs: Vec<_> = out
        .files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    assert!(
        svgs.iter().any(|p| p
            .to_string_lossy()
            .contains("compare-square-throughput-default-threads-and-processes")),
        "{svgs:?}"
    );
    let svg = std::fs::read_to_string(
        svgs.iter()
            .find(|p| {
                p.to_string_lossy()
                    .contains("square-throughput-default-threads-and-processes")
            })
            .unwrap(),
    )
    .unwrap();
    // One series per run, labelled by CPU, cores and date (a cloud host name says "vm").
    let cpu = threadfork::__private::machine::fingerprint().cpu_brand;
    assert!(svg.matches(cpu.as_str()).count() >= 2, "both runs labelled");
    // One chart per question: every model that starts workers per sample, named once in the
    // legend by its mark, the runs once by their colour.
    for model in ["threads", "fork"] {
        assert_eq!(
            svg.matches(&format!(">\n{model}\n</text>")).count(),
            1,
            "{model} in the legend"
        );
    }
    assert!(svg.contains(">\nruns\n</text>") && svg.contains(">\nmodels\n</text>"));
    let html = std::fs::read_to_string(out.0.join("index.html")).unwrap();
    assert!(html.contains("Side by side"));
    assert!(html.contains("How the runs differ"));
    // The ratio column names the runs it divides.
    assert!(html.contains(" ÷ "), "a ratio column");
}

#[test]
fn a_run_without_some_workloads_gets_fewer_charts() {
    let out = TempDir::new("report-partial");
    threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "sequence",
            "--samples",
            "2",
            "--sizes",
            "1000,2000",
        ])
        .arg("--out")
        .arg(&out.0)
        .assert()
        .success();
    let json = json_files(&out).pop().unwrap();
    let dir = json.with_extension("");
    assert!(dir.join("sequence-heap-bytes-vs-n.svg").exists());
    assert!(!dir.join("square-throughput.svg").exists());
    assert!(!dir.join("empty-startup.svg").exists());
    // report on the same file draws the same, and --no-charts draws nothing.
    let again = TempDir::new("report-again");
    threadfork()
        .arg("report")
        .arg(&json)
        .arg("--out")
        .arg(&again.0)
        .assert()
        .success();
    assert!(again.0.join("index.html").exists());
    let none = TempDir::new("report-none");
    threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "sequence",
            "--samples",
            "1",
            "--sizes",
            "1000",
            "--no-charts",
        ])
        .arg("--out")
        .arg(&none.0)
        .assert()
        .success();
    assert_eq!(none.files().len(), 1, "{:?}", none.files());
}

#[test]
fn report_rejects_a_foreign_file() {
    let dir = TempDir::new("report-bad");
    let f = dir.0.join("x.json");
    std::fs::write(&f, b"[1, 2, 3]").unwrap();
    let a = threadfork().arg("report").arg(&f).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("x.json"));
}

/// A run of `machine` of square on four models at 1 and 2 workers, ten tight samples per
/// figure: `spawn` at 2 workers at `spawn2` G squares/s, every other figure scaled by
/// `scatter(k)` (k: the figure's index).
fn square_run(
    id: &str,
    machine: &str,
    spawn2: f64,
    scatter: impl Fn(usize) -> f64,
) -> threadfork::__private::results::Results {
    use threadfork::__private::results::{CaseId, Measurement, Metric};
    let tight = |c: f64| -> Vec<f64> { (0..10).map(|i| c * (1.0 + 0.001 * i as f64)).collect() };
    let mut ms = Vec::new();
    let mut k = 0;
    for model in ["sequential", "threads", "fork", "spawn"] {
        for workers in [1, 2] {
            let c = CaseId {
                workload: "square".into(),
                model: model.into(),
                variant: "default".into(),
                workers,
                params: Default::default(),
            };
            let g = if (model, workers) == ("spawn", 2) {
                spawn2
            } else {
                workers as f64 * scatter(k)
            };
            ms.push(Measurement::new(
                &c,
                Metric::Throughput,
                tight(1e9 * g),
                true,
            ));
            k += 1;
        }
    }
    common::synthetic_results(id, machine, None, ms)
}

/// What `report A B` says under "How the runs differ".
fn differ_words(
    a: &threadfork::__private::results::Results,
    b: &threadfork::__private::results::Results,
) -> String {
    let dir = TempDir::new("report-differ");
    let (pa, pb) = (dir.0.join("a.json"), dir.0.join("b.json"));
    a.save(&pa).unwrap();
    b.save(&pb).unwrap();
    let out = threadfork()
        .arg("report")
        .arg(&pa)
        .arg(&pb)
        .arg("--out")
        .arg(dir.0.join("out"))
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

#[test]
fn two_runs_of_one_machine_differ_only_beyond_their_noise() {
    // Every figure scattered by up to ±25% from run to run, spawn at 2 workers 1.3× slower:
    // the intervals separate, but the pair's noise does not let it be told.
    let noisy = |k: usize| [1.0, 1.25, 0.8, 1.2, 0.85, 1.15, 0.78, 1.22, 0.9][k % 9];
    let base = square_run("a", "m1", 2.0, |_| 1.0);
    let words = differ_words(&base, &square_run("b", "m1", 2.0 / 1.3, noisy));
    assert!(words.contains("are runs of one machine"), "{words}");
    let none = "No figure the answers quote differs beyond the runs' noise.";
    assert!(words.contains(none), "{words}");
    // The same 1.3× on a quiet pair is a change compare tells: said.
    let words = differ_words(&base, &square_run("b", "m1", 2.0 / 1.3, |_| 1.0));
    assert!(
        words.contains("`square / spawn / default / 2 workers` throughput"),
        "{words}"
    );
    assert!(words.contains("1.30× slower"), "{words}");
    // Two machines differ in every figure: said where the intervals separate, with the caveat.
    let words = differ_words(&base, &square_run("b", "m2", 2.0 / 1.3, noisy));
    assert!(words.contains("are runs of different machines"), "{words}");
    assert!(words.contains("1.30× slower"), "{words}");
}
