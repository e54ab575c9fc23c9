//! `counter`: the locked "database increment" — lock, copy the shared value, add one, hold,
//! write back, unlock. The lock kinds are the variants; the final value is verified exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{RecvTimeoutError, Sender, TryRecvError};

use crate::Mutex;
use crate::api::answers::{Answer, Line, Metric, RunFigures};
use crate::api::model::{Pattern, Pool};
use crate::api::study::tools::now_ns;
use crate::api::{Ctx, Model, Output, Param, ParamValues, Sample, Size, Verdict, Workload};

/// The workload's name, as runs, results and `--workload` name it.
pub const NAME: &str = "counter";
/// What one operation is, in the plural.
pub const OP: &str = "increments";

/// Counter increments per worker with no hold: about 5–20 ms per worker under contention.
pub const DEFAULT_INCREMENTS: u64 = 100_000;

/// With a hold, increments per worker are chosen so that one worker's holds add up to
/// about this long; a 30 ms sleep gives 3 increments per worker, as in the classic example.
const HOLD_BUDGET_NS: u64 = 100_000_000;

/// Messages the `channel` variant's queue holds before senders block: enough that the owner
/// never idles while workers are sending, small enough to stay in cache.
const CHANNEL_CAPACITY: usize = 1024;

/// Increments per worker.
pub const INCREMENTS: Param = Param::new("increments", DEFAULT_INCREMENTS)
    .range(1, u64::MAX)
    .help("counter increments per worker")
    .flag("increments");
/// How long the lock is held per increment (`--hold` sets it with [`HOLD_SLEEP`]).
pub const HOLD_NS: Param = Param::new("hold_ns", 0)
    .range(0, MAX_HOLD_NS)
    .help("the counter's hold inside the lock per increment: 0, a busy-wait in ns (500ns) or a sleep (30us, 30ms)")
    .flag("hold")
    .read_as("TIME", |t| parse_hold(t).map(|(ns, _)| ns));
/// Whether the hold sleeps rather than busy-waits.
pub const HOLD_SLEEP: Param = Param::new("hold_sleep", 0)
    .range(0, 1)
    .help("1: the hold sleeps (a slow write); 0: it busy-waits")
    .flag("hold")
    .read_as("TIME", |t| parse_hold(t).map(|(_, sleep)| u64::from(sleep)));
const PARAMS: [Param; 3] = [INCREMENTS, HOLD_NS, HOLD_SLEEP];

/// The longest hold: a minute per increment (`--hold` refuses more).
pub const MAX_HOLD_NS: u64 = 60_000_000_000;

/// Parses a hold: `0`, `500` or `500ns` (a busy-wait) and `30us`, `30ms`, `2s` (a sleep).
/// Returns (nanoseconds, whether it sleeps).
pub fn parse_hold(text: &str) -> Result<(u64, bool), String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("invalid hold '{text}': expected e.g. 0, 500ns, 30ms"))?;
    let (scale, sleep) = match unit {
        "" | "ns" => (1, false),
        "us" | "µs" => (1_000, true),
        "ms" => (1_000_000, true),
        "s" => (1_000_000_000, true),
        _ => {
            return Err(format!(
                "invalid hold '{text}': unit must be ns, us, ms or s"
            ));
        }
    };
    let ns = value
        .checked_mul(scale)
        .filter(|&ns| ns <= MAX_HOLD_NS)
        .ok_or_else(|| format!("invalid hold '{text}': at most 60s per increment"))?;
    Ok((ns, sleep && ns > 0))
}

const THREAD_POOL: Model = Model::Pool(Pool::Threads, Pattern::Map);
const RAYON: Model = Model::Pool(Pool::Rayon, Pattern::Map);
const PROCESS_POOL: Model = Model::Pool(Pool::Processes, Pattern::Map);

/// The variants, in display order, and the models each runs on.
const VARIANTS: [(&str, &[Model]); 7] = [
    // A plain value touched by one thread: the sequential baseline.
    ("default", &[Model::Sequential]),
    // On the pools too: the lock under tasks handed out one by one.
    ("std-mutex", &[Model::Threads, THREAD_POOL, RAYON]),
    ("parking-lot", &[Model::Threads]),
    // Lock-free `fetch_add`: the reference a lock is measured against.
    ("atomic", &[Model::Threads]),
    // One owner thread applies increments sent through a crossbeam channel.
    ("channel", &[Model::Threads]),
    // A futex mutex in memory shared between processes.
    ("pshared", &[Model::Fork, Model::Spawn, PROCESS_POOL]),
    // No lock at all: shows lost updates, never fails the run.
    ("no-lock", &[Model::Threads, Model::Fork, Model::Spawn]),
];

