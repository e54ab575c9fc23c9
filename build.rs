//! Records the rustc version and the harness's git commit, for the machine fingerprint.
//!
//! In a git checkout the commit is git's, and the build script runs again when HEAD or the
//! index moves (their real paths: a worktree's `.git` is a file). A packaged crate (from
//! crates.io, or `cargo package`) has no `.git`; its commit is the one `cargo package` wrote
//! into `.cargo_vcs_info.json`. Only files that exist are named for cargo to watch: a missing
//! one would make cargo run this script, and build threadfork again, on every build of a
//! user's crate.

use std::path::Path;
use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The commit `cargo package` recorded (`"sha1": "…"`, and `"dirty": true` for uncommitted
/// changes), as git would print it here.
fn packaged_commit(vcs_info: &str) -> Option<String> {
    let after = vcs_info.split("\"sha1\"").nth(1)?;
    let sha: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_hexdigit())
        .take_while(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    let dirty = vcs_info.contains("\"dirty\": true") || vcs_info.contains("\"dirty\":true");
    (sha.len() == 12).then(|| format!("{sha}{}", if dirty { "-dirty" } else { "" }))
}

fn git_commit() -> Option<String> {
    let commit = output("git", &["rev-parse", "--short=12", "HEAD"])?;
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
    for file in ["HEAD", "index"] {
        if let Some(path) = output("git", &["rev-parse", "--git-path", file])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(format!("{commit}{}", if dirty { "-dirty" } else { "" }))
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    let vcs_info = Path::new(".cargo_vcs_info.json");
    let commit = if vcs_info.is_file() {
        println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
        std::fs::read_to_string(vcs_info)
            .ok()
            .and_then(|text| packaged_commit(&text))
    } else {
        git_commit()
    };
    println!("cargo:rustc-env=THREADFORK_RUSTC={version}");
    println!(
        "cargo:rustc-env=THREADFORK_GIT_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rerun-if-changed=build.rs");
}
