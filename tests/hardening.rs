//! Regressions from the hostile test pass: each test is named after the item it pins (items 4,
//! 13 and 15 also have unit tests beside the code: `parses_holds`, `an_unreadable_private_*`,
//! `a_no_lock_run_that_did_nothing_*`, `a_signal_after_the_save_*`).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, json_files, threadfork};
use threadfork::__private::results;

const BASE: [&str; 7] = [
    "run",
    "--quick",
    "--workload",
    "counter",
    "--model",
    "fork",
    "--no-charts",
];

/// Runs `threadfork run` with the base flags and `extra`; (exit code, stderr, out).
fn run_base(extra: &[&str]) -> (Option<i32>, String, TempDir) {
    let out = TempDir::new("hardening");
    let mut cmd = threadfork();
    cmd.args(BASE);
    if !extra.contains(&"--parent-rss") {
        cmd.args(["--parent-rss", "0"]);
    }
    let o = cmd
        .args(extra)
        .arg("--out")
        .arg(out.0.join("out"))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
    )
}

/// Bad input: exit 2, one line naming `needle`, and nothing written — not even a folder.
fn refused(extra: &[&str], needle: &str) {
    let t0 = Instant::now();
    let (code, stderr, out) = run_base(extra);
    assert_eq!(code, Some(2), "{extra:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{extra:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{extra:?}: {needle:?} not in {stderr}"
    );
    assert!(!out.0.join("out").exists(), "{extra:?} made a folder");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "{extra:?} took {:?}",
        t0.elapsed()
    );
}

#[test]
fn item_01_a_case_timeout_no_duration_holds_is_refused_not_a_panic() {
    for t in ["100000000000000000000000", "999999999999999999999m"] {
        refused(
            &["--case-timeout", t],
            "--case-timeout: must be between 10ms and 24h",
        );
    }
}

#[test]
fn item_02_sample_counts_past_what_a_run_can_hold_are_refused() {
    for n in ["18446744073709551615", "1e15"] {
        refused(&["--samples", n], "--samples: at most 10000");
    }
}

#[test]
fn item_03_a_sample_that_cannot_finish_in_time_is_refused_with_its_estimate() {
    let square = ["--workload", "square", "--case-timeout", "2s"];
    for tasks in ["1e11", "18446744073709551615"] {
        let mut args = square.to_vec();
        args.extend(["--tasks", tasks]);
        refused(&args, "would take about");
    }
}