const VARIANT_NAMES: [&str; 7] = {
    let mut names = [""; 7];
    let mut i = 0;
    while i < VARIANTS.len() {
        names[i] = VARIANTS[i].0;
        i += 1;
    }
    names
};

/// How long the lock is held between reading the value and writing it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Hold {
    /// Write back at once.
    #[default]
    None,
    /// Busy-wait this many nanoseconds (a short computation inside the critical section).
    Spin { ns: u64 },
    /// Sleep this many nanoseconds (the classic example's `time.sleep(0.03)`, a slow write).
    Sleep { ns: u64 },
}

impl Hold {
    /// The hold a case's parameters describe.
    pub fn from_params(hold_ns: u64, sleep: u64) -> Hold {
        match (hold_ns, sleep) {
            (0, _) => Hold::None,
            (ns, 0) => Hold::Spin { ns },
            (ns, _) => Hold::Sleep { ns },
        }
    }

    pub fn ns(self) -> u64 {
        match self {
            Hold::None => 0,
            Hold::Spin { ns } | Hold::Sleep { ns } => ns,
        }
    }

    pub fn is_sleep(self) -> bool {
        matches!(self, Hold::Sleep { .. })
    }

    /// Waits as asked. Allocation-free (nanosleep or a clock loop), so a forked child may call it.
    #[inline]
    pub fn wait(self) {
        match self {
            Hold::None => {}
            Hold::Spin { ns } => {
                let until = now_ns().saturating_add(ns);
                while now_ns() < until {
                    std::hint::spin_loop();
                }
            }
            Hold::Sleep { ns } => std::thread::sleep(Duration::from_nanos(ns)),
        }
    }
}

/// Increments per worker for a hold: the default, or as many as fit the hold budget.
pub fn default_increments(hold: Hold) -> u64 {
    match hold.ns() {
        0 => DEFAULT_INCREMENTS,
        ns => (HOLD_BUDGET_NS / ns).clamp(1, DEFAULT_INCREMENTS),
    }
}

crate::shared_struct! {
    /// The counters every process of a sample shares.
    pub struct CounterShared {
        /// The `pshared` variant's value under a process-shared futex mutex.
        pub locked: Mutex<u64>,
        /// The `default` and `no-lock` variants' value: relaxed loads and stores, which
        /// compile to plain ones, so that an unlocked race is defined behaviour.
        pub plain: AtomicU64,
    }
}

/// A shared counter that workers increment.
trait Database {
    /// One read-modify-write: lock, copy the value to a local, add one, hold, write back, unlock.
    fn increment(&self, hold: Hold);
}

/// Runs `n` increments, counting them as they are done.
#[inline]
fn run_increments<D: Database + ?Sized>(db: &D, n: u64, hold: Hold) -> u64 {
    let mut done = 0;
    for _ in 0..n {
        db.increment(hold);
        done += 1;
    }
    done
}

impl Database for Mutex<u64> {
    fn increment(&self, hold: Hold) {
        let mut g = self.lock();
        let local = *g;
        hold.wait();
        *g = local + 1;
    }
}

impl Database for std::sync::Mutex<u64> {
    fn increment(&self, hold: Hold) {
        // A worker that panicked while holding the lock poisons it; the count is still valid.
        let mut g = self.lock().unwrap_or_else(|e| e.into_inner());
        let local = *g;
        hold.wait();
        *g = local + 1;
    }
}

impl Database for parking_lot::Mutex<u64> {
    fn increment(&self, hold: Hold) {
        let mut g = self.lock();
        let local = *g;
        hold.wait();
        *g = local + 1;
    }
}

/// A lock-free `fetch_add`. There is no critical section to hold in, so the hold is spent
/// before the add: the same work per increment, without serialising it.
struct Lockfree<'a>(&'a AtomicU64);

impl Database for Lockfree<'_> {
    fn increment(&self, hold: Hold) {
        hold.wait();
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Read, hold, write back, with no lock: concurrent workers overwrite each other's updates.
struct Unlocked<'a>(&'a AtomicU64);

