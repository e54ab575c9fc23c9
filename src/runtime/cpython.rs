//! `--runtime cpython`: the classic Python examples run by CPython itself, through the driver
//! shipped in `python/threadfork_driver.py` (standard library only), beside the Rust figures.
//! The driver reports raw timestamps and counts; threadfork checks every checksum and total
//! with the same closed forms as the Rust side, computes the statistics and writes the same
//! schema, with the interpreter (implementation, version, GIL on or off) on every figure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::api::study::{CaseOutcome, Study, StudyPlan, StudyRun};
use crate::error::BadInput;
use crate::results::{CaseId, Measurement, Metric};
use crate::sys::command::{failure, output_within};

/// The driver, built into every threadfork binary (a user's bench too) and written to a
/// temporary file for the interpreter.
pub const DRIVER: &str = include_str!("../../python/threadfork_driver.py");

/// The models, by the names `--model` accepts.
pub const MODELS: [&str; 8] = [
    "cpython-sequential",
    "cpython-threads",
    "cpython-fork",
    "cpython-spawn",
    "cpython-thread-pool",
    "cpython-process-pool",
    "cpython-list",
    "cpython-generator",
];

/// How long an interpreter may take to answer `--runtime`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The shortest sample a CPython case is sized for: waking a thread or a process through a
/// `threading` / `multiprocessing` Event takes up to milliseconds, which would be a large
/// share of a Rust-sized sample.
const MIN_SAMPLE_NS: u64 = 100_000_000;

/// Beyond a sample's own timeout, what one driver call may add: the interpreter's start and
/// a process pool's.
const CALL_SLACK: Duration = Duration::from_secs(10);

/// The classic example's task: `square_numbers(100)`.
const WORK: u64 = 100;

/// Sequence sizes of a quick and of a full run.
const QUICK_SIZES: [u64; 2] = [1_000, 1_000_000];
const FULL_SIZES: [u64; 4] = [1_000, 100_000, 1_000_000, 10_000_000];

/// What the interpreter says it is.
#[derive(Clone, Debug, Deserialize)]
pub struct Interpreter {
    pub implementation: String,
    pub version: String,
    pub gil: bool,
    pub executable: String,
}

impl Interpreter {
    /// `cpython 3.11.7 (GIL)` or `cpython 3.13.0 (free-threaded)`.
    pub fn label(&self) -> String {
        format!(
            "{} {} ({})",
            self.implementation,
            self.version,
            if self.gil { "GIL" } else { "free-threaded" }
        )
    }
}

/// The driver's file: one per driver text, named by its hash in the temp folder and never
/// removed, so that a threadfork killed by SIGKILL leaves no file behind that a later run would
/// not reuse. (A file it must be: multiprocessing's spawn start re-reads the main module.)
struct DriverFile(PathBuf);

impl DriverFile {
    fn new() -> Result<DriverFile, String> {
        let hash = crate::exec::region::name_hash(DRIVER);
        let path = std::env::temp_dir().join(format!("threadfork-driver-{hash:016x}.py"));
        if std::fs::read(&path).is_ok_and(|b| b == DRIVER.as_bytes()) {
            return Ok(DriverFile(path));
        }
        // Written beside and renamed: two runs starting at once each see a whole file.
        let tmp = path.with_extension(format!("{}.tmp", crate::stats::random_u64()));
        std::fs::write(&tmp, DRIVER)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{}: {e}", path.display())
            })?;
        Ok(DriverFile(path))
    }
}

/// The driver's command: it asks the kernel to end it when this process dies (its workers do
/// the same with it), so a SIGKILL of threadfork leaves no Python process running.
fn driver_command(python: &Path, driver: &DriverFile) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(&driver.0)
        .env("THREADFORK_PARENT", std::process::id().to_string());
    cmd
}

/// The CPython runtime: an interpreter that answered, and the driver it runs.
pub struct CPython {
    python: PathBuf,
    driver: DriverFile,
    pub interpreter: Interpreter,
}

