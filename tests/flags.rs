//! A workload's own flags: declared by its parameters (`Param::flag`), read by `run` as
//! `--param` would be, swept by a list, read by the workload's reader, and refused when one
//! is threadfork's own or malformed.

mod common;

use threadfork::__private::options::{Command as Sub, resolve};
use threadfork::{Ctx, Output, Param, Registry, Sample, Size, Verdict, Workload};

const REPS: Param = Param::new("reps", 10)
    .range(1, 1000)
    .help("repetitions per worker")
    .flag("reps");
const LEVEL: Param = Param::new("level", 1)
    .range(1, 3)
    .help("how hard: low, mid or high")
    .flag("level")
    .read_as("NAME", |t| match t {
        "low" => Ok(1),
        "mid" => Ok(2),
        "high" => Ok(3),
        _ => Err(format!("'{t}' is not low, mid or high")),
    });
const REPS_PARAMS: [Param; 2] = [REPS, LEVEL];

/// Counts its repetitions.
struct Reps;

impl Workload for Reps {
    type Shared = ();
    fn name(&self) -> &'static str {
        "reps"
    }
    fn op(&self) -> &'static str {
        "repetitions"
    }
    fn params(&self) -> &'static [Param] {
        &REPS_PARAMS
    }
    fn size(&self) -> Size {
        Size::PerWorker(REPS)
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        Output::new(ctx.units(), ctx.units())
    }
    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        let ok = (0..s.outputs().len()).all(|k| s.outputs()[k].checksum == s.units(k));
        Verdict::check(ok, || "a count is wrong".into())
    }
}

const CLASHING: [Param; 1] = [Param::new("n", 1).flag("workers")];
const MALFORMED: [Param; 1] = [Param::new("n", 1).flag("Not_A_Flag")];

/// A workload whose one parameter declares `flags`.
struct Flagged(&'static str, &'static [Param]);

impl Workload for Flagged {
    type Shared = ();
    fn name(&self) -> &'static str {
        self.0
    }
    fn op(&self) -> &'static str {
        "nothings"
    }
    fn params(&self) -> &'static [Param] {
        self.1
    }
    fn size(&self) -> Size {
        Size::None
    }
    fn run(&self, _: &Ctx<'_, ()>) -> Output {
        Output::new(1, 0)
    }
    fn verify(&self, _: &Sample<'_, ()>) -> Verdict {
        Verdict::Passed
    }
}

/// The plan of `run --workload reps ARGS`, or the one line that refuses it.
fn plan(registry: &Registry, args: &[&str]) -> Result<Vec<Vec<u64>>, String> {
    let argv = ["threadfork", "run", "--workload", "reps"]
        .iter()
        .chain(args);
    let cli = threadfork::__private::parse_args(argv, registry)?;
    let Sub::Run(a) = cli.command else {
        unreachable!()
    };
    let cpus = threadfork::__private::machine::fingerprint().allowed_cpus;
    let plan = resolve(&a, vec![], cpus, registry).map_err(|e| e.to_string())?;
    Ok(plan.workloads.iter().map(|s| s.params.clone()).collect())
}

#[test]
fn a_workloads_flag_sets_its_parameter_and_a_list_sweeps_it() {
    let reg = Registry::new().with(Reps);
    assert_eq!(plan(&reg, &["--reps", "7"]), Ok(vec![vec![7, 1]]));
    assert_eq!(plan(&reg, &["--level", "mid"]), Ok(vec![vec![10, 2]]));
    assert_eq!(
        plan(&reg, &["--reps", "3,5", "--level", "high"]),
        Ok(vec![vec![3, 3], vec![5, 3]])
    );
    // The flag and `--param` are one parameter: given twice, refused.
    let twice = plan(&reg, &["--reps", "3", "--param", "reps=4"]).unwrap_err();
    assert!(twice.contains("'reps' is already set by"), "{twice}");
}

#[test]
fn a_flags_mistake_is_named_by_the_flag() {
    let reg = Registry::new().with(Reps);
    let cases = [
        (
            &["--level", "max"][..],
            "--level: 'max' is not low, mid or high",
        ),
        (
            &["--level", "low,mid"][..],
            "--level: 'low,mid' is not low, mid or high",
        ),
        (&["--reps", "0"][..], "--reps: must be at least 1 (got 0)"),
        (&["--reps", "x"][..], "--reps: 'x' is not a whole number"),
    ];
    for (args, want) in cases {
        assert_eq!(plan(&reg, args), Err(want.to_string()), "{args:?}");
    }
}

#[test]
fn a_flag_of_threadforks_own_or_a_malformed_one_is_refused() {
    let reg = Registry::new().with(Reps).with(Flagged("clash", &CLASHING));
    let e = threadfork::__private::parse_args(["threadfork", "run"], &reg).unwrap_err();
    assert_eq!(
        e,
        "workload 'clash': --workers is a flag of threadfork's own; give its parameter another (Param::flag)"
    );
    let reg = Registry::new().with(Flagged("odd", &MALFORMED));
    assert!(
        reg.problems()[0].contains("a flag is 1 to 40 lower-case letters"),
        "{:?}",
        reg.problems()
    );
}

#[test]
fn the_built_ins_flags_are_theirs_and_still_work() {
    let reg = threadfork::builtin::registry();
    let argv = [
        "threadfork",
        "run",
        "--workload",
        "counter",
        "--hold",
        "30ms",
    ];
    let cli = threadfork::__private::parse_args(argv, &reg).unwrap();
    let Sub::Run(a) = cli.command else {
        unreachable!()
    };
    assert_eq!(a.flags, [("hold".to_string(), "30ms".to_string())]);
}
