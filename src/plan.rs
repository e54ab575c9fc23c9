//! The resolved plan of a run: workloads × models × variants × worker counts × samples, from
//! validated options. Nothing after this point sees a raw command-line string.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::BadInput;
use crate::model::ModelKind;
use crate::results::CaseId;
use crate::workload::sequence::SequenceVariant;
use crate::workload::{CounterVariant, Hold, Job, WorkloadKind, square};

/// Square tasks per sample, split between the workers: 250,000 tasks of 100 squares take
/// about 30 ms on one current core, long enough that a thread's or process's wake-up skew
/// (tens of µs) stays under 0.5% of a sample, short enough for a quick run.
pub const DEFAULT_TASKS: u64 = 250_000;

/// Counter increments per worker with no hold: about 5–20 ms per worker under contention.
pub const DEFAULT_INCREMENTS: u64 = 100_000;

/// With a hold, increments per worker are chosen so that one worker's holds add up to
/// about this long; a 30 ms sleep gives 3 increments per worker, as in the classic example.
const HOLD_BUDGET_NS: u64 = 100_000_000;

/// Sequence sizes of a full run: 10^3 … 10^8.
pub const FULL_SIZES: [u64; 6] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
/// Sequence sizes of a quick run.
pub const QUICK_SIZES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// One unit of the sweep; each yields one or more measurements.
#[derive(Clone, Debug, PartialEq)]
pub enum Case {
    /// A task workload on a task model with N workers: throughput (and memory).
    Task {
        workload: WorkloadKind,
        model: ModelKind,
        variant: Option<CounterVariant>,
        workers: usize,
    },
    /// Start, empty task, join: startup and roundtrip, with the parent holding `parent_rss`.
    Startup { model: ModelKind, parent_rss: u64 },
    /// A sequence of n items through a lazy, eager or pipeline model.
    Sequence {
        model: ModelKind,
        variant: SequenceVariant,
        n: u64,
        workers: usize,
    },
}

/// Everything a run needs, validated.
#[derive(Clone, Debug)]
pub struct Plan {
    pub quick: bool,
    pub workloads: Vec<WorkloadKind>,
    pub models: Vec<ModelKind>,
    pub workers: Vec<usize>,
    pub samples: usize,
    pub warmup: usize,
    /// Startup cases are cheap: they take more samples.
    pub startup_samples: usize,
    pub pin: bool,
    /// CPUs this process may use; "the machine's cores".
    pub cpus: Vec<usize>,
    pub work: u64,
    pub tasks: u64,
    pub hold: Hold,
    pub increments: u64,
    pub parent_rss: Vec<u64>,
    pub sizes: Vec<u64>,
    pub out: PathBuf,
    pub exe: PathBuf,
    pub case_timeout: Duration,
    pub charts: bool,
    pub args: Vec<String>,
    /// Fault injected into worker 0 of every task sample of one model (tests only).
    pub fault: Option<(crate::model::fault::Fault, ModelKind)>,
}

/// 1, 2, 4, … up to `cores`, then exactly `cores`, then 2×`cores` in a full run.
pub fn default_workers(cores: usize, quick: bool) -> Vec<usize> {
    let cores = cores.max(1);
    let mut v = Vec::new();
    let mut w = 1;
    while w < cores {
        v.push(w);
        w *= 2;
    }
    v.push(cores);
    if !quick {
        v.push(2 * cores);
    }
    v
}

/// Increments per worker for a hold: the default, or as many as fit the hold budget.
pub fn default_increments(hold: Hold) -> u64 {
    match hold.ns() {
        0 => DEFAULT_INCREMENTS,
        ns => (HOLD_BUDGET_NS / ns).clamp(1, DEFAULT_INCREMENTS),
    }
}

impl Plan {
    /// The fault to inject into `model`'s samples, if any (tests only).
    pub fn fault_for(&self, model: ModelKind) -> crate::model::fault::Fault {
        match self.fault {
            Some((f, m)) if m == model => f,
            _ => crate::model::fault::Fault::None,
        }
    }

    /// The cases of this plan, in the order they run.
    pub fn cases(&self) -> Vec<Case> {
        let mut cases = Vec::new();
        for &workload in &self.workloads {
            for &model in self.models.iter().filter(|m| m.runs(workload)) {
                match workload {
                    WorkloadKind::Square => {
                        cases.extend(self.workers.iter().map(|&workers| Case::Task {
                            workload,
                            model,
                            variant: None,
                            workers,
                        }))
                    }
                    WorkloadKind::Counter => {
                        for &variant in model.counter_variants() {
                            cases.extend(self.workers.iter().map(|&workers| Case::Task {
                                workload,
                                model,
                                variant: Some(variant),
                                workers,
                            }))
                        }
                    }
                    WorkloadKind::Sequence => cases.extend(self.sequence_cases(model)),
                }
            }
        }
        if self
            .workloads
            .iter()
            .any(|w| matches!(w, WorkloadKind::Square | WorkloadKind::Counter))
        {
            for &parent_rss in &self.parent_rss {
                for &model in self.models.iter().filter(|m| ModelKind::TASK.contains(m)) {
                    cases.push(Case::Startup { model, parent_rss });
                }
            }
        }
        cases
    }

