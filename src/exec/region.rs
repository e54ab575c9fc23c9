//! The shared-memory region every model uses: a header with the start barrier and the case's
//! parameters, the workload's shared state, and one cache-line-padded slot per worker. For
//! processes it is a `MAP_SHARED` mapping (anonymous for fork, a memfd for spawn), so every
//! field is really shared.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use anyhow::{Context, Result, bail};

use crate::api::workload::MAX_PARAMS;
use crate::sys::mmap::Mapping;
use crate::sys::shared::SharedArea;

/// Identifies a threadfork region and its layout version ("TFRK" + layout 2).
const MAGIC: u64 = 0x5446_524b_0000_0003;

/// Two cache lines: adjacent-line prefetchers pull pairs of 64-byte lines, so 128 bytes is
/// the distance at which two workers' fields stop sharing traffic on current x86 cores.
pub const CACHE_PAD: usize = 128;

/// Slot state bits. The worker sets STARTED, then DONE; a parent that sleeps on the word
/// sets WAITER first, and a worker that finds WAITER set wakes it.
pub const STATE_EMPTY: u32 = 0;
pub const STATE_STARTED: u32 = 1;
pub const STATE_DONE: u32 = 2;
pub const STATE_WAITER: u32 = 0x100;

/// The start barrier, the case's orders and the region's layout.
#[repr(C, align(128))]
pub struct Header {
    magic: AtomicU64,
    len: AtomicU64,
    /// Which workload the region was made for (a hash of its name), checked by a spawned worker.
    pub workload: AtomicU64,
    shared_offset: AtomicU64,
    shared_len: AtomicU64,
    slots_offset: AtomicU64,
    capacity: AtomicU64,
    pub workers: AtomicU32,
    /// Workers that are ready and waiting for the release.
    pub ready: AtomicU32,
    /// 0 until the parent releases all workers at once; a futex word.
    pub release: AtomicU32,
    /// Workers whose share has ended (or failed).
    pub ended: AtomicU32,
    /// 0 until every share of the sample has ended: a futex word that workers wait on before
    /// their own bookkeeping, so that it never runs inside another share's window.
    pub closed: AtomicU32,
    pub variant: AtomicU32,
    pub params: [AtomicU64; MAX_PARAMS],
}

/// One worker's orders, timestamps and results, alone on its cache lines.
#[repr(C, align(128))]
pub struct Slot {
    /// This worker's share of the sample.
    pub units: AtomicU64,
    /// CPU to pin to, or -1.
    pub cpu: AtomicI32,
    pub state: AtomicU32,
    pub pid: AtomicU32,
    /// Fault to inject (tests only), as `Fault::code` of `exec::testing`.
    pub fault: AtomicU32,
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
    /// The worker's core-speed probe just before its share and just after, in ns each
    /// (0: not taken or failed its check).
    pub probe_before_ns: AtomicU64,
    pub probe_after_ns: AtomicU64,
    /// Bytes this process owns privately (processes only); `u64::MAX` when unreadable.
    pub private_bytes: AtomicU64,
    /// The worker thread's scheduler counters beside the probes, before and after its share
    /// (`measure::sched::Counters`; all zero: not read).
    pub sched_before: crate::measure::sched::Words,
    pub sched_after: crate::measure::sched::Words,
    /// A panic message, for the parent to report.
    pub message: [AtomicU64; super::panics::MESSAGE_WORDS],
}

/// A 64-bit FNV-1a hash of a workload's name: what a spawned worker checks the region by.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where the parts of a region sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    shared_offset: usize,
    shared_len: usize,
    slots_offset: usize,
    capacity: usize,
    len: usize,
}

impl Layout {
    fn new(workers: usize, shared_size: usize, shared_align: usize) -> Layout {
        let align = shared_align.max(CACHE_PAD);
        let shared_offset = size_of::<Header>().next_multiple_of(align);
        let slots_offset = (shared_offset + shared_size).next_multiple_of(CACHE_PAD);
        Layout {
            shared_offset,
            shared_len: shared_size,
            slots_offset,
            capacity: workers,
            len: slots_offset + workers * size_of::<Slot>(),
        }
    }
}

/// A mapping holding a [`Header`], a workload's shared state and `workers` [`Slot`]s.
pub struct Region {
    map: Mapping,
    layout: Layout,
    fd: Option<OwnedFd>,
}

