//! `ab --rev REV` (and `--head-rev REV`): a side built by threadfork itself from a revision of
//! the host's own crate — threadfork here, the user's crate for a bench binary made with
//! `threadfork::main!`. The revision is checked out in a git worktree (outside the repository:
//! [`worktrees`]) and built, in a target folder of its own that the next job reuses (its first
//! build starts from the dependencies the host's target folder already holds: `seed`), into
//! the same target (bin or bench) as the running binary; cargo's JSON messages name the executable, never a guess at its hash.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::compare::ab::build::Build;
use crate::error::BadInput;

/// What `threadfork::main!` records of the crate it is expanded in, at compile time: the
/// package, its manifest folder and the target (a bench's name, or a bin's).
#[derive(Clone, Copy, Debug)]
pub struct HostCrate {
    pub package: &'static str,
    pub manifest_dir: &'static str,
    /// The target's crate name (`-` written `_`).
    pub target: &'static str,
    /// Set for a bin target (its name); a bench binary has none.
    pub bin: Option<&'static str>,
}

static HOST: OnceLock<HostCrate> = OnceLock::new();

/// Called by `threadfork::main!` before anything else.
pub fn set_host_crate(host: HostCrate) {
    let _ = HOST.set(host);
}

/// The crate this binary was built from, when `main!` said it.
pub fn host_crate() -> Option<HostCrate> {
    HOST.get().copied()
}

/// "mine, bench bank": the host's target as a report names it.
pub fn target_name(host: &HostCrate) -> String {
    match host.bin {
        Some(bin) => format!("{}, bin {bin}", host.package),
        None => format!("{}, bench {}", host.package, host.target),
    }
}

fn bad(text: String) -> anyhow::Error {
    BadInput::new(text).into()
}

/// Runs git in `dir`; its trimmed output, or why not.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The commit the host's folder holds now, with "-dirty" for uncommitted changes to tracked
/// files: what the running binary was built from, as far as git can tell.
pub fn working_revision(host: &HostCrate) -> Option<String> {
    let dir = Path::new(host.manifest_dir);
    let sha = git(dir, &["rev-parse", "--short=12", "HEAD"]).ok()?;
    let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    Some(if dirty { format!("{sha}-dirty") } else { sha })
}

/// Builds `rev` of the host's crate for side `side` ("base" or "head"); the executable and
/// its build.
pub fn build_rev(rev: &str, side: &str) -> anyhow::Result<(PathBuf, Build)> {
    let flag = if side == "base" {
        "--rev"
    } else {
        "--head-rev"
    };
    let host = host_crate().ok_or_else(|| {
        bad(format!(
            "{flag}: this binary does not know its crate (made without threadfork::main!)"
        ))
    })?;
    let manifest = Path::new(host.manifest_dir);
    let top = git(manifest, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        bad(format!(
            "{flag}: {} is not in a git repository ({e})",
            manifest.display()
        ))
    })?;
    let sha = git(
        manifest,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| bad(format!("{flag}: '{rev}' is not a revision of {top}")))?;
    let short = sha.get(..12).unwrap_or(&sha).to_string();
    let inside = manifest
        .strip_prefix(&top)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (host_target, metadata) = cargo_metadata(manifest)?;
    let kept = host_target.join("threadfork-ab");
    let tree = worktrees(&top).join(format!("src-{short}"));
    if !tree.join(&inside).join("Cargo.toml").is_file() {
        let _ = std::fs::remove_dir_all(&tree);
        let _ = git(Path::new(&top), &["worktree", "prune"]);
        git(
            Path::new(&top),
            &[
                "worktree",
                "add",
                "--detach",
                "--force",
                &tree.to_string_lossy(),
                &sha,
            ],
        )
        .map_err(|e| anyhow::anyhow!("{flag}: cannot check out {rev} ({short}): {e}"))?;
    }
    eprintln!(
        "threadfork ab: building {rev} ({short}) of {} for the {side} side",
        target_name(&host)
    );
    let build_dir = kept.join(format!("build-{side}"));
    let shared = super::seed::shared_packages(&metadata, Path::new(&top));
    if let Ok(units) = super::seed::seed(&host_target, &build_dir, &shared)
        && units > 0
    {
        eprintln!(
            "threadfork ab: {units} dependency builds taken from {}",
            host_target.display()
        );
    }
    let exe = cargo_build(&tree.join(&inside), &build_dir, &host)
        .map_err(|e| anyhow::anyhow!("{flag}: building {rev} ({short}): {e}"))?;
    let build = Build::of_file(&exe, Some(target_name(&host)), Some(short));
    Ok((exe, build))
}

/// Removes the worktree [`build_rev`] checked `sha` out in: `history --revs` builds each
/// commit of a range once and keeps its run, not its sources (the build folder stays).
pub fn drop_worktree(sha: &str) {
    let Some(host) = host_crate() else { return };
    let Ok(top) = git(
        Path::new(host.manifest_dir),
        &["rev-parse", "--show-toplevel"],
    ) else {
        return;
    };
    let short = sha.get(..12).unwrap_or(sha);
    let tree = worktrees(&top).join(format!("src-{short}"));
    let _ = git(
        Path::new(&top),
        &["worktree", "remove", "--force", &tree.to_string_lossy()],
    );
}

/// The cargo that built this binary (`CARGO`, set by `cargo bench` and `cargo run`), else
/// the one on PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Where a repository's revisions are checked out: outside it, in the system's temporary
/// folder (one folder per repository). Cargo reads `.cargo/config.toml` in every folder above
/// where it runs; a worktree inside the repository (under its target folder) would take the
/// working copy's settings beside the revision's own, so a base would be built with flags a
/// pull request adds, and the job could not see what they change.
fn worktrees(top: &str) -> PathBuf {
    let repo = crate::compare::ab::build::fnv1a(top.as_bytes());
    std::env::temp_dir().join(format!("threadfork-worktrees-{repo:016x}"))
}

/// The host crate's target folder (cargo's `target_directory`), where the kept builds live,
/// and the rest of `cargo metadata --no-deps`.
fn cargo_metadata(manifest: &Path) -> anyhow::Result<(PathBuf, serde_json::Value)> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| bad(format!("--rev: cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(bad(format!(
            "--rev: cargo metadata failed in {}",
            manifest.display()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let target = v["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| bad("--rev: cargo metadata gave no target folder".into()))?;
    Ok((target, v))
}

/// Builds the host's target in `dir` into `target`, in the profile `cargo bench` (or, for
/// threadfork's own bin, `cargo build --release`) uses; the executable cargo names.
fn cargo_build(dir: &Path, target: &Path, host: &HostCrate) -> Result<PathBuf, String> {
    let mut cmd = cargo();
    match host.bin {
        Some(bin) => cmd.args(["build", "--release", "--bin", bin]),
        None => cmd.args(["bench", "--no-run", "--bench", host.target]),
    };
    let out = cmd
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo ended with {}", out.status));
    }
    let wanted = host.bin.unwrap_or(host.target);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact")
        .filter(|v| {
            v["target"]["name"].as_str().map(|n| n.replace('-', "_"))
                == Some(wanted.replace('-', "_"))
        })
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built no executable named {wanted}"))
}
