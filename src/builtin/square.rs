//! `square`: the classic `square_numbers` — i*i for i in 0..work folded into a checksum, per
//! task — verified against the closed form of the sum of squares.

use std::hint::black_box;

use crate::api::answers::format;
use crate::api::answers::{Answer, Line, Metric, RunFigures, separate};
use crate::api::model::{Named, Pattern, Pool};
use crate::api::{Ctx, Model, Output, Param, Sample, Size, Verdict, Workload};

/// The workload's name, as runs, results and `--workload` name it.
pub const NAME: &str = "square";
/// What one operation is, in the plural.
pub const OP: &str = "squares";

/// The built-in CPU-bound workload.
pub struct Square;

/// Square tasks per sample, split between the workers: 250,000 tasks of 100 squares take
/// about 10–30 ms on one current core, long enough that a thread's or process's wake-up skew
/// (tens of µs) stays under 0.5% of a sample, short enough for a quick run.
pub const DEFAULT_TASKS: u64 = 250_000;

/// Squares per task.
pub const WORK: Param = Param::new("work", DEFAULT_WORK)
    .range(1, 1 << 40)
    .help("squares per square task (the closed form is exact up to 2^40)")
    .flag("work")
    .unit_work();
/// Tasks per sample, split between the workers.
pub const TASKS: Param = Param::new("tasks", DEFAULT_TASKS)
    .range(1, u64::MAX)
    .help("square tasks per sample, split between the workers")
    .flag("tasks");
const PARAMS: [Param; 2] = [WORK, TASKS];

impl Workload for Square {
    type Shared = ();

    fn name(&self) -> &'static str {
        NAME
    }
    fn op(&self) -> &'static str {
        OP
    }
    fn describe(&self) -> &'static str {
        "square_numbers(work) per task: i*i for i in 0..work, black_box on every square; \
         each worker's checksum is checked against the closed form of the sum of squares"
    }
    fn params(&self) -> &'static [Param] {
        &PARAMS
    }
    fn size(&self) -> Size {
        Size::Split(TASKS)
    }

    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        let work = ctx.get(WORK);
        let (tasks, checksum) = run_tasks(work, ctx.units());
        Output::new(tasks.wrapping_mul(work), checksum)
    }

    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        let work = s.get(WORK);
        for (k, out) in s.outputs().iter().enumerate() {
            let tasks = s.units(k);
            let expected = expected_task(work).wrapping_mul(tasks);
            if out.checksum != expected {
                return Verdict::Failed(format!(
                    "square checksum mismatch in worker {k}: got {}, expected {expected} \
                     ({tasks} tasks of {work})",
                    out.checksum
                ));
            }
            if out.ops != tasks * work {
                return Verdict::Failed(format!(
                    "worker {k} counted {} squares, expected {}",
                    out.ops,
                    tasks * work
                ));
            }
        }
        Verdict::Passed
    }

    /// What more workers buy for CPU-bound work against one worker run sequentially, what
    /// opening a pool costs, and whether the run measured from which task size a pool pays.
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        let mut out = Vec::new();
        out.extend(cpu_bound(run));
        out.extend(pools(run));
        out
    }
}

/// Verified throughputs of Rust code at `workers` on a pool.
fn on_pools<'a>(
    run: &RunFigures<'a>,
    workers: usize,
    metric: Metric,
) -> impl Iterator<Item = &'a crate::api::answers::Measurement> + 'a {
    run.measurements().filter(move |m| {
        m.case.workers == workers
            && m.metric == metric
            && m.verified
            && m.runtime.is_none()
            && Named::of(&m.case.model).is_pool()
    })
}

fn cpu_bound(run: &RunFigures<'_>) -> Option<Answer> {
    let w = run.widest()?;
    let op = run.op();
    let mut l = Line::default();
    let throughput = Metric::Throughput;
    let Some(seq) = run.find(Model::Sequential.name(), "default", 1, throughput) else {
        return Some(
            l.done(
                "CPU-bound work: no sequential reference at 1 worker (add `--model sequential`)."
                    .into(),
            ),
        );
    };
    if w < 2 {
        return Some(
            l.done("CPU-bound work: one worker only on this run (add `--workers 1,2`).".into()),
        );
    }
    let reference = l.fig(seq, &op);
    let mut parts = Vec::new();
    for model in [Model::Threads, Model::Fork, Model::Spawn] {
        if let Some(m) = run.find(model.name(), "default", w, throughput) {
            let k = if separate(m, seq) {
                format!("{}×", format::sig3(m.median / seq.median))
            } else {
                "within noise of it".to_string()
            };
            parts.push(format!("{} {k} ({})", model.name(), l.fig(m, &op)));
        }
    }
    let best_pool = on_pools(run, w, throughput).max_by(|a, b| a.median.total_cmp(&b.median));
    if let Some(p) = best_pool {
        let k = if separate(p, seq) {
            format!("{}×", format::sig3(p.median / seq.median))
        } else {
            "within noise of it".to_string()
        };
        parts.push(format!(
            "best pool {} {k} ({})",
            p.case.model,
            l.fig(p, &op)
        ));
    }
    Some(l.done(format!(
        "CPU-bound work (square), {w} workers against 1 run sequentially ({reference}): {}.",
        parts.join("; ")
    )))
}

