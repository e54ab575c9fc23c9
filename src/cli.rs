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
    /// Print this machine's fingerprint
    Machine {
        /// Print it as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the workloads this binary runs, with their parameters, variants and models
    List,
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
    /// The baseline: a results file, or a folder whose newest run is taken
    pub base: PathBuf,
    /// The run to judge: a results file, or a folder whose newest run is taken
    pub current: PathBuf,
    /// Smallest change that counts, e.g. 5% or 0.05
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub threshold: String,
    /// Print a Markdown table (for a CI step summary or a PR comment)
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print a machine-readable JSON verdict
    #[arg(long)]
    pub json: bool,
    /// Judge absolute figures even when the runs come from different machines
    #[arg(long)]
    pub absolute: bool,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Fewer samples and worker counts: a pass in seconds
    #[arg(long)]
    pub quick: bool,
    /// Workloads to run (comma-separated or repeated; `list` shows them) [default: all]
    #[arg(long, value_name = "LIST")]
    pub workload: Vec<String>,
    /// Models to run: sequential, threads, fork, spawn, and the studies' own [default: all]
    #[arg(long, value_name = "LIST")]
    pub model: Vec<String>,
    /// Worker counts, e.g. 1,2,4 [default: 1, 2, 4, … and the core count; 2× cores in full runs]
    #[arg(long, value_name = "LIST")]
    pub workers: Option<String>,
    /// Samples per case after warm-up [default: 5 quick, 10 full]
    #[arg(long, value_name = "N")]
    pub samples: Option<String>,
    /// Pin worker k to the k-th allowed CPU (modulo their number)
    #[arg(long)]
    pub pin: bool,
    /// A workload parameter, NAME=VALUE (repeatable; `list` shows each workload's)
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Shorthand for --param work=N: squares per square task [default: 100]
    #[arg(long, value_name = "N")]
    pub work: Option<String>,
    /// Shorthand for --param tasks=N: square tasks per sample, split between the workers
    #[arg(long, value_name = "N")]
    pub tasks: Option<String>,
    /// Counter hold inside the lock: 0, a busy-wait in ns (500ns) or a sleep (30us, 30ms)
    #[arg(long, value_name = "TIME")]
    pub hold: Option<String>,
    /// Shorthand for --param increments=N: counter increments per worker [default: 100000, fewer with a hold]
    #[arg(long, value_name = "N")]
    pub increments: Option<String>,
    /// Parent memory held while measuring startup, e.g. 0,256M,1G [default: 0,1G quick; 0,256M,1G full]
    #[arg(long, value_name = "LIST")]
    pub parent_rss: Option<String>,
    /// Sizes n for the studies, e.g. 1e3,1e6 [default: 10^3…10^6 quick, 10^3…10^8 full]
    #[arg(long, value_name = "LIST")]
    pub sizes: Option<String>,
    /// Give up on a sample after this long and record the case as failed
    #[arg(long, value_name = "TIME", default_value = "60s")]
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
    let mut args: Vec<OsString> = std::env::args_os().collect();
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
    if bench && args.len() == 1 {
        args.push("run".into());
    }
    ExitCode::from(main(args, &registry))
}

