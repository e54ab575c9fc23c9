//! Both builds copied side by side into one fresh folder for the job, and the copies that
//! jobs killed outright left behind swept away.

use std::path::PathBuf;

use crate::error::BadInput;

/// Both builds copied side by side into one fresh folder, under names of one length: two
/// files written alike at one moment differ in nothing but their contents. (Run in place, one
/// side forked a small parent 15% slower in A/A jobs here: the side whose file was also the
/// orchestrator's.) The head's copy is made from the head's executable itself.
pub struct Copies {
    dir: PathBuf,
    pub base: PathBuf,
    pub head: PathBuf,
}

impl Copies {
    pub fn new(base: &std::path::Path, head: &std::path::Path) -> Result<Copies, BadInput> {
        Copies::sweep_orphans();
        let dir = std::env::temp_dir().join(format!(
            "threadfork-ab-{}-{:08x}",
            std::process::id(),
            crate::stats::random_u64() as u32
        ));
        let made = std::fs::create_dir_all(&dir).map(|()| Copies {
            base: dir.join("a"),
            head: dir.join("b"),
            dir: dir.clone(),
        });
        let copies =
            made.map_err(|e| BadInput::new(format!("ab: cannot make {}: {e}", dir.display())))?;
        for (from, to, what) in [
            (base, &copies.base, "base binary"),
            (head, &copies.head, "head binary"),
        ] {
            std::fs::copy(from, to).map_err(|e| {
                BadInput::new(format!(
                    "ab: cannot copy the {what} '{}': {e}",
                    from.display()
                ))
            })?;
        }
        Ok(copies)
    }
}

impl Copies {
    /// Removes the copies a job killed with SIGKILL left (its sides died with it, by their
    /// death signal; a folder cannot): every `threadfork-ab-PID-…` of a PID that is gone, made
    /// over an hour ago (a job in another PID namespace, whose PID this one cannot see, is
    /// not swept while it may still run).
    fn sweep_orphans() {
        const STALE: std::time::Duration = std::time::Duration::from_secs(3600);
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("threadfork-ab-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE));
            if let Some(pid) = pid
                && stale
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

impl Drop for Copies {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
