//! `threadfork ab BASE [run flags]`: the base build and this (head) build, both started in
//! serve mode with one plan, measured sample by sample on the same machine — sizes calibrated
//! once on the head side and handed to both, each case's samples taken in adjacent pairs
//! whose order alternates (ABBA) — and judged on the pairs' log-ratios.

pub mod build;
mod copies;
mod epochs;
pub mod gate;
pub mod interfere;
pub mod judge;
pub mod report;
pub mod sides;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::error::BadInput;
use crate::host::protocol::{CaseInfo, Hello, Reply, Request};
use crate::results::metric::Format;
use crate::results::{Failure, Metric, timestamps};
use copies::Copies;
use report::{AbResults, Key, SideInfo};
use sides::{Side, Which};

/// What `ab` was asked for, validated.
pub struct AbOptions {
    pub base: PathBuf,
    /// The head build: this binary when `None`, else one built by `--head-rev`.
    pub head: Option<PathBuf>,
    /// Each side's build as the report names it: (base, head).
    pub builds: (build::Build, build::Build),
    /// The run flags both sides resolve their plan from.
    pub flags: Vec<String>,
    /// A slowdown injected into the head side only (sensitivity scripts and tests).
    pub inject_head: Option<String>,
    /// Smallest change that counts, as a fraction (0.01 is 1%).
    pub threshold: f64,
    /// Pairs per task case; start-up cases take at least the plan's start-up samples.
    pub pairs: Option<usize>,
    /// Stop taking rounds after this long (rounds already taken are judged).
    pub budget: Option<Duration>,
    pub case_timeout: Duration,
    pub args: Vec<String>,
    /// The rows that gate (`--gate`; empty: the default): what spare time is spent on.
    pub gate: Vec<String>,
}

/// How much parent memory a side maps in one turn while both build up a start-up case's.
pub const HOLD_CHUNK: u64 = 16 << 20;
/// Family-wise error rate over every row of a job.
pub const ALPHA: f64 = 0.05;

/// The smallest change of a throughput a job judges by when `--threshold` is not given. A
/// pair of square samples on a 2-vCPU VM differs by about 5% (median absolute deviation,
/// quiet or busy), so ruling out 1% on `square / every model` took about 250 pairs, more than
/// a job's budget holds on a busy machine, and 3 of 5 quiet A/A jobs left it undecided; 2%
/// settles in a quarter of the pairs, and a 5% slower build still shows at 4–5%.
pub const DEFAULT_THRESHOLD: &str = "2%";

/// Times a job starts both sides afresh, its pairs split between them: what a process is
/// dealt when it starts stays with it (in A/A jobs here one side started threads 24% slower
/// for a whole job). A row regresses only when every epoch's pairs say so.
pub const EPOCHS: usize = 2;

/// Pairs per task case without `--samples`: enough for a key's interval at the job's level,
/// few enough for a quick job (60 pairs of 5 ms did worse: docs/studies/ab-sensitivity.md).
pub const DEFAULT_PAIRS: usize = 20;

/// Pairs per start-up case when `--samples` is not given (at least `run`'s start-up samples).
pub const DEFAULT_STARTUP_PAIRS: usize = 20;

/// Pairs a start-up case takes at each visit of the spare rounds: one start-up pair takes a few
/// milliseconds where mapping a parent's memory again takes a second, and a thread's start-up
/// swings ±20% from one pair to the next here, so its rows need hundreds of pairs to settle.
pub const STARTUP_BATCH: usize = 8;