impl CPython {
    /// Checks that `python` runs the driver and says what it is; bad input otherwise.
    pub fn new(python: &Path) -> Result<CPython, BadInput> {
        let bad = |why: String| {
            BadInput::new(format!(
                "--python: '{}' cannot run threadfork's Python driver: {why}",
                python.display()
            ))
        };
        let driver = DriverFile::new().map_err(bad)?;
        let mut cmd = driver_command(python, &driver);
        cmd.arg("--runtime");
        let out = output_within(&mut cmd, None, PROBE_TIMEOUT).map_err(bad)?;
        if !out.status.success() {
            return Err(bad(format!("it exited with {}", failure(&out))));
        }
        #[derive(Deserialize)]
        struct Answer {
            runtime: Interpreter,
        }
        let answer: Answer = serde_json::from_slice(&out.stdout)
            .map_err(|_| bad("it did not answer as a Python 3 interpreter does".into()))?;
        Ok(CPython {
            python: python.to_path_buf(),
            driver,
            interpreter: answer.runtime,
        })
    }

    /// One driver call: the request in, the report out, within `timeout`.
    fn call(&self, request: &serde_json::Value, timeout: Duration) -> Result<Report, String> {
        let mut cmd = driver_command(&self.python, &self.driver);
        let input = request.to_string();
        let out = output_within(&mut cmd, Some(input.as_bytes()), timeout + CALL_SLACK)?;
        if !out.status.success() {
            return Err(format!("the Python driver failed ({})", failure(&out)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!("the Python driver printed something that is not its report ({e})")
        })
    }
}

/// A driver's report.
#[derive(Debug, Deserialize)]
struct Report {
    samples: Vec<serde_json::Value>,
}

/// One worker's raw figures.
#[derive(Debug, Deserialize)]
struct Worker {
    requested_ns: u64,
    started_ns: u64,
    end_ns: u64,
    ops: u64,
    checksum: u64,
}

/// One task sample's raw figures.
#[derive(Debug, Deserialize)]
struct TaskSample {
    release_ns: u64,
    workers: Vec<Worker>,
    #[serde(default)]
    shared: Option<u64>,
}

/// One sequence sample's raw figures.
#[derive(Debug, Deserialize)]
struct SeqSample {
    getsizeof: u64,
    heap_bytes: u64,
    first_item_ns: u64,
    elapsed_ns: u64,
    items: u64,
    sum: u64,
}

/// Worker k of n's share of `total`, as the driver splits it.
fn split(total: u64, k: usize, n: usize) -> u64 {
    total / n as u64 + u64::from((k as u64) < total % n as u64)
}

/// One case of the runtime.
#[derive(Clone, Debug)]
struct PyCase {
    workload: &'static str,
    model: &'static str,
    workers: usize,
    /// square: tasks per sample; counter: increments per worker; sequence: n.
    size: u64,
    hold: Hold,
    /// sequence: the even numbers of 0..n only (the classic filter).
    evens: bool,
}

impl PyCase {
    fn id(&self) -> CaseId {
        let (variant, params) = match self.workload {
            "square" => ("default", BTreeMap::from([("work".to_string(), WORK)])),
            // The classic example's increment without the sleep: hold 0, as Rust's default.
            "counter" => (
                "lock",
                BTreeMap::from([
                    ("hold_ns".to_string(), self.hold.ns),
                    ("hold_sleep".to_string(), u64::from(self.hold.sleep)),
                ]),
            ),
            _ => (
                if self.evens { "evens" } else { "range" },
                BTreeMap::from([("n".to_string(), self.size)]),
            ),
        };
        CaseId {
            workload: self.workload.into(),
            model: self.model.into(),
            variant: variant.into(),
            workers: self.workers,
            params,
        }
    }

    fn driver_model(&self) -> &'static str {
        self.model.trim_start_matches("cpython-")
    }

    fn request(&self) -> serde_json::Value {
        let params = match self.workload {
            "square" => serde_json::json!({"work": WORK, "tasks": self.size}),
            "counter" => serde_json::json!({
                "increments": self.size,
                "hold_ns": self.hold.ns,
                "hold_sleep": u64::from(self.hold.sleep),
            }),
            _ => serde_json::json!({"n": self.size, "evens": u64::from(self.evens)}),
        };
        serde_json::json!({
            "workload": self.workload,
            "model": self.driver_model(),
            "workers": self.workers,
            "samples": 1,
            "warmup": 0,
            "params": params,
        })
    }
}

