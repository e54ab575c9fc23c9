//! A revision's kept target folder starts from the dependencies the running binary's own build
//! already compiled: the units of every package the host's `Cargo.lock` takes from a registry
//! or a git source, and of its path dependencies outside the repository, are copied from the
//! host's target folder, with their times, before the first build there. Cargo then finds them fresh and compiles only the crate itself (and its
//! path dependencies), not its whole tree again; a first `ab --rev` job saves minutes.
//!
//! A unit of a path package of the repository is never copied: its sources in the worktree are
//! other files than the host's, and cargo decides a path package's freshness by file times
//! alone, so a copied unit could pass for the revision's. Cargo names a unit's files and
//! folders `NAME-HASH` (`.fingerprint/serde-0a1b…`, `deps/libserde-0a1b….rlib`), so the
//! hashes of the allowed packages' fingerprint folders pick every file that belongs to them.

use std::collections::BTreeSet;
use std::fs::{self, File, FileTimes};
use std::io;
use std::path::Path;

/// The profile folder both `cargo bench` and `cargo build --release` write to.
const PROFILE_DIR: &str = "release";

/// The packages whose units a revision's build may take from the host's: those the host's
/// `Cargo.lock` takes from a registry or git, and the path dependencies of its workspace's
/// members that lie outside the repository (`top`), whose sources are the same files for
/// both builds. `metadata` is `cargo metadata --no-deps` of the host.
pub fn shared_packages(metadata: &serde_json::Value, top: &Path) -> BTreeSet<String> {
    let lock = metadata["workspace_root"]
        .as_str()
        .and_then(|root| fs::read_to_string(Path::new(root).join("Cargo.lock")).ok())
        .unwrap_or_default();
    let mut shared = sourced_packages(&lock);
    let members = metadata["packages"].as_array().into_iter().flatten();
    for dep in members.flat_map(|p| p["dependencies"].as_array().into_iter().flatten()) {
        if let (Some(name), Some(path)) = (dep["name"].as_str(), dep["path"].as_str())
            && !Path::new(path).starts_with(top)
        {
            shared.insert(name.to_string());
        }
    }
    shared
}

/// The packages `Cargo.lock` (its text) takes from a registry or git: every `[[package]]`
/// with a `source` line.
fn sourced_packages(lock: &str) -> BTreeSet<String> {
    lock.split("[[package]]")
        .skip(1)
        .filter(|block| block.lines().any(|l| l.starts_with("source = ")))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_string)
        })
        .collect()
}

