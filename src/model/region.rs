//! The shared-memory region every model uses: a header with the start barrier, the shared
//! counters, and one cache-line-padded slot per worker. For processes it is a `MAP_SHARED`
//! mapping (anonymous for fork, a memfd for spawn), so every field is really shared.

use std::num::NonZeroUsize;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, mmap_anonymous, munmap};

use crate::workload::counter::{PsharedDb, UnlockedDb};
use crate::workload::{CounterVariant, Hold, Job};

/// Identifies a threadfork region and its layout version ("TFRK" + layout 1).
const MAGIC: u64 = 0x5446_524b_0000_0001;

/// Two cache lines: adjacent-line prefetchers pull pairs of 64-byte lines, so 128 bytes is
/// the distance at which two workers' fields stop sharing traffic on current x86 cores.
pub const CACHE_PAD: usize = 128;

/// Slot state bits. The worker sets STARTED, then DONE; a parent that sleeps on the word
/// sets WAITER first, and a worker that finds WAITER set wakes it.
pub const STATE_EMPTY: u32 = 0;
pub const STATE_STARTED: u32 = 1;
pub const STATE_DONE: u32 = 2;
pub const STATE_WAITER: u32 = 0x100;

/// The start barrier and the region's identity.
#[repr(C, align(128))]
pub struct Header {
    magic: AtomicU64,
    len: AtomicU64,
    pub workers: AtomicU32,
    /// Workers that are ready and waiting for the release.
    pub ready: AtomicU32,
    /// 0 until the parent releases all workers at once; a futex word.
    pub release: AtomicU32,
}

/// The shared "database": each variant on its own cache line.
#[repr(C, align(128))]
pub struct SharedDbs {
    pub pshared: PsharedDb,
    _pad: [u8; CACHE_PAD - 16],
    pub unlocked: UnlockedDb,
}

/// One worker's job, timestamps and results, alone on its cache lines.
#[repr(C, align(128))]
pub struct Slot {
    job: [AtomicU64; 4],
    /// CPU to pin to, or -1.
    pub cpu: AtomicI32,
    pub state: AtomicU32,
    pub pid: AtomicU32,
    /// Parent's clock just before it asked for this worker (spawn / fork / Command::spawn).
    pub requested_ns: AtomicU64,
    /// The worker's first instruction.
    pub started_ns: AtomicU64,
    /// After the barrier released this worker.
    pub begin_ns: AtomicU64,
    /// When its last operation finished.
    pub end_ns: AtomicU64,
    pub checksum: AtomicU64,
    pub ops: AtomicU64,
    /// Bytes this process owns privately (processes only).
    pub private_bytes: AtomicU64,
    /// Fault to inject (tests only), as [`super::fault::Fault::code`].
    pub fault: AtomicU32,
    /// A panic message, for the parent to report.
    pub message: [AtomicU64; super::fault::MESSAGE_WORDS],
}

impl Slot {
    pub fn set_job(&self, job: Job) {
        for (cell, word) in self.job.iter().zip(encode(job)) {
            cell.store(word, Ordering::Relaxed);
        }
    }

    pub fn job(&self) -> Option<Job> {
        let words = [0, 1, 2, 3].map(|i| self.job[i].load(Ordering::Relaxed));
        decode(words)
    }
}

fn encode(job: Job) -> [u64; 4] {
    match job {
        Job::Empty => [0, 0, 0, 0],
        Job::Square { work, tasks } => [1, work, tasks, 0],
        Job::Counter {
            increments,
            hold,
            variant,
        } => {
            let v = CounterVariant::ALL.iter().position(|x| *x == variant);
            let (kind, ns) = match hold {
                Hold::None => (0, 0),
                Hold::Spin { ns } => (1, ns),
                Hold::Sleep { ns } => (2, ns),
            };
            [
                2 | (kind << 8) | ((v.unwrap_or(0) as u64) << 16),
                increments,
                ns,
                0,
            ]
        }
    }
}