/// Runs the job: starts both sides, checks they hold one plan, takes the pairs, judges them.
pub fn run(opts: &AbOptions, machine: crate::machine::Machine) -> anyhow::Result<AbResults> {
    let started = Instant::now();
    let mut watch = Some(interfere::Watch::new());
    let (started_at, stamp) = timestamps(SystemTime::now());
    if !opts.base.is_file() {
        return Err(BadInput::new(format!(
            "ab: the base binary '{}' is not a file",
            opts.base.display()
        ))
        .into());
    }
    let (head_exe, head_shown) = sides::head_exe(opts.head.as_deref())?;
    let copies = Copies::new(&opts.base, &head_exe)?;
    let mut head_flags = opts.flags.clone();
    if let Some(spec) = &opts.inject_head {
        head_flags.extend(["--inject-slowdown".to_string(), spec.clone()]);
    }
    let start = |which: Which| match which {
        Which::Base => {
            Side::start(which, &copies.base, &opts.base, &opts.flags).map_err(BadInput::new)
        }
        Which::Head => {
            Side::start(which, &copies.head, &head_shown, &head_flags).map_err(BadInput::new)
        }
    };
    let mut hellos = None;
    let mut job: Option<Job<'_>> = None;
    for epoch in 0..EPOCHS {
        if crate::sys::signals::stop_requested() {
            break;
        }
        let t0 = Instant::now();
        // Which side starts first alternates too.
        let (mut base, mut head) = if epoch % 2 == 0 {
            let b = start(Which::Base)?;
            (b, start(Which::Head)?)
        } else {
            let h = start(Which::Head)?;
            (start(Which::Base)?, h)
        };
        let hb = base.hello().map_err(BadInput::new)?;
        let hh = head.hello().map_err(BadInput::new)?;
        sides::check_plans(&hb, &hh)?;
        let j = job.get_or_insert_with(|| Job::new(opts, &hh, watch.take()));
        j.watch.restart();
        j.phases.hello_s += t0.elapsed().as_secs_f64();
        j.take_pairs(&mut base, &mut head, started, epoch);
        base.close();
        head.close();
        hellos.get_or_insert((hb, hh));
    }
    let (Some(job), Some((hb, hh))) = (job, hellos) else {
        return Err(BadInput::new("ab: interrupted before both sides answered").into());
    };
    let incomplete = crate::sys::signals::stop_requested();
    let keys = job.keys();
    let interference = job.interference();
    let rows = report::judge_rows(&keys, opts.threshold);
    Ok(AbResults {
        schema: report::SCHEMA.into(),
        id: crate::sweep::new_run_id(&stamp),
        started_at,
        duration_s: started.elapsed().as_secs_f64(),
        args: opts.args.clone(),
        machine,
        base: SideInfo::of(&opts.base, &hb, &opts.builds.0),
        head: SideInfo::of(&head_shown, &hh, &opts.builds.1),
        threshold: opts.threshold,
        alpha: ALPHA,
        incomplete,
        keys,
        rows,
        failures: job.failures,
        left_out: hh.left_out,
        phases: job.phases,
        interference,
        gate: Vec::new(),
        undecided: Default::default(),
    })
}

/// Whether base goes first in round `round` of case `k`: an eight-round cycle (AB then BA on
/// one core, BA then AB on the next, then the other way round), so that each side goes first
/// as often as second on every core and after each switch of cores. (Alternating every round
/// alone, the first sample after a switch was always one side's: its thread start-ups came
/// out up to 2× slower in A/A jobs here.)
fn base_first(round: usize, k: usize) -> bool {
    (round + round / 2 + round / 4 + k) % 2 == 0
}

/// One case's pairs as they come in.
struct CaseState {
    info: CaseInfo,
    params: Vec<u64>,
    failed: bool,
    /// Per pair: (epoch, base reply, head reply).
    pairs: Vec<(usize, Reply, Reply)>,
    /// Pairs others spoilt ([`interfere::spoilt`]): used only when too few are clean.
    spoilt: Vec<(usize, Reply, Reply)>,
}

impl CaseState {
    /// The pairs the case's figures come from: the clean ones, and the spoilt ones too when
    /// fewer than [`interfere::CLEAN_ENOUGH`] are clean.
    fn used(&self) -> impl Iterator<Item = &(usize, Reply, Reply)> {
        let short = self.pairs.len() < interfere::CLEAN_ENOUGH;
        let spoilt = if short { &self.spoilt[..] } else { &[] };
        self.pairs.iter().chain(spoilt)
    }
}

struct Job<'a> {
    opts: &'a AbOptions,
    cases: Vec<CaseState>,
    warmup: usize,
    pairs: usize,
    startup_pairs: usize,
    failures: Vec<Failure>,
    phases: report::Phases,
    watch: interfere::Watch,
    /// Time taken by pairs others spoilt: the budget grows by it (at most twice over).
    spoilt_time: Duration,
}

