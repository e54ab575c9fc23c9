//! What a user implements: the [`Workload`] trait, the context one worker runs in, and what a
//! worker and a verification report. Nothing here knows about threads, processes or files.

pub use super::params::*;
use std::sync::Arc;

use super::model::Model;
use crate::api::answers::{Answer, RunFigures};
use crate::results::{Measurement, Metric};
use crate::sys::shared::{Shared, SharedArea};

/// What one worker did in one sample: operations it counted itself and a checksum of its
/// results that [`Workload::verify`] can check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub ops: u64,
    pub checksum: u64,
}

impl Output {
    pub fn new(ops: u64, checksum: u64) -> Output {
        Output { ops, checksum }
    }
}

/// The outcome of [`Workload::verify`] for one sample.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// A stated check passed: the figures are `verified`.
    Passed,
    /// Passed, and recorded one more figure (e.g. the updates a lock-free race lost): listed
    /// beside the throughput, never judged as a cost.
    PassedWith { metric: Metric, value: f64 },
    /// The result is wrong: the case fails with this reason and reports no number.
    Failed(String),
    /// The workload has nothing to check: its figures are marked unverified everywhere.
    Unverified,
}

impl Verdict {
    /// `Passed` when `ok`, else `Failed` with the message.
    pub fn check(ok: bool, why: impl FnOnce() -> String) -> Verdict {
        if ok {
            Verdict::Passed
        } else {
            Verdict::Failed(why())
        }
    }
}

/// What one worker knows while it runs: its index and share, and (through `Deref`) the
/// [`Sample`] it belongs to — worker count, variant, parameters, shared state.
pub struct Ctx<'a, S> {
    index: usize,
    units: u64,
    offset: u64,
    sample: Sample<'a, S>,
}

impl<'a, S> Ctx<'a, S> {
    /// This worker's index, 0 ..< [`Sample::workers`].
    pub fn index(&self) -> usize {
        self.index
    }
    /// This worker's share of the sample's size (see [`Workload::size`]); on a pool, the
    /// task's part of it.
    pub fn units(&self) -> u64 {
        self.units
    }
    /// Where this call's units start within worker [`Ctx::index`]'s share: 0, except on a
    /// pool, which runs a share as tasks — units `offset .. offset + units` of it. A workload
    /// whose unit `i` does something particular to `i` numbers its units from here.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl<'a, S> std::ops::Deref for Ctx<'a, S> {
    type Target = Sample<'a, S>;
    fn deref(&self) -> &Sample<'a, S> {
        &self.sample
    }
}

/// One sample as a whole: its workers, variant, parameters and shared state, and after it
/// ran each worker's output. What [`Workload::setup`] and [`Workload::verify`] get, and what
/// a worker's [`Ctx`] dereferences to.
pub struct Sample<'a, S> {
    workers: usize,
    variant: &'static str,
    size: Size,
    params: Params<'a>,
    shared: &'a S,
    outputs: &'a [Output],
}

impl<'a, S> Sample<'a, S> {
    pub fn workers(&self) -> usize {
        self.workers
    }
    pub fn variant(&self) -> &'static str {
        self.variant
    }
    /// The value of parameter `p` in this sample: `ctx.get(WORK)`.
    #[track_caller]
    #[inline]
    pub fn get(&self, p: Param) -> u64 {
        self.params.get(p)
    }
    /// The value of the parameter named `name`.
    #[deprecated(
        since = "0.2.0",
        note = "read a parameter by its handle: `ctx.get(NAME)`, with `const NAME: Param = Param::new(..)` declared once and listed in `params()`"
    )]
    #[track_caller]
    pub fn param(&self, name: &str) -> u64 {
        #[allow(deprecated)]
        self.params.by_name(name)
    }
    pub fn shared(&self) -> &'a S {
        self.shared
    }
    /// Each worker's output, by index (empty in `setup` and while workers run).
    pub fn outputs(&self) -> &'a [Output] {
        self.outputs
    }
    /// What worker `k` was asked to do.
    pub fn units(&self, k: usize) -> u64 {
        units_of(self.size, self.params, k, self.workers)
    }
    /// The whole sample's size: the sum of every worker's units.
    pub fn total_units(&self) -> u64 {
        (0..self.workers).map(|k| self.units(k)).sum()
    }
    /// The sum of the operations the workers counted.
    pub fn total_ops(&self) -> u64 {
        self.outputs.iter().map(|o| o.ops).sum()
    }
}

