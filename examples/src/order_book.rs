//! An order book that every worker trades into at once: 64 price levels under threadfork's
//! process-shared mutex, so that threads, forked and spawned processes all fill one book.

use threadfork::{Ctx, Mutex, Output, Param, Sample, Size, Verdict, Workload};

/// Price levels in the book.
pub const LEVELS: usize = 64;

threadfork::shared_struct! {
    /// The book's state: resting quantity per level and running totals.
    pub struct Book {
        pub levels: [u64; LEVELS],
        pub orders: u64,
        pub volume: u64,
    }
}

/// Worker `k`'s `i`-th order: a price level and a quantity from a per-worker sequence (a
/// SplitMix64 step), the same in every process, so that verification can replay it.
pub fn order(k: usize, i: u64) -> (usize, u64) {
    let mut z = (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i.wrapping_add(1);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((z % LEVELS as u64) as usize, 1 + (z >> 32) % 100)
}

/// Each worker places `orders` orders into the one shared book.
pub struct OrderBook;

/// Orders each worker places per sample.
const ORDERS: Param = Param::new("orders", 500_000)
    .range(1, 1 << 32)
    .help("orders each worker places per sample");

impl Workload for OrderBook {
    type Shared = Mutex<Book>;

    fn name(&self) -> &'static str {
        "order-book"
    }
    fn op(&self) -> &'static str {
        "orders"
    }
    fn describe(&self) -> &'static str {
        "every worker places orders into one shared 64-level book under threadfork's \
         process-shared mutex; the book's order count and volume must equal what the workers \
         placed, exactly"
    }
    fn params(&self) -> &'static [Param] {
        &[ORDERS]
    }
    fn size(&self) -> Size {
        Size::PerWorker(ORDERS)
    }

    fn run(&self, ctx: &Ctx<'_, Mutex<Book>>) -> Output {
        let (mut placed, mut volume) = (0, 0u64);
        // Order i of this worker's share; a pool hands the share out in tasks, each starting
        // at its offset.
        for i in ctx.offset()..ctx.offset() + ctx.units() {
            let (level, qty) = order(ctx.index(), i);
            let mut book = ctx.shared().lock();
            book.levels[level] += qty;
            book.orders += 1;
            book.volume += qty;
            drop(book);
            placed += 1;
            volume = volume.wrapping_add(qty);
        }
        Output::new(placed, volume)
    }

    fn verify(&self, s: &Sample<'_, Mutex<Book>>) -> Verdict {
        let book = s.shared().lock();
        let resting: u64 = book.levels.iter().sum();
        // Replay every worker's orders: its volume must match what it reported.
        for (k, out) in s.outputs().iter().enumerate() {
            let expected: u64 = (0..s.units(k)).map(|i| order(k, i).1).sum();
            if out.checksum != expected || out.ops != s.units(k) {
                return Verdict::Failed(format!(
                    "worker {k} placed {} orders of volume {}, expected {} of volume {expected}",
                    out.ops,
                    out.checksum,
                    s.units(k)
                ));
            }
        }
        let placed: u64 = s.outputs().iter().map(|o| o.checksum).sum();
        Verdict::check(
            book.orders == s.total_units() && book.volume == placed && resting == placed,
            || {
                format!(
                    "the book holds {} orders and {} volume ({} resting), expected {} and {placed}",
                    book.orders,
                    book.volume,
                    resting,
                    s.total_units()
                )
            },
        )
    }
}
