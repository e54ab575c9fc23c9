//! The locked "database increment": lock, copy the shared value, add one, hold, write back,
//! unlock. The lock kinds are the variants; the final value is verified exactly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::VerifyError;
use crate::measure::clock::now_ns;
use crate::sync::FutexMutex;

/// How long the lock is held between reading the value and writing it back.
#[repr(C)]
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
    /// Parses `0`, `500` or `500ns` (busy-wait) and `30us`, `30ms`, `2s` (sleep).
    pub fn parse(text: &str) -> Result<Hold, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let value: u64 = digits
            .parse()
            .map_err(|_| format!("invalid hold '{text}': expected e.g. 0, 500ns, 30ms"))?;
        let scale = match unit {
            "" | "ns" => {
                return Ok(if value == 0 {
                    Hold::None
                } else {
                    Hold::Spin { ns: value }
                });
            }
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            _ => {
                return Err(format!(
                    "invalid hold '{text}': unit must be ns, us, ms or s"
                ));
            }
        };
        let ns = value
            .checked_mul(scale)
            .ok_or_else(|| format!("invalid hold '{text}': too long"))?;
        Ok(if ns == 0 {
            Hold::None
        } else {
            Hold::Sleep { ns }
        })
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
                let until = now_ns() + ns;
                while now_ns() < until {
                    std::hint::spin_loop();
                }
            }
            Hold::Sleep { ns } => std::thread::sleep(Duration::from_nanos(ns)),
        }
    }
}

/// The ways the shared counter is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterVariant {
    /// A plain value on one thread: the sequential baseline.
    Default,
    StdMutex,
    ParkingLot,
    /// Lock-free `fetch_add`: the reference a lock is measured against.
    Atomic,
    /// One owner thread applies increments sent through a crossbeam channel.
    Channel,
    /// A futex mutex in memory shared between processes.
    Pshared,
    /// No lock at all: shows lost updates, never fails the run.
    NoLock,
}

