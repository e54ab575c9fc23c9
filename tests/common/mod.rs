//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A fresh, empty folder under the system's temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("threadfork-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// Every file below this folder, recursively.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out.sort();
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn threadfork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_threadfork"))
}

/// The results files (`*.json`) below `dir`.
pub fn json_files(dir: &TempDir) -> Vec<PathBuf> {
    dir.files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect()
}

/// Child processes of `pid` that still exist (zombies included), from `ps --ppid`.
pub fn children_of(pid: u32) -> Vec<String> {
    let out = Command::new("ps")
        .args(["--ppid", &pid.to_string(), "-o", "pid=,stat=,args="])
        .output()
        .expect("ps is installed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(" ps --ppid"))
        .map(String::from)
        .collect()
}

/// A run holding `measurements`, on this machine's fingerprint renamed to `machine` with
/// `cores` allowed CPUs (none: as measured): what synthetic-results tests build on.
pub fn synthetic_results(
    id: &str,
    machine: &str,
    cores: Option<usize>,
    measurements: Vec<threadfork::__private::results::Measurement>,
) -> threadfork::__private::results::Results {
    use threadfork::__private::results::{Calibration, Results, RunInfo, SCHEMA};
    let mut m = threadfork::__private::machine::fingerprint();
    m.id = machine.into();
    if let Some(n) = cores {
        m.allowed_cpus = (0..n).collect();
    }
    Results {
        schema: SCHEMA.into(),
        run: RunInfo {
            id: id.into(),
            started_at: "2026-11-22T00:00:00Z".into(),
            duration_s: 1.0,
            args: vec![],
            quick: true,
            harness_version: "test".into(),
            git_commit: "test".into(),
            incomplete: false,
            estimated_s: None,
            injected: None,
            load: None,
        },
        machine: m,
        workloads: vec![],
        calibration: Calibration::default(),
        runtimes: Default::default(),
        measurements,
        failures: vec![],
        scaling: vec![],
        findings: Default::default(),
        answers: vec![],
        notes: vec![],
    }
}

/// The arguments of the tiniest real run: square on threads, one worker, two samples of
/// 2000 tasks, no charts (`--out DIR` to follow).
pub const TINY_RUN: [&str; 14] = [
    "run",
    "--quick",
    "--workload",
    "square",
    "--model",
    "threads",
    "--workers",
    "1",
    "--samples",
    "2",
    "--tasks",
    "2000",
    "--no-charts",
    "--out",
];

/// A tiny real run ([`TINY_RUN`]) into `dir`; its file.
pub fn tiny_square_run(dir: &TempDir) -> PathBuf {
    let o = threadfork().args(TINY_RUN).arg(&dir.0).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    json_files(dir).pop().expect("a results file")
}

/// Whether `program` (valgrind, python3) is on PATH for a test that needs it. Absent, the test
/// says on stderr that it is skipped and why — unless `THREADFORK_TEST_ALL=1` (set by
/// `.ci/run`, which installs every such program), where its absence fails the test.
pub fn have(program: &str, test: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("THREADFORK_TEST_ALL").as_deref() != Ok("1"),
            "{test} needs {program} on PATH, and THREADFORK_TEST_ALL=1 says every test must run"
        );
        // Straight to the descriptor: libtest keeps what `eprintln!` prints in a passing test.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test} needs {program} on PATH (not found)"
        );
    }
    found
}

/// The plan `threadfork run --quick --no-charts --samples 2 ARGS` makes over `registry`, in
/// this process (the spawn model needs a host binary: tests that use this take the others).
pub fn quick_plan(
    registry: &threadfork::Registry,
    args: &[&str],
) -> threadfork::__private::sweep::plan::Plan {
    use threadfork::__private::options::{Command as Sub, resolve};
    let argv = [
        "threadfork",
        "run",
        "--quick",
        "--no-charts",
        "--samples",
        "2",
    ]
    .iter()
    .chain(args);
    let cli = threadfork::__private::parse_args(argv, registry).unwrap();
    let Sub::Run(a) = cli.command else {
        unreachable!()
    };
    let machine = threadfork::__private::machine::fingerprint();
    resolve(&a, vec![], machine.allowed_cpus.clone(), registry).unwrap()
}
