//! The lean parent: start-up, roundtrip and the bare primitive loops measured from a fresh
//! process of the host binary (threadfork's own or a user's bench) that holds nothing but the
//! ballast and idle threads asked for — no pools, no workers of earlier cases, no results.
//! `fork` copies the page tables of everything its parent maps, so a start-up measured from
//! the orchestrator itself would depend on whatever ran before it.
//!
//! The orchestrator starts `EXE __threadfork-lean PARENT_PID` in a process group of its own,
//! writes one [`Spec`] line and reads one [`LeanAnswer`] line; the lean parent then exits. It
//! dies with the orchestrator, and the orchestrator kills its whole group on Ctrl-C or when it
//! does not answer in time, so that no lean parent (or worker of one) outlives the run.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::api::Model;
use crate::api::workload::{Verdict, WorkloadRef};
use crate::exec::bare::Primitive;
use crate::exec::testing::Fault;
use crate::exec::{Job, RawSample, executor, take_sample};
use crate::measure::ballast::Ballast;
use crate::measure::rss::parent_state;
use crate::results::ParentState;

/// The hidden first argument that makes a host binary a lean parent.
pub const LEAN_ARG: &str = "__threadfork-lean";

/// The most samples a start-up case takes to fill its time (`Spec::fill_ms`).
pub const STARTUP_SAMPLES_MAX: usize = 400;

/// The line a lean parent writes when it is ready and after each sample: it is alive.
const PROGRESS: &str = "progress";

/// How long a lean parent may go without a sign of life beyond its samples' own deadlines:
/// its start, and the touching of its ballast.
const LEAN_SLACK: Duration = Duration::from_secs(10);

/// What the orchestrator hands the lean parent: one start-up case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    pub workload: String,
    pub params: Vec<u64>,
    pub model: String,
    /// Ballast to hold, in bytes: touched private memory.
    pub parent_rss: u64,
    /// Idle threads to hold beside the one that starts the workers.
    pub parent_threads: usize,
    pub warmup: usize,
    pub samples: usize,
    /// Past `samples`, more while the kept ones have run less than this many ms, up to
    /// [`STARTUP_SAMPLES_MAX`] in all.
    #[serde(default)]
    pub fill_ms: u64,
    /// A sample's deadline, in ms.
    pub timeout_ms: u64,
    /// The binary the spawn model starts (the run's copy of the host binary).
    pub exe: PathBuf,
    /// The run's injected slowdown (tests and sensitivity scripts only).
    pub slowdown: Option<String>,
    /// Tests only: the lean parent hangs (`hang`) or dies (`crash`) instead of measuring.
    pub fault: Option<String>,
}

/// What the lean parent answers: each series index for index with the samples.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LeanAnswer {
    /// Why the case failed, in the lean parent's words.
    pub error: Option<String>,
    pub startup: Vec<f64>,
    pub roundtrip: Vec<f64>,
    /// The bare loops, by variant name.
    pub bare: Vec<(String, Vec<f64>)>,
    pub probes: Vec<f64>,
    /// Every sample passed its workload's check.
    pub verified: bool,
    pub parent: ParentState,
}

/// The lean parent's `main`: reads its spec, measures, answers, returns the exit code.
pub fn lean_main(rest: &[String], find: impl Fn(&str) -> Option<WorkloadRef>) -> i32 {
    let mut out = match crate::sys::stdout::take_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("threadfork lean parent: cannot set up its answer's descriptor: {e}");
            return 1;
        }
    };
    let Some(parent) = rest.first().and_then(|p| p.parse::<i32>().ok()) else {
        eprintln!("threadfork lean parent: the parent's pid must come first");
        return 2;
    };
    if !crate::exec::children::die_with_parent(parent) {
        return 1;
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let mut tick = || {
        let _ = writeln!(out, "{PROGRESS}").and_then(|()| out.flush());
    };
    let figures = match read {
        Ok(_) => match serde_json::from_str::<Spec>(&line) {
            Ok(spec) => measure(&spec, &find, &mut tick).unwrap_or_else(failed),
            Err(e) => failed(format!("not a start-up spec ({e})")),
        },
        Err(e) => failed(format!("cannot read its spec: {e}")),
    };
    let code = i32::from(figures.error.is_some());
    let sent = serde_json::to_string(&figures)
        .map_err(std::io::Error::other)
        .and_then(|text| writeln!(out, "{text}"))
        .and_then(|()| out.flush());
    if sent.is_err() { 1 } else { code }
}