impl Database for Unlocked<'_> {
    fn increment(&self, hold: Hold) {
        let local = self.0.load(Ordering::Relaxed);
        hold.wait();
        self.0.store(local + 1, Ordering::Relaxed);
    }
}

/// A worker's end of the `channel` variant: each increment is a message to the owner.
impl Database for Sender<()> {
    fn increment(&self, _hold: Hold) {
        // The owner outlives every sender while the sample runs, so the send cannot fail.
        let _ = self.send(());
    }
}

/// The `channel` variant's owner thread and what the workers need to reach it.
struct Channel {
    tx: Sender<()>,
    owner: JoinHandle<()>,
    /// Increments the owner applied, readable once it is done.
    applied: Arc<AtomicU64>,
    /// Set when the owner applied everything (or gave up); waiters sleep on the condvar.
    finished: Arc<(parking_lot::Mutex<bool>, parking_lot::Condvar)>,
    /// Set by teardown: the owner stops even if increments are missing.
    abandon: Arc<AtomicBool>,
}

/// The built-in locked-increment workload.
#[derive(Default)]
pub struct Counter {
    std_mutex: std::sync::Mutex<u64>,
    parking_lot: parking_lot::Mutex<u64>,
    atomic: AtomicU64,
    channel: parking_lot::Mutex<Option<Channel>>,
}

impl Counter {
    fn channel_worker(&self, n: u64, hold: Hold) -> u64 {
        let Some((tx, finished)) = self
            .channel
            .lock()
            .as_ref()
            .map(|c| (c.tx.clone(), c.finished.clone()))
        else {
            return 0;
        };
        let done = run_increments(&tx, n, hold);
        drop(tx);
        // The sample ends when the owner has applied every increment: wait for it asleep,
        // so that a waiting worker takes no core from the owner.
        let (lock, cv) = &*finished;
        let mut f = lock.lock();
        while !*f {
            cv.wait(&mut f);
        }
        done
    }
}

/// The owner of the `channel` variant: applies each received increment to its own value,
/// holding as a locked writer would, until `expected` increments arrived or it is abandoned.
fn channel_owner(
    rx: crossbeam::channel::Receiver<()>,
    hold: Hold,
    expected: u64,
    applied: &AtomicU64,
    abandon: &AtomicBool,
) {
    let mut value = 0u64;
    while value < expected {
        // The queue is rarely empty under load: take what is there without a timer, and only
        // wait with a timeout (to notice `abandon`) when it is.
        let got = match rx.try_recv() {
            Ok(()) => true,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(()) => true,
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => false,
            },
        };
        if got {
            let local = value;
            hold.wait();
            value = local + 1;
        } else if abandon.load(Ordering::Acquire) {
            break;
        }
    }
    applied.store(value, Ordering::Release);
}

fn hold_of<S>(s: &Sample<'_, S>) -> Hold {
    Hold::from_params(s.get(HOLD_NS), s.get(HOLD_SLEEP))
}

impl Workload for Counter {
    type Shared = CounterShared;