fn decode(w: [u64; 4]) -> Option<Job> {
    match w[0] & 0xff {
        0 => Some(Job::Empty),
        1 => Some(Job::Square {
            work: w[1],
            tasks: w[2],
        }),
        2 => {
            let hold = match (w[0] >> 8) & 0xff {
                0 => Hold::None,
                1 => Hold::Spin { ns: w[2] },
                2 => Hold::Sleep { ns: w[2] },
                _ => return None,
            };
            let variant = *CounterVariant::ALL.get(((w[0] >> 16) & 0xff) as usize)?;
            Some(Job::Counter {
                increments: w[1],
                hold,
                variant,
            })
        }
        _ => None,
    }
}

/// A mapping holding a [`Header`], [`SharedDbs`] and `workers` [`Slot`]s.
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    fd: Option<OwnedFd>,
}

// SAFETY: the mapping is only accessed through atomics, which are safe to share.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

fn layout_len(workers: usize) -> usize {
    size_of::<Header>() + size_of::<SharedDbs>() + workers * size_of::<Slot>()
}

impl Region {
    /// An anonymous `MAP_SHARED` region: shared with threads, and with children forked later.
    pub fn anonymous(workers: usize) -> Result<Region> {
        let len = layout_len(workers);
        let size = NonZeroUsize::new(len).context("empty region")?;
        // SAFETY: a fresh anonymous mapping aliases nothing; it is unmapped in Drop.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .context("mmap of the shared region failed")?;
        let region = Region {
            ptr: ptr.cast(),
            len,
            fd: None,
        };
        region.init(workers);
        Ok(region)
    }

    /// A memfd-backed region that a spawned process can map through an inherited descriptor.
    pub fn memfd(workers: usize) -> Result<Region> {
        let len = layout_len(workers);
        let fd = nix::sys::memfd::memfd_create(
            c"threadfork-region",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )
        .context("memfd_create failed")?;
        nix::unistd::ftruncate(&fd, len as i64).context("ftruncate of the memfd failed")?;
        let mut region = Self::map_fd(fd.as_fd(), len)?;
        region.fd = Some(fd);
        region.init(workers);
        Ok(region)
    }

    /// Maps a region made by a parent and handed over as `fd`; checks its identity and size.
    pub fn attach(fd: BorrowedFd<'_>) -> Result<Region> {
        let st = nix::sys::stat::fstat(fd).context("worker: fstat of the region failed")?;
        let len = usize::try_from(st.st_size).unwrap_or(0);
        if len < layout_len(0) {
            bail!("worker: descriptor is not a threadfork region ({len} bytes)");
        }
        let region = Self::map_fd(fd, len)?;
        let h = region.header();
        if h.magic.load(Ordering::Acquire) != MAGIC || h.len.load(Ordering::Relaxed) != len as u64 {
            bail!("worker: descriptor is not a threadfork region of this version");
        }
        Ok(region)
    }

