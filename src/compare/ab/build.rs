//! One side's build as a job's report names it: its crate's target, the commit it was built
//! from and a hash of its bytes; and when two builds are one.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One side's build, as its report names it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Build {
    /// "package, bench bank" or "threadfork, bin threadfork".
    pub target: Option<String>,
    /// The commit it was built from, with "-dirty" for uncommitted changes; `None` when the
    /// binary was given and its source is not known.
    pub revision: Option<String>,
    /// FNV-1a of the binary's bytes (16 hex digits).
    pub binary_hash: String,
}

impl Build {
    /// A given binary: its hash, and the host crate's target name when it is this binary.
    pub fn of_file(exe: &Path, target: Option<String>, revision: Option<String>) -> Build {
        Build {
            target,
            revision,
            binary_hash: file_hash(exe).unwrap_or_else(|e| format!("unreadable ({e})")),
        }
    }

    /// "bank (package mine, bench bank), commit 3f2a9c1d00aa-dirty, binary 9e1c…".
    pub fn describe(&self) -> String {
        format!(
            "{}, {}, binary {}",
            self.target.as_deref().unwrap_or("a given binary"),
            self.revision
                .as_deref()
                .map_or("commit unknown".to_string(), |r| format!("commit {r}")),
            self.binary_hash
        )
    }
}

/// Why a job of these two builds can show only noise, when it can: the same bytes, or the
/// same commit built from clean trees.
pub fn same_build(base: &Build, head: &Build) -> Option<String> {
    if base.binary_hash == head.binary_hash {
        return Some(format!(
            "base and head are the same build (binary {}): this job can show only noise",
            base.binary_hash
        ));
    }
    match (&base.revision, &head.revision) {
        (Some(a), Some(b)) if a == b && !a.ends_with("-dirty") => Some(format!(
            "base and head are the same build (commit {a}, clean trees; their bytes differ \
             only where the compiler wrote their folders): this job can show only noise"
        )),
        _ => None,
    }
}

/// FNV-1a 64 of some bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// FNV-1a 64 of a file's bytes.
pub fn file_hash(path: &Path) -> std::io::Result<String> {
    Ok(format!("{:016x}", fnv1a(&std::fs::read(path)?)))
}
