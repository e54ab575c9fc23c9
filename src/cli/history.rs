//! The `history` command: one machine's runs read as series, their change points reported,
//! the page drawn, and the exit code of a nightly gate.

use anyhow::Result;

use super::HistoryArgs;
use crate::compare::history;
use crate::error::BadInput;

/// Each series' search for change points runs at this family-wise level (over the places a
/// step could fall). On forty A/A runs of the reference machine it made 0.03 false change
/// points per 100 runs per key in shuffled series, 0.58 in the runs' own order, where the
/// machine's own level moved (docs/studies/history.md); 0.2 found a few more steps for 0.92.
pub const ALPHA: f64 = 0.05;

pub(super) fn history_command(a: &HistoryArgs) -> Result<u8> {
    let threshold = crate::compare::parse_threshold(&a.threshold)?;
    let format = match (a.format.as_deref(), a.markdown, a.json) {
        (_, true, _) => "markdown",
        (_, _, true) => "json",
        (None, ..) => "text",
        (Some(f @ ("text" | "markdown" | "json" | "junit")), ..) => f,
        (Some(f), ..) => {
            return Err(BadInput::new(format!(
                "--format: '{f}' is none of text, markdown, json, junit"
            ))
            .into());
        }
    };
    let seen_after = history::detect::MIN_SEGMENT;
    if a.window < seen_after {
        return Err(BadInput::new(format!(
            "--window: a change is seen once {seen_after} runs hold its new level, so a window \
             of {} never fails; give {seen_after} or more runs",
            a.window
        ))
        .into());
    }
    if a.step == 0 {
        return Err(BadInput::new("--step: give 1 or more commits").into());
    }
    let mut paths = a.paths.clone();
    if let Some(range) = &a.revs {
        paths.push(runs_of_range(range, a.step, &a.run_flags, &a.out)?);
    }
    let runs = history::load_runs(&paths, a.machine.as_deref())?;
    if let Some(steps) = &a.evaluate {
        let steps: Vec<f64> = steps
            .split(',')
            .map(crate::compare::parse_threshold)
            .collect::<Result<_, _>>()?;
        print!("{}", history::evaluate::evaluate(&runs, &steps, 20, ALPHA));
        return Ok(0);
    }
    let h = history::history(&runs, ALPHA);
    let code = h.exit_code(threshold, a.window);
    let page = if a.no_charts {
        None
    } else {
        let dir = a.out.join(&h.machine);
        match crate::export::history::write_page(&h, &dir) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("threadfork: history: the page was not written: {e:#}");
                None
            }
        }
    };
    print!(
        "{}",
        crate::export::history::render(&h, format, threshold, a.window, code)
    );
    if let (Some(p), "text") = (page, format) {
        println!("\nPage: {}", p.display());
    }
    Ok(code)
}

/// `--revs A..B`: each `step`-th commit of the range's first-parent line (the line a branch's
/// own history follows; commits of merged branches are not runs of it), counted back from B,
/// built (as `ab --rev` builds one) and run once with `flags`, oldest first; a commit already
/// run under `out/revs/` is not run again. The folder of the runs.
fn runs_of_range(
    range: &str,
    step: usize,
    flags: &str,
    out: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let host = super::rev::host_crate()
        .ok_or_else(|| BadInput::new("--revs: this binary does not know its crate"))?;
    let listed = std::process::Command::new("git")
        .arg("-C")
        .arg(host.manifest_dir)
        .args(["rev-list", "--first-parent", "--reverse", range])
        .output()?;
    if !listed.status.success() {
        return Err(BadInput::new(format!(
            "--revs: '{range}' is not a range of commits (A..B)"
        ))
        .into());
    }
    let all: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let shas = every_kth_from_newest(&all, step);
    if shas.is_empty() {
        return Err(BadInput::new(format!("--revs: '{range}' holds no commit")).into());
    }
    let dir = out.join("revs");
    for (i, sha) in shas.iter().enumerate() {
        let short = sha.get(..12).unwrap_or(sha);
        let runs = dir.join(short);
        if std::fs::read_dir(&runs).is_ok_and(|mut d| d.next().is_some()) {
            continue;
        }
        eprintln!(
            "threadfork history: commit {} of {}: {short}",
            i + 1,
            shas.len()
        );
        let (exe, _) = super::rev::build_rev(sha, "history")?;
        let status = std::process::Command::new(&exe)
            .arg("run")
            .args(flags.split_whitespace())
            .args(["--no-charts", "--out"])
            .arg(&runs)
            .stdout(std::process::Stdio::null())
            .status()?;
        super::rev::drop_worktree(sha);
        if !status.success() {
            eprintln!("threadfork history: the run of {short} ended with {status}; left out");
        }
    }
    Ok(dir)
}

/// Every `step`-th of `shas` (oldest first), counted back from the newest, which is always
/// among them.
fn every_kth_from_newest(shas: &[String], step: usize) -> Vec<String> {
    let n = shas.len();
    shas.iter()
        .enumerate()
        .filter(|(i, _)| (n - 1 - i) % step.max(1) == 0)
        .map(|(_, s)| s.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::every_kth_from_newest;

    #[test]
    fn a_step_keeps_the_newest_and_every_kth_before_it() {
        let shas: Vec<String> = (1..=7).map(|i| format!("c{i}")).collect();
        assert_eq!(every_kth_from_newest(&shas, 1), shas);
        assert_eq!(every_kth_from_newest(&shas, 3), ["c1", "c4", "c7"]);
        assert_eq!(every_kth_from_newest(&shas, 4), ["c3", "c7"]);
        assert_eq!(every_kth_from_newest(&shas, 10), ["c7"]);
        assert!(every_kth_from_newest(&[], 2).is_empty());
    }
}
