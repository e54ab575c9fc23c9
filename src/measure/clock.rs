//! CLOCK_MONOTONIC in nanoseconds: one clock that a parent and its children read alike.

use nix::libc;

/// Nanoseconds on CLOCK_MONOTONIC. The kernel keeps this clock system-wide, so a value taken
/// in a parent before `fork` or `posix_spawn` and one taken in the child are directly
/// comparable. Allocation-free and async-signal-safe, so a forked child may call it.
#[inline]
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
