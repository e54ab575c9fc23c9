//! The `ab` command (the orchestrator's side) and serve mode (each build's side): flags
//! resolved as `run` resolves them, results saved and printed, the exit code.

use crate::compare::ab::build::Build;
use crate::compare::ab::gate;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{AbArgs, Command, check_writable, remove_empty, resolve};
use crate::api::Registry;
use crate::error::{BadInput, EXIT_BAD_INPUT, EXIT_FAILED};
use crate::export::format::Report;
use crate::machine;
use crate::options::args::RunArgs;

/// Serve mode (one side of an A/B job): `PARENT_PID [run flags]`. The plan is resolved and
/// preflighted as `run` would; a plan this build cannot make is refused in the hello, in this
/// build's words.
pub(super) fn serve_main(rest: &[String], registry: &Registry) -> u8 {
    use crate::host::serve;
    let mut out = match crate::sys::stdout::take_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("threadfork serve: cannot set up the protocol's descriptor: {e}");
            return EXIT_FAILED;
        }
    };
    let Some(parent) = rest.first().and_then(|p| p.parse::<i32>().ok()) else {
        serve::refuse(&mut out, "serve mode needs the parent's pid first");
        return EXIT_BAD_INPUT;
    };
    if !crate::exec::children::die_with_parent(parent) {
        return EXIT_FAILED;
    }
    crate::sys::signals::ignore_file_size_signal();
    let flags = rest[1..].to_vec();
    let argv = ["threadfork".to_string(), "run".to_string()]
        .into_iter()
        .chain(flags.iter().cloned());
    let plan = super::flags::parse_args(argv, registry)
        .map_err(|line| anyhow::anyhow!(line))
        .and_then(|cli| match cli.command {
            Command::Run(a) => {
                let m = machine::fingerprint();
                let mut plan = resolve(&a, flags.clone(), m.allowed_cpus, registry)?;
                plan.one_unit_pool_tasks();
                crate::exec::testing::set_slowdown(plan.injected.slowdown);
                crate::sweep::preflight(&mut plan)?;
                Ok(plan)
            }
            _ => Err(anyhow::anyhow!("not a run")),
        });
    match plan {
        Ok(plan) => {
            let stdin = std::io::stdin().lock();
            serve::serve(&plan, stdin, &mut out).clamp(0, 255) as u8
        }
        Err(e) => {
            serve::refuse(&mut out, &format!("{e:#}"));
            EXIT_BAD_INPUT
        }
    }
}

/// The flags of `ab` that both sides' plans are made from: everything but the base binary and
/// the flags of `ab` alone.
fn side_flags(args: &[String], base: Option<&Path>) -> Vec<String> {
    const AB_ONLY_WITH_VALUE: [&str; 8] = [
        "--rev",
        "--head-rev",
        "--threshold",
        "--budget",
        "--inject-slowdown",
        "--format",
        "--gate",
        "--undecided",
    ];
    const AB_ONLY: [&str; 2] = ["--markdown", "--json"];
    let mut out = Vec::new();
    let mut base_seen = false;
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        let name = a.split('=').next().unwrap_or(a);
        if AB_ONLY_WITH_VALUE.contains(&name) {
            if !a.contains('=') {
                it.next();
            }
            continue;
        }
        if AB_ONLY.contains(&a.as_str()) {
            continue;
        }
        if !base_seen && !a.starts_with('-') && Some(Path::new(a)) == base {
            base_seen = true;
            continue;
        }
        out.push(a.clone());
    }
    out
}

