//! Child processes of the fork and spawn models: reaped with `wait4` (keeping their resource
//! usage), watched for early death, killed on timeout, and never left behind as zombies.

use std::time::Duration;

use nix::libc;

use super::SampleError;
use crate::measure::clock::now_ns;
use crate::sys::signals::signal_name;

/// How a reaped child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    fn from_status(status: libc::c_int) -> Exit {
        if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            Exit::Code(libc::WEXITSTATUS(status))
        }
    }

    /// `Ok` for a clean exit, else the failure in words ("killed by SIGKILL").
    pub fn check(self, pid: i32) -> Result<(), SampleError> {
        match self {
            Exit::Code(0) => Ok(()),
            Exit::Code(super::panics::PANIC_EXIT) => Err(SampleError::WorkerFailed(format!(
                "worker process {pid} panicked"
            ))),
            Exit::Code(code) => Err(SampleError::WorkerFailed(format!(
                "worker process {pid} exited with code {code}"
            ))),
            Exit::Signal(sig) => Err(SampleError::WorkerFailed(format!(
                "worker process {pid} was killed by {}",
                signal_name(sig)
            ))),
        }
    }
}

/// A reaped child: how it ended and its peak RSS from `wait4`'s rusage.
#[derive(Clone, Copy, Debug)]
pub struct Reaped {
    pub pid: i32,
    pub exit: Exit,
    pub maxrss_bytes: u64,
    pub reaped_ns: u64,
}

fn wait4(pid: i32, flags: libc::c_int) -> Option<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid out-parameters for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            return Some(Reaped {
                pid,
                exit: Exit::from_status(status),
                maxrss_bytes: usage.ru_maxrss as u64 * 1024,
                reaped_ns: now_ns(),
            });
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return None;
    }
}

/// Sleeps until `pid` has exited or `timeout` passed, through a pidfd, without reaping it.
fn wait_exit(pid: i32, timeout: Duration) {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if fd < 0 {
        std::thread::sleep(timeout.min(Duration::from_millis(1)));
        return;
    }
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd; `fd` is ours and closed right after.
    unsafe {
        libc::poll(&mut pfd, 1, ms);
        libc::close(fd);
    }
}

/// The children of one sample. Whatever happens, dropping it kills and reaps every child
/// still running, so an error path never leaves a zombie or an orphan.
#[derive(Default)]
pub struct Children {
    running: Vec<i32>,
    reaped: Vec<Reaped>,
}

impl Children {
    pub fn with_capacity(n: usize) -> Self {
        Children {
            running: Vec::with_capacity(n),
            reaped: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, pid: i32) {
        self.running.push(pid);
    }

    /// Reaps children that already ended; an early end is an error (a worker never leaves
    /// before the sample is over).
    pub fn check_alive(&mut self) -> Result<(), SampleError> {
        let mut i = 0;
        while i < self.running.len() {
            if let Some(r) = wait4(self.running[i], libc::WNOHANG) {
                self.running.swap_remove(i);
                self.reaped.push(r);
                r.exit.check(r.pid)?;
                return Err(SampleError::WorkerFailed(format!(
                    "worker process {} exited before the sample started",
                    r.pid
                )));
            }
            i += 1;
        }
        Ok(())
    }

    /// Reaps every child, in order, waiting until `deadline_ns` at most; then kills the rest.
    pub fn reap_all(&mut self, deadline_ns: u64) -> Result<Vec<Reaped>, SampleError> {
        let mut first_error = None;
        while let Some(&pid) = self.running.first() {
            let r = loop {
                if let Some(r) = wait4(pid, libc::WNOHANG) {
                    break r;
                }
                let now = now_ns();
                if crate::sys::signals::stop_requested() {
                    self.kill_all();
                    return Err(SampleError::Interrupted);
                }
                if now >= deadline_ns {
                    self.kill_all();
                    return Err(SampleError::Timeout);
                }
                wait_exit(pid, Duration::from_nanos(deadline_ns - now));
            };
            self.running.remove(0);
            self.reaped.push(r);
            if let Err(e) = r.exit.check(pid) {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(std::mem::take(&mut self.reaped)),
        }
    }

    /// SIGKILLs and reaps every child still running.
    pub fn kill_all(&mut self) {
        for &pid in &self.running {
            // SAFETY: kill has no memory-safety preconditions; `pid` is our unreaped child,
            // so the number cannot have been reused by another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        for pid in std::mem::take(&mut self.running) {
            if let Some(r) = wait4(pid, 0) {
                self.reaped.push(r);
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Asks the kernel to SIGKILL the calling process when the thread that started it ends.
/// Allocation-free; safe in a forked child.
pub fn set_death_signal() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and has no memory preconditions.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
}

/// Asks the kernel to SIGKILL the calling process when its parent dies, so that a worker
/// never outlives a harness that was killed. Allocation-free; safe in a forked child.
/// Returns false if the parent is already gone (the caller should leave at once).
pub fn die_with_parent(parent: i32) -> bool {
    set_death_signal();
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() == parent }
}
