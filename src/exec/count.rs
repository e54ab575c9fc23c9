//! The process `run --instructions` starts under callgrind: the host binary re-entered with
//! [`COUNT_ARG`], it runs one sample of one case at one worker and reports whether the
//! workload's check passed. Only the worker's share is counted (see
//! [`crate::measure::instructions`]).

use std::path::Path;

use super::{Bound, run_sample};
use crate::api::Model;
use crate::api::workload::{Verdict, WorkloadRef};

/// The hidden first argument of a counted run.
pub const COUNT_ARG: &str = "__threadfork-count";

/// What a counted run prints when the sample passed its check, then ` ops=N`.
pub const PASSED: &str = "threadfork-count: passed";
/// … when the workload cannot check it.
pub const UNVERIFIED: &str = "threadfork-count: unverified";

/// The verdict and operation count a counted run printed: (verified, ops).
pub fn parse_report(stdout: &str) -> Option<(bool, u64)> {
    stdout.lines().rev().find_map(|l| {
        let (tag, ops) = l.rsplit_once(" ops=")?;
        let ops = ops.trim().parse().ok()?;
        match tag {
            PASSED => Some((true, ops)),
            UNVERIFIED => Some((false, ops)),
            _ => None,
        }
    })
}

/// The arguments after [`COUNT_ARG`] for one case.
pub fn args(workload: &str, model: Model, variant: usize, params: &[u64]) -> Vec<String> {
    let params: Vec<String> = params.iter().map(u64::to_string).collect();
    vec![
        COUNT_ARG.to_string(),
        workload.to_string(),
        model.name().to_string(),
        variant.to_string(),
        params.join(","),
    ]
}

/// `EXE __threadfork-count WORKLOAD MODEL VARIANT P1,P2,…`: one sample, one worker. Returns
/// the exit code: 0 when the workload's check passed or it cannot check, 1 when the sample
/// failed, 2 on arguments this binary cannot read.
pub fn count_main(args: &[String], find: impl Fn(&str) -> Option<WorkloadRef>) -> i32 {
    let usage = |why: &str| {
        eprintln!("threadfork count: internal; {why}");
        2
    };
    let [name, model, variant, params] = args else {
        return usage("usage: __threadfork-count WORKLOAD MODEL VARIANT PARAMS");
    };
    let Some(workload) = find(name) else {
        return usage(&format!("this binary has no workload '{name}'"));
    };
    let Some(model) = Model::parse(model) else {
        return usage(&format!("no model '{model}'"));
    };
    let info = workload.info();
    let variant = match variant.parse::<usize>() {
        Ok(v) if v < info.variants.len() => v,
        _ => return usage(&format!("no variant {variant}")),
    };
    let params: Result<Vec<u64>, _> = params
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect();
    let Ok(params) = params.map_err(drop).and_then(|p| {
        if p.len() == info.params.len() {
            Ok(p)
        } else {
            Err(())
        }
    }) else {
        return usage("the parameters do not match the workload's");
    };
    super::testing::from_env();
    let exe = std::env::current_exe().unwrap_or_default();
    let bound = Bound {
        workload,
        variant,
        params,
    };
    match run_sample(model, &bound.job(1, Path::new(&exe))) {
        Ok(raw) => match raw.verdict {
            Verdict::Failed(why) => {
                eprintln!("threadfork count: the sample failed its check: {why}");
                1
            }
            Verdict::Unverified => {
                println!("{UNVERIFIED} ops={}", raw.ops());
                0
            }
            Verdict::Passed | Verdict::PassedWith { .. } => {
                println!("{PASSED} ops={}", raw.ops());
                0
            }
        },
        Err(e) => {
            eprintln!("threadfork count: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_run_report_reads_back() {
        assert_eq!(
            parse_report("x\nthreadfork-count: passed ops=12\n"),
            Some((true, 12))
        );
        assert_eq!(
            parse_report("threadfork-count: unverified ops=3"),
            Some((false, 3))
        );
        assert_eq!(parse_report("threadfork-count: passed"), None);
        assert_eq!(parse_report(""), None);
    }
}
