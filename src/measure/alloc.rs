//! A counting global allocator: live and peak heap bytes, the analogue of `sys.getsizeof`.
//!
//! The threadfork binary installs [`CountingAlloc`] as its global allocator; a test binary
//! that wants exact heap figures installs it too. Without it, [`is_installed`] is false and
//! heap figures are not reported.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The system allocator with two atomic counters in front of it.
pub struct CountingAlloc;

impl CountingAlloc {
    #[inline]
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters only observe sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// True once any allocation went through [`CountingAlloc`].
pub fn is_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Starts a new peak window: the peak becomes the live figure. Returns that baseline.
pub fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

/// The highest live figure since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// glibc's default: allocations from 128 KiB up are served by their own mmap.
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Pins glibc's mmap threshold. Left dynamic, glibc raises it after the first large free (up
/// to 32 MiB), so that a later Vec of a few MiB reuses pages already resident and its cost
/// vanishes from RSS and time: the second eager sample of 10^6 items would show 0 bytes and
/// no page faults. Pinned, every large buffer is mapped fresh and returned when freed, as a
/// program that builds such a list once pays. Call it before any thread starts.
pub fn pin_malloc_threshold() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator tuning; the caller runs before other threads.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