pub(super) fn ab_command(a: &AbArgs, args: Vec<String>, registry: &Registry) -> Result<u8> {
    use crate::compare::ab;
    if a.judge {
        return judge_again(a);
    }
    let m = machine::fingerprint();
    let (args, a_run) = per_sample_by_default(a, args);
    // The flags are resolved here first: a mistake is reported once, before any side starts.
    let mut plan = resolve(&a_run, args.clone(), m.allowed_cpus.clone(), registry)?;
    plan.one_unit_pool_tasks();
    // ab's own flags too, before a side (or callgrind) runs and writes anything.
    let threshold = crate::compare::parse_threshold(a.timed_threshold())?;
    let gate = gate::parse_gate(&a.gate)?;
    let undecided = gate::Undecided::parse(a.undecided.as_deref())?;
    let format = crate::options::parse::exporter(a.format.as_deref(), a.markdown, a.json)?;
    let (base, head, builds) = sides(a)?;
    let flags = side_flags(&args, a.base.as_deref());
    if let Some(why) = ab::build::same_build(&builds.0, &builds.1) {
        eprintln!("threadfork ab: {why}");
    }
    if plan.instructions {
        return ab_instructions(a, &base, head.as_deref(), flags, &plan.out);
    }
    let budget = parse_budget(&a.budget)?;
    let dir = plan.out.join(&m.id);
    let made = check_writable(&dir)?;
    crate::sys::signals::install();
    let opts = ab::AbOptions {
        base,
        head,
        builds,
        flags,
        inject_head: a.run.inject_slowdown.clone(),
        threshold,
        pairs: a.run.samples.is_some().then_some(plan.samples),
        budget,
        case_timeout: plan.case_timeout,
        args,
        gate: gate.clone(),
    };
    let mut results = match ab::run(&opts, m) {
        Ok(r) => r,
        Err(e) => {
            remove_empty(&made);
            return Err(e);
        }
    };
    results.gate = gate;
    results.undecided = undecided;
    let path = results.path_in(&plan.out);
    let saved = results.save(&path);
    let text = format.name() == "text";
    let saved_at = saved.is_ok().then_some(path.as_path());
    print!("{}", format.render(Report::Ab(&results, saved_at)));
    if saved.is_ok() && text {
        println!("\nResults: {}", path.display());
    }
    if let Err(e) = saved {
        remove_empty(&made);
        anyhow::bail!(
            "cannot write {}: {e}; the report above holds the verdicts",
            path.display()
        );
    }
    if !a.run.no_charts && text {
        match crate::export::ab_chart::write_page(&results, &path.with_extension("")) {
            Ok(page) => println!("Chart:   {}", page.display()),
            Err(e) => eprintln!("threadfork: ab: the page was not written: {e}"),
        }
    }
    if let Some(code) = crate::sys::signals::exit_code() {
        eprintln!(
            "threadfork: ab stopped by {}: the pairs taken so far are judged and saved in {}",
            crate::sys::signals::name(),
            path.display()
        );
        return Ok(code);
    }
    Ok(results.exit_code())
}

/// Without --model, the models that start workers per sample: a pool's one-unit tasks would
/// time its dispatch rather than the workload. The flags and the run's arguments, so amended.
fn per_sample_by_default(a: &AbArgs, mut args: Vec<String>) -> (Vec<String>, RunArgs) {
    let mut run = a.run.clone();
    if run.model.is_empty() {
        let names: Vec<&str> = crate::api::Model::per_sample().map(|m| m.name()).collect();
        run.model = vec![names.join(",")];
        args.extend(["--model".to_string(), names.join(",")]);
    }
    (args, run)
}

/// `--budget`: a time, or `none` for no limit.
fn parse_budget(text: &str) -> Result<Option<std::time::Duration>, BadInput> {
    match text {
        "none" => Ok(None),
        b => crate::options::parse::parse_duration(b)
            .map(Some)
            .ok_or_else(|| {
                BadInput::new(format!(
                    "--budget: '{b}' is not a time such as 90s or 2m (or none)"
                ))
            }),
    }
}

/// The head's executable: the one built by `--head-rev`, else this process's.
fn head_or_host(head: Option<&Path>) -> Result<PathBuf> {
    match head {
        Some(h) => Ok(h.to_path_buf()),
        None => Ok(crate::sys::exe::host_exe()
            .map_err(|e| BadInput::new(format!("cannot find the host executable: {e}")))?),
    }
}

/// The two sides: the base binary given or built by `--rev`, the head built by `--head-rev`
/// (else this binary), and each one's build as the report names it.
type Sides = (PathBuf, Option<PathBuf>, (Build, Build));

fn sides(a: &AbArgs) -> Result<Sides> {
    let host = super::rev::host_crate();
    let target = host.as_ref().map(super::rev::target_name);
    let (base, base_build) = match (&a.rev, &a.base) {
        (Some(rev), _) => super::rev::build_rev(rev, "base")?,
        (None, Some(path)) => (path.clone(), Build::of_file(path, None, None)),
        (None, None) => return Err(BadInput::new("ab: give BASE_BINARY or --rev REV").into()),
    };
    let (head, head_build) = match &a.head_rev {
        Some(rev) => {
            let (exe, build) = super::rev::build_rev(rev, "head")?;
            (Some(exe), build)
        }
        None => {
            let exe = head_or_host(None)?;
            let revision = host.as_ref().and_then(super::rev::working_revision);
            (None, Build::of_file(&exe, target, revision))
        }
    };
    Ok((base, head, (base_build, head_build)))
}

