//! The executable this process runs, as a path every helper process can start — the very
//! file this process was started from, even after a rebuild replaced it on disk.

use std::path::PathBuf;

/// `/proc/PID/exe` of this process: the kernel opens the file this process was started from,
/// even when `cargo build` has since replaced (renamed over) the path it was started by, so a
/// spawned worker, a lean parent or a counted run never runs another build than the run's.
/// It stays valid while this process lives, which outlives every process it starts; a child
/// under valgrind still finds it (valgrind's own `/proc/self` would not). Elsewhere than Linux
/// (no `/proc`), the path this process was started by.
pub fn host_exe() -> std::io::Result<PathBuf> {
    let own = PathBuf::from(format!("/proc/{}/exe", std::process::id()));
    if own.exists() {
        Ok(own)
    } else {
        std::env::current_exe()
    }
}

/// The path this process was started by, when it no longer holds the file this process runs
/// (a rebuild renamed another file over it, or it was deleted). Programs that read the
/// executable by its name — valgrind reads its symbols so — would read another build.
pub fn replaced_on_disk() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::metadata("/proc/self/exe").ok()?;
    let link = std::fs::read_link("/proc/self/exe").ok()?;
    let text = link.to_string_lossy();
    let path = PathBuf::from(text.strip_suffix(" (deleted)").unwrap_or(&text));
    match std::fs::metadata(&path) {
        Ok(m) if m.dev() == own.dev() && m.ino() == own.ino() => None,
        _ => Some(path),
    }
}

/// Writes out the pages of this process's executable that a fresh build left dirty in the
/// page cache. Until the kernel writes them back on its own (half a minute or more), a spawned
/// worker that alone maps such a page counts it among its private dirty bytes: in a run made
/// right after `cargo build`, 20–270 KiB more per worker, shrinking as the writeback goes on.
/// Best effort: a file that cannot be opened or synced is left as it is.
pub fn settle() {
    if let Ok(exe) = std::fs::File::open("/proc/self/exe") {
        let _ = exe.sync_data();
    }
}
