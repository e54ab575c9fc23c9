//! Reference figures measured in the same run as the cases: the clock's read cost and bare
//! loops of the OS primitives each model is built on. The gap between these and the models'
//! figures is the harness's own overhead.

use std::ffi::CString;
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
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

/// Reaps `pid`, retrying when a signal interrupts the wait, and checks that it exited 0.
fn reap_clean(pid: libc::pid_t, what: &str) -> Result<()> {
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child; `status` is a valid out-parameter.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            bail!("waitpid on the bare {what} child failed: {e}");
        }
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("the bare {what} child did not exit cleanly (status {status:#x})");
    }
    Ok(())
}

/// One bare `fork` + `_exit(0)` + `waitpid`, in ns; the child's clean exit is checked.
pub fn bare_fork_roundtrip() -> Result<f64> {
    let t0 = now_ns();
    // SAFETY: the child calls only `_exit`, which is async-signal-safe.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => bail!("fork failed: {}", std::io::Error::last_os_error()),
        // SAFETY: ends the child at once.
        0 => unsafe { libc::_exit(0) },
        _ => {
            reap_clean(pid, "fork")?;
            Ok((now_ns() - t0) as f64)
        }
    }
}

/// A prepared `posix_spawn` of the host executable as a bare worker (a process that exits on
/// entry).
pub struct BareSpawn {
    path: CString,
    args: Vec<CString>,
}

impl BareSpawn {
    /// `args` are the arguments after the program name that make `exe` exit on entry.
    pub fn new(exe: &Path, args: &[&str]) -> Result<BareSpawn> {
        let path = CString::new(exe.as_os_str().as_bytes()).context("executable path")?;
        let args = std::iter::once("threadfork")
            .chain(args.iter().copied())
            .map(|a| CString::new(a).context("argument"))
            .collect::<Result<_>>()?;
        Ok(BareSpawn { path, args })
    }

    /// One bare `posix_spawn` + `waitpid`, in ns; the child's clean exit is checked.
    pub fn roundtrip(&self) -> Result<f64> {
        let mut argv: Vec<*mut libc::c_char> =
            self.args.iter().map(|a| a.as_ptr() as *mut _).collect();
        argv.push(std::ptr::null_mut());
        let envp: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
        let mut pid: libc::pid_t = 0;
        let t0 = now_ns();
        // SAFETY: path, argv and envp are NUL-terminated and outlive the call; no attributes.
        let rc = unsafe {
            libc::posix_spawn(
                &mut pid,
                self.path.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr(),
                envp.as_ptr(),
            )
        };
        if rc != 0 {
            bail!(
                "posix_spawn failed: {}",
                std::io::Error::from_raw_os_error(rc)
            );
        }
        reap_clean(pid, "spawn")?;
        Ok((now_ns() - t0) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_loops_return_positive_times() {
        assert!(timer_overhead_ns(1000) > 0.0);
        assert!(bare_thread_roundtrip().unwrap() > 0.0);
        assert!(bare_fork_roundtrip().unwrap() > 0.0);
    }
}
