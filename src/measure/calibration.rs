//! Reference figures measured in the same run as the cases: the clock's read cost and bare
//! loops of the thread primitives (the process primitives' bare loops are in `exec::bare`,
//! beside the children they share). The gap between these and the models' figures is the
//! harness's own overhead.

use std::hint::black_box;

use anyhow::{Result, bail};
use nix::libc;

use super::clock::now_ns;

/// Nanoseconds per clock read, averaged over `reads` back-to-back reads.
pub fn timer_overhead_ns(reads: u32) -> f64 {
    let t0 = now_ns();
    for _ in 0..reads {
        black_box(now_ns());
    }
    (now_ns() - t0) as f64 / f64::from(reads.max(1))
}

extern "C" fn nothing(_: *mut libc::c_void) -> *mut libc::c_void {
    std::ptr::null_mut()
}

/// One bare `pthread_create` + `pthread_join`, in ns.
pub fn bare_thread_roundtrip() -> Result<f64> {
    // SAFETY: a zeroed pthread_t is a valid out-parameter.
    let mut tid: libc::pthread_t = unsafe { std::mem::zeroed() };
    let t0 = now_ns();
    // SAFETY: default attributes; `nothing` touches no data; the thread is joined below.
    let rc =
        unsafe { libc::pthread_create(&mut tid, std::ptr::null(), nothing, std::ptr::null_mut()) };
    if rc != 0 {
        bail!("pthread_create failed: {rc}");
    }
    // SAFETY: `tid` is a joinable thread created above, joined once.
    unsafe { libc::pthread_join(tid, std::ptr::null_mut()) };
    Ok((now_ns() - t0) as f64)
}

/// One bare `std::thread::spawn` + `join` of an empty closure, in ns.
pub fn bare_std_thread_roundtrip() -> Result<f64> {
    let t0 = now_ns();
    std::thread::spawn(|| {})
        .join()
        .map_err(|_| anyhow::anyhow!("empty thread panicked"))?;
    Ok((now_ns() - t0) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_loops_return_positive_times() {
        assert!(timer_overhead_ns(1000) > 0.0);
        assert!(bare_thread_roundtrip().unwrap() > 0.0);
    }
}