/// What one sample of a task case gave: (throughput in ops/s, startup of worker 0 in ns,
/// ops), after its checks.
fn task_figures(case: &PyCase, raw: &serde_json::Value) -> Result<(f64, f64, u64), String> {
    let s: TaskSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    let n = case.workers;
    if s.workers.len() != n {
        return Err(format!(
            "the driver reported {} workers of {n}",
            s.workers.len()
        ));
    }
    for (k, w) in s.workers.iter().enumerate() {
        let (ops, checksum) = match case.workload {
            "square" => {
                let tasks = split(case.size, k, n);
                let expected = crate::builtin::square::expected_task(WORK).wrapping_mul(tasks);
                (tasks * WORK, Some(expected))
            }
            _ => (case.size, None),
        };
        if w.ops != ops {
            return Err(format!("worker {k} counted {} ops, expected {ops}", w.ops));
        }
        if let Some(c) = checksum.filter(|c| *c != w.checksum) {
            return Err(format!(
                "square checksum mismatch in worker {k}: got {}, expected {c}",
                w.checksum
            ));
        }
    }
    if case.workload == "counter" {
        let expected = case.size * n as u64;
        if s.shared != Some(expected) {
            return Err(format!(
                "the locked counter ended at {:?}, expected exactly {expected}",
                s.shared
            ));
        }
    }
    let ops: u64 = s.workers.iter().map(|w| w.ops).sum();
    let end = s.workers.iter().map(|w| w.end_ns).max().unwrap_or(0);
    let secs = end.saturating_sub(s.release_ns).max(1) as f64 / 1e9;
    let w0 = &s.workers[0];
    Ok((
        ops as f64 / secs,
        w0.started_ns.saturating_sub(w0.requested_ns) as f64,
        ops,
    ))
}

/// A sequence sample, checked: its sum and count in closed form.
fn seq_figures(case: &PyCase, raw: &serde_json::Value) -> Result<SeqSample, String> {
    let s: SeqSample = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the driver's sample is malformed: {e}"))?;
    let n = case.size;
    // 0..n sums to n(n-1)/2; its m = ⌈n/2⌉ even numbers 0, 2, … to m(m-1).
    let (items, expected) = if case.evens {
        let m = n.div_ceil(2);
        (m, u128::from(m) * u128::from(m.saturating_sub(1)))
    } else {
        (n, u128::from(n) * u128::from(n.saturating_sub(1)) / 2)
    };
    let expected = expected as u64;
    if s.items != items || s.sum != expected {
        return Err(format!(
            "the sequence summed to {} over {} items, expected {expected} over {items}",
            s.sum, s.items
        ));
    }
    Ok(s)
}

/// The CPython runtime as a study beside the Rust workloads: its measurements carry the
/// workload names `square`, `counter` and `sequence`, so they share the Rust figures' tables
/// and charts.
pub struct CPythonStudy {
    pub cp: CPython,
    /// The counter's hold (`--hold`).
    pub hold: Hold,
    /// The workloads chosen (`--workload`): `square` (and `empty`, whose start costs the
    /// Python square cases give), `counter`, `sequence`.
    pub workloads: Vec<&'static str>,
}

/// How long the Python counter holds its lock per increment, and whether it sleeps (the
/// classic example's `time.sleep(0.03)`) or busy-waits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hold {
    pub ns: u64,
    pub sleep: bool,
}

impl CPythonStudy {
    fn cases(&self, plan: &StudyPlan<'_>) -> Vec<PyCase> {
        let chosen = |w: &str| self.workloads.contains(&w);
        let sizes: &[u64] = match (plan.sizes, plan.quick) {
            ([], true) => &QUICK_SIZES,
            ([], false) => &FULL_SIZES,
            (given, _) => given,
        };
        let mut out = Vec::new();
        for &model in plan.models {
            let Some(model) = MODELS.iter().copied().find(|m| *m == model) else {
                continue;
            };
            match model {
                "cpython-list" | "cpython-generator" if chosen("sequence") => {
                    for &n in sizes {
                        for evens in [false, true] {
                            out.push(PyCase {
                                workload: "sequence",
                                model,
                                workers: 1,
                                size: n,
                                hold: self.hold,
                                evens,
                            });
                        }
                    }
                }
                "cpython-list" | "cpython-generator" => {}
                _ => {
                    for &workers in plan.workers {
                        let task = |workload| PyCase {
                            workload,
                            model,
                            workers,
                            size: 0,
                            hold: self.hold,
                            evens: false,
                        };
                        if chosen("square") || chosen("empty") {
                            out.push(task("square"));
                        }
                        if !model.ends_with("pool") && chosen("counter") {
                            out.push(task("counter"));
                        }
                    }
                }
            }
        }
        out
    }

