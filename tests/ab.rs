//! `threadfork ab`: two builds served side by side. Properties that hold on any machine — the
//! results file holds both sides' samples pair for pair, the exit code matches the verdict,
//! and every fault (a base that is no threadfork host, two plans that differ, a side whose
//! workers fail) is reported as such with no process left behind. How well it detects a
//! slowdown is measured by scripts/ab-sensitivity.sh, not here.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{TempDir, threadfork};

const TINY: [&str; 9] = [
    "--quick",
    "--workload",
    "square,empty",
    "--model",
    "sequential,fork",
    "--workers",
    "1",
    "--parent-rss",
    "0,8M",
];

/// A base "build": a script that runs this threadfork with extra flags appended to its own.
fn wrapper(dir: &TempDir, name: &str, extra: &str) -> PathBuf {
    let path = dir.0.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nexec '{}' \"$@\" {extra}\n",
            env!("CARGO_BIN_EXE_threadfork")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn ab(base: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    threadfork()
        .arg("ab")
        .arg(base)
        .args(TINY)
        .args(["--samples", "4", "--sample-time", "2ms"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// No serve process of this test is left: none has `out` in its arguments.
fn none_left(out: &Path) {
    std::thread::sleep(std::time::Duration::from_millis(200));
    let ps = std::process::Command::new("ps")
        .args(["-eo", "pid=,stat=,args="])
        .output()
        .unwrap();
    let mark = out.display().to_string();
    let left: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&mark) && !l.contains(" ps -eo"))
        .map(String::from)
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn a_job_holds_both_sides_pair_for_pair_and_its_exit_code_says_the_verdict() {
    let dir = TempDir::new("ab-pairs");
    let out = dir.0.join("out");
    let o = ab(
        Path::new(env!("CARGO_BIN_EXE_threadfork")),
        &out,
        &["--json"],
    );
    // The page beside the results (written unless --json, --markdown or --no-charts) comes
    // in the Markdown run below.
    let stderr = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 1 || code == 3, "{stderr}");
    let verdict: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON verdict");
    assert_eq!(verdict["exit"], code);
    // Inconclusive (exit 3) names the gated rows left undecided; a regression (exit 1) outranks
    // them, and exit 0 leaves none.
    let undecided = verdict["undecided_gated"].as_array().unwrap();
    match code {
        3 => assert!(!undecided.is_empty(), "{verdict}"),
        0 => assert!(undecided.is_empty(), "{verdict}"),
        _ => {}
    }
    assert!(
        !verdict["gated"].as_array().unwrap().is_empty(),
        "{verdict}"
    );
    assert_eq!(
        verdict["failures"].as_array().unwrap().len(),
        0,
        "{verdict}"
    );
    let file = common::json_files(&dir).pop().expect("a results file");
    assert_eq!(verdict["results"], file.display().to_string());
    // What others took is read over the job, on every allowed CPU; each spoilt pair is
    // either retaken or kept, never both.
    let interference = &verdict["interference"];
    assert!(interference["cores"].as_u64().unwrap() >= 1, "{verdict}");
    assert!(interference["others_cores"].as_f64().is_some(), "{verdict}");
    assert!(interference["retaken"].is_u64() && interference["kept"].is_u64());
    // Judged again: an inconclusive job passes or fails as --undecided says; a decided one
    // keeps its code.
    for (policy, inconclusive) in [("pass", 0), ("fail", 1)] {
        let again = common::threadfork()
            .arg("ab")
            .arg(&file)
            .args(["--judge", "--json", "--undecided", policy])
            .output()
            .unwrap();
        let want = if code == 3 { inconclusive } else { code };
        assert_eq!(again.status.code(), Some(want), "{policy}");
    }
    // Kept compressed, the job is judged the same.
    let packed = dir.0.join("job.json.gz");
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &std::fs::read(&file).unwrap()).unwrap();
    std::fs::write(&packed, z.finish().unwrap()).unwrap();
    let again = common::threadfork()
        .arg("ab")
        .arg(&packed)
        .args(["--judge", "--json"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(code), "judged from .json.gz");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(r["schema"], "threadfork/ab/v1");
    let keys = r["keys"].as_array().unwrap();
    let has = |workload: &str, model: &str, metric: &str| {
        keys.iter().any(|k| {
            k["case"]["workload"] == workload
                && k["case"]["model"] == model
                && k["metric"] == metric
        })
    };
    for (w, m, metric) in [
        ("square", "sequential", "throughput"),
        ("square", "fork", "throughput"),
        ("square", "fork", "peak_rss"),
        ("empty", "fork", "startup"),
        ("empty", "fork", "roundtrip"),
    ] {
        assert!(has(w, m, metric), "{w} {m} {metric}");
    }
    for k in keys {
        let (a, b) = (k["base"].as_array().unwrap(), k["head"].as_array().unwrap());
        assert_eq!(a.len(), b.len(), "{k}");
        // A start-up's parent is the side's serve process: its state beside every pair, one
        // thread (the serving one), holding at least the ballast asked.
        if k["case"]["workload"] == "empty" {
            let rss = k["case"]["params"]["parent_rss"].as_u64().unwrap();
            for side in ["base_parent", "head_parent"] {
                let states = k[side].as_array().unwrap_or_else(|| panic!("{side}: {k}"));
                assert_eq!(states.len(), a.len(), "{k}");
                for s in states {
                    assert!(s[0].as_u64().unwrap() >= rss, "{k}");
                    assert_eq!(s[2], 1, "{k}");
                }
            }
        }
        // Task cases take --samples pairs; start-up cases at least the plan's start-up samples.
        assert!(a.len() >= 4, "{k}");
        assert_eq!(k["verified"], true, "{k}");
        assert!(a.iter().chain(b).all(|x| x.as_f64().unwrap() >= 0.0));
    }
    // The page: a chart of the groups and a table of every row.
    let md = ab(Path::new(env!("CARGO_BIN_EXE_threadfork")), &out, &[]);
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(
        text.contains("Interference: other processes held"),
        "{text}"
    );
    let page = text
        .lines()
        .find_map(|l| l.strip_prefix("Chart:   "))
        .unwrap_or_else(|| panic!("{text}"));
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains("<svg") && html.contains("square / every model"),
        "{html}"
    );
    // Both start-up cases of 8 MiB hold exactly what was asked on both sides, or a sample
    // would have failed; and the rows name each key once.
    let rows = r["rows"].as_array().unwrap();
    let key_rows = rows.iter().filter(|r| r["group"] == false).count();
    assert_eq!(
        key_rows,
        keys.iter().filter(|k| k["judged"] == true).count()
    );
    none_left(&out);
}

#[test]
fn a_base_that_is_no_threadfork_host_is_bad_input() {
    let dir = TempDir::new("ab-not-host");
    let out = dir.0.join("out");
    let script = dir.0.join("garbage");
    std::fs::write(&script, "#!/bin/sh\necho hello there\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for base in [
        Path::new("/bin/true"),
        &script,
        Path::new("/nonexistent/base"),
    ] {
        let o = ab(base, &out, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{base:?}: {stderr}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("threadfork: error: "))
            .unwrap_or_else(|| panic!("{stderr}"));
        assert!(
            line.contains(&base.display().to_string()),
            "the line names the base: {line}"
        );
        assert!(!out.exists(), "nothing written for {base:?}");
    }
    none_left(&out);
}

#[test]
fn two_builds_with_different_plans_are_bad_input_naming_the_difference() {
    let dir = TempDir::new("ab-plans");
    let out = dir.0.join("out");
    let other_params = wrapper(&dir, "other-params", "--param work=7");
    let o = ab(&other_params, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the two builds hold different plans"),
        "{stderr}"
    );
    // The base is asked for the same plan but drops the 8 MiB start-up case.
    let fewer = dir.0.join("fewer");
    std::fs::write(
        &fewer,
        format!(
            "#!/bin/sh\nexec '{}' $(echo \"$@\" | sed 's/0,8M/0/')\n",
            env!("CARGO_BIN_EXE_threadfork")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fewer, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = ab(&fewer, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "the base build has no case empty / fork / default / 1 worker / parent_rss=8388608"
        ),
        "{stderr}"
    );
    let unknown = wrapper(&dir, "unknown", "--workload nosuch");
    let o = ab(&unknown, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the base build cannot run this plan") && stderr.contains("nosuch"),
        "{stderr}"
    );
    assert!(!out.exists());
    none_left(&out);
}

#[test]
fn a_side_whose_workers_fail_fails_those_cases_with_its_reason() {
    let dir = TempDir::new("ab-fault");
    let out = dir.0.join("out");
    let failing = wrapper(&dir, "failing", "--inject-fault exit:fork");
    let o = ab(&failing, &out, &["--json"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let verdict: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failures = verdict["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    for f in failures {
        assert_eq!(f["model"], "fork", "{f}");
        let reason = f["reason"].as_str().unwrap();
        assert!(reason.starts_with("base: "), "{reason}");
        assert!(reason.contains("exited with code"), "{reason}");
    }
    // The other cases were still judged.
    let rows = verdict["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| {
        r["label"]
            .as_str()
            .unwrap()
            .starts_with("square / sequential")
    }));
    none_left(&out);
}

#[test]
fn a_job_stopped_by_a_signal_keeps_its_pairs_marked_incomplete_and_leaves_no_side() {
    let dir = TempDir::new("ab-signal");
    let out = dir.0.join("out");
    let child = threadfork()
        .arg("ab")
        .arg(env!("CARGO_BIN_EXE_threadfork"))
        .args(TINY)
        .args(["--samples", "400", "--sample-time", "5ms", "--json"])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Past the start-up pairs, into the task pairs (400 of them: minutes).
    std::thread::sleep(std::time::Duration::from_millis(4000));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("ab stopped by SIGTERM"), "{stderr}");
    let verdict: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verdict["incomplete"], true);
    assert_eq!(
        verdict["failures"].as_array().unwrap().len(),
        0,
        "{verdict}"
    );
    let file = common::json_files(&dir)
        .pop()
        .expect("the pairs taken are saved");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert!(!r["keys"].as_array().unwrap().is_empty());
    none_left(&out);
}

#[test]
fn a_base_speaking_another_serve_protocol_is_bad_input() {
    let dir = TempDir::new("ab-protocol");
    let out = dir.0.join("out");
    // A "build" that says hello in protocol 99, then waits for its input to close.
    let other = dir.0.join("other-protocol");
    std::fs::write(
        &other,
        "#!/bin/sh\necho '{\"protocol\":99,\"harness\":\"threadfork 9\",\"commit\":\"x\",\"error\":null,\"cases\":[],\"samples\":0,\"warmup\":0,\"startup_samples\":0,\"injected\":null,\"left_out\":[]}'\ncat > /dev/null\n",
    )
    .unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = ab(&other, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the base build speaks serve protocol 99 and this build 1"),
        "{stderr}"
    );
    assert!(!out.exists());
    none_left(&out);
}