    fn name(&self) -> &'static str {
        NAME
    }
    fn op(&self) -> &'static str {
        OP
    }
    fn describe(&self) -> &'static str {
        "the locked database increment (lock, copy, add one, hold, write back, unlock) per \
         lock kind; every locked variant must end at exactly workers × increments, and no-lock \
         reports the updates it lost"
    }
    fn params(&self) -> &'static [Param] {
        &PARAMS
    }
    fn finish_params(&self, values: &mut ParamValues<'_>) {
        if !values.given(INCREMENTS) {
            let hold = Hold::from_params(values.get(HOLD_NS), values.get(HOLD_SLEEP));
            values.set(INCREMENTS, default_increments(hold));
        }
    }
    fn size(&self) -> Size {
        Size::PerWorker(INCREMENTS)
    }
    fn variants(&self) -> &'static [&'static str] {
        &VARIANT_NAMES
    }
    fn supports(&self, model: Model, variant: &str) -> bool {
        VARIANTS
            .iter()
            .any(|(v, models)| *v == variant && models.contains(&model))
    }

    fn setup(&self, s: &Sample<'_, CounterShared>) {
        *self.std_mutex.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        *self.parking_lot.lock() = 0;
        self.atomic.store(0, Ordering::Relaxed);
        if s.variant() == "channel" {
            let (tx, rx) = crossbeam::channel::bounded(CHANNEL_CAPACITY);
            let applied = Arc::new(AtomicU64::new(0));
            let abandon = Arc::new(AtomicBool::new(false));
            let finished = Arc::new((parking_lot::Mutex::new(false), parking_lot::Condvar::new()));
            let (hold, expected) = (hold_of(s), s.total_units());
            let owner = {
                let (applied, abandon, finished) =
                    (applied.clone(), abandon.clone(), finished.clone());
                std::thread::spawn(move || {
                    channel_owner(rx, hold, expected, &applied, &abandon);
                    *finished.0.lock() = true;
                    finished.1.notify_all();
                })
            };
            *self.channel.lock() = Some(Channel {
                tx,
                owner,
                applied,
                finished,
                abandon,
            });
        }
    }

    fn run(&self, ctx: &Ctx<'_, CounterShared>) -> Output {
        let hold = Hold::from_params(ctx.get(HOLD_NS), ctx.get(HOLD_SLEEP));
        let n = ctx.units();
        let sh = ctx.shared();
        let done = match ctx.variant() {
            "pshared" => run_increments(&sh.locked, n, hold),
            "default" | "no-lock" => run_increments(&Unlocked(&sh.plain), n, hold),
            "std-mutex" => run_increments(&self.std_mutex, n, hold),
            "parking-lot" => run_increments(&self.parking_lot, n, hold),
            "atomic" => run_increments(&Lockfree(&self.atomic), n, hold),
            "channel" => self.channel_worker(n, hold),
            other => panic!("counter has no variant '{other}'"),
        };
        Output::new(done, 0)
    }

    fn verify(&self, s: &Sample<'_, CounterShared>) -> Verdict {
        let expected = s.total_units();
        if let Some(k) = (0..s.workers()).find(|&k| s.outputs()[k].ops != s.units(k)) {
            return Verdict::Failed(format!(
                "worker {k} counted {} increments, expected {}",
                s.outputs()[k].ops,
                s.units(k)
            ));
        }
        let sh = s.shared();
        let got = match s.variant() {
            "pshared" => *sh.locked.lock(),
            "default" | "no-lock" => sh.plain.load(Ordering::Acquire),
            "std-mutex" => *self.std_mutex.lock().unwrap_or_else(|e| e.into_inner()),
            "parking-lot" => *self.parking_lot.lock(),
            "atomic" => self.atomic.load(Ordering::Acquire),
            "channel" => self
                .channel
                .lock()
                .as_ref()
                .map_or(0, |c| c.applied.load(Ordering::Acquire)),
            other => return Verdict::Failed(format!("counter has no variant '{other}'")),
        };
        if s.variant() == "no-lock" {
            // Without a lock, updates may be lost, never invented; every worker's own count
            // above proves each one did its increments.
            return match expected.checked_sub(got) {
                Some(lost) if got > 0 => Verdict::PassedWith {
                    metric: Metric::LostUpdates,
                    value: lost as f64,
                },
                Some(_) => Verdict::Failed(format!(
                    "counter ended at 0 after {expected} unlocked increments"
                )),
                None => Verdict::Failed(format!(
                    "counter ended at {got}, above the {expected} increments made"
                )),
            };
        }
        Verdict::check(got == expected, || {
            format!(
                "counter ended at {got}, expected exactly {expected}: the lock did not protect it"
            )
        })
    }

    /// What a lock costs uncontended and contended, and what dropping it loses.
    fn answers(&self, run: &RunFigures<'_>) -> Vec<Answer> {
        let mut out = Vec::new();
        let Some(w) = run.widest().filter(|&w| w >= 2) else {
            return out;
        };
        let (op, threads) = (run.op(), Model::Threads.name());
        let one = run.find(threads, "std-mutex", 1, Metric::Throughput);
        let many = run.find(threads, "std-mutex", w, Metric::Throughput);
        if let (Some(a), Some(b)) = (one, many) {
            let mut l = Line::default();
            let line = format!(
                "A lock (counter, std-mutex on threads): uncontended {} at 1 worker; contended {} at {w} ({}× the uncontended rate).",
                l.fig(a, &op),
                l.fig(b, &op),
                crate::api::answers::format::sig3(b.median / a.median)
            );
            out.push(l.done(line));
        }
        let lost = run.find(threads, "no-lock", w, Metric::LostUpdates);
        let ran = run.find(threads, "no-lock", w, Metric::Throughput);
        if let (Some(lost), Some(ops)) = (lost, ran.and_then(|m| m.ops_per_sample)) {
            // Said only where it holds: every locked case passed its exact check.
            let exact = !run.any_failed()
                && run
                    .measurements()
                    .filter(|m| m.case.variant != "no-lock")
                    .all(|m| m.verified);
            let mut l = Line::default();
            let line = format!(
                "Without the lock (counter, no-lock on threads, {w} workers): {} updates lost of {ops} a sample ({:.0}%){}.",
                l.fig(lost, &op),
                100.0 * lost.median / ops as f64,
                if exact {
                    "; every locked variant ended at exactly workers × increments"
                } else {
                    ""
                }
            );
            out.push(l.done(line));
        }
        out
    }

    fn teardown(&self) {
        if let Some(c) = self.channel.lock().take() {
            c.abandon.store(true, Ordering::Release);
            drop(c.tx);
            let _ = c.owner.join();
            // Wake any worker still waiting (one of a failed sample).
            *c.finished.0.lock() = true;
            c.finished.1.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_holds() {
        assert_eq!(parse_hold("0"), Ok((0, false)));
        assert_eq!(parse_hold("500"), Ok((500, false)));
        assert_eq!(parse_hold("500ns"), Ok((500, false)));
        assert_eq!(parse_hold("30ms"), Ok((30_000_000, true)));
        assert_eq!(parse_hold("2us"), Ok((2_000, true)));
        for bad in ["fast", "3h", "", "18446744073709551615", "61s"] {
            assert!(parse_hold(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn holds_come_from_parameters() {
        assert_eq!(Hold::from_params(0, 1), Hold::None);
        assert_eq!(Hold::from_params(500, 0), Hold::Spin { ns: 500 });
        assert_eq!(
            Hold::from_params(30_000_000, 1),
            Hold::Sleep { ns: 30_000_000 }
        );
    }

    #[test]
    fn holds_choose_their_increment_counts() {
        assert_eq!(default_increments(Hold::None), DEFAULT_INCREMENTS);
        assert_eq!(default_increments(Hold::Sleep { ns: 30_000_000 }), 3);
        assert_eq!(default_increments(Hold::Sleep { ns: 10_000_000_000 }), 1);
    }

    #[test]
    fn locks_are_exact_across_threads() {
        let c = Counter::default();
        let m: Mutex<u64> = Mutex::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    run_increments(&c.std_mutex, 10_000, Hold::None);
                    run_increments(&c.parking_lot, 10_000, Hold::None);
                    run_increments(&Lockfree(&c.atomic), 10_000, Hold::None);
                    run_increments(&m, 10_000, Hold::None);
                });
            }
        });
        assert_eq!(*c.std_mutex.lock().unwrap(), 40_000);
        assert_eq!(*c.parking_lot.lock(), 40_000);
        assert_eq!(c.atomic.load(Ordering::Relaxed), 40_000);
        assert_eq!(*m.lock(), 40_000);
    }

    #[test]
    fn a_no_lock_run_that_did_nothing_fails_its_check() {
        // no-lock once only checked got <= expected, so 0 passed.
        let reg = crate::api::Registry::new().with(Counter::default());
        let w = reg.find("counter").unwrap();
        let region =
            crate::exec::region::Region::anonymous(1, size_of::<CounterShared>(), 8).unwrap();
        let variant = VARIANT_NAMES.iter().position(|v| *v == "no-lock").unwrap();
        let of = crate::api::workload::SampleOf {
            workers: 1,
            variant,
            params: &[10, 0, 0],
        };
        // The shared value stayed 0 although the worker claims its 10 increments.
        let v = w.verify(region.shared(), of, &[Output::new(10, 0)]);
        assert!(matches!(v, Verdict::Failed(_)), "{v:?}");
        // A worker that counted fewer increments than it was given fails too.
        let v = w.verify(region.shared(), of, &[Output::new(9, 0)]);
        assert!(matches!(v, Verdict::Failed(_)), "{v:?}");
    }

    #[test]
    fn every_variant_runs_somewhere() {
        for (v, models) in VARIANTS {
            assert!(!models.is_empty(), "{v}");
        }
    }
}
