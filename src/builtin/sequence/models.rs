//! The sequence study's models: `lazy` pulls items from an iterator one at a time, `eager` collects a
//! `Vec<u64>` first (then sums it, split between N threads when asked), `pipeline` feeds
//! a lazy producer to N worker threads through a bounded crossbeam channel, and
//! `pool-pipeline` feeds it to a pool of N (rayon's, through `par_bridge`), batch by batch,
//! with at most one batch per pool thread in flight — the generator → executor pipeline.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam::channel::bounded;

use super::items::{SequenceVariant, sum_items};
use crate::api::study::tools::PeakRssWindow;
use crate::api::study::tools::heap as alloc;
use crate::api::study::tools::now_ns;

/// The sequence study's models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqModel {
    Lazy,
    Eager,
    Pipeline,
    PoolPipeline,
}

impl SeqModel {
    pub const ALL: [SeqModel; 4] = [
        SeqModel::Lazy,
        SeqModel::Eager,
        SeqModel::Pipeline,
        SeqModel::PoolPipeline,
    ];
    pub const NAMES: [&'static str; 4] = ["lazy", "eager", "pipeline", "pool-pipeline"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<SeqModel> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// Items per message in the pipeline: a 2 KiB batch amortises the channel's per-message
/// synchronisation (~100 ns) to under half a nanosecond per item.
pub const PIPELINE_BATCH: usize = 256;

/// Batches the pipeline's channel holds: with the batch size, this bounds the items in
/// flight at 4 × 256 = 1,024 (8 KiB) whatever n is.
pub const PIPELINE_CAPACITY: usize = 4;

/// Items between two checks of the deadline and of Ctrl-C: about a millisecond of the
/// fastest loop, so a check costs nothing measurable and a stop is seen within milliseconds.
const CHECK_EVERY: u64 = 1 << 20;

/// When a sample must give up: its deadline, and Ctrl-C or SIGTERM.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub deadline_ns: u64,
}

impl Limit {
    /// A sample of at most `timeout`.
    pub fn within(timeout: std::time::Duration) -> Limit {
        Limit {
            deadline_ns: now_ns().saturating_add(timeout.as_nanos().min(u64::MAX as u128) as u64),
        }
    }

    fn check(self) -> Result<(), String> {
        if crate::api::study::tools::stop_requested() {
            Err("interrupted".into())
        } else if now_ns() > self.deadline_ns {
            Err("timed out: the sample did not finish within --case-timeout".into())
        } else {
            Ok(())
        }
    }
}

/// 0..n in pieces of [`CHECK_EVERY`] items.
fn pieces(n: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..n.div_ceil(CHECK_EVERY)).map(move |i| i * CHECK_EVERY..((i + 1) * CHECK_EVERY).min(n))
}

/// One sample of a sequence case.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqSample {
    pub sum: u64,
    pub items: u64,
    /// Start of the case until the consumer holds the first item.
    pub first_item_ns: u64,
    pub elapsed_ns: u64,
    /// Peak live heap bytes during the case (None without the counting allocator).
    pub heap_bytes: Option<u64>,
    /// Process peak RSS growth during the case (None where VmHWM cannot be reset).
    pub rss_growth_bytes: Option<u64>,
}

/// Runs one sample of `variant` over 0..n on `model` with `workers` consumers.
pub fn run(
    model: SeqModel,
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    limit: Limit,
) -> Result<SeqSample, String> {
    let mut window = PeakRssWindow::start();
    let heap_base = alloc::reset_peak();
    let t0 = now_ns();
    let (sum, first_ns) = match model {
        SeqModel::Lazy => lazy(variant, n, &mut window, limit)?,
        SeqModel::Eager => eager(variant, n, workers, &mut window, limit)?,
        SeqModel::Pipeline => pipeline(variant, n, workers, &mut window, limit)?,
        SeqModel::PoolPipeline => pool_pipeline(variant, n, workers, &mut window, limit)?,
    };
    let end = now_ns();
    let heap_peak = alloc::peak_bytes().saturating_sub(heap_base) as u64;
    Ok(SeqSample {
        sum,
        items: variant.items(n),
        first_item_ns: first_ns.saturating_sub(t0),
        elapsed_ns: end - t0,
        heap_bytes: alloc::is_installed().then_some(heap_peak),
        rss_growth_bytes: window.growth_bytes(),
    })
}