    /// Sizes the task cases by time: one sample of each workload on each model at one
    /// worker gives its pace on this interpreter (a process pool's per-task cost is a hundred
    /// times a loop's); a sample then lasts about the sample time at one worker.
    fn size(&self, plan: &StudyPlan<'_>, cases: &mut [PyCase]) -> Result<(), String> {
        let target_s = plan.sample_ns.max(MIN_SAMPLE_NS) as f64 / 1e9;
        let mut paces: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for c in cases.iter_mut().filter(|c| c.workload != "sequence") {
            let key = (c.workload, c.model);
            let size = match paces.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => *e.get(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let probe = PyCase {
                        workers: 1,
                        size: match (c.workload, c.hold.ns) {
                            ("square", _) => 500,
                            (_, 0) => 20_000,
                            // A held lock (30 ms per increment in the classic example).
                            _ => 3,
                        },
                        ..c.clone()
                    };
                    let report = self.cp.call(&probe.request(), plan.timeout)?;
                    let first = report.samples.first().ok_or("the driver sent no sample")?;
                    let (rate, _, _) = task_figures(&probe, first)?;
                    let per_unit = if c.workload == "square" {
                        WORK as f64
                    } else {
                        1.0
                    };
                    *e.insert(((rate * target_s / per_unit).ceil() as u64).max(1))
                }
            };
            // Tasks are split between the workers; increments are per worker.
            c.size = if c.workload == "square" {
                size.max(c.workers as u64)
            } else {
                (size / c.workers as u64).max(1)
            };
        }
        Ok(())
    }
}

/// Per case, what the rounds gathered.
#[derive(Default)]
struct Acc {
    throughput: Vec<f64>,
    startup: Vec<f64>,
    ops: u64,
    sizeof: Vec<f64>,
    heap: Vec<f64>,
    first: Vec<f64>,
    failed: Option<String>,
}

