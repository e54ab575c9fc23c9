//! `cargo bench` runs the harness's own plan too, leaving the same results file and charts
//! as `threadfork run` (a quick plan under `cargo bench -- --quick`). Skipped when criterion's
//! filter arguments select other benchmarks.

use std::ffi::OsString;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // cargo passes --bench; a bare word is a criterion filter.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "sweep".contains(f.as_str())) {
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("sweep: benchmark");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results");
    let mut run: Vec<OsString> = vec![
        "threadfork".into(),
        "run".into(),
        "--out".into(),
        out.into(),
    ];
    if quick {
        run.push("--quick".into());
    }
    // The spawn model needs the threadfork executable, not this bench binary: run it.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_threadfork"))
        .args(&run[1..])
        .status()
        .expect("threadfork runs");
    std::process::exit(status.code().unwrap_or(1));
}
