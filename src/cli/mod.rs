//! The command line: raw flags (clap), their resolution into a [`Plan`], and the one place
//! where errors become a single stderr line and an exit code. [`run_main`] is what every host
//! binary — threadfork's own and a user's bench — runs.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{Model, Registry};
use crate::error::{BadInput, EXIT_BAD_INPUT, EXIT_FAILED};
use crate::exec::fault::Fault;
use crate::exec::spawn::{WORKER_ARG, worker_main};
use crate::export;
use crate::machine;
use crate::sweep::plan::{self, Plan, Selected, SelectedStudy, parse_list};

mod ab;

#[derive(Parser, Debug)]
#[command(
    name = "threadfork",
    version,
    about = "What threads, processes and lazy pipelines really cost on this machine",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the benchmarks, write results/MACHINE/RUN.json and print a summary
    Run(Box<RunArgs>),
    /// Draw charts and index.html for one run, or overlay several runs
    Report(ReportArgs),
    /// Compare two runs (files, or folders holding runs): verdicts and exit code 0/1/2
    Compare(CompareArgs),
    /// Measure a base build against this one side by side, sample by sample (A/B): verdicts
    /// and exit code 0/1/2 as compare
    Ab(Box<AbArgs>),
    /// Print this machine's fingerprint
    Machine {
        /// Print it as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the workloads this binary runs, with their parameters, variants and models
    List,
    /// Fit the Universal Scalability Law to every throughput curve of a results file
    Scaling {
        /// A results file (from any machine)
        #[arg(value_name = "RESULTS.json")]
        file: PathBuf,
        /// Print the fits as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Results files (one: its charts; several: the same charts overlaid)
    #[arg(required = true, value_name = "RESULTS.json")]
    pub files: Vec<PathBuf>,
    /// Folder for the charts [default: beside the JSON for one run; results/overlay-… for several]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// The baseline, then the run to judge (last). A baseline may be several results files
    /// or folders: every run of one machine in them counts, and each key is then judged
    /// against its spread between those runs (3 or more). The run to judge is a results file,
    /// or a folder whose newest run is taken
    #[arg(value_name = "BASE... CURRENT", num_args = 2.., required = true)]
    pub paths: Vec<PathBuf>,
    /// Smallest change that counts, e.g. 5% or 0.05
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub threshold: String,
    /// Smallest change that counts for exact instruction counts (`run --instructions`)
    #[arg(long, value_name = "PCT", default_value = "1%")]
    pub instructions_threshold: String,
    /// Print a Markdown table (for a CI step summary or a PR comment)
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print a machine-readable JSON verdict
    #[arg(long)]
    pub json: bool,
    /// Judge absolute figures even when the runs come from different machines
    #[arg(long)]
    pub absolute: bool,
    /// Do not fail (exit 1) because the current run has failed cases
    #[arg(long)]
    pub allow_failed: bool,
    /// Do not fail (exit 1) because the current run lacks keys the baseline has (same machine)
    #[arg(long)]
    pub allow_missing: bool,
    /// Compare an incomplete (interrupted) run instead of refusing it (exit 2)
    #[arg(long)]
    pub allow_incomplete: bool,
}

#[derive(Args, Debug, Clone)]
pub struct AbArgs {
    /// The base build (A): a threadfork binary, or a user's bench binary, built from the base
    /// revision; this binary is the head (B)
    #[arg(value_name = "BASE_BINARY")]
    pub base: PathBuf,
    /// Smallest change that counts, e.g. 1% or 0.01
    #[arg(long, value_name = "PCT", default_value = "1%")]
    pub threshold: String,
    /// The job's time: each epoch stops taking pairs at its share of it, the pairs taken
    /// are judged and the rows they cannot decide are listed as undecided ("none": no limit)
    #[arg(long, value_name = "TIME", default_value = "110s")]
    pub budget: String,
    /// Print the Markdown report only (for a CI step summary or a PR comment)
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print a machine-readable JSON verdict
    #[arg(long)]
    pub json: bool,
    /// Judge a saved job again (BASE_BINARY is then its results file, ab-….json), e.g. at
    /// another --threshold; nothing is measured
    #[arg(long)]
    pub judge: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Fewer samples and worker counts: a pass in seconds
    #[arg(long)]
    pub quick: bool,
    /// Workloads to run (comma-separated or repeated; `list` shows them) [default: all]
    #[arg(long, value_name = "LIST")]
    pub workload: Vec<String>,
    /// Models to run: sequential, threads, fork, spawn, the pools (thread-pool, rayon,
    /// process-pool: each pattern -map, -as-completed, -submit-wait, or all three by the
    /// pool's name) and the studies' own [default: all]
    #[arg(long, value_name = "LIST")]
    pub model: Vec<String>,
    /// Worker counts, e.g. 1,2,4 [default: 1, 2, 4, … and the core count; 2× cores in full runs]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub workers: Option<String>,
    /// Samples per case after warm-up [default: 5 quick, 10 full]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub samples: Option<String>,
    /// Pin worker k to the k-th CPU: spread (distinct physical cores first, the default) or
    /// compact (a core's SMT siblings first)
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "spread")]
    pub pin: Option<String>,
    /// A workload parameter, NAME=VALUE (repeatable; `list` shows each workload's)
    #[arg(long = "param", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub params: Vec<String>,
    /// Shorthand for --param work=N: squares per square task [default: 100]; a list
    /// (1,10,100,1000,10000,100000) sweeps the task size of every workload with a `work`
    /// parameter and reports each model's break-even task size
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub work: Option<String>,
    /// Units per task on the pools (Pool.map's chunksize) [default: 1]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub chunk: Option<String>,
    /// Shorthand for --param tasks=N: square tasks per sample, split between the workers
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub tasks: Option<String>,
    /// Counter hold inside the lock: 0, a busy-wait in ns (500ns) or a sleep (30us, 30ms)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub hold: Option<String>,
    /// Shorthand for --param increments=N: counter increments per worker [default: 100000, fewer with a hold]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub increments: Option<String>,
    /// Parent memory held while measuring startup, e.g. 0,256M,1G [default: 0,1G quick; 0,256M,1G full]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub parent_rss: Option<String>,
    /// Sizes n for the studies, e.g. 1e3,1e6 [default: 10^3…10^6 quick, 10^3…10^8 full]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub sizes: Option<String>,
    /// How long a sample lasts: the work of a workload whose size was not given is calibrated
    /// to it [default: 15ms quick, 50ms full]
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub sample_time: Option<String>,
    /// How a sample's work grows with workers: strong (calibrated per case to the sample time)
    /// or weak (each worker gets what one core does in the sample time)
    #[arg(long, value_name = "MODE", default_value = "strong")]
    pub scaling: String,
    /// Give up on a sample after this long and record the case as failed
    #[arg(
        long,
        value_name = "TIME",
        default_value = "60s",
        allow_hyphen_values = true
    )]
    pub case_timeout: String,
    /// Folder for results (DIR/MACHINE-ID/RUN-ID.json)
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Do not draw the charts and index.html
    #[arg(long)]
    pub no_charts: bool,
    /// Tests only: make worker 0 of every task sample of MODEL panic, abort, kill, exit or hang
    #[arg(long, hide = true, value_name = "KIND:MODEL")]
    pub inject_fault: Option<String>,
    /// Tests only: a real slowdown of PCT% in workload code, fork/spawn start-up or the
    /// process-shared lock (code=PCT, start=PCT, lock=PCT); the run is marked and refused as a
    /// baseline
    #[arg(long, hide = true, value_name = "TARGET=PCT")]
    pub inject_slowdown: Option<String>,
    /// Count instructions instead of timing: every task case at 1 worker under valgrind's
    /// callgrind (exact, repeatable figures for noisy CI machines; metric `instructions`)
    #[arg(long)]
    pub instructions: bool,
    /// Runtimes to run: rust (threadfork's own workloads), cpython (the classic Python
    /// examples through python/threadfork_driver.py) [default: rust]
    #[arg(long, value_name = "LIST")]
    pub runtime: Vec<String>,
    /// The Python interpreter for --runtime cpython
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
}