/// `ab --instructions`: both builds count their cases under callgrind (exact, so nothing to
/// pair), one after the other, each saving an ordinary results file into `--out`; the counts
/// are then judged by `compare` at `--threshold`.
fn ab_instructions(
    a: &AbArgs,
    base: &Path,
    head: Option<&Path>,
    flags: Vec<String>,
    out: &Path,
) -> Result<u8> {
    let head = head_or_host(head)?;
    // --out and --no-charts are set here for each side's run.
    let (mut given, mut flags) = (flags.into_iter(), Vec::new());
    while let Some(f) = given.next() {
        match f.as_str() {
            "--no-charts" => {}
            "--out" => drop(given.next()),
            _ if f.starts_with("--out=") => {}
            _ => flags.push(f),
        }
    }
    let mut files = Vec::new();
    for (which, exe) in [("base", base), ("head", head.as_path())] {
        let dir = out.join(format!(".ab-{which}-{}", std::process::id()));
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("run")
            .args(&flags)
            .args(["--no-charts", "--out"])
            .arg(&dir)
            .stdout(std::process::Stdio::null());
        if which == "head"
            && let Some(spec) = &a.run.inject_slowdown
        {
            cmd.args(["--inject-slowdown", spec]);
        }
        let o = cmd.output().map_err(|e| {
            BadInput::new(format!(
                "ab: cannot start the {which} binary '{}': {e}",
                exe.display()
            ))
        })?;
        let found = run_file(&dir);
        let Some(file) = found else {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(BadInput::new(format!(
                "ab --instructions: the {which} binary '{}' made no counted run ({})",
                exe.display(),
                crate::sys::command::failure(&o)
            ))
            .into());
        };
        // Kept beside the run's other results, under its own name.
        let name = file.file_name().map(|n| n.to_owned()).unwrap_or_default();
        let kept = file
            .parent()
            .and_then(|machine_dir| machine_dir.file_name())
            .map(|m| out.join(m).join(name))
            .unwrap_or_else(|| file.clone());
        if let Some(parent) = kept.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&file, &kept)?;
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "threadfork: ab --instructions: {which} counted in {}",
            kept.display()
        );
        files.push(kept);
    }
    super::compare_command(&super::CompareArgs {
        paths: files,
        threshold: "5%".into(),
        instructions_threshold: a.threshold.clone().unwrap_or_else(|| "1%".into()),
        format: a.format.clone(),
        markdown: a.markdown,
        json: a.json,
        absolute: false,
        allow_failed: false,
        allow_missing: false,
        allow_incomplete: false,
    })
}

/// The one results file a run wrote under `dir` (`dir/MACHINE/RUN.json`).
fn run_file(dir: &Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|machine| std::fs::read_dir(machine.path()).ok())
        .flat_map(|files| files.flatten().map(|f| f.path()))
        .find(|p| crate::results::io::is_results_name(p))
}

/// `ab --judge FILE`: a saved job's rows made again from its kept pairs.
fn judge_again(a: &AbArgs) -> Result<u8> {
    use crate::compare::ab::report;
    let threshold = crate::compare::parse_threshold(a.timed_threshold())?;
    let Some(file) = a.base.as_deref() else {
        return Err(BadInput::new("ab --judge: give the job's results file").into());
    };
    let bad = |e: &dyn std::fmt::Display| {
        BadInput::new(format!("{}: not an ab results file: {e}", file.display()))
    };
    let bytes = read_bounded(file).map_err(|e| bad(&e))?;
    let mut r: report::AbResults = serde_json::from_slice(&bytes).map_err(|e| bad(&e))?;
    if r.schema != report::SCHEMA {
        return Err(bad(&format!("schema '{}'", r.schema)).into());
    }
    r.threshold = threshold;
    r.rows = report::judge_rows(&r.keys, threshold);
    if !a.gate.is_empty() {
        r.gate = gate::parse_gate(&a.gate)?;
    }
    if a.undecided.is_some() {
        r.undecided = gate::Undecided::parse(a.undecided.as_deref())?;
    }
    let format = crate::options::parse::exporter(a.format.as_deref(), a.markdown, a.json)?;
    print!("{}", format.render(Report::Ab(&r, Some(file))));
    Ok(r.exit_code())
}

/// A regular file's bytes, at most the size a results file may have.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let limit = crate::results::io::MAX_RESULTS_BYTES;
    let mut bytes = Vec::new();
    f.take(limit + 1).read_to_end(&mut bytes)?;
    let bytes = crate::results::io::unpacked(bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other("larger than a results file may be"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_sides_get_the_run_flags_and_none_of_abs_own() {
        let base = Path::new("old/threadfork");
        let given = strings(&[
            "ab",
            "old/threadfork",
            "--quick",
            "--json",
            "--budget",
            "90s",
        ]);
        assert_eq!(side_flags(&given, Some(base)), strings(&["--quick"]));
        let own = strings(&[
            "ab",
            "old/threadfork",
            "--sample-time=20ms",
            "--threshold=2%",
        ]);
        assert_eq!(
            side_flags(&own, Some(base)),
            strings(&["--sample-time=20ms"])
        );
    }
}