impl Study for CPythonStudy {
    fn name(&self) -> &'static str {
        "cpython"
    }
    fn op(&self) -> &'static str {
        "ops"
    }
    fn describe(&self) -> &'static str {
        "the classic Python examples run by CPython: square_numbers with threading.Thread, \
         multiprocessing.Process (fork and spawn) and concurrent.futures pools; the database \
         increment under threading.Lock and multiprocessing.Lock with a shared Value; a list \
         built by append against a generator"
    }
    fn models(&self) -> &'static [&'static str] {
        &MODELS
    }
    fn steps(&self, plan: &StudyPlan<'_>) -> u64 {
        (self.cases(plan).len() * plan.samples) as u64
    }
    fn estimate_s(&self, plan: &StudyPlan<'_>) -> f64 {
        // An interpreter start per sample (~30 ms), a sample, and a process start per worker
        // for the process models (~60 ms for spawn).
        self.cases(plan)
            .iter()
            .map(|c| {
                let sample_s = plan.sample_ns.max(MIN_SAMPLE_NS) as f64 / 1e9;
                let per = 0.05 + sample_s + 0.08 * c.workers as f64;
                per * plan.samples as f64
            })
            .sum()
    }

    fn run(&self, plan: &StudyPlan<'_>, run: &mut StudyRun<'_>) -> Vec<(CaseId, CaseOutcome)> {
        let mut cases = self.cases(plan);
        if let Err(e) = self.size(plan, &mut cases) {
            return cases.iter().map(|c| (c.id(), Err(e.clone()))).collect();
        }
        let mut accs: Vec<Acc> = cases.iter().map(|_| Acc::default()).collect();
        // Round by round, like the Rust cases: a drifting machine hits every case alike. No
        // warm-up round: every sample is a fresh interpreter anyway.
        for _ in 0..plan.samples {
            for (c, acc) in cases.iter().zip(accs.iter_mut()) {
                if run.stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                run.bar.set_message(format!("{}", c.id()));
                run.bar.inc(1);
                if acc.failed.is_some() {
                    continue;
                }
                let sample = self
                    .cp
                    .call(&c.request(), plan.timeout)
                    .and_then(|r| r.samples.into_iter().next().ok_or("no sample".into()));
                let result = sample.and_then(|raw| {
                    if c.workload == "sequence" {
                        let s = seq_figures(c, &raw)?;
                        acc.sizeof.push(s.getsizeof as f64);
                        acc.heap.push(s.heap_bytes as f64);
                        acc.first.push(s.first_item_ns as f64);
                        acc.throughput
                            .push(s.items as f64 / (s.elapsed_ns.max(1) as f64 / 1e9));
                        acc.ops = s.items;
                    } else {
                        let (t, st, ops) = task_figures(c, &raw)?;
                        acc.throughput.push(t);
                        acc.startup.push(st);
                        acc.ops = ops;
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    acc.failed = Some(e);
                }
            }
        }
        let label = self.cp.interpreter.label();
        cases
            .iter()
            .zip(accs)
            .map(|(c, a)| {
                let id = c.id();
                if let Some(why) = a.failed {
                    return (id, Err(why));
                }
                if a.throughput.is_empty() {
                    return (id, Err("interrupted".into()));
                }
                let mut ms = vec![Measurement::new(
                    &id,
                    Metric::Throughput,
                    a.throughput,
                    true,
                )];
                ms[0].ops_per_sample = Some(a.ops);
                let starts = matches!(c.driver_model(), "threads" | "fork" | "spawn");
                if c.workload == "square" && c.workers == 1 && starts {
                    // Request → the worker's first instruction does not depend on what the
                    // worker then does: filed beside Rust's start costs (the `empty`
                    // workload), on one chart.
                    let start = CaseId {
                        workload: "empty".into(),
                        variant: "default".into(),
                        params: BTreeMap::from([("parent_rss".to_string(), 0)]),
                        ..id.clone()
                    };
                    ms.push(Measurement::new(&start, Metric::Startup, a.startup, true));
                }
                if c.workload == "sequence" {
                    ms.push(Measurement::new(&id, Metric::Getsizeof, a.sizeof, true));
                    ms.push(Measurement::new(&id, Metric::HeapBytes, a.heap, true));
                    ms.push(Measurement::new(&id, Metric::FirstItem, a.first, true));
                }
                for m in &mut ms {
                    m.runtime = Some(label.clone());
                    m.op = Some(
                        match c.workload {
                            "square" => "squares",
                            "counter" => "increments",
                            _ => "items",
                        }
                        .into(),
                    );
                }
                (id, Ok(ms))
            })
            .collect()
    }

    fn findings(&self, measurements: &[&Measurement]) -> Vec<String> {
        gil_findings(measurements, &self.cp.interpreter)
    }
}

/// What the GIL does, in words: CPython threads' speedup over sequential at the largest
/// worker count against its processes'.
fn gil_findings(ms: &[&Measurement], interp: &Interpreter) -> Vec<String> {
    let thr = |model: &str, workers: usize| {
        ms.iter()
            .find(|m| {
                m.case.workload == "square"
                    && m.case.model == model
                    && m.case.workers == workers
                    && m.metric == "throughput"
            })
            .map(|m| m.median)
    };
    let Some(n) = ms
        .iter()
        .filter(|m| m.case.workload == "square" && m.case.model == "cpython-threads")
        .map(|m| m.case.workers)
        .max()
        .filter(|&n| n > 1)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let (Some(rust), Some(py)) = (
        ms.iter()
            .find(|m| {
                m.case.workload == "square"
                    && m.case.model == "sequential"
                    && m.case.workers == 1
                    && m.metric == "throughput"
            })
            .map(|m| m.median),
        thr("cpython-sequential", 1),
    ) {
        out.push(format!(
            "square_numbers on one core: Rust runs {:.0}× as many squares per second as {} \
             ({} against {}).",
            rust / py,
            interp.label(),
            crate::units::rate_of(rust, "squares"),
            crate::units::rate_of(py, "squares")
        ));
    }
    if let (Some(seq), Some(t), Some(f)) = (
        thr("cpython-sequential", n),
        thr("cpython-threads", n),
        thr("cpython-fork", n),
    ) {
        let what = if interp.gil {
            "the GIL lets one thread run Python code at a time"
        } else {
            "this interpreter is free-threaded (no GIL)"
        };
        out.push(format!(
            "{}: square_numbers on {n} threads runs at {:.2}× sequential, on {n} forked \
             processes at {:.2}× — {what}.",
            interp.label(),
            t / seq,
            f / seq
        ));
    }
    out
}
