//! Reading and writing results files: atomic, never-replacing saves; loads that are bounded
//! in size, accept regular files only, and upgrade schema v1 to v2.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::schema::{Calibration, Results, SCHEMA, SCHEMA_V1, Stat};

/// The largest results file a load accepts: a full run on 256 cores is a few MiB.
pub const MAX_RESULTS_BYTES: u64 = 64 << 20;

/// Why a results file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path}: larger than {MAX_RESULTS_BYTES} bytes; not a threadfork results file")]
    TooLarge { path: PathBuf },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: not valid JSON ({detail}); the file may be truncated or corrupt")]
    Json { path: PathBuf, detail: String },
    #[error("{path}: not a threadfork results file (no \"schema\" field)")]
    NoSchema { path: PathBuf },
    #[error(
        "{path}: schema \"{found}\" is not supported; this threadfork reads \"{SCHEMA}\" and \"{SCHEMA_V1}\""
    )]
    Schema { path: PathBuf, found: String },
    #[error("{path}: does not match schema {SCHEMA}: {detail}")]
    Shape { path: PathBuf, detail: String },
}

/// Schema v1's calibration: one bare loop (the square workload's, the only one v1 had) and
/// its per-CPU copies.
#[derive(Deserialize)]
struct CalibrationV1 {
    square_loop: Option<Stat>,
    #[serde(default)]
    per_cpu_loop: BTreeMap<String, Stat>,
    timer_overhead: Option<Stat>,
    #[serde(default)]
    bare_roundtrip: BTreeMap<String, Stat>,
}

/// The workload whose loop v1's `square_loop` and `per_cpu_loop` measured.
const V1_LOOP_WORKLOAD: &str = "square";

fn upgrade_v1(mut value: serde_json::Value, path: &Path) -> Result<Results, LoadError> {
    let shape = |e: serde_json::Error| LoadError::Shape {
        path: path.to_path_buf(),
        detail: one_line(e),
    };
    let cal = value
        .get_mut("calibration")
        .map(serde_json::Value::take)
        .unwrap_or(serde_json::Value::Null);
    let cal: CalibrationV1 = serde_json::from_value(cal).map_err(shape)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("calibration".into(), serde_json::json!({}));
        obj.insert("schema".into(), SCHEMA.into());
    }
    let mut r: Results = serde_json::from_value(value).map_err(shape)?;
    r.calibration = Calibration {
        bare_loop: cal
            .square_loop
            .map(|s| BTreeMap::from([(V1_LOOP_WORKLOAD.to_string(), s)]))
            .unwrap_or_default(),
        per_cpu_loop: if cal.per_cpu_loop.is_empty() {
            BTreeMap::new()
        } else {
            BTreeMap::from([(V1_LOOP_WORKLOAD.to_string(), cal.per_cpu_loop)])
        },
        probe: None,
        probe_kind: None,
        timer_overhead: cal.timer_overhead,
        bare_roundtrip: cal.bare_roundtrip,
    };
    for m in &mut r.measurements {
        // v1 listed exactly the figures the table lists.
        m.info = !m.metric.is_judged();
        // v1's per-sample "probe" was a square loop, in squares per second: another
        // instrument than v2's frozen probe, so no v2 figure may be divided by it.
        m.probe.clear();
    }
    Ok(r)
}

/// A parser's message made safe for one line of stderr: control characters (the file's own
/// text may be quoted in it) become spaces, and it is cut short.
fn one_line(detail: impl std::fmt::Display) -> String {
    let text: String = detail
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// Parses results from bytes; `path` names the source in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Results, LoadError> {
    let path = path.to_path_buf();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(LoadError::Empty { path });
    }
    // The schema first, skipping the rest unread (and checking the syntax on the way), so that
    // a current file is read once, straight into its types: a history reads a thousand.
    #[derive(serde::Deserialize)]
    struct SchemaOnly {
        schema: Option<serde_json::Value>,
    }
    let head: SchemaOnly = match serde_json::from_slice(bytes) {
        Ok(h) => h,
        // Not an object (or not JSON at all): the syntax error, else no schema.
        Err(e) => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Err(_) => {
                return Err(LoadError::Json {
                    path,
                    detail: one_line(e),
                });
            }
            Ok(_) => SchemaOnly { schema: None },
        },
    };
    let r = match head.schema.as_ref().and_then(|s| s.as_str()) {
        None => return Err(LoadError::NoSchema { path }),
        Some(SCHEMA_V1) => {
            let value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| LoadError::Json {
                    path: path.clone(),
                    detail: one_line(e),
                })?;
            upgrade_v1(value, &path)?
        }
        Some(SCHEMA) => serde_json::from_slice(bytes).map_err(|e| LoadError::Shape {
            path: path.clone(),
            detail: one_line(e),
        })?,
        Some(s) => {
            return Err(LoadError::Schema {
                path,
                found: one_line(s.chars().take(80).collect::<String>()),
            });
        }
    };
    check(&r).map_err(|detail| LoadError::Shape {
        path,
        detail: one_line(detail),
    })?;
    Ok(r)
}

