//! `--runtime cpython`: the classic Python examples run by the interpreter on PATH (python3),
//! checked by threadfork; a bad interpreter or a driver that breaks.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{TempDir, threadfork};
use threadfork::__private::results;

/// A quick CPython-only run at 1 and 2 workers with the sequence at 10^6, as a user makes it.
#[test]
fn the_classic_examples_run_verified_with_their_runtime_recorded() {
    if !common::have(
        "python3",
        "the_classic_examples_run_verified_with_their_runtime_recorded",
    ) {
        return;
    }
    let out = TempDir::new("cpython-run");
    let o = threadfork()
        .args(["run", "--quick", "--runtime", "cpython", "--no-charts"])
        .args(["--workers", "1,2", "--sizes", "1000000", "--samples", "2"])
        .arg("--out")
        .arg(&out.0)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = common::json_files(&out).pop().unwrap();
    let r = results::load(&file).unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let label = r
        .runtimes
        .get("cpython")
        .expect("the runtime is recorded")
        .clone();
    assert!(label.starts_with("cpython 3."), "{label}");
    assert!(!r.measurements.is_empty());
    for m in &r.measurements {
        assert!(m.case.model.starts_with("cpython-"), "{}", m.case);
        assert_eq!(m.runtime.as_deref(), Some(label.as_str()));
        assert!(m.verified, "{} {}", m.case, m.metric);
    }
    let get = |model: &str, metric: &str| {
        r.measurements
            .iter()
            .find(|m| {
                m.case.model == model
                    && m.metric.name() == metric
                    && m.case.workload == "sequence"
                    && m.case.variant == "range"
            })
            .map(|m| m.samples.clone())
    };
    // sys.getsizeof of the classic example's list of 10^6 ints built by append, and of the
    // generator: exact on CPython 3.11 (other versions size their objects differently).
    if label.starts_with("cpython 3.11.") {
        assert!(
            get("cpython-list", "getsizeof")
                .unwrap()
                .iter()
                .all(|x| *x == 8_448_728.0)
        );
        assert!(
            get("cpython-generator", "getsizeof")
                .unwrap()
                .iter()
                .all(|x| *x == 200.0)
        );
    }
    // Square and the locked counter on every worker model, at both worker counts.
    for model in [
        "cpython-sequential",
        "cpython-threads",
        "cpython-fork",
        "cpython-spawn",
    ] {
        for workload in ["square", "counter"] {
            for workers in [1, 2] {
                assert!(
                    r.measurements.iter().any(|m| m.case.model == model
                        && m.case.workload == workload
                        && m.case.workers == workers
                        && m.metric.name() == "throughput"),
                    "{workload} {model} {workers}"
                );
            }
        }
    }
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("cpython-threads"), "{summary}");
}

#[test]
fn a_missing_or_non_python_interpreter_is_bad_input() {
    let out = TempDir::new("cpython-bad");
    for python in ["/nonexistent/python3", "/bin/true"] {
        let o = threadfork()
            .args(["run", "--quick", "--runtime", "cpython", "--python", python])
            .arg("--out")
            .arg(&out.0)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{python}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!(
                "--python: '{python}' cannot run threadfork's Python driver"
            )),
            "{err}"
        );
    }
    assert!(out.files().is_empty());
}

#[test]
fn a_driver_that_breaks_mid_run_fails_its_cases_with_the_reason() {
    if !common::have(
        "python3",
        "a_driver_that_breaks_mid_run_fails_its_cases_with_the_reason",
    ) {
        return;
    }
    // An "interpreter" that answers what it is, then dies on every case.
    let dir = TempDir::new("cpython-breaks");
    let fake = dir.0.join("python-that-breaks");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$2\" = --runtime ]; then exec python3 \"$@\"; fi\n\
         echo 'Segmentation fault (pretend)' >&2\nexit 139\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.0.join("out");
    let o = threadfork()
        .args(["run", "--quick", "--runtime", "cpython", "--no-charts"])
        .args([
            "--model",
            "cpython-threads",
            "--workers",
            "1",
            "--sizes",
            "1000",
        ])
        .arg("--python")
        .arg(&fake)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let kept = TempDir(out);
    let file = common::json_files(&kept).pop().unwrap();
    let r = results::load(&file).unwrap();
    assert!(!r.failures.is_empty());
    assert!(
        r.failures
            .iter()
            .all(|f| f.reason.contains("Segmentation fault (pretend)")),
        "{:?}",
        r.failures
    );
}