/// Parses `args`, runs, and returns the process exit code.
pub fn main(args: Vec<OsString>, registry: &Registry) -> u8 {
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
                    "threadfork: error: a command is required: run, report, compare, machine or list (see threadfork --help)"
                );
                return EXIT_BAD_INPUT;
            }
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("threadfork: error: {first} (see threadfork --help)");
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
        Command::Compare(c) => compare_command(&c),
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
    println!(
        "memory          {}",
        export::format::bytes(m.memory_bytes as f64)
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
            let models: Vec<&str> = Model::ALL
                .into_iter()
                .filter(|&m| w.supports(m, i))
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
    for (flag, name, text) in [
        ("--work", "work", &a.work),
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

/// Turns raw run flags into a validated plan over `registry`'s workloads.
pub fn resolve(
    a: &RunArgs,
    args: Vec<String>,
    machine_cpus: Vec<usize>,
    registry: &Registry,
) -> Result<Plan, BadInput> {
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
        .collect();
    let models: Vec<&'static str> = match joined(&a.model) {
        Some(t) => parse_list(
            "--model",
            &t,
            |s| all_models.iter().copied().find(|m| *m == s),
            &format!("a model ({})", all_models.join(", ")),
        )?,
        None => all_models.clone(),
    };
    let workloads: Vec<_> = registry
        .workloads()
        .iter()
        .filter(|w| chosen.contains(&w.info().name))
        .cloned()
        .collect();
    let runs = |m: &str| {
        study_models.contains(&m)
            || Model::parse(m).is_some_and(|model| {
                workloads
                    .iter()
                    .any(|w| (0..w.info().variants.len()).any(|v| w.supports(model, v)))
            })
    };
    if joined(&a.model).is_some()
        && let Some(m) = models.iter().find(|m| !runs(m))
    {
        return Err(BadInput::new(format!(
            "--model: {m} runs none of the chosen workloads ({})",
            chosen.join(", ")
        )));
    }
    let given = given_params(a)?;
    if let Some(g) = given.iter().find(|g| {
        g.flag.starts_with("--param")
            && !workloads
                .iter()
                .any(|w| w.info().params.iter().any(|p| p.name == g.name))
    }) {
        return Err(BadInput::new(format!(
            "{}: no chosen workload has a parameter '{}' (see threadfork list)",
            g.flag, g.name
        )));
    }
    let selected = workloads
        .iter()
        .map(|w| {
            Ok(Selected {
                workload: w.clone(),
                params: params_for(w, &given)?,
            })
        })
        .collect::<Result<Vec<_>, BadInput>>()?;
    let studies = registry
        .studies()
        .iter()
        .filter(|s| chosen.contains(&s.name()))
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
        None => plan::default_workers(machine_cpus.len(), a.quick),
    };
    let samples = match &a.samples {
        Some(t) => positive("--samples", t)? as usize,
        None if a.quick => 5,
        None => 10,
    };
    let parent_rss = match &a.parent_rss {
        Some(t) => parse_list("--parent-rss", t, plan::parse_size, "a size (0, 256M, 1G)")?,
        None if a.quick => vec![0, 1 << 30],
        None => vec![0, 256 << 20, 1 << 30],
    };
    let sizes = match &a.sizes {
        Some(t) => {
            let v = parse_list("--sizes", t, plan::parse_count, "a count (1000, 1e6)")?;
            if v.contains(&0) {
                return Err(BadInput::new("--sizes: n must be at least 1 (got 0)"));
            }
            v
        }
        None => Vec::new(),
    };
    let case_timeout = plan::parse_duration(&a.case_timeout).ok_or_else(|| {
        BadInput::new(format!(
            "--case-timeout: '{}' is not a duration (30s, 500ms, 2m)",
            a.case_timeout
        ))
    })?;
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
    let exe = std::env::current_exe()
        .map_err(|e| BadInput::new(format!("cannot find the host executable: {e}")))?;
    Ok(Plan {
        quick: a.quick,
        workloads: selected,
        studies,
        models: models.iter().filter_map(|m| Model::parse(m)).collect(),
        workers,
        samples,
        warmup: if a.quick { 1 } else { 2 },
        startup_samples: if a.quick { 20 } else { 50 },
        pin: a.pin,
        cpus: machine_cpus,
        parent_rss,
        sizes,
        out: a.out.clone(),
        exe,
        case_timeout,
        charts: !a.no_charts,
        args,
        fault,
    })
}

/// Makes sure `dir` exists and takes files, before any measuring starts.
pub fn check_writable(dir: &Path) -> Result<(), BadInput> {
    let fail = |e: std::io::Error| {
        BadInput::new(format!("--out: cannot write to '{}': {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".threadfork-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn progress_bar() -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn run_command(a: &RunArgs, args: Vec<String>, registry: &Registry) -> Result<u8> {
    let m = machine::fingerprint();
    let plan = resolve(a, args, m.allowed_cpus.clone(), registry)?;
    let dir = plan.out.join(&m.id);
    check_writable(&dir)?;
    crate::sys::signals::install();
    let bar = progress_bar();
    let results = crate::sweep::run(&plan, m, &crate::sys::signals::STOP, &bar);
    bar.finish_and_clear();
    let path = results.path_in(&plan.out);
    results
        .save(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    print!("{}", export::summary::render(&results));
    println!("Results: {}", path.display());
    if plan.charts && !results.measurements.is_empty() {
        let dir = path.with_extension("");
        match export::write_report(std::slice::from_ref(&results), &dir) {
            Ok(_) => println!("Charts:  {}", dir.join("index.html").display()),
            // The measurements are safe on disk; a chart problem must not lose them.
            Err(e) => eprintln!("threadfork: warning: charts not drawn: {e:#}"),
        }
    }
    if let Some(code) = crate::sys::signals::exit_code() {
        eprintln!(
            "threadfork: stopped by {}: the {} measurements taken so far are saved in {} (marked incomplete)",
            crate::sys::signals::name(),
            results.measurements.len(),
            path.display()
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

fn compare_command(a: &CompareArgs) -> Result<u8> {
    use crate::compare;
    let threshold = compare::parse_threshold(&a.threshold)?;
    let (base, base_file) = compare::load_input(&a.base)?;
    let (cur, cur_file) = compare::load_input(&a.current)?;
    let report = compare::compare(
        (&base, &base_file),
        (&cur, &cur_file),
        threshold,
        a.absolute,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if a.markdown {
        print!("{}", compare::render_markdown(&report));
    } else {
        print!("{}", compare::render_text(&report));
    }
    Ok(report.exit_code())
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
    check_writable(&dir)?;
    let files = export::write_report(&runs, &dir)?;
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