/// A piece of work threadfork runs as threads, as forked and spawned processes and
/// sequentially, measuring start-up, memory and throughput at every worker count.
///
/// One worker's share is [`Workload::run`]; [`Workload::verify`] checks a whole sample. The
/// workload object itself lives in each process: in-process state in it (a
/// `std::sync::Mutex`, a channel) is shared by threads only, so such variants declare
/// [`Workload::supports`] accordingly. State every worker must share across processes is
/// [`Workload::Shared`]: it lives in the `MAP_SHARED` region.
///
/// ```
/// use threadfork::{Ctx, Output, Sample, Size, Verdict, Workload, Param};
///
/// /// Sums 0..n per task: a CPU kernel with nothing shared.
/// struct Sums;
///
/// const N: Param = Param::new("n", 1000);
/// const TASKS: Param = Param::new("tasks", 10_000);
///
/// impl Workload for Sums {
///     type Shared = ();
///     fn name(&self) -> &'static str { "sums" }
///     fn op(&self) -> &'static str { "additions" }
///     fn params(&self) -> &'static [Param] {
///         &[N, TASKS]
///     }
///     fn size(&self) -> Size { Size::Split(TASKS) }
///     fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
///         let n = ctx.get(N);
///         let mut sum = 0u64;
///         for _ in 0..ctx.units() {
///             sum = sum.wrapping_add((0..n).map(std::hint::black_box).sum::<u64>());
///         }
///         Output::new(ctx.units() * n, sum)
///     }
///     fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
///         let n = s.get(N);
///         let ok = s.outputs().iter().enumerate().all(|(k, o)| {
///             o.checksum == (n * n.saturating_sub(1) / 2).wrapping_mul(s.units(k))
///         });
///         Verdict::check(ok, || "a sum is wrong".into())
///     }
/// }
/// # let _ = threadfork::Registry::new().with(Sums);
/// ```
pub trait Workload: Send + Sync + 'static {
    /// State all workers of a sample share; `()` for none. Zeroed before every sample, then
    /// [`Workload::setup`] may give it starting values.
    type Shared: Shared;

    /// The name on the command line and in results: lower-case letters, digits and dashes.
    fn name(&self) -> &'static str;

    /// What one operation is, in the plural ("squares", "increments", "bytes hashed").
    fn op(&self) -> &'static str;

    /// One sentence on what a worker does and how a sample is verified.
    fn describe(&self) -> &'static str {
        ""
    }

    /// The workload's parameters with their defaults (at most [`MAX_PARAMS`]).
    fn params(&self) -> &'static [Param] {
        &[]
    }

    /// Adjusts parameter values after the command line set them (e.g. a default that depends
    /// on another parameter), each read, set and asked whether it was given by its handle.
    fn finish_params(&self, values: &mut ParamValues<'_>) {
        let _ = values;
    }

    /// Which parameter sizes a sample, and how it is shared between workers.
    fn size(&self) -> Size;

    /// The variants (e.g. kinds of lock); every case runs one. Default: `["default"]`.
    fn variants(&self) -> &'static [&'static str] {
        &["default"]
    }

    /// Whether `variant` runs on `model`. Default: everywhere.
    fn supports(&self, model: Model, variant: &str) -> bool {
        let _ = (model, variant);
        true
    }

    /// True for a workload that measures only starting and stopping workers: its workers skip
    /// the start barrier, run at once and leave; it gets startup and roundtrip figures.
    fn start_only(&self) -> bool {
        false
    }

    /// Called in the harness's process before each sample, after the shared state was zeroed
    /// and before any worker exists.
    fn setup(&self, sample: &Sample<'_, Self::Shared>) {
        let _ = sample;
    }

    /// One worker's whole share of one sample. In a forked child: allocate nothing and take no
    /// lock that another thread of the harness may hold (threadfork's [`crate::Mutex`] and
    /// atomics in the shared state are fine).
    fn run(&self, ctx: &Ctx<'_, Self::Shared>) -> Output;

    /// Checks one sample: every worker's output and the shared state.
    fn verify(&self, sample: &Sample<'_, Self::Shared>) -> Verdict;

    /// Joins the outputs of two pieces of one worker's share. A pool runs each worker's share
    /// as tasks of `--chunk` units (its [`Ctx::units`] is then the task's size, its
    /// [`Ctx::offset`] where the task starts in the share, its [`Ctx::index`] the worker
    /// whose share the task belongs to) and joins their outputs
    /// with this before [`Workload::verify`] sees one output per worker. Default: operations
    /// and checksums added, wrapping — right for a checksum that is a sum over units.
    fn combine(&self, a: Output, b: Output) -> Output {
        Output::new(
            a.ops.wrapping_add(b.ops),
            a.checksum.wrapping_add(b.checksum),
        )
    }

    /// Called after every sample, failed ones too (join a helper thread started in `setup`).
    fn teardown(&self) {}

    /// Findings in plain words from this workload's measurements of a run, for the summary.
    fn findings(&self, measurements: &[&Measurement]) -> Vec<String> {
        let _ = measurements;
        Vec::new()
    }

    /// The answers to the questions this workload is measured for, first in the summary and
    /// `index.html`: one line each, quoting figures of the run through a
    /// [`crate::answers::Line`]. By default, the fastest model against the sequential run and
    /// each variant against the first ([`crate::answers::RunFigures::generic`]).
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        run.generic()
    }
}