// SAFETY: the mapping is only accessed through atomics and `Shared` state, which are safe to
// share between threads.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    /// An anonymous `MAP_SHARED` region: shared with threads, and with children forked later.
    pub fn anonymous(workers: usize, shared_size: usize, shared_align: usize) -> Result<Region> {
        let layout = Layout::new(workers, shared_size, shared_align);
        let map = Mapping::shared(layout.len).context("mmap of the shared region failed")?;
        let region = Region {
            map,
            layout,
            fd: None,
        };
        region.init();
        Ok(region)
    }

    /// A memfd-backed region that a spawned process can map through an inherited descriptor.
    pub fn memfd(workers: usize, shared_size: usize, shared_align: usize) -> Result<Region> {
        let layout = Layout::new(workers, shared_size, shared_align);
        let fd = nix::sys::memfd::memfd_create(
            c"threadfork-region",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )
        .context("memfd_create failed")?;
        nix::unistd::ftruncate(&fd, layout.len as i64).context("ftruncate of the memfd failed")?;
        let map = Self::map_fd(fd.as_fd(), layout.len)?;
        let region = Region {
            map,
            layout,
            fd: Some(fd),
        };
        region.init();
        Ok(region)
    }

    /// Maps a region made by a parent and handed over as `fd`; checks its identity and layout.
    pub fn attach(fd: BorrowedFd<'_>) -> Result<Region> {
        let st = nix::sys::stat::fstat(fd).context("worker: fstat of the region failed")?;
        let len = usize::try_from(st.st_size).unwrap_or(0);
        if len < size_of::<Header>() {
            bail!("worker: descriptor is not a threadfork region ({len} bytes)");
        }
        let map = Self::map_fd(fd, len)?;
        // The layout is read back from the header, then checked against the mapping's size.
        let mut region = Region {
            map,
            layout: Layout {
                shared_offset: 0,
                shared_len: 0,
                slots_offset: 0,
                capacity: 0,
                len,
            },
            fd: None,
        };
        let h = region.header();
        let get = |a: &AtomicU64| usize::try_from(a.load(Ordering::Acquire)).unwrap_or(usize::MAX);
        let layout = Layout {
            shared_offset: get(&h.shared_offset),
            shared_len: get(&h.shared_len),
            slots_offset: get(&h.slots_offset),
            capacity: get(&h.capacity),
            len,
        };
        let fits = layout
            .capacity
            .checked_mul(size_of::<Slot>())
            .and_then(|s| s.checked_add(layout.slots_offset))
            == Some(len)
            && layout.shared_offset >= size_of::<Header>()
            && layout.shared_offset.saturating_add(layout.shared_len) <= layout.slots_offset;
        if h.magic.load(Ordering::Acquire) != MAGIC
            || h.len.load(Ordering::Relaxed) != len as u64
            || !fits
        {
            bail!("worker: descriptor is not a threadfork region of this version");
        }
        region.layout = layout;
        Ok(region)
    }

    fn map_fd(fd: BorrowedFd<'_>, len: usize) -> Result<Mapping> {
        Mapping::shared_file(fd, len).context("mmap of the region's memfd failed")
    }

    fn init(&self) {
        let h = self.header();
        let l = self.layout;
        h.len.store(l.len as u64, Ordering::Relaxed);
        h.shared_offset
            .store(l.shared_offset as u64, Ordering::Relaxed);
        h.shared_len.store(l.shared_len as u64, Ordering::Relaxed);
        h.slots_offset
            .store(l.slots_offset as u64, Ordering::Relaxed);
        h.capacity.store(l.capacity as u64, Ordering::Relaxed);
        for i in 0..l.capacity {
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
        unsafe { self.map.ptr().cast::<Header>().as_ref() }
    }

    /// The workload's shared state, viewed through its type by the workload.
    pub fn shared(&self) -> SharedArea<'_> {
        // SAFETY: the area lies inside the mapping (checked by the layout) for as long as
        // `self` lives; it is zeroed at creation and by `reset`, and only ever viewed as the one
        // workload's state whose hash is in the header.
        unsafe {
            SharedArea::new(
                self.map.ptr().add(self.layout.shared_offset),
                self.layout.shared_len,
            )
        }
    }

    /// Bytes set aside for the workload's shared state.
    pub fn shared_len(&self) -> usize {
        self.layout.shared_len
    }

    /// Slots this region holds.
    pub fn capacity(&self) -> usize {
        self.layout.capacity
    }

    /// Worker `i`'s slot. Panics if `i` is past the region's capacity (a harness bug).
    pub fn slot(&self, i: usize) -> &Slot {
        assert!(i < self.capacity(), "slot {i} outside the region");
        // SAFETY: bounds checked above; slots follow the shared area, 128-aligned, and
        // all-zero is a valid Slot (atomics only).
        unsafe {
            self.map
                .ptr()
                .add(self.layout.slots_offset + i * size_of::<Slot>())
                .cast::<Slot>()
                .as_ref()
        }
    }

    /// The case's parameters, as the header holds them.
    pub fn params(&self) -> [u64; MAX_PARAMS] {
        self.header()
            .params
            .each_ref()
            .map(|p| p.load(Ordering::Acquire))
    }

    /// Clears the barrier, the shared state and the slots for a new sample, and writes the
    /// case's orders. Only while no worker of this region runs.
    pub fn reset(&self, workers: usize, workload: u64, variant: usize, params: &[u64]) {
        let h = self.header();
        h.ready.store(0, Ordering::Relaxed);
        h.release.store(0, Ordering::Relaxed);
        h.ended.store(0, Ordering::Relaxed);
        h.closed.store(0, Ordering::Relaxed);
        h.workers.store(workers as u32, Ordering::Relaxed);
        h.workload.store(workload, Ordering::Relaxed);
        h.variant.store(variant as u32, Ordering::Relaxed);
        for (i, p) in h.params.iter().enumerate() {
            p.store(params.get(i).copied().unwrap_or(0), Ordering::Relaxed);
        }
        // SAFETY: the shared area lies inside the mapping, and no worker runs now (the
        // caller's contract), so nothing holds a reference into it while it is zeroed.
        unsafe {
            std::ptr::write_bytes(
                self.map.ptr().add(self.layout.shared_offset).as_ptr(),
                0,
                self.layout.shared_len,
            )
        };
        for i in 0..workers.min(self.capacity()) {
            let s = self.slot(i);
            for f in [
                &s.units,
                &s.requested_ns,
                &s.started_ns,
                &s.begin_ns,
                &s.end_ns,
                &s.checksum,
                &s.ops,
                &s.private_bytes,
                &s.probe_before_ns,
                &s.probe_after_ns,
            ] {
                f.store(0, Ordering::Relaxed);
            }
            crate::measure::sched::Counters::store(None, &s.sched_before);
            crate::measure::sched::Counters::store(None, &s.sched_after);
            s.state.store(STATE_EMPTY, Ordering::Relaxed);
            s.pid.store(0, Ordering::Relaxed);
            s.fault.store(0, Ordering::Relaxed);
            super::panics::store_message(&s.message, "");
        }
        std::sync::atomic::fence(Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_sit_on_separate_cache_lines_after_the_shared_state() {
        assert_eq!(size_of::<Slot>() % CACHE_PAD, 0);
        assert_eq!(size_of::<Header>() % CACHE_PAD, 0);
        let r = Region::anonymous(3, 40, 8).unwrap();
        let a = r.slot(0) as *const Slot as usize;
        let b = r.slot(1) as *const Slot as usize;
        assert!(b - a >= CACHE_PAD);
        let shared = r.shared().get::<[u64; 5]>() as *const _ as usize;
        assert!(shared >= r.header() as *const Header as usize + size_of::<Header>());
        assert!(shared + 40 <= a);
        assert_eq!(r.capacity(), 3);
    }

    #[test]
    fn a_page_aligned_shared_state_gets_its_alignment() {
        let r = Region::anonymous(1, 4096, 4096).unwrap();
        let p = r.shared().get::<u8>() as *const u8 as usize;
        assert_eq!(p % 4096, 0);
    }

    #[test]
    fn a_memfd_region_attaches_through_its_descriptor() {
        let r = Region::memfd(2, 16, 8).unwrap();
        r.reset(2, name_hash("x"), 1, &[7, 8]);
        r.slot(1).ops.store(42, Ordering::Relaxed);
        r.shared()
            .get::<AtomicU64>()
            .store(99, std::sync::atomic::Ordering::Relaxed);
        let other = Region::attach(r.fd().unwrap()).unwrap();
        assert_eq!(other.slot(1).ops.load(Ordering::Relaxed), 42);
        assert_eq!(other.capacity(), 2);
        assert_eq!(other.params()[..2], [7, 8]);
        assert_eq!(
            other.shared().get::<AtomicU64>().load(Ordering::Relaxed),
            99
        );
        assert_eq!(
            other.header().workload.load(Ordering::Relaxed),
            name_hash("x")
        );
    }

    #[test]
    fn reset_zeroes_the_shared_state() {
        let r = Region::anonymous(1, 8, 8).unwrap();
        r.shared().get::<AtomicU64>().store(5, Ordering::Relaxed);
        r.reset(1, 0, 0, &[]);
        assert_eq!(r.shared().get::<AtomicU64>().load(Ordering::Relaxed), 0);
    }
}