#[test]
fn item_03_ctrl_c_stops_a_long_sequential_sample_within_a_second() {
    // One sequential sample of ~10^11 squares lasts about a minute; Ctrl-C must still work.
    let out = TempDir::new("hardening-sigint");
    let child = threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "square",
            "--model",
            "sequential",
        ])
        .args([
            "--workers",
            "1",
            "--tasks",
            "1e9",
            "--case-timeout",
            "1440m",
        ])
        .args(["--no-charts", "--out"])
        .arg(&out.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn item_04_a_hold_that_would_wrap_the_clock_is_refused() {
    refused(
        &["--model", "threads", "--hold", "18446744073709551615"],
        "--hold: invalid hold",
    );
}

#[test]
fn item_05_compare_reads_no_device_and_no_oversized_file() {
    let dir = TempDir::new("hardening-compare");
    let big = dir.0.join("big.json");
    // A sparse file: 65 MiB long, no disk used.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    for (file, needle) in [
        ("/dev/urandom".as_ref(), "not a regular file"),
        (big.as_path(), "larger than"),
    ] {
        let t0 = Instant::now();
        let o = threadfork()
            .arg("compare")
            .arg(file)
            .arg(file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn item_06_report_draws_a_file_with_an_absurd_median() {
    let dir = TempDir::new("hardening-report");
    let good = common::tiny_square_run(&dir);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    v["measurements"][0]["median"] = serde_json::json!(1.797_693_134_862_315_7e308);
    let evil = dir.0.join("huge.json");
    std::fs::write(&evil, serde_json::to_vec(&v).unwrap()).unwrap();
    let t0 = Instant::now();
    let o = threadfork()
        .arg("report")
        .arg(&evil)
        .arg("--out")
        .arg(dir.0.join("charts"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

#[test]
fn item_07_ids_read_from_files_never_become_paths() {
    let dir = TempDir::new("hardening-ids");
    let good = common::tiny_square_run(&dir);
    let target = std::env::temp_dir().join(format!("threadfork-escape-{}", std::process::id()));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    v["run"]["id"] = serde_json::json!(format!("/../../../../../..{}", target.display()));
    let evil = dir.0.join("evil.json");
    std::fs::write(&evil, serde_json::to_vec(&v).unwrap()).unwrap();
    for args in [vec!["report"], vec!["compare"]] {
        let mut cmd = threadfork();
        cmd.args(&args).arg(&evil).arg(&good);
        let o = cmd.current_dir(&dir.0).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("not a safe name"), "{stderr}");
    }
    assert!(!target.exists());
}

/// Runs `threadfork ARGS` with every file it writes limited to `blocks` × 512 bytes, as a
/// full disk would stop it: (exit code, stdout, stderr).
fn with_file_limit(blocks: u32, args: &str) -> (Option<i32>, String, String) {
    let bin = env!("CARGO_BIN_EXE_threadfork");
    let script = format!("ulimit -f {blocks}; exec {bin} {args}");
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn no_temp_file(dir: &TempDir) {
    assert!(
        dir.files()
            .iter()
            .all(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')),
        "{:?}",
        dir.files()
    );
}

#[test]
fn item_08_a_full_disk_loses_no_figure_and_leaves_no_temp_file() {
    let run = |dir: &TempDir| {
        format!(
            "run --quick --workload square --model threads --workers 1 --samples 2 --tasks 1000 \
             --out {}",
            dir.0.join("out").display()
        )
    };
    // No room even for the results file: the figures still reach stdout, one line says what
    // failed, and nothing is left — no temp file, no empty folder.
    let dir = TempDir::new("hardening-full");
    let (code, stdout, stderr) = with_file_limit(2, &run(&dir));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("## square: squares"),
        "the figures reach stdout: {stdout}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(dir.files().is_empty(), "{:?}", dir.files());
    assert!(!dir.0.join("out").exists());
    // Room for the results file, not for the charts: the run is saved, the exit is non-zero
    // with one line, and no temp file survives.
    let dir = TempDir::new("hardening-full-charts");
    let (code, _, stderr) = with_file_limit(80, &run(&dir));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("charts not drawn") && !stderr.contains("BackendError"),
        "{stderr}"
    );
    let saved = json_files(&dir);
    assert_eq!(saved.len(), 1);
    assert!(results::load(&saved[0]).is_ok());
    no_temp_file(&dir);
    // `report` onto a full disk: the same.
    let (code, _, stderr) = with_file_limit(
        8,
        &format!(
            "report {} --out {}",
            saved[0].display(),
            dir.0.join("charts").display()
        ),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("BackendError"), "{stderr}");
    no_temp_file(&dir);
}

#[test]
fn item_09_runs_started_together_never_share_an_id_or_replace_a_file() {
    let ids: std::collections::BTreeSet<String> = (0..2000)
        .map(|_| threadfork::__private::sweep::new_run_id("20261122T000000Z"))
        .collect();
    assert_eq!(ids.len(), 2000);
    // Two runs at once into one folder: two files.
    two_runs_at_once("hardening-together", threadfork);
}

/// Starts two tiny runs at once into one fresh folder, each by `command` (the program to run
/// the harness with), and checks that both succeed and both files are there.
fn two_runs_at_once(tag: &str, command: impl Fn() -> Command) {
    let out = TempDir::new(tag);
    let start = || {
        command()
            .args(common::TINY_RUN)
            .arg(out.0.join("runs"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (start(), start());
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert_eq!(json_files(&out).len(), 2, "{:?}", out.files());
}

/// Processes whose command line holds `marker`, other than `ps` itself.
fn processes_with(marker: &str) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-eo", "pid=,stat=,args="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(marker) && !l.contains(" ps "))
        .map(String::from)
        .collect()
}

#[test]
fn item_10_ctrl_c_during_fork_startup_leaves_no_zombie() {
    for delay_ms in [400, 900, 1500] {
        let out = TempDir::new("hardening-fork-sigint");
        let child = threadfork()
            .args(["run", "--quick", "--workload", "empty", "--model", "fork"])
            .args(["--parent-rss", "0,512M", "--samples", "200", "--no-charts"])
            .arg("--out")
            .arg(&out.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(matches!(o.status.code(), Some(130) | Some(0)), "{o:?}");
        // Forked children share the harness's command line, which names `out`.
        let marker = out.0.to_string_lossy().into_owned();
        assert!(
            processes_with(&marker).is_empty(),
            "{:?}",
            processes_with(&marker)
        );
    }
}

#[test]
fn item_11_a_stopped_child_is_killed_at_the_deadline() {
    use threadfork::__private::exec::children::Children;
    let sleeper = Command::new("sleep").arg("100").spawn().unwrap();
    let pid = sleeper.id() as i32;
    Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .unwrap();
    let mut children = Children::with_capacity(1);
    children.push(pid);
    let t0 = Instant::now();
    let deadline = threadfork::__private::measure::clock::now_ns() + 300_000_000;
    assert!(children.reap_all(deadline).is_err());
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    // Killed and reaped: no such process any more, not even a zombie.
    let gone = Command::new("kill")
        .args(["-0", &pid.to_string()])
        .status()
        .unwrap();
    assert!(!gone.success());
    // Children reaped it already: std's handle finds nothing left to wait for.
    let mut sleeper = sleeper;
    assert!(sleeper.try_wait().is_err());
}

#[test]
fn item_12_faults_on_the_sequential_model_are_contained_or_refused() {
    let (code, stderr, out) = run_base(&[
        "--workload",
        "square",
        "--model",
        "sequential",
        "--workers",
        "1",
        "--samples",
        "1",
        "--inject-fault",
        "panic:sequential",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let r = results::load(&json_files(&out).pop().unwrap()).unwrap();
    assert!(
        r.failures[0].reason.contains("injected fault"),
        "{:?}",
        r.failures
    );
    for fault in ["hang", "abort", "kill", "exit"] {
        refused(
            &["--inject-fault", &format!("{fault}:sequential")],
            "cannot be contained",
        );
    }
}

#[test]
fn item_14_impossible_sizes_and_timeouts_are_refused_naming_their_flag() {
    refused(&["--parent-rss", "1000T"], "--parent-rss: ");
    refused(
        &["--case-timeout", "0.0000000001"],
        "--case-timeout: must be between",
    );
    refused(
        &["--workers", "-1"],
        "--workers: '-1' is not a worker count",
    );
}

#[test]
fn item_15_a_saved_run_is_in_place_after_its_folder_was_synced() {
    // The save writes a temp file, syncs it, links it into place and syncs the folder; a
    // second save of the same run id is refused rather than replacing the first.
    let dir = TempDir::new("hardening-sync");
    let good = common::tiny_square_run(&dir);
    let r = results::load(&good).unwrap();
    let e = r.save(&good).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(results::load(&good).unwrap().run.id, r.run.id);
    no_temp_file(&dir);
}

#[test]
fn item_09_two_runs_in_separate_pid_namespaces_keep_both_files() {
    // Both runs are PID 1 in their namespaces: ids, temp names and the writability probe
    // must not collide, and neither may take the other's folder away.
    let usable = Command::new("unshare")
        .args(["-fp", "--mount-proc", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        eprintln!("skipped: unshare -fp is not available here");
        return;
    }
    for _ in 0..3 {
        two_runs_at_once("hardening-namespaces", || {
            let mut c = Command::new("unshare");
            c.args(["-fp", "--mount-proc", env!("CARGO_BIN_EXE_threadfork")]);
            c
        });
    }
}

#[test]
fn item_03_a_sequence_of_1e11_items_honours_its_timeout() {
    // Hardening: `--sizes 1e11 --case-timeout 2s` ran on for half a minute.
    let t0 = std::time::Instant::now();
    use threadfork::builtin::sequence::items::SequenceVariant;
    use threadfork::builtin::sequence::models::{Limit, SeqModel, run};
    for model in [SeqModel::Lazy, SeqModel::Pipeline] {
        let limit = Limit::within(Duration::from_millis(200));
        let e = run(model, SequenceVariant::Range, 100_000_000_000, 1, limit).unwrap_err();
        assert!(e.contains("timed out"), "{e}");
    }
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}