    fn map_fd(fd: BorrowedFd<'_>, len: usize) -> Result<Region> {
        let size = NonZeroUsize::new(len).context("empty region")?;
        // SAFETY: a new shared mapping of a memfd; only accessed through atomics; unmapped in Drop.
        let ptr = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }
        .context("mmap of the region's memfd failed")?;
        Ok(Region {
            ptr: ptr.cast(),
            len,
            fd: None,
        })
    }

    fn init(&self, workers: usize) {
        let h = self.header();
        h.len.store(self.len as u64, Ordering::Relaxed);
        h.workers.store(workers as u32, Ordering::Relaxed);
        for i in 0..workers {
            self.slot(i).cpu.store(-1, Ordering::Relaxed);
        }
        h.magic.store(MAGIC, Ordering::Release);
    }

    /// The memfd behind this region (spawn model only).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    pub fn header(&self) -> &Header {
        // SAFETY: the mapping starts with a Header, is page-aligned and zero-initialised,
        // and all-zero is a valid Header (atomics only).
        unsafe { self.ptr.cast::<Header>().as_ref() }
    }

    pub fn dbs(&self) -> &SharedDbs {
        // SAFETY: SharedDbs follows the Header at a 128-aligned offset within the mapping.
        unsafe {
            self.ptr
                .add(size_of::<Header>())
                .cast::<SharedDbs>()
                .as_ref()
        }
    }

    /// Slots this region holds.
    pub fn capacity(&self) -> usize {
        (self.len - layout_len(0)) / size_of::<Slot>()
    }

    /// Worker `i`'s slot. Panics if `i` is past the region's capacity (a harness bug).
    pub fn slot(&self, i: usize) -> &Slot {
        assert!(i < self.capacity(), "slot {i} outside the region");
        // SAFETY: bounds checked above; slots follow the header and dbs, 128-aligned.
        unsafe {
            self.ptr
                .add(layout_len(0) + i * size_of::<Slot>())
                .cast::<Slot>()
                .as_ref()
        }
    }

    /// Clears the barrier, the counters and the slots' results for a new sample.
    pub fn reset(&self, workers: usize) {
        let h = self.header();
        h.ready.store(0, Ordering::Relaxed);
        h.release.store(0, Ordering::Relaxed);
        h.workers.store(workers as u32, Ordering::Relaxed);
        self.dbs().pshared.reset();
        self.dbs().unlocked.reset();
        for i in 0..workers {
            let s = self.slot(i);
            for f in [
                &s.requested_ns,
                &s.started_ns,
                &s.begin_ns,
                &s.end_ns,
                &s.checksum,
                &s.ops,
                &s.private_bytes,
            ] {
                f.store(0, Ordering::Relaxed);
            }
            s.state.store(STATE_EMPTY, Ordering::Relaxed);
            s.pid.store(0, Ordering::Relaxed);
            s.fault.store(0, Ordering::Relaxed);
            super::fault::store_message(&s.message, "");
        }
        std::sync::atomic::fence(Ordering::Release);
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe the mapping made in the constructor, unmapped once.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_counters_sit_on_separate_cache_lines() {
        assert_eq!(size_of::<Slot>() % CACHE_PAD, 0);
        assert_eq!(size_of::<Header>() % CACHE_PAD, 0);
        let r = Region::anonymous(3).unwrap();
        let a = r.slot(0) as *const Slot as usize;
        let b = r.slot(1) as *const Slot as usize;
        assert!(b - a >= CACHE_PAD);
        let dbs = r.dbs();
        let p = &dbs.pshared as *const _ as usize;
        let u = &dbs.unlocked as *const _ as usize;
        assert!(u - p >= CACHE_PAD);
        assert_eq!(r.capacity(), 3);
    }

    #[test]
    fn jobs_round_trip_through_a_slot() {
        let r = Region::anonymous(1).unwrap();
        let jobs = [
            Job::Empty,
            Job::Square {
                work: 100,
                tasks: 7,
            },
            Job::Counter {
                increments: 9,
                hold: Hold::Sleep { ns: 30 },
                variant: CounterVariant::Pshared,
            },
            Job::Counter {
                increments: 1,
                hold: Hold::Spin { ns: 5 },
                variant: CounterVariant::NoLock,
            },
        ];
        for job in jobs {
            r.slot(0).set_job(job);
            assert_eq!(r.slot(0).job(), Some(job));
        }
    }

    #[test]
    fn a_memfd_region_attaches_through_its_descriptor() {
        let r = Region::memfd(2).unwrap();
        r.slot(1).ops.store(42, Ordering::Relaxed);
        let other = Region::attach(r.fd().unwrap()).unwrap();
        assert_eq!(other.slot(1).ops.load(Ordering::Relaxed), 42);
        assert_eq!(other.capacity(), 2);
    }
}