fn failed(why: String) -> LeanAnswer {
    LeanAnswer {
        error: Some(why),
        ..LeanAnswer::default()
    }
}

/// Threads that do nothing until dropped: the other threads of a busy parent.
struct Idle {
    stop: Option<mpsc::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Idle {
    fn start(n: usize) -> Result<Idle, String> {
        let (tx, rx) = mpsc::channel::<()>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = (0..n)
            .map(|k| {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("idle-{k}"))
                    .spawn(move || {
                        // Blocks until the sender is dropped: no work, no wake-ups.
                        let _ = rx.lock().map(|r| r.recv());
                    })
                    .map_err(|e| format!("cannot start idle thread {k}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Idle {
            stop: Some(tx),
            threads,
        })
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        self.stop.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Measures the spec's case in this process: each sample of the workload's start-up beside one
/// of each bare loop, in alternating order, after one start that is not kept, with the
/// core-speed probe and the parent's state before; as many as [`Quota`] asks.
fn measure(
    spec: &Spec,
    find: &impl Fn(&str) -> Option<WorkloadRef>,
    tick: &mut dyn FnMut(),
) -> Result<LeanAnswer, String> {
    let (model, workload) = prepare(spec, find)?;
    let base = parent_state().map_or(0, |s| s.0);
    let ballast = Ballast::new(spec.parent_rss).map_err(|e| format!("{e:#}"))?;
    let idle = Idle::start(spec.parent_threads)?;
    let timeout = Duration::from_millis(spec.timeout_ms);
    let job = Job {
        variant: 0,
        timeout,
        fault: Fault::None,
        ..Job::new(&workload, &spec.params, 1, &spec.exe)
    };
    let mut exec = executor(model);
    exec.open(&job).map_err(|e| e.to_string())?;
    let bare = Primitive::for_model(model, &spec.exe);
    let mut f = LeanAnswer {
        bare: bare
            .iter()
            .map(|(v, _)| (v.to_string(), Vec::new()))
            .collect(),
        verified: true,
        parent: ParentState {
            base_rss_bytes: base,
            ballast_bytes: ballast.len() as u64,
            ..ParentState::default()
        },
        ..LeanAnswer::default()
    };
    let bare_all =
        || -> Result<Vec<f64>, String> { bare.iter().map(|(_, b)| b.roundtrip(timeout)).collect() };
    tick();
    let mut quota = Quota::new(spec);
    for i in 0usize.. {
        if !quota.more(i) {
            break;
        }
        tick();
        let state = parent_state();
        // The core's speed of the moment, beside the sample: the judge of a start cost.
        let p = crate::measure::probe::probe();
        // One start just before, not kept: the probe and the progress line leave the other
        // core idle, and a start right after that is slower than one among other starts (a
        // thread started here after 0.1 ms of spinning took up to 18% longer, after 0.3 ms
        // asleep 23-38%), which is what a loop of starts, as the C reference, measures.
        warm(exec.as_mut(), &job)?;
        // Alternate which goes first: whatever one leaves behind (a child's teardown, a
        // freed stack) then weighs on both alike.
        let (raw, b) = if i % 2 == 0 {
            let raw = take_sample(exec.as_mut(), &job).map_err(|e| e.to_string())?;
            (raw, bare_all()?)
        } else {
            let b = bare_all()?;
            (
                take_sample(exec.as_mut(), &job).map_err(|e| e.to_string())?,
                b,
            )
        };
        if let Verdict::Failed(why) = &raw.verdict {
            return Err(why.clone());
        }
        if i >= spec.warmup {
            let state = state.ok_or("cannot read /proc/self/statm")?;
            f.keep(state, p, &raw, b);
        }
    }
    exec.close();
    drop(idle);
    drop(ballast);
    Ok(f)
}

/// How many samples a case takes: its warm-up, then at least its samples, and more while the
/// kept ones have run less than the spec's fill time, up to [`STARTUP_SAMPLES_MAX`].
struct Quota {
    warmup: usize,
    samples: usize,
    fill: Duration,
    kept_since: Instant,
}

impl Quota {
    fn new(spec: &Spec) -> Quota {
        Quota {
            warmup: spec.warmup,
            samples: spec.samples,
            fill: Duration::from_millis(spec.fill_ms),
            kept_since: Instant::now(),
        }
    }

    /// Whether round `i` (counted from 0, warm-up included) is to be taken.
    fn more(&mut self, i: usize) -> bool {
        if i == self.warmup {
            self.kept_since = Instant::now();
        }
        let kept = i.saturating_sub(self.warmup);
        kept < self.samples || kept < STARTUP_SAMPLES_MAX && self.kept_since.elapsed() < self.fill
    }
}

impl LeanAnswer {
    /// Adds a later lean parent's figures of the same case after these, series by series;
    /// the parent's base and ballast stay the first parent's (each held the same ballast).
    pub fn append(&mut self, mut later: LeanAnswer) {
        self.verified &= later.verified;
        self.startup.append(&mut later.startup);
        self.roundtrip.append(&mut later.roundtrip);
        self.probes.append(&mut later.probes);
        for ((_, xs), (_, mut ys)) in self.bare.iter_mut().zip(later.bare) {
            xs.append(&mut ys);
        }
        let (p, q) = (&mut self.parent, &mut later.parent);
        p.rss_bytes.append(&mut q.rss_bytes);
        p.mapped_bytes.append(&mut q.mapped_bytes);
        p.threads.append(&mut q.threads);
    }

    /// Keeps one round's figures: the parent's state and the probe before it, the sample,
    /// and the bare loops beside it.
    fn keep(
        &mut self,
        (rss, mapped, threads): (u64, u64, u64),
        probe: Option<f64>,
        raw: &RawSample,
        bare: Vec<f64>,
    ) {
        self.verified &= raw.verdict != Verdict::Unverified;
        self.probes.extend(probe);
        self.parent.rss_bytes.push(rss);
        self.parent.mapped_bytes.push(mapped);
        self.parent.threads.push(threads);
        let w = raw.workers[0];
        self.startup
            .push(w.started_ns.saturating_sub(w.requested_ns) as f64);
        self.roundtrip
            .push(w.joined_ns.saturating_sub(w.requested_ns) as f64);
        for ((_, xs), x) in self.bare.iter_mut().zip(bare) {
            xs.push(x);
        }
    }
}

/// One untimed start of the case, failed only if the workload's check failed.
fn warm(exec: &mut dyn crate::exec::Executor, job: &Job<'_>) -> Result<(), String> {
    match take_sample(exec, job).map_err(|e| e.to_string())?.verdict {
        Verdict::Failed(why) => Err(why),
        _ => Ok(()),
    }
}

/// Measures `spec` with `workload` in this process, not in a lean parent: for a library caller
/// whose binary is no host binary (a test harness); the parent's state is recorded as it is.
pub fn measure_here(spec: &Spec, workload: &WorkloadRef) -> Result<LeanAnswer, String> {
    measure(spec, &|_: &str| Some(workload.clone()), &mut || {})
}

/// The spec's model and workload, its injected slowdown set, its fault (tests only) struck.
fn prepare(
    spec: &Spec,
    find: &impl Fn(&str) -> Option<WorkloadRef>,
) -> Result<(Model, WorkloadRef), String> {
    let model = Model::parse(&spec.model).ok_or_else(|| format!("no model {}", spec.model))?;
    let workload = find(&spec.workload)
        .ok_or_else(|| format!("this binary has no workload {}", spec.workload))?;
    if let Some(s) = &spec.slowdown {
        crate::exec::testing::set_slowdown(Some(
            crate::exec::testing::Slowdown::parse(s).map_err(|e| e.to_string())?,
        ));
    }
    match spec.fault.as_deref() {
        Some("hang") => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        Some("crash") => std::process::abort(),
        _ => {}
    }
    Ok((model, workload))
}

/// Runs `spec` in a lean parent started from `spec.exe` and returns its figures. The case
/// fails with a reason, and the lean parent's whole process group is killed, when the run is
/// interrupted (`stop`), when the lean parent dies, or when it gives no sign of life for
/// longer than one round of samples may take (each bounded by the spec's timeout) and
/// a slack of ten seconds.
pub fn run_lean(spec: &Spec, stop: &AtomicBool) -> Result<LeanAnswer, String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(&spec.exe)
        .arg(LEAN_ARG)
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start a lean parent ({}): {e}", spec.exe.display()))?;
    let guard = Group(&mut child);
    let line = serde_json::to_string(spec).map_err(|e| e.to_string())?;
    if let Some(mut input) = guard.0.stdin.take() {
        // A lean parent that died at once is reported below, from its exit.
        let _ = writeln!(input, "{line}");
    }
    let stdout = guard
        .0
        .stdout
        .take()
        .ok_or("the lean parent has no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Up to the answer only: a spawned worker may hold the pipe open after the lean
        // parent is gone.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let answer = line != PROGRESS;
            if tx.send(line).is_err() || answer {
                break;
            }
        }
    });
    // One round: the start not kept, the sample and at most two bare loops, each bounded by
    // the timeout.
    let round = Duration::from_millis(spec.timeout_ms) * 4;
    let mut until = Instant::now() + round + LEAN_SLACK;
    let answer = loop {
        if stop.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) if line == PROGRESS => until = Instant::now() + round + LEAN_SLACK,
            Ok(line) => break line,
            Err(mpsc::RecvTimeoutError::Disconnected) => break String::new(),
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= until => {
                return Err(format!(
                    "the lean parent gave no sign of life for {:.0} s and was stopped",
                    (round + LEAN_SLACK).as_secs_f64()
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    };
    let status = guard.finish();
    if answer.trim().is_empty() {
        // Nothing in threadfork kills a lean parent that still answers: a SIGKILL came from
        // outside, most often the kernel's out-of-memory killer.
        let hint = if status.contains("SIGKILL") {
            format!(
                "; a SIGKILL from outside threadfork, as the kernel sends when memory runs out \
                 (the case holds {} of parent memory)",
                crate::units::bytes(spec.parent_rss as f64)
            )
        } else {
            String::new()
        };
        return Err(format!(
            "the lean parent ended ({status}) before it answered{hint}"
        ));
    }
    let figures: LeanAnswer = serde_json::from_str(&answer)
        .map_err(|e| format!("the lean parent answered something else ({e})"))?;
    match figures.error {
        Some(why) => Err(why),
        None => Ok(figures),
    }
}

/// A lean parent's process group, killed and reaped when dropped unless it ended on its own.
struct Group<'a>(&'a mut Child);

impl Group<'_> {
    /// Waits a little for the lean parent to exit after its answer, then kills its group;
    /// returns how it ended.
    fn finish(self) -> String {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(s)) = self.0.try_wait() {
                self.kill_group();
                return s.to_string();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        "did not exit".into()
    }

    fn kill_group(&self) {
        let pgid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        self.kill_group();
        let _ = self.0.wait();
    }
}
