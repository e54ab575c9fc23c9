//! Every bad input in README.md's table: one line on stderr with the message shown there,
//! exit code 2, and no file written.

mod common;

use common::{TempDir, threadfork};

/// Writes the files the table's rows refer to into `dir`.
fn fixtures(dir: &TempDir) {
    let good = dir.0.join("good.json");
    let out = TempDir::new("bad-input-run");
    let status = threadfork()
        .args([
            "run",
            "--quick",
            "--workload",
            "square",
            "--model",
            "threads",
        ])
        .args([
            "--workers",
            "1",
            "--samples",
            "1",
            "--tasks",
            "100",
            "--parent-rss",
            "0",
            "--no-charts",
        ])
        .arg("--out")
        .arg(&out.0)
        .status()
        .unwrap();
    assert!(status.success());
    let made = common::json_files(&out).pop().unwrap();
    std::fs::copy(made, &good).unwrap();
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(dir.0.join("empty.json"), b"").unwrap();
    std::fs::write(dir.0.join("truncated.json"), &text[..text.len() / 3]).unwrap();
    std::fs::write(dir.0.join("foreign.json"), br#"{"name": "not ours"}"#).unwrap();
    std::fs::write(
        dir.0.join("future.json"),
        text.replace("threadfork/results/v2", "threadfork/results/v3"),
    )
    .unwrap();
    std::fs::write(
        dir.0.join("evil.json"),
        text.replacen("\"id\":\"", "\"id\":\"/../../x", 1),
    )
    .unwrap();
    std::fs::write(
        dir.0.join("injected.json"),
        text.replacen(
            "\"incomplete\":false",
            "\"incomplete\":false,\"injected\":\"code=20\"",
            1,
        ),
    )
    .unwrap();
    std::fs::write(dir.0.join("a-file"), b"x").unwrap();
    std::fs::create_dir_all(dir.0.join("no-runs")).unwrap();
}

#[test]
fn every_bad_input_gets_one_line_and_exit_two() {
    let dir = TempDir::new("bad-input");
    fixtures(&dir);
    let d = dir.0.to_string_lossy().into_owned();
    let f = |name: &str| format!("{d}/{name}");
    // (arguments, what stderr must say) — the same rows as README.md's table.
    let rows: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), "--workers".into(), "0".into()],
            "--workers: worker counts must be between 1 and 1024 (got 0)",
        ),
        (
            vec!["run".into(), "--workers".into(), "x".into()],
            "--workers: 'x' is not a worker count",
        ),
        (
            vec!["run".into(), "--workers".into(), "1,,2".into()],
            "--workers: empty item in '1,,2'",
        ),
        (
            vec!["run".into(), "--workload".into(), "cubes".into()],
            "--workload: 'cubes' is not a workload",
        ),
        (
            vec!["run".into(), "--model".into(), "greenthreads".into()],
            "--model: 'greenthreads' is not a model",
        ),
        (
            vec![
                "run".into(),
                "--workload".into(),
                "square".into(),
                "--model".into(),
                "lazy".into(),
            ],
            "--model: lazy runs none of the chosen workloads (square)",
        ),
        (
            vec![
                "run".into(),
                "--workload".into(),
                "empty".into(),
                "--model".into(),
                "rayon".into(),
            ],
            "--model: no pattern of rayon runs the chosen workloads (empty)",
        ),
        (
            vec!["run".into(), "--chunk".into(), "0".into()],
            "--chunk: must be at least 1 (got 0)",
        ),
        (
            vec![
                "run".into(),
                "--workload".into(),
                "counter".into(),
                "--work".into(),
                "1,10".into(),
            ],
            "--work: no chosen workload has a parameter 'work' to sweep (counter)",
        ),
        (
            vec!["run".into(), "--work".into(), "10,x".into()],
            "--work: 'x' is not a whole number",
        ),
        (
            vec![
                "run".into(),
                "--param".into(),
                "tasks=10".into(),
                "--param".into(),
                "tasks=20".into(),
            ],
            "--param tasks: 'tasks' is already set by --param tasks; give each parameter once",
        ),
        (
            vec![
                "run".into(),
                "--workload".into(),
                "counter".into(),
                "--param".into(),
                "increments=10,x".into(),
            ],
            "--param increments: 'x' is not a whole number",
        ),
        (
            vec!["run".into(), "--runtime".into(), "java".into()],
            "--runtime: 'java' is not a runtime (rust, cpython)",
        ),
        (
            vec![
                "run".into(),
                "--runtime".into(),
                "cpython".into(),
                "--python".into(),
                "/nonexistent/python3".into(),
            ],
            "--python: '/nonexistent/python3' cannot run threadfork's Python driver: cannot start /nonexistent/python3: No such file or directory (os error 2)",
        ),
        (
            vec!["run".into(), "--samples".into(), "0".into()],
            "--samples: must be at least 1 (got 0)",
        ),
        (
            vec!["run".into(), "--samples".into(), "1e15".into()],
            "--samples: at most 10000 (got 1000000000000000)",
        ),
        (
            vec!["run".into(), "--workers".into(), "-1".into()],
            "--workers: '-1' is not a worker count",
        ),
        (
            vec!["run".into(), "--parent-rss".into(), "1000T".into()],
            "is more than this machine can hold",
        ),
        (
            vec!["run".into(), "--case-timeout".into(), "0.0000000001".into()],
            "--case-timeout: must be between 10ms and 24h (got 0.0000000001)",
        ),
        (
            vec![
                "run".into(),
                "--workload".into(),
                "square".into(),
                "--tasks".into(),
                "1e11".into(),
                "--case-timeout".into(),
                "2s".into(),
            ],
            "--param tasks: a sample of tasks=100000000000 of square would take about",
        ),
        (
            vec!["run".into(), "--hold".into(), "18446744073709551615".into()],
            "--hold: invalid hold '18446744073709551615': at most 60s per increment",
        ),
        (
            vec!["run".into(), "--work".into(), "0".into()],
            "--work: must be at least 1 (got 0)",
        ),
        (
            vec!["run".into(), "--tasks".into(), "1.5".into()],
            "--tasks: '1.5' is not a whole number",
        ),
        (
            vec!["run".into(), "--param".into(), "nope=1".into()],
            "--param nope: no chosen workload has a parameter 'nope'",
        ),
        (
            vec!["run".into(), "--param".into(), "work".into()],
            "--param: 'work' is not NAME=VALUE",
        ),
        (
            vec!["run".into(), "--hold".into(), "fast".into()],
            "--hold: invalid hold 'fast'",
        ),
        (
            vec!["run".into(), "--parent-rss".into(), "12Q".into()],
            "--parent-rss: '12Q' is not a size",
        ),
        (
            vec!["run".into(), "--sizes".into(), "0".into()],
            "--sizes: n must be at least 1 (got 0)",
        ),
        (
            vec!["run".into(), "--case-timeout".into(), "never".into()],
            "--case-timeout: 'never' is not a duration",
        ),
        (
            vec!["run".into(), "--out".into(), f("a-file/results")],
            "--out: cannot write to",
        ),
        (
            vec![
                "run".into(),
                "--out".into(),
                "/proc/threadfork-results".into(),
            ],
            "--out: cannot write to '/proc/threadfork-results",
        ),
        (
            vec!["run".into(), "--fastest".into()],
            "unexpected argument '--fastest'",
        ),
        (vec![], "a command is required"),
        (
            vec!["compare".into(), f("good.json"), f("missing.json")],
            "missing.json: cannot read",
        ),
        (
            vec!["compare".into(), f("good.json"), f("empty.json")],
            "empty.json: the file is empty",
        ),
        (
            vec!["compare".into(), f("good.json"), f("truncated.json")],
            "truncated.json: not valid JSON",
        ),
        (
            vec!["compare".into(), f("good.json"), f("foreign.json")],
            "foreign.json: not a threadfork results file",
        ),
        (
            vec!["compare".into(), f("good.json"), f("future.json")],
            "schema \"threadfork/results/v3\" is not supported",
        ),
        (
            vec!["compare".into(), f("no-runs"), f("good.json")],
            "no-runs: no results file",
        ),
        (
            vec![
                "compare".into(),
                "--threshold".into(),
                "150%".into(),
                f("good.json"),
                f("good.json"),
            ],
            "--threshold: must be between 0% and 100%",
        ),
        (
            vec![
                "compare".into(),
                "--instructions-threshold".into(),
                "0".into(),
                f("good.json"),
                f("good.json"),
            ],
            "--instructions-threshold: must be between 0% and 100% (got 0)",
        ),
        (
            vec!["compare".into(), f("injected.json"), f("good.json")],
            "injected.json: made with --inject-slowdown code=20 (a test run), never a baseline",
        ),
        (vec!["report".into(), f("no-runs")], "no-runs: cannot read"),
        (
            vec!["compare".into(), "/dev/urandom".into(), f("good.json")],
            "/dev/urandom: not a regular file",
        ),
        (vec!["report".into(), f("evil.json")], "is not a safe name"),
    ];
    assert!(rows.len() >= 15);
    for (args, needle) in rows {
        let out = TempDir::new("bad-input-out");
        let mut cmd = threadfork();
        cmd.args(&args);
        if args.first().is_some_and(|a| a == "run") && !args.contains(&"--out".to_string()) {
            cmd.arg("--out").arg(&out.0);
        }
        let o = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(
            stderr.starts_with("threadfork: error: "),
            "{args:?}: {stderr:?}"
        );
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr:?}"
        );
        assert!(out.files().is_empty(), "{args:?} wrote {:?}", out.files());
    }
}
