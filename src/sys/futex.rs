//! Futex primitives that work across processes: a wait/wake pair, a raw process-shared lock
//! word and [`Mutex`], a typed mutex for state in a `MAP_SHARED` mapping. Allocation-free, so
//! forked children may use them.

use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::shared::Shared;

use nix::libc;

/// Sleeps while `*word == expected`, at most `timeout`. Uses the shared (non-private) futex
/// operations, keyed by the physical page, so that waiters in different processes that map
/// the same memory meet. Returns early on a wake-up, a changed value, a signal or the timeout.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs() as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; `ts_ptr` is null or
    // points to a timespec on this stack frame.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
        )
    };
}

/// Wakes up to `n` waiters sleeping on `word`.
pub fn futex_wake(word: &AtomicU32, n: i32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE only reads its address.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, n) };
}

/// Spins this many times before sleeping on a futex: about a microsecond on current cores,
/// shorter than a futex round trip, so a lock held briefly is taken without a system call.
const SPIN_LIMIT: u32 = 100;

/// A lock made of one 32-bit word, usable by several processes at once when the word lives
/// in shared memory. States: 0 free, 1 held, 2 held with possible sleepers (the classic
/// three-state futex mutex, which keeps the uncontended path free of system calls).
#[repr(C)]
pub struct FutexMutex {
    state: AtomicU32,
}

/// Extra spin steps on every acquisition of the process-shared lock: 0 except under the
/// hidden test-only `--inject-slowdown lock=PCT`, which sets it once before workers start.
pub static LOCK_EXTRA_SPINS: AtomicU64 = AtomicU64::new(0);

/// Spins `n` dependent steps (the injected slowdowns' unit of extra work).
#[inline(never)]
pub fn spin(n: u64) {
    let mut x = 0u64;
    for i in 0..std::hint::black_box(n) {
        x = std::hint::black_box(x.wrapping_add(i));
    }
    std::hint::black_box(x);
}

// SAFETY: the lock is one atomic word; all-zero is the free state, and it holds no address.
unsafe impl Shared for FutexMutex {}

impl FutexMutex {
    pub const fn new() -> Self {
        FutexMutex {
            state: AtomicU32::new(0),
        }
    }

    pub fn lock(&self) {
        let extra = LOCK_EXTRA_SPINS.load(Ordering::Relaxed);
        if extra > 0 {
            spin(extra);
        }
        if self
            .state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        for _ in 0..SPIN_LIMIT {
            spin_loop();
            if self.state.load(Ordering::Relaxed) == 0
                && self
                    .state
                    .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        while self.state.swap(2, Ordering::Acquire) != 0 {
            futex_wait(&self.state, 2, None);
        }
    }

    pub fn unlock(&self) {
        if self.state.swap(0, Ordering::Release) == 2 {
            futex_wake(&self.state, 1);
        }
    }
}

impl Default for FutexMutex {
    fn default() -> Self {
        Self::new()
    }
}

/// A mutex whose lock and value both live in the memory it is placed in, so that threads,
/// forked children and spawned processes that map the same region exclude each other and see
/// one value. All-zero is a valid unlocked mutex holding `T`'s all-zero value.
///
/// ```
/// use threadfork::Mutex;
/// let m: Mutex<u64> = Mutex::new(0);
/// *m.lock() += 1;
/// assert_eq!(*m.lock(), 1);
/// ```
#[repr(C)]
pub struct Mutex<T> {
    raw: FutexMutex,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, which holds the lock; `T: Send` because
// the guard hands it to whichever thread or process holds the lock.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: a Mutex owns its value; moving it moves the value.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: a Mutex of plain shared data is plain shared data: a u32 lock word (0 = unlocked)
// followed by `T`, which is Shared itself.
unsafe impl<T: Shared> Shared for Mutex<T> {}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex {
            raw: FutexMutex::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, sleeping on the futex while another thread or process holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock();
        MutexGuard { mutex: self }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

/// Holds a [`Mutex`] locked; unlocks when dropped.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held, so no one else reaches the value.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::UnsafeCell;

    struct Guarded {
        lock: FutexMutex,
        value: UnsafeCell<u64>,
    }
    // SAFETY: `value` is only touched while `lock` is held.
    unsafe impl Sync for Guarded {}

    #[test]
    fn futex_mutex_excludes_threads() {
        let g = Guarded {
            lock: FutexMutex::new(),
            value: UnsafeCell::new(0),
        };
        let shared = &g;
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(move || {
                    let g = shared;
                    for _ in 0..20_000 {
                        g.lock.lock();
                        // SAFETY: the lock is held.
                        unsafe { *g.value.get() += 1 };
                        g.lock.unlock();
                    }
                });
            }
        });
        assert_eq!(g.value.into_inner(), 80_000);
    }

    #[test]
    fn typed_mutex_excludes_threads() {
        let m: Mutex<[u64; 2]> = Mutex::new([0, 0]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        let mut g = m.lock();
                        g[0] += 1;
                        g[1] += 2;
                    }
                });
            }
        });
        assert_eq!(*m.lock(), [40_000, 80_000]);
    }

    #[test]
    fn wait_returns_when_value_differs() {
        let w = AtomicU32::new(1);
        futex_wait(&w, 0, None); // value is not 0: returns at once
        futex_wait(&w, 1, Some(Duration::from_millis(1))); // times out
    }
}
