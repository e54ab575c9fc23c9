//! Exact instruction counts under valgrind's callgrind (`run --instructions`): deterministic
//! figures for CI machines too noisy for timings. Only a worker's share is counted — callgrind
//! starts with collection off and toggles it on inside the one function every model runs a
//! share through — so the harness's own start-up, the barrier's spinning (which depends on
//! timing) and reading /proc are left out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::sys::command::{failure, output_within};

/// The function (demangled, with callgrind's wildcards) inside which instructions are counted:
/// `threadfork::exec::worker::counted_share`, in the threadfork binary or a user's bench.
pub const COUNTED_FN: &str = "*::exec::worker::counted_share*";

/// The valgrind command, or why there is none.
pub fn valgrind() -> Result<String, String> {
    let out = Command::new("valgrind")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run valgrind ({e})"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !version.starts_with("valgrind") {
        return Err("`valgrind --version` did not answer as valgrind does".into());
    }
    Ok(version)
}

/// A folder of its own for one count's callgrind files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "threadfork-callgrind-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `exe args` (with `env` added) under callgrind (following spawned children when
/// `children`) and returns
/// the instructions counted in [`COUNTED_FN`] over every process, and the child's standard
/// output. A child that fails, a timeout or a missing count is an error with its reason.
pub fn count(
    exe: &Path,
    args: &[String],
    env: &[(&str, String)],
    children: bool,
    timeout: Duration,
) -> Result<(u64, String), String> {
    replaced()?;
    let scratch = Scratch::new()?;
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg("-q")
        .arg(format!(
            "--callgrind-out-file={}/cg.%p",
            scratch.0.display()
        ))
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={COUNTED_FN}"))
        .arg(format!(
            "--trace-children={}",
            if children { "yes" } else { "no" }
        ))
        .arg(exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = output_within(&mut cmd, None, timeout).map_err(|e| {
        if e.contains("did not finish") {
            format!(
                "timed out after {:.0} s under callgrind (--case-timeout)",
                timeout.as_secs_f64()
            )
        } else {
            e
        }
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("the counted run failed ({})", failure(&out)));
    }
    let mut total = 0u64;
    let mut files = 0;
    for e in std::fs::read_dir(&scratch.0).map_err(|e| e.to_string())? {
        let path = e.map_err(|e| e.to_string())?.path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        total += totals(&text).ok_or_else(|| {
            format!(
                "{}: no instruction total in callgrind's output",
                path.display()
            )
        })?;
        files += 1;
    }
    if files == 0 || total == 0 {
        replaced()?;
        return Err(format!(
            "callgrind counted no instruction inside {COUNTED_FN}: was the share run?"
        ));
    }
    Ok((total, stdout))
}

/// Callgrind reads a program's symbols from the file at its path: a build replaced there
/// since the run started cannot be counted as this run's.
fn replaced() -> Result<(), String> {
    match crate::sys::exe::replaced_on_disk() {
        Some(path) => Err(format!(
            "{} was replaced on disk during the run (a rebuild?): callgrind reads the symbols \
             of the file at that path, so this build's instructions cannot be counted; run again",
            path.display()
        )),
        None => Ok(()),
    }
}

/// The `Ir` total of one callgrind output file (its `totals:` line, else `summary:`).
fn totals(text: &str) -> Option<u64> {
    let find = |tag: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(tag))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callgrind_totals_are_read_from_either_line() {
        assert_eq!(totals("events: Ir\nfn=x\n1 5\ntotals: 1234\n"), Some(1234));
        assert_eq!(totals("events: Ir\nsummary: 99\n"), Some(99));
        assert_eq!(totals("events: Ir\n"), None);
    }
}