impl<'a> Job<'a> {
    fn new(opts: &'a AbOptions, hello: &Hello, watch: Option<interfere::Watch>) -> Job<'a> {
        let pairs = opts.pairs.unwrap_or(DEFAULT_PAIRS);
        let startup_pairs = opts.pairs.unwrap_or(DEFAULT_STARTUP_PAIRS);
        Job {
            opts,
            cases: hello
                .cases
                .iter()
                .map(|c| CaseState {
                    info: c.clone(),
                    params: c.params.clone(),
                    failed: false,
                    pairs: Vec::new(),
                    spoilt: Vec::new(),
                })
                .collect(),
            warmup: hello.warmup.max(1),
            pairs,
            startup_pairs: startup_pairs.max(hello.startup_samples),
            failures: Vec::new(),
            phases: report::Phases::default(),
            watch: watch.unwrap_or_else(interfere::Watch::new),
            spoilt_time: Duration::ZERO,
        }
    }

    /// The job's interference: pairs retaken and kept, cores others held over the job (read
    /// once every side has been reaped).
    fn interference(&self) -> interfere::JobInterference {
        let kept: usize = (self.cases.iter())
            .filter(|c| c.pairs.len() < interfere::CLEAN_ENOUGH)
            .map(|c| c.spoilt.len())
            .sum();
        let spoilt: usize = self.cases.iter().map(|c| c.spoilt.len()).sum();
        let job = self.watch.over_job();
        interfere::JobInterference {
            retaken: spoilt - kept,
            kept,
            others_cores: job.map(|j| j.0),
            steal_cores: job.map(|j| j.1),
            cores: self.watch.cores(),
            grown_s: (self.opts.budget).map_or(0.0, |b| self.spoilt_time.min(b).as_secs_f64()),
        }
    }

    fn sample_timeout(&self) -> Duration {
        self.opts.case_timeout + Duration::from_secs(10)
    }

    fn fail(&mut self, k: usize, reason: String) {
        let c = &mut self.cases[k];
        // A case cut short by Ctrl-C did not fail: the job is marked incomplete instead, and
        // the pairs it has are judged.
        if crate::sys::signals::stop_requested() {
            return;
        }
        if !c.failed {
            c.failed = true;
            self.failures.push(Failure {
                case: c.info.id.clone(),
                reason,
            });
        }
    }

    /// Sizes every time-sized case once; both sides get the head side's sizes. The base side
    /// calibrates too, its sizes unused: both processes then have done the same work (opened
    /// the same cases, grown alike), and a fork from either copies the same.
    fn calibrate(&mut self, base: &mut Side, head: &mut Side) {
        let timeout = self.opts.case_timeout * 9 + Duration::from_secs(10);
        for k in 0..self.cases.len() {
            if !self.cases[k].info.sized || crate::sys::signals::stop_requested() {
                continue;
            }
            for side in [&mut *base, &mut *head] {
                match side.ask(&Request::Calibrate { case: k }, timeout) {
                    Ok(Reply {
                        params: Some(p),
                        error: None,
                        ..
                    }) => {
                        if side.which == Which::Head {
                            self.cases[k].params = p;
                        }
                    }
                    Ok(r) => {
                        let why = r.error.unwrap_or_else(|| "no sizes came back".into());
                        self.fail(k, format!("{}: {why}", side.which.name()));
                    }
                    Err(e) => self.fail(k, e),
                }
            }
        }
    }

    /// Makes both sides hold case `k`'s parent memory, grown in turns, [`HOLD_CHUNK`] at a
    /// time (`held`: what they hold now). Held by one side at once, 1 GiB forked 20–30%
    /// faster from the side that mapped it second, all job long and whichever side that was
    /// (A/A jobs here): where the kernel places a mapping's pages stays with it. Grown in
    /// turns, both sides' pages come alike.
    fn hold(&mut self, base: &mut Side, head: &mut Side, k: usize, held: &mut u64) {
        let total = self.cases[k]
            .info
            .id
            .params
            .get("parent_rss")
            .copied()
            .unwrap_or(0);
        let timeout = self.sample_timeout();
        let ask = |job: &mut Job<'_>, side: &mut Side, bytes: u64| match side
            .ask(&Request::Hold { bytes }, timeout)
        {
            Ok(Reply { error: None, .. }) => {}
            Ok(Reply { error: Some(e), .. }) => {
                let why = format!("{}: {e}", side.which.name());
                job.fail(k, why);
            }
            Err(e) => job.fail(k, e),
        };
        if *held > total {
            ask(self, base, 0);
            ask(self, head, 0);
            *held = 0;
        }
        let mut turn = 0;
        while *held < total && !self.cases[k].failed {
            let bytes = HOLD_CHUNK.min(total - *held);
            if turn % 2 == 0 {
                ask(self, base, bytes);
                ask(self, head, bytes);
            } else {
                ask(self, head, bytes);
                ask(self, base, bytes);
            }
            *held += bytes;
            turn += 1;
        }
    }

    /// One pair of case `k`, in the order round `round` gives; kept past the warm-up.
    fn pair(&mut self, base: &mut Side, head: &mut Side, k: usize, round: usize, epoch: usize) {
        let t0 = Instant::now();
        let request = Request::Sample {
            case: k,
            params: self.cases[k].params.clone(),
            // Each core takes both orders in turn: round r runs from core r/2.
            turn: round / 2,
        };
        let timeout = self.sample_timeout();
        let one = |side: &mut Side| -> Result<Reply, String> {
            let r = side.ask(&request, timeout)?;
            match r.error {
                Some(why) => Err(format!("{}: {why}", side.which.name())),
                None => Ok(r),
            }
        };
        let (a, b) = if base_first(round, k) {
            let a = one(base);
            (a, one(head))
        } else {
            let b = one(head);
            (one(base), b)
        };
        // Others' share of the CPUs around the pair, read outside both samples.
        let others = self.watch.others_now(&[base.group(), head.group()]);
        match (a, b) {
            (Ok(a), Ok(b)) if round >= self.warmup => {
                let c = &mut self.cases[k];
                if interfere::spoilt(&a, &b, others) {
                    c.spoilt.push((epoch, a, b));
                    self.spoilt_time += t0.elapsed();
                } else {
                    c.pairs.push((epoch, a, b));
                }
            }
            (Ok(_), Ok(_)) => {}
            (Err(e), _) | (_, Err(e)) => self.fail(k, e),
        }
    }

    /// One epoch's share of the pairs, from sides started for it; the first epoch also
    /// calibrates.
    fn take_pairs(&mut self, base: &mut Side, head: &mut Side, started: Instant, epoch: usize) {
        let share = |n: usize| n.div_ceil(EPOCHS);
        let (pairs, startup_pairs) = (share(self.pairs), share(self.startup_pairs));
        // Each epoch ends at its share of the budget, so that a slow start leaves the later
        // epochs their pairs; the time pairs others spoilt took is given back (up to the
        // budget again), so that a busy machine still gets its clean pairs.
        let over = |job: &Job<'_>| {
            crate::sys::signals::stop_requested()
                || job.opts.budget.is_some_and(|b| {
                    let share = b.mul_f64((epoch + 1) as f64 / EPOCHS as f64);
                    started.elapsed() >= share + job.spoilt_time.min(b)
                })
        };
        // Start-up cases first, while both sides are lean (before any calibration or task
        // case): each case's pairs in a row, so its parent memory is touched once per side.
        // Smallest parent first: each size is mapped once per side.
        let mut startups: Vec<usize> = (0..self.cases.len())
            .filter(|&k| self.cases[k].info.startup)
            .collect();
        startups.sort_by_key(|&k| self.cases[k].info.id.params.get("parent_rss").copied());
        let mut held = 0;
        for k in startups {
            let t0 = Instant::now();
            self.hold(base, head, k, &mut held);
            self.phases.hold_s += t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            for round in 0..self.warmup + startup_pairs {
                if self.cases[k].failed || over(self) {
                    break;
                }
                self.pair(base, head, k, round, epoch);
            }
            self.phases.startup_s += t0.elapsed().as_secs_f64();
        }
        if epoch == 0 {
            let t0 = Instant::now();
            self.calibrate(base, head);
            self.phases.calibration_s = t0.elapsed().as_secs_f64();
        }
        let t0 = Instant::now();
        // Task cases round by round: every case's pair i is taken in the same stretch of time.
        // Pairs others spoilt are retaken by the spare rounds, which go to the gated rows
        // still undecided; a job with none (`--samples`, no budget) retakes them in place, up
        // to its pairs again. (Retaken in place for every case, on a machine busy half the
        // time they took the whole budget: no spare round was left for the rows that needed
        // one.)
        let spare = self.opts.budget.is_some() && self.opts.pairs.is_none();
        let clean = |c: &CaseState| c.pairs.iter().filter(|p| p.0 == epoch).count();
        let rounds = self.warmup + if spare { pairs } else { 2 * pairs };
        for round in 0..rounds {
            for k in 0..self.cases.len() {
                let c = &self.cases[k];
                let done = round >= self.warmup + pairs && clean(c) >= pairs;
                if c.info.startup || c.failed || done || over(self) {
                    continue;
                }
                self.pair(base, head, k, round, epoch);
            }
        }
        self.more_pairs(base, head, (rounds, &mut held), epoch, &over);
        self.phases.task_s += t0.elapsed().as_secs_f64();
        for k in 0..self.cases.len() {
            if base.dead.is_some() || head.dead.is_some() {
                let why = base.dead.clone().or(head.dead.clone()).unwrap_or_default();
                if self.cases[k].used().next().is_none() {
                    self.fail(k, why);
                }
            }
        }
    }