/// What a host binary's `main` runs: a spawned worker's re-entry when the first argument says
/// so (before anything else), else threadfork's command line over `registry`'s workloads.
/// `cargo bench` adds `--bench`, which is dropped; with no command, `run` is meant.
pub fn run_main(registry: Registry) -> ExitCode {
    run_main_at(crate::measure::clock::now_ns(), registry)
}

/// [`run_main`] with the clock already read at the top of `main`: the spawn model's startup
/// ends at that read, the worker's first instruction.
#[doc(hidden)]
pub fn run_main_at(started_ns: u64, registry: Registry) -> ExitCode {
    crate::exec::panics::install_hook();
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == crate::exec::count::COUNT_ARG)
    {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let code = crate::exec::count::count_main(&rest, |name| registry.find(name).cloned());
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    if args
        .get(1)
        .is_some_and(|a| a == crate::host::protocol::SERVE_ARG)
    {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return ExitCode::from(ab::serve_main(&rest, &registry));
    }
    if args.get(1).is_some_and(|a| a == WORKER_ARG) {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let code = worker_main(started_ns, &rest, |name| registry.find(name).cloned());
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    if let Some(p) = registry.problems().first() {
        eprintln!("threadfork: error: {p}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let bench = args.iter().any(|a| a == "--bench");
    args.retain(|a| a != "--bench");
    if bench {
        let _ = COMMAND.set(bench_command(args.first()));
    }
    if bench && args.len() == 1 {
        args.push("run".into());
    }
    ExitCode::from(main(args, &registry))
}

/// How the user runs this command line, for hints in messages: `threadfork`, or in a bench
/// binary `cargo bench --bench NAME --`.
static COMMAND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `cargo bench --bench NAME --` for the bench binary at `argv0` (cargo names it
/// `NAME-HASH`).
fn bench_command(argv0: Option<&OsString>) -> String {
    let stem = argv0
        .map(Path::new)
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    };
    format!("cargo bench --bench {name} --")
}

/// `threadfork SUBCOMMAND`, as the user would type it here.
pub(crate) fn hint(subcommand: &str) -> String {
    let command = COMMAND.get().map_or("threadfork", String::as_str);
    format!("see {command} {subcommand}")
}

/// Parses `args`, runs, and returns the process exit code.
pub fn main(args: Vec<OsString>, registry: &Registry) -> u8 {
    crate::sys::signals::ignore_file_size_signal();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprintln!(
                    "threadfork: error: a command is required: run, ab, report, compare, machine, list or scaling ({})",
                    hint("--help")
                );
                return EXIT_BAD_INPUT;
            }
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("threadfork: error: {first} ({})", hint("--help"));
            return EXIT_BAD_INPUT;
        }
    };
    let arg_strings: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match dispatch(cli, arg_strings, registry) {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("threadfork: error: {msg}");
            if e.downcast_ref::<BadInput>().is_some() {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILED
            }
        }
    }
}