/// A stand-in interpreter made of a shell script: `body` runs for the driver's cases, while
/// `--runtime` is answered by python3 itself.
fn fake_python(dir: &TempDir, name: &str, body: &str) -> std::path::PathBuf {
    let fake = dir.0.join(name);
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nif [ \"$2\" = --runtime ]; then exec python3 \"$@\"; fi\n{body}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}

/// One quick case of the list model through `python`, with `extra` flags: (exit code,
/// results, stderr).
fn one_case(python: &std::path::Path, extra: &[&str]) -> (Option<i32>, results::Results, String) {
    let out = TempDir::new("cpython-one");
    let o = threadfork()
        .args(["run", "--quick", "--runtime", "cpython", "--no-charts"])
        .args([
            "--model",
            "cpython-list",
            "--sizes",
            "1000",
            "--samples",
            "1",
        ])
        .args(extra)
        .arg("--python")
        .arg(python)
        .arg("--out")
        .arg(&out.0)
        .output()
        .unwrap();
    let file = common::json_files(&out).pop().expect("a results file");
    let r = results::load(&file).unwrap();
    (
        o.status.code(),
        r,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_driver_that_prints_garbage_or_hangs_fails_its_case_and_leaves_nothing_running() {
    if !common::have(
        "python3",
        "a_driver_that_prints_garbage_or_hangs_fails_its_case_and_leaves_nothing_running",
    ) {
        return;
    }
    let dir = TempDir::new("cpython-garbage");
    let garbage = fake_python(&dir, "python-garbage", "echo 'hello, world'");
    let (code, r, _) = one_case(&garbage, &[]);
    assert_eq!(code, Some(1));
    assert!(
        r.failures[0].reason.contains("not its report"),
        "{:?}",
        r.failures
    );
    // A driver that hangs is stopped after --case-timeout (and the interpreter's allowance),
    // its whole process group with it.
    let hangs = fake_python(&dir, "python-hangs", "sleep 613 & sleep 613");
    let (code, r, _) = one_case(&hangs, &["--case-timeout", "1s"]);
    assert_eq!(code, Some(1));
    assert!(
        r.failures[0].reason.contains("did not finish"),
        "{:?}",
        r.failures
    );
    let left = std::process::Command::new("pgrep")
        .args(["-f", "sleep 613"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn a_free_threaded_interpreter_is_detected_and_labelled() {
    if !common::have(
        "python3",
        "a_free_threaded_interpreter_is_detected_and_labelled",
    ) {
        return;
    }
    // The reference machine has no python3.13t: this stand-in is the normal interpreter with
    // `sys._is_gil_enabled` answering False, which is all the driver asks.
    let dir = TempDir::new("cpython-nogil");
    let fake = dir.0.join("python-nogil");
    std::fs::write(
        &fake,
        "#!/bin/sh\nexec python3 -c 'import runpy, sys; sys._is_gil_enabled = lambda: False; \
         sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name=\"__main__\")' \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, r, err) = one_case(&fake, &[]);
    assert_eq!(code, Some(0), "{err}");
    let label = &r.runtimes["cpython"];
    assert!(label.ends_with("(free-threaded)"), "{label}");
    // And the normal interpreter says it has its GIL.
    let (_, r, _) = one_case(std::path::Path::new("python3"), &[]);
    assert!(r.runtimes["cpython"].ends_with("(GIL)"));
}