/// Pulls items lazily, timing the first one into `first_ns` (when still 0).
fn consume_lazily(
    variant: SequenceVariant,
    mut it: impl Iterator<Item = u64>,
    first_ns: &mut u64,
) -> u64 {
    if *first_ns == 0 {
        let first = it.next();
        *first_ns = now_ns();
        let head = first.map_or(0, |x| variant.consume_item(black_box(x)));
        return head.wrapping_add(sum_items(variant, it));
    }
    sum_items(variant, it)
}

fn lazy(
    variant: SequenceVariant,
    n: u64,
    window: &mut PeakRssWindow,
    limit: Limit,
) -> Result<(u64, u64), String> {
    let (mut sum, mut first_ns) = (0u64, 0u64);
    for r in pieces(n) {
        let part = match variant {
            SequenceVariant::Evens => {
                consume_lazily(variant, r.filter(|x| x % 2 == 0), &mut first_ns)
            }
            _ => consume_lazily(variant, r, &mut first_ns),
        };
        sum = sum.wrapping_add(part);
        limit.check()?;
    }
    window.note();
    Ok((sum, first_ns))
}

/// The eager path's first half, piece by piece: for 0..n the exact capacity up front
/// (8·n bytes, as collecting a range gives); a filter cannot know its length, so the evens
/// grow the Vec by doubling, as collecting it (and Python's list) does.
fn collect_limited(variant: SequenceVariant, n: u64, limit: Limit) -> Result<Vec<u64>, String> {
    let mut items = match variant {
        SequenceVariant::Evens => Vec::new(),
        _ => Vec::with_capacity(usize::try_from(n).map_err(|_| "n is too large".to_string())?),
    };
    for r in pieces(n) {
        match variant {
            SequenceVariant::Evens => items.extend(r.filter(|x| x % 2 == 0).map(black_box)),
            _ => items.extend(r.map(black_box)),
        }
        limit.check()?;
    }
    Ok(items)
}

fn eager(
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    window: &mut PeakRssWindow,
    limit: Limit,
) -> Result<(u64, u64), String> {
    let items = collect_limited(variant, n, limit)?;
    // Everything is materialised now: the eager path's peak.
    window.note();
    black_box(items.first());
    let first_ns = now_ns();
    let sum = if workers <= 1 {
        let mut sum = 0u64;
        for piece in items.chunks(CHECK_EVERY as usize) {
            sum = sum.wrapping_add(sum_items(variant, piece.iter().copied()));
            limit.check()?;
        }
        sum
    } else {
        let chunk = items.len().div_ceil(workers).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = items
                .chunks(chunk)
                .map(|c| s.spawn(move || sum_items(variant, c.iter().copied())))
                .collect();
            parts
                .into_iter()
                .map(|h| h.join().unwrap_or(0))
                .fold(0u64, u64::wrapping_add)
        })
    };
    Ok((sum, first_ns))
}

fn pipeline(
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    window: &mut PeakRssWindow,
    limit: Limit,
) -> Result<(u64, u64), String> {
    let (tx, rx) = bounded::<([u64; PIPELINE_BATCH], usize)>(PIPELINE_CAPACITY);
    let first_ns = AtomicU64::new(0);
    let sum = std::thread::scope(|s| {
        let consumers: Vec<_> = (0..workers.max(1))
            .map(|_| {
                let rx = rx.clone();
                let first_ns = &first_ns;
                s.spawn(move || {
                    let mut acc = 0u64;
                    while let Ok((batch, len)) = rx.recv() {
                        if first_ns.load(Ordering::Relaxed) == 0 {
                            let _ = first_ns.compare_exchange(
                                0,
                                now_ns(),
                                Ordering::Relaxed,
                                Ordering::Relaxed,
                            );
                        }
                        acc = acc.wrapping_add(sum_items(variant, batch[..len].iter().copied()));
                    }
                    acc
                })
            })
            .collect();
        drop(rx);
        let mut stopped = Ok(());
        for r in pieces(n) {
            match variant {
                SequenceVariant::Evens => produce(&tx, r.filter(|x| x % 2 == 0)),
                _ => produce(&tx, r),
            }
            stopped = limit.check();
            if stopped.is_err() {
                break;
            }
        }
        drop(tx);
        // The channel and every worker still exist: the pipeline's peak.
        window.note();
        let mut total = 0u64;
        let mut panicked = false;
        for h in consumers {
            match h.join() {
                Ok(part) => total = total.wrapping_add(part),
                Err(_) => panicked = true,
            }
        }
        (!panicked)
            .then_some(total)
            .ok_or_else(|| "a pipeline worker panicked".to_string())
            .and_then(|t| stopped.map(|()| t))
    });
    let sum = sum?;
    Ok((sum, first_ns.load(Ordering::Relaxed)))
}

