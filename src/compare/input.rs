//! Finding and loading the results a comparison reads: files, folders, several baselines, and
//! the threshold flags.

use std::path::{Path, PathBuf};

use crate::error::BadInput;
use crate::results::{self, Results};

/// Every results file under `path` (a file, or a folder searched three levels deep), oldest
/// first by run id, which starts with its UTC time.
pub(crate) fn results_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut found = Vec::new();
    collect_json(path, 3, &mut found);
    found.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    found
}

/// The baseline runs: every file given and every run in every folder given (but `current`,
/// when a folder holds it too), of one machine — `machine` when some of them are of it, else
/// the machine of the newest — oldest first.
pub fn load_baselines(
    paths: &[PathBuf],
    machine: &str,
    current: &Path,
) -> Result<Vec<(Results, PathBuf)>, BadInput> {
    let mut runs = Vec::new();
    for p in paths {
        let mut files = results_files(p);
        if p.is_dir() {
            files.retain(|f| f != current);
        }
        if files.is_empty() {
            return Err(no_results(p));
        }
        for f in files {
            let r = results::load(&f).map_err(|e| BadInput::new(e.to_string()))?;
            runs.push((r, f));
        }
    }
    runs.sort_by(|a, b| a.0.run.id.cmp(&b.0.run.id));
    let keep = if runs.iter().any(|(r, _)| r.machine.id == machine) {
        machine.to_string()
    } else {
        runs.last()
            .map(|(r, _)| r.machine.id.clone())
            .unwrap_or_default()
    };
    runs.retain(|(r, _)| r.machine.id == keep);
    Ok(runs)
}

pub(crate) fn no_results(p: &Path) -> BadInput {
    BadInput::new(format!(
        "{}: no results file (*.json or *.json.gz) in this folder",
        p.display()
    ))
}

/// A results file, or the newest run (by run id, which starts with its UTC time) in a folder.
pub fn resolve_input(path: &Path) -> Result<PathBuf, BadInput> {
    results_files(path).pop().ok_or_else(|| no_results(path))
}

pub(crate) fn collect_json(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && depth > 0 {
            collect_json(&p, depth - 1, out);
        } else if crate::results::io::is_results_name(&p) {
            out.push(p);
        }
    }
}

/// Loads a side of the comparison, mapping every load problem to bad input.
pub fn load_input(path: &Path) -> Result<(Results, PathBuf), BadInput> {
    let file = resolve_input(path)?;
    let r = results::load(&file).map_err(|e| BadInput::new(e.to_string()))?;
    Ok((r, file))
}

/// Parses `5%`, `0.05` or `5` (read as percent) into a fraction in (0, 1).
pub fn parse_threshold(text: &str) -> Result<f64, BadInput> {
    parse_threshold_of("--threshold", text)
}

/// [`parse_threshold`] for the flag `flag`.
pub fn parse_threshold_of(flag: &str, text: &str) -> Result<f64, BadInput> {
    let t = text.trim();
    let bad = || BadInput::new(format!("{flag}: '{text}' is not a percentage such as 5%"));
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => {
            let v = t.parse::<f64>().map_err(|_| bad())?;
            if v >= 1.0 { v / 100.0 } else { v }
        }
    };
    if !(value > 0.0 && value < 1.0) {
        return Err(BadInput::new(format!(
            "{flag}: must be between 0% and 100% (got {text})"
        )));
    }
    Ok(value)
}