    /// Past the default pairs, within the epoch's share of the budget: rounds of the cases of
    /// the gated rows still undecided ([`gate::wanted_more`]), start-ups included (memory
    /// mapped again), until every gated row is decided or the time is up. With `--samples`
    /// or no budget: none.
    fn more_pairs(
        &mut self,
        base: &mut Side,
        head: &mut Side,
        (mut round, held): (usize, &mut u64),
        epoch: usize,
        over: &dyn Fn(&Job<'_>) -> bool,
    ) {
        if self.opts.budget.is_none() || self.opts.pairs.is_some() {
            return;
        }
        while !over(self) {
            let open = gate::wanted_more(&self.keys(), self.opts.threshold, &self.opts.gate);
            let mut ks: Vec<usize> = (0..self.cases.len())
                .filter(|&k| !self.cases[k].failed && open.contains(&self.cases[k].info.id))
                .collect();
            if ks.is_empty() {
                return;
            }
            // Start-ups first, those of the parent memory held now before the others (a
            // smaller parent lets the memory go, a larger one maps it again).
            let parent = |c: &CaseState| c.info.id.params.get("parent_rss").copied();
            let now = Some(*held);
            ks.sort_by_key(|&k| {
                let c = &self.cases[k];
                (!c.info.startup, parent(c) != now, parent(c))
            });
            for k in ks {
                if self.cases[k].failed || over(self) {
                    break;
                }
                if !self.cases[k].info.startup {
                    self.pair(base, head, k, round, epoch);
                    continue;
                }
                let t0 = Instant::now();
                self.hold(base, head, k, held);
                self.phases.hold_s += t0.elapsed().as_secs_f64();
                for i in 0..STARTUP_BATCH {
                    if self.cases[k].failed || over(self) {
                        break;
                    }
                    self.pair(base, head, k, round * STARTUP_BATCH + i, epoch);
                }
            }
            self.phases.more_rounds += 1;
            round += 1;
        }
    }

    /// Every (case, figure) both sides reported in every pair, with its raw samples.
    fn keys(&self) -> Vec<Key> {
        let mut keys = Vec::new();
        for c in self
            .cases
            .iter()
            .filter(|c| !c.failed && c.used().next().is_some())
        {
            let used: Vec<&(usize, Reply, Reply)> = c.used().collect();
            let metrics: Vec<Metric> = used[0].2.figures.iter().map(|f| f.metric).collect();
            for metric in metrics {
                let value = |r: &Reply| {
                    r.figures
                        .iter()
                        .find(|f| f.metric == metric)
                        .map(|f| f.value)
                };
                let both: Option<Vec<(f64, f64)>> = used
                    .iter()
                    .map(|(_, a, b)| Some((value(a)?, value(b)?)))
                    .collect();
                let Some(both) = both else { continue };
                // One side's parent states, pair for pair, when every reply carried one.
                let parents = |head: bool| -> Vec<[u64; 3]> {
                    let pick =
                        |(_, a, b): &(usize, Reply, Reply)| if head { b.parent } else { a.parent };
                    used.iter()
                        .map(|p| pick(p))
                        .collect::<Option<_>>()
                        .unwrap_or_default()
                };
                keys.push(Key {
                    case: c.info.id.clone(),
                    metric,
                    unit: unit_of(metric, &c.info.op),
                    better: metric.better(),
                    judged: metric.is_judged(),
                    base: both.iter().map(|p| p.0).collect(),
                    head: both.iter().map(|p| p.1).collect(),
                    base_probe: used.iter().map(|(_, a, _)| a.probe).collect(),
                    head_probe: used.iter().map(|(_, _, b)| b.probe).collect(),
                    epoch: used.iter().map(|(e, _, _)| *e).collect(),
                    base_parent: parents(false),
                    head_parent: parents(true),
                    verified: used.iter().all(|(_, a, b)| a.verified && b.verified),
                });
            }
        }
        keys
    }
}

fn unit_of(m: Metric, op: &str) -> String {
    match m.facts().format {
        Format::Rate => format!("{op}/s"),
        _ => m.unit().into(),
    }
}
