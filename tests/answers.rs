//! The "Answers" section: first in the summary, at most 25 lines, and every figure in it a
//! measured, verified median of the run it summarises; a user's workload answered in its own
//! op and variants.

mod common;

use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;
use threadfork::__private::export::answers::answers;
use threadfork::__private::results::Results;
use threadfork::answers::{Answer, Line, RunFigures};
use threadfork::{Ctx, Output, Param, Registry, Sample, Size, Verdict, Workload};

/// Every quote of every answer is a verified measurement of `r`, quoted at its median.
fn quotes_are_measured(r: &Results) {
    for a in answers(r) {
        for q in &a.quotes {
            let m = r
                .measurements
                .iter()
                .find(|m| m.case == q.case && m.metric == q.metric)
                .unwrap_or_else(|| {
                    panic!("'{}' quotes {} {}: not measured", a.line, q.case, q.metric)
                });
            assert!(m.verified, "'{}' quotes an unverified figure", a.line);
            assert_eq!(m.median, q.value, "'{}'", a.line);
        }
    }
}

#[test]
fn the_quick_summary_opens_with_answers_quoting_verified_figures_of_the_run() {
    let dir = common::TempDir::new("answers");
    let o = common::threadfork()
        .args(["run", "--quick", "--no-charts"])
        .args(["--workload", "square,counter,empty,sequence"])
        .args([
            "--model",
            "sequential,threads,fork,spawn,thread-pool-map,lazy,eager",
        ])
        .args(["--samples", "2", "--sizes", "1e3", "--parent-rss", "0,16M"])
        .arg("--out")
        .arg(&dir.0)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The answers come before any other section, and fit on one screen.
    let first = stdout.lines().find(|l| l.starts_with("## ")).unwrap();
    assert_eq!(first, "## Answers");
    let section: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "## Answers")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!section.is_empty() && section.len() <= 25, "{section:?}");
    let file = common::json_files(&dir).pop().unwrap();
    let r = threadfork::__private::results::load(&file).unwrap();
    let all = answers(&r);
    assert_eq!(all.len(), section.len());
    for (a, shown) in all.iter().zip(&section) {
        assert_eq!(*shown, format!("- {}", a.line));
    }
    // The classic questions, each answered with figures.
    for start in [
        "Starting a worker",
        "A bigger parent",
        "CPU-bound work (square), 2 workers",
        "A lock (counter, std-mutex on threads)",
        "Without the lock",
        "Lazy vs eager",
        "Opening a pool of 2 workers",
        "From which task size a pool pays: not measured (add `--work",
    ] {
        let a = all.iter().find(|a| a.line.starts_with(start));
        let a = a.unwrap_or_else(|| panic!("no answer '{start}…' in {section:?}"));
        assert!(a.line.contains('±') || a.quotes.is_empty(), "{}", a.line);
    }
    quotes_are_measured(&r);
}

/// Bins counted under one lock: `padded` does twice the work of `packed`.
struct Bins;

const ADDS: Param = Param::new("adds", 20_000).range(1, 1 << 30);
const BINS_PARAMS: [Param; 1] = [ADDS];

impl Workload for Bins {
    type Shared = ();
    fn name(&self) -> &'static str {
        "bins"
    }
    fn op(&self) -> &'static str {
        "adds"
    }
    fn params(&self) -> &'static [Param] {
        &BINS_PARAMS
    }
    fn variants(&self) -> &'static [&'static str] {
        &["packed", "padded"]
    }
    fn size(&self) -> Size {
        Size::PerWorker(ADDS)
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        let rounds = if ctx.variant() == "padded" { 2 } else { 1 };
        let mut sum = 0u64;
        for i in 0..ctx.units() * rounds {
            sum = std::hint::black_box(sum.wrapping_add(i));
        }
        Output::new(ctx.units(), sum)
    }
    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        Verdict::check(s.outputs().iter().all(|o| o.ops > 0), || "no adds".into())
    }
}

/// A quick run of `reg`'s workload on `models` at 1 and 2 workers, every case passed.
fn measured(reg: Registry, models: &str) -> Results {
    let plan = common::quick_plan(&reg, &["--model", models, "--workers", "1,2"]);
    let machine = threadfork::__private::machine::fingerprint();
    let r = threadfork::__private::sweep::run(
        &plan,
        machine,
        &AtomicBool::new(false),
        &ProgressBar::hidden(),
    );
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    r
}

#[test]
fn a_users_workload_is_answered_in_its_own_op_and_variants() {
    let r = measured(Registry::new().with(Bins), "sequential,threads");
    let all = answers(&r);
    let lines: Vec<&str> = all.iter().map(|a| a.line.as_str()).collect();
    let best = lines
        .iter()
        .find(|l| l.starts_with("bins (packed), 2 workers: fastest on "));
    assert!(best.is_some_and(|l| l.contains("adds/s")), "{lines:?}");
    // Padded against packed on a parallel model: a ratio where the intervals separate,
    // "within noise" where they do not; never on sequential.
    let pair = lines.iter().find(|l| l.starts_with("bins: padded "));
    assert!(
        pair.is_some_and(|l| l.contains("× packed on threads")
            || l.contains("padded and packed within noise of each other on threads")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("sequential with 2")),
        "{lines:?}"
    );
    // No built-in question is asked of a run that measured none of them but the start.
    assert!(
        !lines.iter().any(|l| l.starts_with("CPU-bound")),
        "{lines:?}"
    );
    quotes_are_measured(&r);
}