fn dispatch(cli: Cli, args: Vec<String>, registry: &Registry) -> Result<u8> {
    match cli.command {
        Command::Run(run) => run_command(&run, args, registry),
        Command::List => {
            print!("{}", list(registry));
            Ok(0)
        }
        Command::Scaling { file, json } => scaling_command(&file, json),
        Command::Compare(c) => compare_command(&c),
        Command::Ab(a) => ab::ab_command(&a, args, registry),
        Command::Report(r) => report_command(&r),
        Command::Machine { json } => {
            let m = machine::fingerprint();
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                print_machine(&m);
            }
            Ok(0)
        }
    }
}

fn print_machine(m: &machine::Machine) {
    println!("id              {}", m.id);
    println!("hostname        {}", m.hostname);
    println!("cpu             {}", m.cpu_brand);
    println!(
        "cores           {} logical, {} physical, {} allowed to this process",
        m.logical_cores,
        m.physical_cores.map_or("?".into(), |p| p.to_string()),
        m.allowed_cpus.len()
    );
    if let Some(t) = &m.topology {
        let cores: Vec<String> = t
            .cores
            .iter()
            .map(|c| {
                format!(
                    "[{}]",
                    c.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        println!(
            "topology        {} physical cores of the allowed CPUs, {}: {}",
            t.cores.len(),
            if t.smt { "SMT on" } else { "no SMT" },
            cores.join(" ")
        );
    }
    println!(
        "memory          {}",
        crate::units::bytes(m.memory_bytes as f64)
    );
    println!("os              {}", m.os);
    println!("kernel          {}", m.kernel);
    println!("arch            {}", m.arch);
    println!("rustc           {}", m.rustc);
    println!(
        "harness         threadfork {} ({})",
        machine::HARNESS_VERSION,
        machine::GIT_COMMIT
    );
}

fn joined(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| v.join(","))
}

fn positive(flag: &str, text: &str) -> Result<u64, BadInput> {
    let n = plan::parse_count(text)
        .ok_or_else(|| BadInput::new(format!("{flag}: '{text}' is not a whole number")))?;
    if n == 0 {
        return Err(BadInput::new(format!("{flag}: must be at least 1 (got 0)")));
    }
    Ok(n)
}

/// Most workers a case may ask for: each is a thread or a process with its own slot.
const MAX_WORKERS: usize = 1024;
/// Most samples a case may take: ten thousand samples of the shortest case already take
/// minutes, and every sample is kept in the results.
const MAX_SAMPLES: u64 = 10_000;
/// The largest n a study may be asked for: 10^12 items, hours of the fastest loop.
const MAX_SIZE: u64 = 1_000_000_000_000;
/// `--case-timeout` bounds: a sample needs some milliseconds to be a sample; a day is more
/// than any case needs.
const MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(10);
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// The share of MemAvailable that `--parent-rss` may take: the rest stays for the system.
const PARENT_RSS_SHARE: f64 = 0.75;

/// The workloads of `registry`, with their parameters, variants and models, for `list`.
pub fn list(registry: &Registry) -> String {
    let mut s = String::new();
    for w in registry.workloads() {
        let info = w.info();
        s.push_str(&format!("{} ({})\n", info.name, info.op));
        if !info.describe.is_empty() {
            s.push_str(&format!("    {}\n", info.describe));
        }
        for p in info.params {
            s.push_str(&format!(
                "    --param {}={} [{}..={}]  {}\n",
                p.name, p.default, p.min, p.max, p.help
            ));
        }
        for (i, v) in info.variants.iter().enumerate() {
            // A start-only workload measures starts: never on a pool, whose start is its opening.
            let models: Vec<&str> = Model::ALL
                .into_iter()
                .filter(|&m| w.supports(m, i) && !(info.start_only && m.pool().is_some()))
                .map(Model::name)
                .collect();
            s.push_str(&format!("    variant {v}: {}\n", models.join(", ")));
        }
    }
    for st in registry.studies() {
        s.push_str(&format!(
            "{} ({})\n    {}\n    models: {}\n",
            st.name(),
            st.op(),
            st.describe(),
            st.models().join(", ")
        ));
    }
    s
}

/// A parameter set on the command line: its name, the flag that set it, and its text.
#[derive(Clone)]
struct GivenParam {
    name: String,
    flag: String,
    value: u64,
}

/// Every parameter the flags set, from `--param NAME=VALUE` and the shorthands.
fn given_params(a: &RunArgs) -> Result<Vec<GivenParam>, BadInput> {
    let mut out = Vec::new();
    for text in &a.params {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| BadInput::new(format!("--param: '{text}' is not NAME=VALUE")))?;
        let flag = format!("--param {name}");
        let n = plan::parse_count(value)
            .ok_or_else(|| BadInput::new(format!("{flag}: '{value}' is not a whole number")))?;
        out.push(GivenParam {
            name: name.trim().into(),
            flag,
            value: n,
        });
    }
    // A list of work sizes is checked here by its first item; every item is checked by the
    // sweep that makes a workload of each.
    let first_work = a
        .work
        .as_ref()
        .map(|t| t.split(',').next().unwrap_or("").to_string());
    for (flag, name, text) in [
        ("--work", "work", &first_work),
        ("--tasks", "tasks", &a.tasks),
        ("--increments", "increments", &a.increments),
    ] {
        if let Some(t) = text {
            let n = plan::parse_count(t)
                .ok_or_else(|| BadInput::new(format!("{flag}: '{t}' is not a whole number")))?;
            out.push(GivenParam {
                name: name.into(),
                flag: flag.into(),
                value: n,
            });
        }
    }
    if let Some(t) = &a.hold {
        let (ns, sleep) = plan::parse_hold(t).map_err(|e| BadInput::new(format!("--hold: {e}")))?;
        for (name, value) in [("hold_ns", ns), ("hold_sleep", u64::from(sleep))] {
            out.push(GivenParam {
                name: name.into(),
                flag: "--hold".into(),
                value,
            });
        }
    }
    Ok(out)
}

/// The chosen workload's parameter values: defaults, then what the flags set, checked against
/// each parameter's range, then the workload's own adjustments.
fn params_for(
    w: &crate::api::workload::WorkloadRef,
    given: &[GivenParam],
) -> Result<Vec<u64>, BadInput> {
    let info = w.info();
    let mut values: Vec<u64> = info.params.iter().map(|p| p.default).collect();
    let mut set = vec![false; values.len()];
    for g in given {
        if let Some(i) = info.params.iter().position(|p| p.name == g.name) {
            let p = &info.params[i];
            if g.value < p.min {
                return Err(BadInput::new(format!(
                    "{}: must be at least {} (got {})",
                    g.flag, p.min, g.value
                )));
            }
            if g.value > p.max {
                return Err(BadInput::new(format!(
                    "{}: must be at most {} (got {})",
                    g.flag, p.max, g.value
                )));
            }
            values[i] = g.value;
            set[i] = true;
        }
    }
    w.finish_params(&mut values, &set);
    Ok(values)
}

/// Turns raw run flags into a validated plan over `registry`'s workloads, on a machine with
/// `machine_cpus` allowed CPUs.
pub fn resolve(
    a: &RunArgs,
    args: Vec<String>,
    machine_cpus: Vec<usize>,
    registry: &Registry,
) -> Result<Plan, BadInput> {
    let topology = crate::machine::Topology::read(&machine_cpus);
    let runtimes = match joined(&a.runtime) {
        Some(t) => parse_list(
            "--runtime",
            &t,
            |s| ["rust", "cpython"].into_iter().find(|r| *r == s),
            "a runtime (rust, cpython)",
        )?,
        None => vec!["rust"],
    };
    let rust = runtimes.contains(&"rust");
    // The interpreter is asked what it is before anything runs: a bad --python is bad input.
    let cpython = if runtimes.contains(&"cpython") {
        Some(crate::runtime::cpython::CPython::new(&a.python)?)
    } else {
        None
    };
    let py_models: &[&'static str] = if cpython.is_some() {
        &crate::runtime::cpython::MODELS
    } else {
        &[]
    };
    let names = registry.names();
    let chosen: Vec<&'static str> = match joined(&a.workload) {
        Some(t) => parse_list(
            "--workload",
            &t,
            |s| names.iter().copied().find(|n| *n == s),
            &format!("a workload ({})", names.join(", ")),
        )?,
        None => names.clone(),
    };
    let study_models: Vec<&'static str> = registry
        .studies()
        .iter()
        .filter(|s| chosen.contains(&s.name()))
        .flat_map(|s| s.models().iter().copied())
        .collect();
    let all_models: Vec<&'static str> = Model::ALL
        .iter()
        .map(|m| m.name())
        .chain(
            registry
                .studies()
                .iter()
                .flat_map(|s| s.models().iter().copied()),
        )
        .chain(py_models.iter().copied())
        .collect();
    let items: Vec<Vec<&'static str>> = match joined(&a.model) {
        Some(t) => {
            let lists = parse_list(
                "--model",
                &t,
                |s| {
                    let family: Vec<&'static str> =
                        Model::family(s).into_iter().map(Model::name).collect();
                    match all_models.iter().copied().find(|m| *m == s) {
                        Some(m) => Some(vec![m]),
                        None => (!family.is_empty()).then_some(family),
                    }
                },
                &format!(
                    "a model ({}, or a pool: thread-pool, rayon, process-pool)",
                    all_models.join(", ")
                ),
            )?;
            let mut seen = std::collections::BTreeSet::new();
            let flat: Vec<Vec<&'static str>> = lists
                .into_iter()
                .map(|l| l.into_iter().filter(|m| seen.insert(*m)).collect())
                .collect();
            flat
        }
        None => vec![all_models.clone()],
    };
    let workloads: Vec<_> = registry
        .workloads()
        .iter()
        .filter(|w| rust && chosen.contains(&w.info().name))
        .cloned()
        .collect();
    let runs = |m: &str| {
        study_models.contains(&m)
            || py_models.contains(&m)
            || Model::parse(m).is_some_and(|model| {
                // A pool runs no start-only workload: its start-up is its own opening.
                workloads.iter().any(|w| {
                    !(w.info().start_only && model.pool().is_some())
                        && (0..w.info().variants.len()).any(|v| w.supports(model, v))
                })
            })
    };
    // A model named on its own must run something; a pool's family keeps the patterns that
    // do (the counter runs on one pattern of each pool).
    let mut models: Vec<&'static str> = Vec::new();
    for item in &items {
        if joined(&a.model).is_some()
            && let Some(m) = item.iter().find(|m| !runs(m)).filter(|_| item.len() == 1)
        {
            return Err(BadInput::new(format!(
                "--model: {m} runs none of the chosen workloads ({})",
                chosen.join(", ")
            )));
        }
        let some: Vec<&'static str> = if item.len() > 1 && joined(&a.model).is_some() {
            item.iter().copied().filter(|m| runs(m)).collect()
        } else {
            item.clone()
        };
        if some.is_empty() {
            return Err(BadInput::new(format!(
                "--model: no pattern of {} runs the chosen workloads ({})",
                item.first()
                    .and_then(|m| Model::parse(m))
                    .and_then(|m| m.pool())
                    .map_or("that pool", |(p, _)| p.name()),
                chosen.join(", ")
            )));
        }
        models.extend(some);
    }
    let given = given_params(a)?;
    if let Some(g) = given.iter().find(|g| {
        g.flag.starts_with("--param")
            && !workloads
                .iter()
                .any(|w| w.info().params.iter().any(|p| p.name == g.name))
    }) {
        return Err(BadInput::new(format!(
            "{}: no chosen workload has a parameter '{}' ({})",
            g.flag,
            g.name,
            hint("list")
        )));
    }
    let works = match &a.work {
        Some(t) => parse_list("--work", t, plan::parse_count, "a whole number")?,
        None => Vec::new(),
    };
    let mut selected = Vec::new();
    for w in &workloads {
        let info = w.info();
        let size_given = match info.size {
            crate::api::Size::Split(n) | crate::api::Size::PerWorker(n) => {
                given.iter().any(|g| g.name == n)
            }
            crate::api::Size::None => true,
        };
        // A workload with a `work` parameter runs once per --work size (the granularity
        // sweep); the others once.
        let sweeps = works.len() > 1 && info.params.iter().any(|p| p.name == "work");
        let sizes: Vec<Option<u64>> = if sweeps {
            works.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for size in sizes {
            let mut given = given.clone();
            if let Some(v) = size {
                given.retain(|g| g.name != "work");
                given.push(GivenParam {
                    name: "work".into(),
                    flag: "--work".into(),
                    value: v,
                });
            }
            selected.push(Selected {
                workload: w.clone(),
                params: params_for(w, &given)?,
                time_sized: !size_given && !info.start_only,
                unit_ns: None,
            });
        }
    }
    if works.len() > 1
        && !workloads
            .iter()
            .any(|w| w.info().params.iter().any(|p| p.name == "work"))
    {
        return Err(BadInput::new(format!(
            "--work: no chosen workload has a parameter 'work' to sweep ({})",
            chosen.join(", ")
        )));
    }
    let chunk = match &a.chunk {
        Some(t) => {
            let n = positive("--chunk", t)?;
            if n > 1 << 40 {
                return Err(BadInput::new(format!(
                    "--chunk: at most 2^40 units (got {n})"
                )));
            }
            n
        }
        None => 1,
    };
    let mut studies: Vec<SelectedStudy> = registry
        .studies()
        .iter()
        .filter(|s| rust && chosen.contains(&s.name()))
        .map(|s| SelectedStudy {
            study: s.clone(),
            models: s
                .models()
                .iter()
                .copied()
                .filter(|m| models.contains(m))
                .collect(),
        })
        .filter(|s| !s.models.is_empty())
        .collect();
    let mut runtime_labels = std::collections::BTreeMap::new();
    if let Some(cp) = cpython {
        runtime_labels.insert("cpython".to_string(), cp.interpreter.label());
        // `--hold` reaches the Python counter too: the classic example sleeps 30 ms there.
        let given_of = |name: &str| given.iter().find(|g| g.name == name).map(|g| g.value);
        let hold = crate::runtime::cpython::Hold {
            ns: given_of("hold_ns").unwrap_or(0),
            sleep: given_of("hold_sleep").unwrap_or(0) != 0,
        };
        studies.push(SelectedStudy {
            study: std::sync::Arc::new(crate::runtime::cpython::CPythonStudy {
                cp,
                hold,
                workloads: chosen.clone(),
            }),
            models: models
                .iter()
                .copied()
                .filter(|m| py_models.contains(m))
                .collect(),
        });
    }
    let workers = match &a.workers {
        Some(t) => {
            let list = parse_list(
                "--workers",
                t,
                |s| s.parse::<usize>().ok(),
                "a worker count",
            )?;
            if let Some(bad) = list.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
                return Err(BadInput::new(format!(
                    "--workers: worker counts must be between 1 and {MAX_WORKERS} (got {bad})"
                )));
            }
            list
        }
        None => plan::default_workers(machine_cpus.len(), topology.cores.len(), a.quick),
    };
    let pin = match &a.pin {
        None => None,
        Some(t) => Some(crate::machine::PinMode::parse(t).ok_or_else(|| {
            BadInput::new(format!("--pin: '{t}' is not a pin mode (spread, compact)"))
        })?),
    };
    let samples = match &a.samples {
        Some(t) => {
            let n = positive("--samples", t)?;
            if n > MAX_SAMPLES {
                return Err(BadInput::new(format!(
                    "--samples: at most {MAX_SAMPLES} (got {n}); every sample is run and kept"
                )));
            }
            n as usize
        }
        None if a.quick => 5,
        None => 10,
    };
    let parent_rss = match &a.parent_rss {
        Some(t) => parse_list("--parent-rss", t, plan::parse_size, "a size (0, 256M, 1G)")?,
        None if a.quick => vec![0, 1 << 30],
        None => vec![0, 256 << 20, 1 << 30],
    };
    if let (Some(&most), Some(avail)) = (
        parent_rss.iter().max(),
        crate::measure::meminfo::available_memory_bytes(),
    ) && most as f64 > avail as f64 * PARENT_RSS_SHARE
    {
        return Err(BadInput::new(format!(
            "--parent-rss: {} is more than this machine can hold: {} available, of which at most {:.0}% may be used",
            crate::units::bytes(most as f64),
            crate::units::bytes(avail as f64),
            100.0 * PARENT_RSS_SHARE
        )));
    }
    let sizes = match &a.sizes {
        Some(t) => {
            let v = parse_list("--sizes", t, plan::parse_count, "a count (1000, 1e6)")?;
            if v.contains(&0) {
                return Err(BadInput::new("--sizes: n must be at least 1 (got 0)"));
            }
            if let Some(big) = v.iter().find(|&&n| n > MAX_SIZE) {
                return Err(BadInput::new(format!(
                    "--sizes: n must be at most 10^12 (got {big})"
                )));
            }
            v
        }
        None => Vec::new(),
    };
    let secs = plan::parse_duration_secs(&a.case_timeout).ok_or_else(|| {
        BadInput::new(format!(
            "--case-timeout: '{}' is not a duration (30s, 500ms, 2m)",
            a.case_timeout
        ))
    })?;
    if !(MIN_TIMEOUT.as_secs_f64()..=MAX_TIMEOUT.as_secs_f64()).contains(&secs) {
        return Err(BadInput::new(format!(
            "--case-timeout: must be between 10ms and 24h (got {})",
            a.case_timeout
        )));
    }
    let case_timeout = std::time::Duration::from_secs_f64(secs);
    let sample_ns = match &a.sample_time {
        None if a.quick => 15_000_000,
        None => 50_000_000,
        Some(t) => {
            let d = plan::parse_duration(t).ok_or_else(|| {
                BadInput::new(format!(
                    "--sample-time: '{t}' is not a duration (15ms, 0.1s)"
                ))
            })?;
            if d < std::time::Duration::from_millis(1) || d > case_timeout / 4 {
                return Err(BadInput::new(format!(
                    "--sample-time: must be between 1ms and a quarter of --case-timeout ({}) (got {t})",
                    a.case_timeout
                )));
            }
            d.as_nanos() as u64
        }
    };
    let scaling = match a.scaling.as_str() {
        "strong" => plan::Scaling::Strong,
        "weak" => plan::Scaling::Weak,
        other => {
            return Err(BadInput::new(format!(
                "--scaling: '{other}' is not strong or weak"
            )));
        }
    };
    let fault = match &a.inject_fault {
        None => None,
        Some(t) => {
            let bad = || {
                BadInput::new(format!(
                    "--inject-fault: '{t}' is not KIND:MODEL (panic, abort, kill, exit, hang : a worker model)"
                ))
            };
            let (k, m) = t.split_once(':').ok_or_else(bad)?;
            let (f, m) = Fault::parse(k).zip(Model::parse(m)).ok_or_else(bad)?;
            if !m.is_process() && !f.containable_in_thread()
                || m == Model::Sequential && f == Fault::Hang
            {
                return Err(BadInput::new(format!(
                    "--inject-fault: {} cannot be contained in model {m}: it shares the harness's process",
                    f.name()
                )));
            }
            Some((f, m))
        }
    };
    let slowdown = a
        .inject_slowdown
        .as_deref()
        .map(crate::exec::inject::Slowdown::parse)
        .transpose()?;
    let exe = crate::sys::exe::host_exe()
        .map_err(|e| BadInput::new(format!("cannot find the host executable: {e}")))?;
    if a.instructions {
        crate::measure::instructions::valgrind().map_err(|e| {
            BadInput::new(format!(
                "--instructions needs valgrind (callgrind) on PATH: {e}; install it, e.g. apt-get install valgrind"
            ))
        })?;
    }
    Ok(Plan {
        runtimes: runtime_labels,
        slowdown,
        instructions: a.instructions,
        quick: a.quick,
        workloads: selected,
        studies,
        models: models.iter().filter_map(|m| Model::parse(m)).collect(),
        chunk,
        // A full run's default 2×cores point oversubscribes the cores: for a pool that
        // measures the scheduler's wake-up chains more than the pool, and costs the most.
        pool_workers_max: a.workers.is_none().then_some(machine_cpus.len().max(1)),
        workers,
        samples,
        warmup: if a.quick { 1 } else { 2 },
        startup_samples: if a.quick { 20 } else { 50 },
        pin: pin.is_some(),
        cpus: pin.map_or(machine_cpus, |mode| topology.pin_order(mode)),
        parent_rss,
        sizes,
        out: a.out.clone(),
        exe,
        case_timeout,
        charts: !a.no_charts,
        args,
        fault,
        sample_ns,
        scaling,
        costs: plan::Costs::default(),
        estimated_s: None,
    })
}