/// What the harness needs to describe a workload without running it.
#[derive(Clone, Debug)]
pub struct Info {
    pub name: &'static str,
    pub op: &'static str,
    pub describe: &'static str,
    pub params: &'static [Param],
    pub size: Size,
    pub variants: &'static [&'static str],
    pub start_only: bool,
    pub shared_size: usize,
    pub shared_align: usize,
}

/// Which sample: its worker count, variant (an index into the variants) and parameter
/// values, as the executors know them.
#[derive(Clone, Copy, Debug)]
pub struct SampleOf<'a> {
    pub workers: usize,
    pub variant: usize,
    pub params: &'a [u64],
}

/// One worker's orders, as the executors read them from the region.
#[derive(Clone, Copy, Debug)]
pub struct Orders<'a> {
    pub index: usize,
    pub units: u64,
    /// The first of these units within the share (a pool's task; 0 otherwise).
    pub offset: u64,
    pub sample: SampleOf<'a>,
}

/// A [`Workload`] with its types erased, so that workloads of different shared-state types sit
/// in one registry and the executors drive them through one interface.
#[doc(hidden)]
pub trait Erased: Send + Sync + 'static {
    fn info(&self) -> Info;
    fn supports(&self, model: Model, variant: usize) -> bool;
    fn finish_params(&self, values: &mut [u64], given: &[bool]);
    fn setup(&self, area: SharedArea<'_>, of: SampleOf<'_>);
    fn run(&self, area: SharedArea<'_>, orders: &Orders<'_>) -> Output;
    fn verify(&self, area: SharedArea<'_>, of: SampleOf<'_>, outputs: &[Output]) -> Verdict;
    fn combine(&self, a: Output, b: Output) -> Output;
    fn teardown(&self);
    fn findings(&self, measurements: &[&Measurement]) -> Vec<String>;
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer>;
}

fn sample_of<'a, W: Workload>(
    w: &W,
    area: SharedArea<'a>,
    of: SampleOf<'a>,
    outputs: &'a [Output],
) -> Sample<'a, W::Shared> {
    Sample {
        workers: of.workers,
        variant: w.variants().get(of.variant).copied().unwrap_or("default"),
        size: w.size(),
        params: Params::new(w.params(), of.params),
        shared: area.get::<W::Shared>(),
        outputs,
    }
}

impl<W: Workload> Erased for W {
    fn info(&self) -> Info {
        Info {
            name: self.name(),
            op: self.op(),
            describe: self.describe(),
            params: self.params(),
            size: self.size(),
            variants: self.variants(),
            start_only: self.start_only(),
            shared_size: size_of::<W::Shared>(),
            shared_align: align_of::<W::Shared>(),
        }
    }

    fn supports(&self, model: Model, variant: usize) -> bool {
        let name = self.variants().get(variant).copied().unwrap_or("default");
        Workload::supports(self, model, name)
    }

    fn finish_params(&self, values: &mut [u64], given: &[bool]) {
        Workload::finish_params(self, &mut ParamValues::new(self.params(), values, given))
    }

    fn setup(&self, area: SharedArea<'_>, of: SampleOf<'_>) {
        Workload::setup(self, &sample_of(self, area, of, &[]))
    }

    fn run(&self, area: SharedArea<'_>, o: &Orders<'_>) -> Output {
        let sample = sample_of(self, area, o.sample, &[]);
        Workload::run(
            self,
            &Ctx {
                index: o.index,
                units: o.units,
                offset: o.offset,
                sample,
            },
        )
    }

    fn verify(&self, area: SharedArea<'_>, of: SampleOf<'_>, outputs: &[Output]) -> Verdict {
        Workload::verify(self, &sample_of(self, area, of, outputs))
    }

    fn combine(&self, a: Output, b: Output) -> Output {
        Workload::combine(self, a, b)
    }

    fn teardown(&self) {
        Workload::teardown(self)
    }

    fn findings(&self, measurements: &[&Measurement]) -> Vec<String> {
        Workload::findings(self, measurements)
    }
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        Workload::answers(self, run)
    }
}

/// A registered workload, shared by the harness and the threads that run it.
pub type WorkloadRef = Arc<dyn Erased>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_shares_add_up_and_differ_by_at_most_one() {
        for (total, n) in [(10, 3), (0, 4), (7, 7), (5, 8), (250_000, 64)] {
            let shares: Vec<u64> = (0..n).map(|k| split(total, k, n)).collect();
            assert_eq!(shares.iter().sum::<u64>(), total);
            let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(hi - lo <= 1, "{shares:?}");
        }
    }
}