/// The hash of a unit's file or folder name (`libserde-0a1b2c3d4e5f6a7b.rlib` → `0a1b…`).
fn unit_hash(name: &str) -> Option<&str> {
    let stem = name.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

/// Copies a file or a folder's tree, keeping each file's modification time (cargo compares
/// them).
fn copy_kept_times(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_kept_times(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Ok(());
    }
    fs::copy(from, to)?;
    let times = FileTimes::new()
        .set_modified(meta.modified()?)
        .set_accessed(meta.accessed()?);
    File::options().write(true).open(to)?.set_times(times)
}

/// Seeds `build` (a revision's target folder) from `host_target` (the host's), when `build`
/// has no profile folder yet, with the units of the `shared` packages. Returns the units
/// copied; on an error the partial copy is removed, and the build starts from nothing.
pub fn seed(host_target: &Path, build: &Path, shared: &BTreeSet<String>) -> io::Result<usize> {
    let from = host_target.join(PROFILE_DIR);
    let to = build.join(PROFILE_DIR);
    if to.exists() || !from.join(".fingerprint").is_dir() {
        return Ok(0);
    }
    let mut hashes = BTreeSet::new();
    for entry in fs::read_dir(from.join(".fingerprint"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some((package, hash)) = name.rsplit_once('-')
            && shared.contains(package)
        {
            hashes.insert(hash.to_string());
        }
    }
    let copied = copy_units(&from, &to, &hashes).map(|()| hashes.len());
    if copied.is_err() {
        let _ = fs::remove_dir_all(&to);
    }
    copied
}

/// Copies from one profile folder to another every file and folder of the units `hashes` name.
fn copy_units(from: &Path, to: &Path, hashes: &BTreeSet<String>) -> io::Result<()> {
    for folder in [".fingerprint", "build", "deps"] {
        let source = from.join(folder);
        if !source.is_dir() {
            continue;
        }
        fs::create_dir_all(to.join(folder))?;
        for entry in fs::read_dir(&source)? {
            let name = entry?.file_name();
            if unit_hash(&name.to_string_lossy()).is_some_and(|h| hashes.contains(h)) {
                copy_kept_times(&source.join(&name), &to.join(folder).join(&name))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_packages_with_a_source_are_taken_from_the_lock() {
        let lock = "version = 4\n\n[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n\
                    dependencies = [\n \"serde\",\n]\n\n[[package]]\nname = \"serde\"\n\
                    version = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
                    checksum = \"00\"\n\n[[package]]\nname = \"helper\"\nversion = \"0.2.0\"\n";
        let names: Vec<String> = sourced_packages(lock).into_iter().collect();
        assert_eq!(names, ["serde"]);
    }

    #[test]
    fn path_dependencies_outside_the_repository_are_shared_and_those_inside_are_not() {
        let dir = std::env::temp_dir().join(format!("threadfork-shared-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let lock = "[[package]]\nname = \"rayon\"\nsource = \"registry+x\"\n";
        fs::write(dir.join("Cargo.lock"), lock).unwrap();
        let metadata = serde_json::json!({
            "workspace_root": dir,
            "packages": [{"name": "mine", "dependencies": [
                {"name": "threadfork", "path": "/elsewhere/threadfork-0.1.0"},
                {"name": "helper", "path": "/repo/helper"},
                {"name": "rayon"},
            ]}],
        });
        let shared: Vec<String> = shared_packages(&metadata, Path::new("/repo"))
            .into_iter()
            .collect();
        assert_eq!(shared, ["rayon", "threadfork"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_unit_hash_is_sixteen_hex_digits_after_the_last_dash() {
        assert_eq!(
            unit_hash("libserde_json-0a1b2c3d4e5f6a7b.rlib"),
            Some("0a1b2c3d4e5f6a7b")
        );
        assert_eq!(unit_hash("bank-0a1b2c3d4e5f6a7b"), Some("0a1b2c3d4e5f6a7b"));
        assert_eq!(unit_hash("build-script-build"), None);
        assert_eq!(unit_hash(".cargo-lock"), None);
    }

    #[test]
    fn a_seed_copies_the_allowed_units_with_their_times_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("threadfork-seed-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (host, build) = (dir.join("host"), dir.join("build"));
        let shared = BTreeSet::from(["serde".to_string()]);
        let (dep, own) = ("0a1b2c3d4e5f6a7b", "ffffffffffffffff");
        let profile = host.join(PROFILE_DIR);
        for d in [
            format!(".fingerprint/serde-{dep}"),
            format!(".fingerprint/mine-{own}"),
            "deps".into(),
            format!("build/serde-{dep}/out"),
        ] {
            fs::create_dir_all(profile.join(d)).unwrap();
        }
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        for f in [
            format!(".fingerprint/serde-{dep}/lib-serde"),
            format!("deps/libserde-{dep}.rlib"),
            format!("build/serde-{dep}/out/gen.rs"),
            format!("deps/libmine-{own}.rlib"),
            format!("deps/mine-{own}"),
        ] {
            fs::write(profile.join(&f), &f).unwrap();
            let file = File::options().write(true).open(profile.join(&f)).unwrap();
            file.set_times(FileTimes::new().set_modified(old)).unwrap();
        }
        assert_eq!(seed(&host, &build, &shared).unwrap(), 1);
        let copied = build.join(PROFILE_DIR);
        let rlib = copied.join(format!("deps/libserde-{dep}.rlib"));
        assert_eq!(fs::metadata(&rlib).unwrap().modified().unwrap(), old);
        assert!(
            copied
                .join(format!("build/serde-{dep}/out/gen.rs"))
                .is_file()
        );
        assert!(
            copied
                .join(format!(".fingerprint/serde-{dep}/lib-serde"))
                .is_file()
        );
        assert!(!copied.join(format!("deps/libmine-{own}.rlib")).exists());
        assert!(!copied.join(format!("deps/mine-{own}")).exists());
        assert!(!copied.join(format!(".fingerprint/mine-{own}")).exists());
        // A folder already built is left as it is.
        assert_eq!(seed(&host, &build, &shared).unwrap(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