/// Makes sure `dir` exists and takes files, before any measuring starts.
/// Returns the folders it made (deepest first), so that a run that ends up writing nothing
/// can take them away again.
pub fn check_writable(dir: &Path) -> Result<Vec<PathBuf>, BadInput> {
    let fail = |e: std::io::Error| {
        BadInput::new(format!("--out: cannot write to '{}': {e}", dir.display()))
    };
    let made: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    let checked = (|| {
        std::fs::create_dir_all(dir)?;
        // Random bits: two runs in separate PID namespaces can both be PID 1.
        let probe = dir.join(format!(
            ".threadfork-probe-{}-{:016x}",
            std::process::id(),
            crate::stats::random_u64()
        ));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    })();
    if let Err(e) = checked {
        remove_empty(&made);
        return Err(fail(e));
    }
    Ok(made)
}

/// Removes the folders `check_writable` made, where they are still empty.
pub(crate) fn remove_empty(made: &[PathBuf]) {
    for d in made {
        let _ = std::fs::remove_dir(d);
    }
}

/// What the stop by a signal left: a run cut short is saved marked incomplete; a run stopped
/// only while its charts were drawn is complete on disk.
pub fn stop_message(signal: &str, incomplete: bool, measurements: usize, path: &Path) -> String {
    if incomplete {
        format!(
            "stopped by {signal}: the {measurements} measurements taken so far are saved in {} (marked incomplete)",
            path.display()
        )
    } else {
        format!(
            "stopped by {signal} while drawing charts: the run is complete and saved in {}; some charts may be missing",
            path.display()
        )
    }
}

