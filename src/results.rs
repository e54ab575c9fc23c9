//! The results file, schema `threadfork/results/v1`: types, atomic writing, checked loading.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::machine::Machine;
use crate::stats::{Summary, summarize};

pub const SCHEMA: &str = "threadfork/results/v1";

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub schema: String,
    pub run: RunInfo,
    pub machine: Machine,
    pub calibration: Calibration,
    pub measurements: Vec<Measurement>,
    /// Cases that produced no number, with the reason.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Plain-language findings and cases skipped on purpose (e.g. too little memory).
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_s: f64,
    pub args: Vec<String>,
    pub quick: bool,
    pub harness_version: String,
    pub git_commit: String,
    /// True when the run was interrupted and holds only the cases measured until then.
    #[serde(default)]
    pub incomplete: bool,
}

/// A figure measured repeatedly, with its summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub unit: String,
    pub samples: Vec<f64>,
    pub median: f64,
    pub mad: f64,
    pub min: f64,
    pub max: f64,
    pub ci95: [f64; 2],
}

impl Stat {
    pub fn new(unit: &str, samples: Vec<f64>) -> Stat {
        let s = summarize(&samples);
        Stat {
            unit: unit.into(),
            samples,
            median: s.median,
            mad: s.mad,
            min: s.min,
            max: s.max,
            ci95: [s.ci95.0, s.ci95.1],
        }
    }
}

/// The same run's reference figures: what the bare machine does without the harness.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Calibration {
    /// A bare tight loop of squares on one core, in squares per second.
    pub square_loop: Option<Stat>,
    /// The same loop pinned to each allowed CPU in turn, in squares per second, keyed by CPU
    /// number: shows cores that differ in speed (hybrid CPUs, a busy sibling or neighbour).
    #[serde(default)]
    pub per_cpu_loop: BTreeMap<String, Stat>,
    /// The cost of one clock read, in ns.
    pub timer_overhead: Option<Stat>,
    /// Bare roundtrips of the OS primitives, in ns, keyed by model
    /// (threads: pthread_create+join, fork: fork+_exit+waitpid, spawn: posix_spawn+waitpid).
    #[serde(default)]
    pub bare_roundtrip: BTreeMap<String, Stat>,
}

/// What a measurement measures, with its unit and the direction that is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Throughput,
    Startup,
    Roundtrip,
    PeakRss,
    HeapBytes,
    FirstItem,
    LostUpdates,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Throughput,
        Metric::Startup,
        Metric::Roundtrip,
        Metric::PeakRss,
        Metric::HeapBytes,
        Metric::FirstItem,
        Metric::LostUpdates,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::Startup => "startup",
            Metric::Roundtrip => "roundtrip",
            Metric::PeakRss => "peak_rss",
            Metric::HeapBytes => "heap_bytes",
            Metric::FirstItem => "first_item",
            Metric::LostUpdates => "lost_updates",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::Throughput => "ops/s",
            Metric::Startup | Metric::Roundtrip | Metric::FirstItem => "ns",
            Metric::PeakRss | Metric::HeapBytes => "bytes",
            Metric::LostUpdates => "count",
        }
    }

    pub fn better(self) -> Better {
        match self {
            Metric::Throughput => Better::Higher,
            _ => Better::Lower,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One measured figure of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub workload: String,
    pub model: String,
    pub variant: String,
    pub workers: usize,
    pub params: BTreeMap<String, u64>,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub samples: Vec<f64>,
    pub median: f64,
    pub mad: f64,
    pub min: f64,
    pub max: f64,
    pub ci95: [f64; 2],
    pub verified: bool,
    /// The speed of the measuring thread's core (squares/s of a ~0.1 ms bare loop) taken just
    /// before each sample, index for index: lets a comparison tell a slower machine from a
    /// slower harness. Empty where a case has a better reference of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probe: Vec<f64>,
}

/// What identifies a measurement across runs.
pub type Key = (String, String, String, usize, String, BTreeMap<String, u64>);

impl Measurement {
    /// A measurement of `metric` from raw samples (at least one).
    pub fn new(case: &CaseId, metric: Metric, samples: Vec<f64>, verified: bool) -> Measurement {
        let Summary {
            median,
            mad,
            min,
            max,
            ci95,
        } = summarize(&samples);
        Measurement {
            workload: case.workload.clone(),
            model: case.model.clone(),
            variant: case.variant.clone(),
            workers: case.workers,
            params: case.params.clone(),
            metric: metric.name().into(),
            unit: metric.unit().into(),
            better: metric.better(),
            samples,
            median,
            mad,
            min,
            max,
            ci95: [ci95.0, ci95.1],
            verified,
            probe: Vec::new(),
        }
    }

    /// Attaches the per-sample core-speed probe (kept only if it matches the samples).
    pub fn with_probe(mut self, probe: &[f64]) -> Measurement {
        if probe.len() == self.samples.len() {
            self.probe = probe.to_vec();
        }
        self
    }

    pub fn key(&self) -> Key {
        (
            self.workload.clone(),
            self.model.clone(),
            self.variant.clone(),
            self.workers,
            self.metric.clone(),
            self.params.clone(),
        )
    }

    pub fn param(&self, name: &str) -> Option<u64> {
        self.params.get(name).copied()
    }

    /// The case this measurement belongs to.
    pub fn case_id(&self) -> CaseId {
        CaseId {
            workload: self.workload.clone(),
            model: self.model.clone(),
            variant: self.variant.clone(),
            workers: self.workers,
            params: self.params.clone(),
        }
    }
}

/// Everything that names a case except the metric.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    pub workload: String,
    pub model: String,
    pub variant: String,
    pub workers: usize,
    pub params: BTreeMap<String, u64>,
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} / {} / {} / {} worker{}",
            self.workload,
            self.model,
            self.variant,
            self.workers,
            if self.workers == 1 { "" } else { "s" }
        )?;
        for (k, v) in &self.params {
            if k == "parent_rss" || k == "n" {
                write!(f, " / {k}={v}")?;
            }
        }
        Ok(())
    }
}