/// Bins that answer in their own words: the padded bins' cost at the widest worker count.
struct OwnWords;

impl Workload for OwnWords {
    type Shared = ();
    fn name(&self) -> &'static str {
        "own-words"
    }
    fn op(&self) -> &'static str {
        Bins.op()
    }
    fn params(&self) -> &'static [Param] {
        Bins.params()
    }
    fn variants(&self) -> &'static [&'static str] {
        Bins.variants()
    }
    fn size(&self) -> Size {
        Bins.size()
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        Bins.run(ctx)
    }
    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        Bins.verify(s)
    }
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        let n = run.widest().unwrap_or(1);
        let (Some(packed), Some(padded)) = (
            run.find("threads", "packed", n, threadfork::Metric::Throughput),
            run.find("threads", "padded", n, threadfork::Metric::Throughput),
        ) else {
            return vec![];
        };
        let mut l = Line::default();
        let text = format!(
            "Padding the bins costs {} against {} packed.",
            l.fig(padded, &run.op()),
            l.fig(packed, &run.op())
        );
        vec![l.done(text)]
    }
}

#[test]
fn a_workload_that_answers_in_its_own_words_is_answered_so_and_its_lines_are_saved() {
    let r = measured(Registry::new().with(OwnWords), "threads");
    let lines: Vec<String> = answers(&r).into_iter().map(|a| a.line).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("Padding the bins costs "), "{lines:?}");
    assert_eq!(r.answers.len(), 1, "kept in the results");
    // Saved and read back: the same lines quoting the same figures (JSON keeps a median to
    // within its last bit, as it keeps the measurement's own).
    let back: Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.answers.len(), 1);
    let (a, b) = (&back.answers[0], &r.answers[0]);
    assert_eq!(a.line, b.line);
    for (qa, qb) in a.quotes.iter().zip(&b.quotes) {
        assert_eq!((&qa.case, &qa.metric), (&qb.case, &qb.metric));
        assert!((qa.value - qb.value).abs() <= qb.value.abs() * 1e-12);
    }
    quotes_are_measured(&back);
}

/// A throughput measurement of a synthetic run: `samples` of workload `w`.
fn tp(
    w: &str,
    model: &str,
    variant: &str,
    workers: usize,
    samples: &[f64],
) -> threadfork::answers::Measurement {
    let id = threadfork::answers::CaseId {
        workload: w.into(),
        model: model.into(),
        variant: variant.into(),
        workers,
        params: Default::default(),
    };
    let mut m = threadfork::answers::Measurement::new(
        &id,
        threadfork::Metric::Throughput,
        samples.to_vec(),
        true,
    );
    m.op = Some("adds".into());
    m
}

fn lines_of(ms: Vec<threadfork::answers::Measurement>) -> Vec<String> {
    let r = common::synthetic_results("synthetic", "m", Some(2), ms);
    answers(&r).into_iter().map(|a| a.line).collect()
}

#[test]
fn generic_answers_never_name_sequential_at_more_than_one_worker() {
    // Sequential at 2 workers has the highest median; threads is the parallel model.
    let lines = lines_of(vec![
        tp(
            "w",
            "sequential",
            "a",
            1,
            &[100.0, 101.0, 99.0, 100.0, 100.0],
        ),
        tp(
            "w",
            "sequential",
            "a",
            2,
            &[300.0, 301.0, 299.0, 300.0, 300.0],
        ),
        tp("w", "threads", "a", 2, &[190.0, 191.0, 189.0, 190.0, 190.0]),
        tp(
            "w",
            "sequential",
            "b",
            2,
            &[100.0, 101.0, 99.0, 100.0, 100.0],
        ),
        tp("w", "threads", "b", 2, &[95.0, 96.0, 94.0, 95.0, 95.0]),
    ]);
    assert!(
        lines[0].starts_with("w (a), 2 workers: fastest on threads at "),
        "{lines:?}"
    );
    assert!(lines[1].contains(" on threads with 2 workers"), "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.contains("on sequential")),
        "{lines:?}"
    );
}

#[test]
fn overlapping_intervals_never_give_fastest_or_a_ratio() {
    let wide = [80.0, 120.0, 100.0, 90.0, 110.0];
    let lines = lines_of(vec![
        tp("w", "sequential", "a", 1, &[50.0, 51.0, 49.0, 50.0, 50.0]),
        tp("w", "threads", "a", 2, &wide),
        tp("w", "fork", "a", 2, &[85.0, 118.0, 99.0, 92.0, 108.0]),
        tp("w", "threads", "b", 2, &[82.0, 121.0, 101.0, 91.0, 109.0]),
    ]);
    assert!(!lines.iter().any(|l| l.contains("fastest")), "{lines:?}");
    assert!(
        lines[0].contains("threads, fork within noise of each other"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("b and a within noise of each other on threads"),
        "{lines:?}"
    );
    assert!(!lines[1].contains("runs at"), "{lines:?}");
}