fn progress_bar() -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta} {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn run_command(a: &RunArgs, args: Vec<String>, registry: &Registry) -> Result<u8> {
    let m = machine::fingerprint();
    let mut plan = resolve(a, args, m.allowed_cpus.clone(), registry)?;
    let dir = plan.out.join(&m.id);
    let made = check_writable(&dir)?;
    crate::sys::signals::install();
    crate::exec::inject::set(plan.slowdown);
    // A counted run times nothing: no costs to measure, no estimate from them.
    if !plan.instructions {
        if let Err(e) = crate::sweep::preflight(&mut plan) {
            remove_empty(&made);
            return Err(e.into());
        }
        plan.estimated_s = Some(crate::sweep::estimate_s(&plan));
    }
    // Beside the progress bar, on a terminal only: stderr otherwise carries just errors.
    if let Some(estimate) = plan.estimated_s.filter(|_| std::io::stderr().is_terminal()) {
        eprintln!(
            "threadfork: {} cases; estimated {} (from this machine's measured start costs and paces)",
            plan.cases().len(),
            crate::units::ns(estimate * 1e9)
        );
    }
    let bar = progress_bar();
    let results = crate::sweep::run(&plan, m, &crate::sys::signals::STOP, &bar);
    bar.finish_and_clear();
    // The figures reach the terminal before any file is written: a full disk loses no number.
    print!("{}", export::summary::render(&results));
    let path = results.path_in(&plan.out);
    if let Err(e) = results.save(&path) {
        remove_empty(&made);
        anyhow::bail!(
            "cannot write {}: {e}; the summary above holds the figures",
            path.display()
        );
    }
    println!("Results: {}", path.display());
    if plan.charts && !results.measurements.is_empty() {
        let dir = path.with_extension("");
        match export::write_report(std::slice::from_ref(&results), &dir) {
            Ok(_) => println!("Charts:  {}", dir.join("index.html").display()),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                anyhow::bail!(
                    "charts not drawn: {e:#}; the run itself is saved in {}",
                    path.display()
                );
            }
        }
    }
    if let Some(code) = crate::sys::signals::exit_code() {
        eprintln!(
            "threadfork: {}",
            stop_message(
                &crate::sys::signals::name(),
                results.run.incomplete,
                results.measurements.len(),
                &path
            )
        );
        return Ok(code);
    }
    if !results.failures.is_empty() {
        eprintln!(
            "threadfork: {} case(s) failed; see \"Failed cases\" above and the results file",
            results.failures.len()
        );
        return Ok(EXIT_FAILED);
    }
    Ok(0)
}

