//! Results kept compressed (`.json.gz`) read as their plain files do: by `compare`, `report`
//! and `ab --judge` (its test is beside the A/B job in `ab.rs`), given as files or found in
//! folders.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{TempDir, threadfork, tiny_square_run};

/// `file` gzipped beside itself as `NAME.json.gz`.
pub fn gzip(file: &Path) -> PathBuf {
    let packed = PathBuf::from(format!("{}.gz", file.display()));
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&std::fs::read(file).unwrap()).unwrap();
    std::fs::write(&packed, z.finish().unwrap()).unwrap();
    packed
}

#[test]
fn compare_reads_a_compressed_run_as_its_plain_file() {
    let dir = TempDir::new("gz-compare");
    let plain = tiny_square_run(&dir);
    let packed = gzip(&plain);
    let run = |base: &Path| {
        let o = threadfork()
            .arg("compare")
            .arg(base)
            .arg(&plain)
            .arg("--json")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON verdicts");
        (o.status.code(), v["comparisons"].as_array().map(Vec::len))
    };
    assert_eq!(run(&packed), run(&plain));
    assert_eq!(run(&packed).0, Some(0));
    // A folder holding only the compressed file is a baseline too.
    let only = TempDir::new("gz-folder");
    std::fs::copy(&packed, only.0.join("run.json.gz")).unwrap();
    assert_eq!(run(&only.0).0, Some(0));
}

#[test]
fn report_draws_a_compressed_run() {
    let dir = TempDir::new("gz-report");
    let packed = gzip(&tiny_square_run(&dir));
    let out = TempDir::new("gz-report-out");
    let o = threadfork()
        .arg("report")
        .arg(&packed)
        .arg("--out")
        .arg(&out.0)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("# threadfork run"));
    assert!(out.0.join("index.html").exists());
}

#[test]
fn a_damaged_compressed_file_is_one_line_and_exit_two() {
    let dir = TempDir::new("gz-damaged");
    let packed = gzip(&tiny_square_run(&dir));
    let bytes = std::fs::read(&packed).unwrap();
    let cut = dir.0.join("cut.json.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = threadfork().arg("report").arg(&cut).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cut.json.gz"), "{err}");
}