impl CounterVariant {
    pub const ALL: [CounterVariant; 7] = [
        CounterVariant::Default,
        CounterVariant::StdMutex,
        CounterVariant::ParkingLot,
        CounterVariant::Atomic,
        CounterVariant::Channel,
        CounterVariant::Pshared,
        CounterVariant::NoLock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CounterVariant::Default => "default",
            CounterVariant::StdMutex => "std-mutex",
            CounterVariant::ParkingLot => "parking-lot",
            CounterVariant::Atomic => "atomic",
            CounterVariant::Channel => "channel",
            CounterVariant::Pshared => "pshared",
            CounterVariant::NoLock => "no-lock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }

    /// Whether the final value must be exact. Only `no-lock` may lose updates.
    pub fn is_exact(self) -> bool {
        self != CounterVariant::NoLock
    }
}

/// A shared counter that workers increment.
pub trait Database: Sync {
    /// One read-modify-write: lock, copy the value to a local, add one, hold, write back, unlock.
    fn increment(&self, hold: Hold);
    /// The value now (read once all workers are done).
    fn value(&self) -> u64;
}

/// Runs one worker's `increments` increments.
#[inline]
pub fn run_increments<D: Database + ?Sized>(db: &D, increments: u64, hold: Hold) {
    for _ in 0..increments {
        db.increment(hold);
    }
}

/// A database for workloads that never touch it.
pub struct NoDatabase;

impl Database for NoDatabase {
    fn increment(&self, _hold: Hold) {}
    fn value(&self) -> u64 {
        0
    }
}

/// `std::sync::Mutex<u64>`.
#[derive(Default)]
pub struct StdMutexDb(std::sync::Mutex<u64>);

impl Database for StdMutexDb {
    fn increment(&self, hold: Hold) {
        // A worker that panicked while holding the lock poisons it; the count is still valid.
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let local = *guard;
        hold.wait();
        *guard = local + 1;
    }
    fn value(&self) -> u64 {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `parking_lot::Mutex<u64>`.
#[derive(Default)]
pub struct ParkingLotDb(parking_lot::Mutex<u64>);

impl Database for ParkingLotDb {
    fn increment(&self, hold: Hold) {
        let mut guard = self.0.lock();
        let local = *guard;
        hold.wait();
        *guard = local + 1;
    }
    fn value(&self) -> u64 {
        *self.0.lock()
    }
}

/// A lock-free `fetch_add`. There is no critical section to hold in, so the hold is spent
/// before the add: the same work per increment, without serialising it.
#[derive(Default)]
pub struct AtomicDb(AtomicU64);

impl Database for AtomicDb {
    fn increment(&self, hold: Hold) {
        hold.wait();
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn value(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A value and a futex mutex, laid out to live in a `MAP_SHARED` mapping so that processes
/// share both: the lock really excludes other processes and the value is really one value.
#[repr(C)]
#[derive(Default)]
pub struct PsharedDb {
    lock: FutexMutex,
    value: AtomicU64,
}

impl Database for PsharedDb {
    fn increment(&self, hold: Hold) {
        self.lock.lock();
        let local = self.value.load(Ordering::Relaxed);
        hold.wait();
        self.value.store(local + 1, Ordering::Relaxed);
        self.lock.unlock();
    }
    fn value(&self) -> u64 {
        self.value.load(Ordering::Acquire)
    }
}

impl PsharedDb {
    pub fn reset(&self) {
        self.value.store(0, Ordering::Release);
    }
}

/// Read, hold, write back, with no lock: concurrent workers overwrite each other's updates.
/// Relaxed atomics keep the race defined behaviour while compiling to plain loads and stores.
#[repr(C)]
#[derive(Default)]
pub struct UnlockedDb(AtomicU64);

impl Database for UnlockedDb {
    fn increment(&self, hold: Hold) {
        let local = self.0.load(Ordering::Relaxed);
        hold.wait();
        self.0.store(local + 1, Ordering::Relaxed);
    }
    fn value(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

impl UnlockedDb {
    pub fn reset(&self) {
        self.0.store(0, Ordering::Release);
    }
}

/// A worker's end of the `channel` variant: each increment is a message to the owner.
pub struct ChannelDb(pub crossbeam::channel::Sender<()>);

impl Database for ChannelDb {
    fn increment(&self, _hold: Hold) {
        // The owner outlives every sender, so the send cannot fail while workers run.
        let _ = self.0.send(());
    }
    fn value(&self) -> u64 {
        0
    }
}

/// The owner of the `channel` variant: applies each received increment to its own value,
/// holding as a locked writer would, until `expected` increments arrived, or the workers are
/// `done` (one failed, say) and the queue is empty.
pub fn channel_owner(
    rx: &crossbeam::channel::Receiver<()>,
    hold: Hold,
    expected: u64,
    done: &std::sync::atomic::AtomicBool,
) -> u64 {
    use crossbeam::channel::{RecvTimeoutError, TryRecvError};
    let mut value = 0u64;
    while value < expected {
        // The queue is rarely empty under load: take what is there without a timer, and only
        // wait with a timeout (to notice `done`) when it is.
        let got = match rx.try_recv() {
            Ok(()) => true,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(()) => true,
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    if done.load(Ordering::Acquire) {
                        break;
                    }
                    false
                }
            },
        };
        if got {
            let local = value;
            hold.wait();
            value = local + 1;
        }
    }
    value
}

/// Checks the final value of a variant that must be exact.
pub fn verify_exact(got: u64, expected: u64) -> Result<(), VerifyError> {
    if got == expected {
        Ok(())
    } else {
        Err(VerifyError::CounterTotal { got, expected })
    }
}

/// Lost updates of the `no-lock` variant. A value above the expected total is impossible
/// even without a lock and is an error.
pub fn lost_updates(got: u64, expected: u64) -> Result<u64, VerifyError> {
    expected
        .checked_sub(got)
        .ok_or(VerifyError::CounterOverflow { got, expected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_holds() {
        assert_eq!(Hold::parse("0"), Ok(Hold::None));
        assert_eq!(Hold::parse("500"), Ok(Hold::Spin { ns: 500 }));
        assert_eq!(Hold::parse("500ns"), Ok(Hold::Spin { ns: 500 }));
        assert_eq!(Hold::parse("30ms"), Ok(Hold::Sleep { ns: 30_000_000 }));
        assert_eq!(Hold::parse("2us"), Ok(Hold::Sleep { ns: 2_000 }));
        assert!(Hold::parse("fast").is_err());
        assert!(Hold::parse("3h").is_err());
        assert!(Hold::parse("").is_err());
    }

    fn hammer(db: &dyn Database, workers: u64, increments: u64) -> u64 {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| run_increments(db, increments, Hold::None));
            }
        });
        db.value()
    }

    #[test]
    fn locked_variants_are_exact_across_threads() {
        let dbs: [&dyn Database; 4] = [
            &StdMutexDb::default(),
            &ParkingLotDb::default(),
            &AtomicDb::default(),
            &PsharedDb::default(),
        ];
        for db in dbs {
            let got = hammer(db, 4, 10_000);
            assert_eq!(verify_exact(got, 40_000), Ok(()));
        }
    }

    #[test]
    fn channel_owner_applies_every_increment() {
        let (tx, rx) = crossbeam::channel::bounded(64);
        let total = std::thread::scope(|s| {
            let done = std::sync::atomic::AtomicBool::new(false);
            let owner = s.spawn(move || channel_owner(&rx, Hold::None, 3 * 1000, &done));
            for _ in 0..3 {
                let db = ChannelDb(tx.clone());
                s.spawn(move || run_increments(&db, 1000, Hold::None));
            }
            owner.join().unwrap()
        });
        assert_eq!(total, 3000);
    }

    #[test]
    fn unlocked_counter_never_exceeds_the_total() {
        let db = UnlockedDb::default();
        let got = hammer(&db, 2, 50_000);
        let lost = lost_updates(got, 100_000).unwrap();
        assert_eq!(got + lost, 100_000);
        assert!(lost_updates(100_001, 100_000).is_err());
        assert!(verify_exact(99, 100).is_err());
    }
}
