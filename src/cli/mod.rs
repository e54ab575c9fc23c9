//! The command line's dispatch: each command run over the resolved options (`options`), and
//! the one place where errors become a single stderr line and an exit code. [`run_main`] is
//! what every host binary — threadfork's own and a user's bench — runs.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{Model, Registry};
use crate::error::{BadInput, EXIT_BAD_INPUT, EXIT_FAILED};
use crate::exec::spawn::{WORKER_ARG, worker_main};
use crate::export;
use crate::machine;
use crate::options::*;
use crate::options::{COMMAND, hint};

mod ab;
mod flags;
mod history;
pub use flags::parse_args;
pub mod rev;
mod seed;

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
    if let Some(code) = reentered(started_ns, &args, &registry) {
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

/// The host binary re-entered in a mode of its own, named by its first argument (a counted
/// child, an A/B side, a lean start-up parent, a spawned worker): that mode's exit code;
/// `None` for threadfork's command line.
fn reentered(started_ns: u64, args: &[OsString], registry: &Registry) -> Option<i32> {
    let mode = args.get(1)?;
    let rest: Vec<String> = args[2..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let find = |name: &str| registry.find(name).cloned();
    Some(if mode == crate::exec::count::COUNT_ARG {
        crate::exec::count::count_main(&rest, find)
    } else if mode == crate::host::protocol::SERVE_ARG {
        i32::from(ab::serve_main(&rest, registry))
    } else if mode == crate::sweep::lean::LEAN_ARG {
        crate::sweep::lean::lean_main(&rest, find)
    } else if mode == WORKER_ARG {
        worker_main(started_ns, &rest, find)
    } else {
        return None;
    })
}

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

/// Parses `args`, runs, and returns the process exit code.
pub fn main(args: Vec<OsString>, registry: &Registry) -> u8 {
    crate::sys::signals::ignore_file_size_signal();
    let cli = match flags::parse(&args, registry) {
        Ok(cli) => cli,
        Err(flags::ParseError::Flag(line)) => {
            eprintln!("threadfork: error: {line}");
            return EXIT_BAD_INPUT;
        }
        Err(flags::ParseError::Clap(e)) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprintln!(
                    "threadfork: error: a command is required: run, ab, report, compare, history, machine, list or scaling ({})",
                    hint("--help")
                );
                return EXIT_BAD_INPUT;
            }
            let line = flags::clap_line(&e.render().to_string());
            eprintln!("threadfork: error: {line} ({})", hint("--help"));
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
        Command::History(h) => history::history_command(&h),
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
    if let Some(settings) = &m.settings {
        println!("settings (what moves figures between days):");
        for (name, value, judgement) in settings.judgements(m.allowed_cpus.len()) {
            println!("  {name:<15} {value:<17} {judgement}");
        }
    }
}

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
            let flag = match (p.flag, p.read) {
                (Some(f), Some(r)) => format!("  (or --{f} {})", r.name),
                (Some(f), None) => format!("  (or --{f} N)"),
                (None, _) => String::new(),
            };
            s.push_str(&format!(
                "    --param {}={} [{}..={}]{flag}  {}\n",
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
    s.push_str(&format!(
        "models (a pool's three by its name: {})\n",
        crate::api::model::Pool::names()
    ));
    for f in crate::api::model::MODELS {
        s.push_str(&format!("    {:<26}{}\n", f.name, f.about));
    }
    s
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
    crate::exec::testing::set_slowdown(plan.injected.slowdown);
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
        eprintln!("threadfork: {}", failed_line(&results.failures));
        return Ok(EXIT_FAILED);
    }
    Ok(0)
}

/// The last line of a run with failed cases: how many, and the reason — theirs when they all
/// share one (a mistake in a user's code fails every case it reaches alike), else the first's.
fn failed_line(failures: &[crate::results::Failure]) -> String {
    let n = failures.len();
    let first = &failures[0];
    let why = if failures.iter().all(|f| f.reason == first.reason) {
        first.reason.clone()
    } else {
        format!("the first, {}: {}", first.case, first.reason)
    };
    format!("{n} case(s) failed: {why}; see \"Failed cases\" above and the results file")
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
    let format = crate::options::parse::exporter(a.format.as_deref(), a.markdown, a.json)?;
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
    print!(
        "{}",
        format.render(export::format::Report::Compare(&report))
    );
    Ok(report.exit_code(a.allow_failed, a.allow_missing))
}

fn report_command(a: &ReportArgs) -> Result<u8> {
    let format = crate::options::parse::exporter(a.format.as_deref(), false, false)?;
    if a.format.is_some() && a.files.len() > 1 {
        return Err(BadInput::new(
            "report: --format writes one run's figures; give one results file",
        )
        .into());
    }
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
    if let [one] = runs.as_slice() {
        print!("{}", format.render(export::format::Report::Run(one)));
        if a.format.is_some() {
            // stdout holds the format alone.
            eprintln!(
                "{} files written; open {}",
                files.len(),
                dir.join("index.html").display()
            );
            return Ok(0);
        }
    } else {
        println!("## How the runs differ\n");
        let words = export::differ::differences(&runs);
        for rule in &words.rules {
            println!("{rule}\n");
        }
        if words.lines.is_empty() {
            println!("{}", export::differ::NONE);
        }
        for w in words.lines {
            println!("- {w}");
        }
        println!();
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