    fn sequence_cases(&self, model: ModelKind) -> Vec<Case> {
        let mut cases = Vec::new();
        for &n in &self.sizes {
            match model {
                ModelKind::Lazy => {
                    for variant in [SequenceVariant::Range, SequenceVariant::Evens] {
                        cases.push(Case::Sequence {
                            model,
                            variant,
                            n,
                            workers: 1,
                        });
                    }
                }
                ModelKind::Eager => {
                    for variant in [SequenceVariant::Range, SequenceVariant::Evens] {
                        cases.push(Case::Sequence {
                            model,
                            variant,
                            n,
                            workers: 1,
                        });
                    }
                    cases.extend(self.workers.iter().map(|&workers| Case::Sequence {
                        model,
                        variant: SequenceVariant::Squares,
                        n,
                        workers,
                    }));
                }
                ModelKind::Pipeline => {
                    cases.extend(self.workers.iter().map(|&workers| Case::Sequence {
                        model,
                        variant: SequenceVariant::Squares,
                        n,
                        workers,
                    }))
                }
                _ => {}
            }
        }
        cases
    }

    /// The whole job of a task case (split between its workers by the model).
    pub fn job(&self, case: &Case) -> Job {
        match *case {
            Case::Task {
                workload: WorkloadKind::Square,
                ..
            } => Job::Square {
                work: self.work,
                tasks: self.tasks,
            },
            Case::Task {
                variant: Some(variant),
                ..
            } => Job::Counter {
                increments: self.increments,
                hold: self.hold,
                variant,
            },
            _ => Job::Empty,
        }
    }

    /// The case's identity in the results file.
    pub fn case_id(&self, case: &Case) -> CaseId {
        let mut params = BTreeMap::new();
        let (workload, model, variant, workers) = match *case {
            Case::Task {
                workload,
                model,
                variant,
                workers,
            } => {
                match workload {
                    WorkloadKind::Square => {
                        params.insert("work".into(), self.work);
                        params.insert("tasks".into(), self.tasks);
                    }
                    _ => {
                        params.insert("increments".into(), self.increments);
                        params.insert("hold_ns".into(), self.hold.ns());
                        params.insert("hold_sleep".into(), u64::from(self.hold.is_sleep()));
                    }
                }
                let variant = variant.map_or("default", |v| v.name());
                (workload.name(), model, variant, workers)
            }
            Case::Startup { model, parent_rss } => {
                params.insert("parent_rss".into(), parent_rss);
                ("empty", model, "default", 1)
            }
            Case::Sequence {
                model,
                variant,
                n,
                workers,
            } => {
                params.insert("n".into(), n);
                ("sequence", model, variant.name(), workers)
            }
        };
        CaseId {
            workload: workload.into(),
            model: model.name().into(),
            variant: variant.into(),
            workers,
            params,
        }
    }
}

/// Parses a comma-separated list with `item`, naming `flag` in errors.
pub fn parse_list<T>(
    flag: &str,
    text: &str,
    item: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Vec<T>, BadInput> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(BadInput::new(format!("{flag}: empty item in '{text}'")));
        }
        out.push(
            item(part)
                .ok_or_else(|| BadInput::new(format!("{flag}: '{part}' is not {expected}")))?,
        );
    }
    Ok(out)
}

/// Parses a byte size: `0`, `4096`, `64K`, `256M`, `1G`, `1GiB`, `1.5G` (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    let bytes = value * scale as f64;
    (value.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Parses a count: `1000`, `1_000_000`, `1e6`, `10^6`.
pub fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim().replace('_', "");
    if let Some((m, e)) = t
        .split_once(['e', 'E'])
        .or_else(|| t.strip_prefix("10^").map(|e| ("1", e)))
    {
        let m: u64 = m.parse().ok()?;
        let e: u32 = e.parse().ok()?;
        return m.checked_mul(10u64.checked_pow(e)?);
    }
    t.parse().ok()
}

/// Parses a duration: `30s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Work per task must stay where the closed form is exact and a task ends in finite time.
pub fn check_work(work: u64) -> Result<u64, BadInput> {
    if work == 0 || work > 1 << 40 {
        return Err(BadInput::new(format!(
            "--work: must be between 1 and 2^40 squares per task (got {work})"
        )));
    }
    let _ = square::expected_task(work);
    Ok(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_cover_powers_and_the_core_count() {
        assert_eq!(default_workers(2, true), vec![1, 2]);
        assert_eq!(default_workers(2, false), vec![1, 2, 4]);
        assert_eq!(default_workers(6, true), vec![1, 2, 4, 6]);
        assert_eq!(default_workers(1, false), vec![1, 2]);
    }

    #[test]
    fn sizes_counts_and_durations_parse() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_count("1e6"), Some(1_000_000));
        assert_eq!(parse_count("10^3"), Some(1000));
        assert_eq!(parse_count("1_000"), Some(1000));
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), None);
    }

    #[test]
    fn holds_choose_their_increment_counts() {
        assert_eq!(default_increments(Hold::None), DEFAULT_INCREMENTS);
        assert_eq!(default_increments(Hold::Sleep { ns: 30_000_000 }), 3);
        assert_eq!(default_increments(Hold::Sleep { ns: 10_000_000_000 }), 1);
    }

    #[test]
    fn lists_name_the_bad_item() {
        let e =
            parse_list("--workers", "1,x", |s| s.parse::<usize>().ok(), "a number").unwrap_err();
        assert_eq!(e.to_string(), "--workers: 'x' is not a number");
    }
}