fn pools(run: &RunFigures<'_>) -> Vec<Answer> {
    let mut out = Vec::new();
    let Some(w) = run.widest() else {
        return out;
    };
    let mut l = Line::default();
    let mut parts = Vec::new();
    for pool in Pool::ALL {
        let model = Model::Pool(pool, Pattern::Map);
        let started = on_pools(run, w, Metric::PoolStart).find(|m| m.case.model == model.name());
        if let Some(m) = started {
            parts.push(format!("{} {}", pool.name(), l.fig(m, "")));
        }
    }
    if !parts.is_empty() {
        out.push(l.done(format!(
            "Opening a pool of {w} workers (request to every worker running): {}.",
            parts.join("; ")
        )));
    }
    let mut works: Vec<Option<u64>> = run
        .measurements()
        .filter(|m| m.is(Metric::Throughput))
        .map(|m| m.param("work"))
        .collect();
    works.sort_unstable();
    works.dedup();
    if !parts.is_empty() && works.len() < 2 {
        out.push(Line::default().done(
            "From which task size a pool pays: not measured (add `--work 1,10,100,1000,10000`)."
                .into(),
        ));
    }
    out
}

/// The classic example's list length: square the numbers 0..100.
pub const DEFAULT_WORK: u64 = 100;

/// One task: the wrapping sum of i*i for i in 0..n. `black_box` on every square keeps the
/// compiler from replacing the loop by its closed form, so each square is really computed.
#[inline]
pub fn square_numbers(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(black_box(i.wrapping_mul(i)));
    }
    acc
}

/// `tasks` tasks of `work` squares: (tasks done, counted as they finish; the wrapping sum of
/// the task checksums). Never inlined: every model and the bare loop then run the very same
/// machine code, so that no model is faster or slower merely because its copy of the loop
/// was laid out differently (on the reference machine two inlined copies differed by 1.6×).
#[inline(never)]
pub fn run_tasks(work: u64, tasks: u64) -> (u64, u64) {
    let (mut done, mut sum) = (0u64, 0u64);
    for _ in 0..tasks {
        sum = sum.wrapping_add(square_numbers(black_box(work)));
        done += 1;
    }
    (done, sum)
}

/// Closed form of one task: sum of i^2 for i in 0..n is (n-1)n(2n-1)/6, wrapping to u64.
pub fn expected_task(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Exact in u128 for n < 2^41; beyond that reduce with the factors that divide exactly.
    let (a, b, c) = (u128::from(n - 1), u128::from(n), 2 * u128::from(n) - 1);
    let (mut x, mut y, mut z) = (a, b, c);
    // One of n-1, n is even; one of n-1, n, 2n-1 is a multiple of 3.
    if x % 2 == 0 {
        x /= 2;
    } else {
        y /= 2;
    }
    if x % 3 == 0 {
        x /= 3;
    } else if y % 3 == 0 {
        y /= 3;
    } else {
        z /= 3;
    }
    let m = u128::from(u64::MAX) + 1;
    let p = ((x % m) * (y % m)) % m;
    ((p * (z % m)) % m) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_hand_values() {
        assert_eq!(expected_task(0), 0);
        assert_eq!(expected_task(1), 0);
        assert_eq!(expected_task(4), 1 + 4 + 9);
        assert_eq!(expected_task(100), 328_350);
    }

    #[test]
    fn closed_form_matches_the_loop_when_it_wraps() {
        // 3_000_000 squares sum past 2^64, so both sides must wrap the same way.
        for n in [2, 3, 7, 1000, 3_000_000] {
            assert_eq!(square_numbers(n), expected_task(n), "n = {n}");
        }
    }

    #[test]
    fn tasks_count_themselves() {
        assert_eq!(run_tasks(100, 7), (7, expected_task(100) * 7));
    }
}
