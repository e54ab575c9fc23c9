//! Futex primitives that work across processes: a wait/wake pair and a process-shared mutex
//! that lives in a `MAP_SHARED` mapping. Allocation-free, so forked children may use them.

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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

/// A mutex made of one 32-bit word, usable by several processes at once when the word lives
/// in shared memory. States: 0 free, 1 held, 2 held with possible sleepers (the classic
/// three-state futex mutex, which keeps the uncontended path free of system calls).
#[repr(C)]
pub struct FutexMutex {
    state: AtomicU32,
}

impl FutexMutex {
    pub const fn new() -> Self {
        FutexMutex {
            state: AtomicU32::new(0),
        }
    }

    pub fn lock(&self) {
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
    fn wait_returns_when_value_differs() {
        let w = AtomicU32::new(1);
        futex_wait(&w, 0, None); // value is not 0: returns at once
        futex_wait(&w, 1, Some(Duration::from_millis(1))); // times out
    }
}