/// What serde cannot check: ids that become paths are safe slugs, numbers are finite.
fn check(r: &Results) -> Result<(), String> {
    for (what, id) in [("run.id", &r.run.id), ("machine.id", &r.machine.id)] {
        if !is_safe_id(id) {
            return Err(format!(
                "{what} {:?} is not a safe name (letters, digits, '-', '_', '.'; no leading '.')",
                id.chars().take(60).collect::<String>()
            ));
        }
    }
    for m in &r.measurements {
        let summary = [m.median, m.mad, m.min, m.max, m.ci95[0], m.ci95[1]];
        let mut all = m.samples.iter().chain(&m.probe).chain(&summary);
        if m.samples.is_empty() || all.any(|x| !x.is_finite()) {
            return Err(format!(
                "{} / {}: samples empty or not finite",
                m.case, m.metric
            ));
        }
    }
    Ok(())
}

/// A name that may become a file or folder name: 1–100 of `[A-Za-z0-9._-]`, not starting with
/// a dot (so neither `..` nor a hidden file).
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Loads and checks a results file: a regular file of at most [`MAX_RESULTS_BYTES`].
pub fn load(path: &Path) -> Result<Results, LoadError> {
    let read = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read)?;
    let meta = f.metadata().map_err(read)?;
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            read(std::io::Error::from_raw_os_error(nix::libc::EISDIR))
        } else {
            LoadError::NotAFile {
                path: path.to_path_buf(),
            }
        });
    }
    // Sized once from the file's length: a thousand-run history reads every byte of each.
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_RESULTS_BYTES + 1) as usize + 1);
    f.take(MAX_RESULTS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    let bytes = unpacked(bytes).map_err(read)?;
    if bytes.len() as u64 > MAX_RESULTS_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    parse(&bytes, path)
}

/// A file's bytes as written: a gzip stream (a `.json.gz` kept compressed) is inflated, up
/// to one byte past [`MAX_RESULTS_BYTES`] so that the caller can refuse a larger one; any
/// other bytes are returned as they are.
pub fn unpacked(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .take(MAX_RESULTS_BYTES + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Whether a file's name is that of a results file: `*.json`, or `*.json.gz` kept
/// compressed.
pub fn is_results_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// A temporary name beside `path` that no other writer uses: hidden, with this process's id
/// and random bits.
fn temp_beside(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dir.join(format!(
        ".{name}.tmp-{}-{:08x}",
        std::process::id(),
        crate::stats::random_u64() as u32
    ))
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `bytes` through a temporary file in the same folder, synced, then moved into place
/// and the folder synced, so that a reader never sees a half-written file and a crash never
/// leaves one. `replace` false refuses to replace an existing file (`AlreadyExists`). The
/// temporary file never survives a failure.
pub fn write_atomic_with(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if replace {
            std::fs::rename(&tmp, path)?;
        } else {
            // A hard link fails if `path` exists: the new file never replaces another.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)?;
        }
        sync_dir(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_atomic_with`], replacing an existing file (charts, index.html).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, bytes, true)
}

impl Results {
    /// `<out>/<machine-id>/<run-id>.json`
    pub fn path_in(&self, out: &Path) -> PathBuf {
        out.join(&self.machine.id)
            .join(format!("{}.json", self.run.id))
    }

    /// Saves a run; never replaces an existing file (another run's, with the same id). The
    /// folder is made again if another run, finding it empty, took it away meanwhile.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        write_atomic_with(path, &json, false)
    }

    /// Saves over an existing file of this run (e.g. to mark it incomplete after the fact).
    pub fn save_over(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        write_atomic(path, &json)
    }
}

/// Days since 1970-01-01 to a civil (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (RFC 3339 timestamp, compact id stamp) for a wall-clock time.
pub fn timestamps(t: std::time::SystemTime) -> (String, String) {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, mo, da) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let (h, mi, se) = (s / 3600, s % 3600 / 60, s % 60);
    (
        format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{se:02}Z"),
        format!("{y:04}{mo:02}{da:02}T{h:02}{mi:02}{se:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_by_hand() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_311_485);
        assert_eq!(timestamps(t).0, "2026-11-22T01:38:05Z");
    }

    #[test]
    fn loader_names_the_problem() {
        let p = Path::new("x.json");
        assert!(matches!(parse(b"", p), Err(LoadError::Empty { .. })));
        assert!(matches!(parse(b"{\"sch", p), Err(LoadError::Json { .. })));
        assert!(matches!(parse(b"{}", p), Err(LoadError::NoSchema { .. })));
        let e = parse(br#"{"schema":"threadfork/results/v3"}"#, p).unwrap_err();
        assert!(e.to_string().contains("threadfork/results/v3"));
        let e = parse(br#"{"schema":"threadfork/results/v2"}"#, p).unwrap_err();
        assert!(matches!(e, LoadError::Shape { .. }));
        let e = parse(br#"{"schema":"threadfork/results/v1"}"#, p).unwrap_err();
        assert!(matches!(e, LoadError::Shape { .. }));
    }

    #[test]
    fn ids_that_would_leave_a_folder_are_unsafe() {
        for bad in ["", "..", "../x", "/tmp/x", ".hidden", "a/b", "a b"] {
            assert!(!is_safe_id(bad), "{bad}");
        }
        assert!(is_safe_id("20261122T030436Z-488d"));
        assert!(is_safe_id("vm-amd-epyc"));
    }

    #[test]
    fn atomic_writes_leave_only_the_final_file_and_never_replace_a_run() {
        let dir = std::env::temp_dir().join(format!("tf-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("r.json");
        write_atomic(&p, b"{}").unwrap();
        write_atomic(&p, b"[1]").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"[1]");
        let e = write_atomic_with(&p, b"[2]", false).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"[1]");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