fn scaling_command(file: &Path, json: bool) -> Result<u8> {
    use crate::results::usl::{self, Scaling};
    let r = crate::results::load(file).map_err(|e| BadInput::new(e.to_string()))?;
    let all = usl::scaling(&r);
    if json {
        println!("{}", serde_json::to_string_pretty(&usl::fits(&r))?);
        return Ok(0);
    }
    let cores = r.machine.allowed_cpus.len();
    println!(
        "{}: {} allowed cores; X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to the worker counts up to them",
        file.display(),
        cores
    );
    for s in all {
        match s {
            Scaling::Fit(f) => {
                let predicted: Vec<String> = f
                    .predicted
                    .iter()
                    .map(|(n, x)| format!("{n}: {}", crate::units::rate(*x, "ops/s")))
                    .collect();
                println!(
                    "{}/{}/{}: σ {:.4}, κ {:.3e}, λ {}, R² {:.3}, peak at {}; predicted {}",
                    f.workload,
                    f.model,
                    f.variant,
                    f.sigma,
                    f.kappa,
                    crate::units::rate(f.lambda, "ops/s"),
                    f.r2,
                    f.peak_workers
                        .map_or("none (κ = 0)".into(), |n| format!("{n:.0} workers")),
                    predicted.join(", ")
                );
            }
            Scaling::TooFew {
                workload,
                model,
                variant,
                points,
            } => println!(
                "{workload}/{model}/{variant}: too few core counts to fit ({} worker counts up to {cores} cores; {} needed)",
                points.len(),
                usl::MIN_POINTS
            ),
        }
    }
    Ok(0)
}