/// A lazy producer's items in fixed-size batches, pulled one batch at a time; it ends early
/// (setting `stopped`) when the sample's limit is reached.
struct Batches<'a, I> {
    items: I,
    stopped: &'a std::sync::Mutex<Option<String>>,
    limit: Limit,
    pulled: u64,
}

impl<I: Iterator<Item = u64>> Iterator for Batches<'_, I> {
    type Item = ([u64; PIPELINE_BATCH], usize);

    fn next(&mut self) -> Option<Self::Item> {
        let mut batch = [0u64; PIPELINE_BATCH];
        let mut len = 0;
        for x in self.items.by_ref() {
            batch[len] = x;
            len += 1;
            if len == PIPELINE_BATCH {
                break;
            }
        }
        self.pulled += len as u64;
        if self.pulled >= CHECK_EVERY {
            self.pulled = 0;
            if let Err(e) = self.limit.check() {
                *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                return None;
            }
        }
        (len > 0).then_some((batch, len))
    }
}

fn pool_pipeline(
    variant: SequenceVariant,
    n: u64,
    workers: usize,
    window: &mut PeakRssWindow,
    limit: Limit,
) -> Result<(u64, u64), String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .map_err(|e| format!("cannot build rayon's pool: {e}"))?;
    let first_ns = AtomicU64::new(0);
    let stopped = std::sync::Mutex::new(None);
    let consume = |(batch, len): ([u64; PIPELINE_BATCH], usize)| {
        if first_ns.load(Ordering::Relaxed) == 0 {
            let _ = first_ns.compare_exchange(0, now_ns(), Ordering::Relaxed, Ordering::Relaxed);
        }
        sum_items(variant, batch[..len].iter().copied())
    };
    let sum = pool.install(|| match variant {
        SequenceVariant::Evens => bridged((0..n).filter(|x| x % 2 == 0), &stopped, limit, &consume),
        _ => bridged(0..n, &stopped, limit, &consume),
    });
    // The pool and every batch in flight still exist: the pipeline's peak.
    window.note();
    drop(pool);
    match stopped.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok((sum, first_ns.load(Ordering::Relaxed))),
    }
}

/// `items` in batches through `par_bridge` on the current pool, each batch summed by
/// `consume`, the sums added.
fn bridged<I: Iterator<Item = u64> + Send>(
    items: I,
    stopped: &std::sync::Mutex<Option<String>>,
    limit: Limit,
    consume: &(dyn Fn(([u64; PIPELINE_BATCH], usize)) -> u64 + Sync),
) -> u64 {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    Batches {
        items,
        stopped,
        limit,
        pulled: 0,
    }
    .par_bridge()
    .map(consume)
    .reduce(|| 0, u64::wrapping_add)
}

/// The pipeline's producer: pulls lazily and sends fixed-size batches, blocking while the
/// channel is full, so that memory in flight never exceeds the channel's capacity.
fn produce(
    tx: &crossbeam::channel::Sender<([u64; PIPELINE_BATCH], usize)>,
    items: impl Iterator<Item = u64>,
) {
    let mut batch = [0u64; PIPELINE_BATCH];
    let mut len = 0;
    for x in items {
        batch[len] = x;
        len += 1;
        if len == PIPELINE_BATCH {
            if tx.send((batch, len)).is_err() {
                return;
            }
            len = 0;
        }
    }
    if len > 0 {
        let _ = tx.send((batch, len));
    }
}