/// A case that failed, with the reason in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub workload: String,
    pub model: String,
    pub variant: String,
    pub workers: usize,
    pub params: BTreeMap<String, u64>,
    pub reason: String,
}

impl Failure {
    pub fn new(case: &CaseId, reason: String) -> Failure {
        Failure {
            workload: case.workload.clone(),
            model: case.model.clone(),
            variant: case.variant.clone(),
            workers: case.workers,
            params: case.params.clone(),
            reason,
        }
    }
}

/// Why a results file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: not valid JSON ({detail}); the file may be truncated or corrupt")]
    Json { path: PathBuf, detail: String },
    #[error("{path}: not a threadfork results file (no \"schema\" field)")]
    NoSchema { path: PathBuf },
    #[error("{path}: schema \"{found}\" is not supported; this threadfork reads \"{SCHEMA}\"")]
    Schema { path: PathBuf, found: String },
    #[error("{path}: does not match schema {SCHEMA}: {detail}")]
    Shape { path: PathBuf, detail: String },
}

/// Parses results from bytes; `path` names the source in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Results, LoadError> {
    let path = path.to_path_buf();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(LoadError::Empty { path });
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| LoadError::Json {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        None => return Err(LoadError::NoSchema { path }),
        Some(s) if s != SCHEMA => {
            return Err(LoadError::Schema {
                path,
                found: s.chars().take(80).collect(),
            });
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| LoadError::Shape {
        path,
        detail: e.to_string(),
    })
}

/// Loads and checks a results file.
pub fn load(path: &Path) -> Result<Results, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, path)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// that a reader never sees a half-written file, whatever interrupts the writer.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Results {
    /// `<out>/<machine-id>/<run-id>.json`
    pub fn path_in(&self, out: &Path) -> PathBuf {
        out.join(&self.machine.id)
            .join(format!("{}.json", self.run.id))
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(path, &json)
    }

    /// Round by round, what the `workers` fastest allowed cores did alone (the per-CPU bare
    /// loops summed), for a measurement of `rounds` samples taken in the same rounds.
    pub fn cores_reference(&self, rounds: usize, workers: usize) -> Option<Vec<f64>> {
        let per_cpu: Vec<&Vec<f64>> = self
            .calibration
            .per_cpu_loop
            .values()
            .map(|s| &s.samples)
            .collect();
        if per_cpu.is_empty() || per_cpu.iter().any(|xs| xs.len() != rounds) {
            return None;
        }
        let used = workers.min(per_cpu.len());
        Some(
            (0..rounds)
                .map(|i| {
                    let mut speeds: Vec<f64> = per_cpu.iter().map(|xs| xs[i]).collect();
                    speeds.sort_by(|a, b| b.total_cmp(a));
                    speeds[..used].iter().sum()
                })
                .collect(),
        )
    }

    /// Measurements of one workload, metric and model.
    pub fn select<'a>(
        &'a self,
        workload: &'a str,
        metric: Metric,
    ) -> impl Iterator<Item = &'a Measurement> + 'a {
        self.measurements
            .iter()
            .filter(move |m| m.workload == workload && m.metric == metric.name())
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
        let e = parse(br#"{"schema":"threadfork/results/v2"}"#, p).unwrap_err();
        assert!(e.to_string().contains("threadfork/results/v2"));
        let e = parse(br#"{"schema":"threadfork/results/v1"}"#, p).unwrap_err();
        assert!(matches!(e, LoadError::Shape { .. }));
    }

    #[test]
    fn atomic_write_leaves_only_the_final_file() {
        let dir = std::env::temp_dir().join(format!("tf-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("r.json");
        write_atomic(&p, b"{}").unwrap();
        write_atomic(&p, b"[1]").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"[1]");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