pub(crate) fn compare_command(a: &CompareArgs) -> Result<u8> {
    use crate::compare;
    let threshold = compare::parse_threshold(&a.threshold)?;
    let instructions_threshold =
        compare::parse_threshold_of("--instructions-threshold", &a.instructions_threshold)?;
    let (current, base_paths) = a
        .paths
        .split_last()
        .ok_or_else(|| BadInput::new("compare: give a baseline and a run to judge"))?;
    let (cur, cur_file) = compare::load_input(current)?;
    let bases = compare::load_baselines(base_paths, &cur.machine.id, &cur_file)?;
    if bases.is_empty() {
        return Err(BadInput::new(format!(
            "{}: no baseline run other than the run to judge",
            base_paths[0].display()
        ))
        .into());
    }
    let sides = bases.iter().map(|(r, f)| (r, f)).chain([(&cur, &cur_file)]);
    for (r, f) in sides {
        if r.run.incomplete && !a.allow_incomplete {
            return Err(BadInput::new(format!(
                "{}: the run is incomplete (it was interrupted); --allow-incomplete compares what it has",
                f.display()
            ))
            .into());
        }
    }
    let base_refs: Vec<(&crate::results::Results, &Path)> =
        bases.iter().map(|(r, f)| (r, f.as_path())).collect();
    let report = compare::compare(
        &base_refs,
        (&cur, &cur_file),
        threshold,
        instructions_threshold,
        a.absolute,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if a.markdown {
        print!("{}", compare::render_markdown(&report));
    } else {
        print!("{}", compare::render_text(&report));
    }
    Ok(report.exit_code(a.allow_failed, a.allow_missing))
}

fn report_command(a: &ReportArgs) -> Result<u8> {
    let mut runs = Vec::with_capacity(a.files.len());
    for f in &a.files {
        runs.push(crate::results::load(f).map_err(|e| BadInput::new(e.to_string()))?);
    }
    let dir = match (&a.out, a.files.as_slice()) {
        (Some(d), _) => d.clone(),
        (None, [one]) => one.with_extension(""),
        (None, _) => {
            let ids: Vec<&str> = runs.iter().map(|r| r.run.id.as_str()).take(3).collect();
            PathBuf::from("results").join(format!("overlay-{}", ids.join("-vs-")))
        }
    };
    let made = check_writable(&dir)?;
    let files = export::write_report(&runs, &dir).inspect_err(|_| remove_empty(&made))?;
    for r in &runs {
        if runs.len() == 1 {
            print!("{}", export::summary::render(r));
        }
    }
    println!(
        "{} files written; open {}",
        files.len(),
        dir.join("index.html").display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_binary_names_its_own_command_in_hints() {
        let argv0 = OsString::from("/x/target/release/deps/workloads-0a1b2c3d4e5f6789");
        assert_eq!(
            bench_command(Some(&argv0)),
            "cargo bench --bench workloads --"
        );
        let plain = OsString::from("/x/target/release/my-cafe");
        assert_eq!(
            bench_command(Some(&plain)),
            "cargo bench --bench my-cafe --"
        );
    }

    #[test]
    fn a_signal_after_the_save_does_not_claim_an_incomplete_file() {
        // Ctrl-C while charts were drawn once said "marked incomplete" of a file that says
        // `"incomplete": false`.
        let p = Path::new("r.json");
        assert!(stop_message("SIGINT", true, 3, p).contains("(marked incomplete)"));
        let done = stop_message("SIGINT", false, 3, p);
        assert!(done.contains("the run is complete") && !done.contains("marked incomplete"));
    }
}
