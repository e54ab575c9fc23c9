//! Bare loops, with nothing of the harness around them: a workload's own code called directly
//! (one worker with the whole sample, no barrier or slot), verified; and the OS primitives the
//! process models are built on (`fork` + `_exit` + reap, `posix_spawn` + reap), each child
//! dying with the harness and reaped with a deadline.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use nix::libc;

use super::children::Children;
use super::region::Region;
use super::{Bound, SampleError, WorkerReport, deadline, watched};
use crate::api::workload::{Orders, Verdict};
use crate::measure::clock::now_ns;

/// One bare run: (operations counted, nanoseconds the run took).
pub type BareRun = (u64, u64);

/// `b`'s workload run directly on the calling thread with one worker's whole share.
fn bare_run_here(b: &Bound) -> Result<BareRun, SampleError> {
    let job = b.job(1, Path::new(""));
    let info = job.workload.info();
    let region = Region::anonymous(1, info.shared_size, info.shared_align)
        .map_err(|e| SampleError::Start(format!("{e:#}")))?;
    super::prepare(&region, &job);
    let orders = Orders {
        index: 0,
        units: job.units(0),
        offset: 0,
        sample: job.sample_of(),
    };
    let t0 = now_ns();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::panics::user_code(|| {
            super::testing::run_share(job.workload.as_ref(), region.shared(), &orders)
        })
    }));
    let dt = now_ns().saturating_sub(t0).max(1);
    let out = ran.map_err(|payload| {
        SampleError::WorkerFailed(format!(
            "its run panicked: {}",
            super::panics::text(&*payload)
        ))
    })?;
    let verdict = super::verify(
        &region,
        &job,
        &[WorkerReport {
            output: out,
            ..WorkerReport::default()
        }],
    );
    job.workload.teardown();
    match verdict {
        Verdict::Failed(why) => Err(SampleError::WorkerFailed(format!(
            "its check failed: {why}"
        ))),
        _ if out.ops == 0 => Err(SampleError::WorkerFailed(
            "the workload counted no operation".into(),
        )),
        _ => Ok((out.ops, dt)),
    }
}

/// One bare run of `b` on a thread of its own (pinned to `cpu` if given), waited for up to
/// `timeout` and no longer than a Ctrl-C.
pub fn bare_run(b: &Bound, cpu: Option<usize>, timeout: Duration) -> Result<BareRun, SampleError> {
    let b = Bound {
        workload: b.workload.clone(),
        variant: b.variant,
        params: b.params.clone(),
    };
    watched(timeout, move || {
        if let Some(cpu) = cpu {
            super::worker::pin_to(cpu as i32);
        }
        bare_run_here(&b)
    })?
}

/// Ops per second of a bare run.
pub fn rate((ops, ns): BareRun) -> f64 {
    ops as f64 / (ns.max(1) as f64 / 1e9)
}

/// Reaps one bare child within `timeout` (killing it after), checking it exited 0.
fn reap_bare(pid: libc::pid_t, what: &str, timeout: Duration) -> Result<(), SampleError> {
    let mut children = Children::with_capacity(1);
    children.push(pid);
    let reaped = children.reap_all(deadline(timeout)).map_err(|e| match e {
        SampleError::Timeout => SampleError::WorkerFailed(format!(
            "the bare {what} child did not end within {:.1} s and was killed",
            timeout.as_secs_f64()
        )),
        other => other,
    })?;
    reaped
        .first()
        .map_or(Ok(()), |r| r.exit.check(pid))
        .map_err(|e| SampleError::WorkerFailed(format!("bare {what}: {e}")))
}

/// One bare `fork` + `_exit(0)` + reap, in ns; the child dies with the harness and its clean
/// exit is checked.
pub fn bare_fork_roundtrip(timeout: Duration) -> Result<f64, SampleError> {
    let t0 = now_ns();
    // SAFETY: the child only makes the prctl system call and leaves with `_exit`, both
    // async-signal-safe.
    let pid = super::testing::fork(|| unsafe { libc::fork() });
    match pid {
        -1 => Err(SampleError::Start(format!(
            "fork failed: {}",
            std::io::Error::last_os_error()
        ))),
        0 => {
            // SAFETY: prctl takes a signal number; `_exit` ends the child at once.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                libc::_exit(0)
            }
        }
        _ => {
            reap_bare(pid, "fork", timeout)?;
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
    pub fn new(exe: &Path) -> Result<BareSpawn, SampleError> {
        let bad = |e: std::ffi::NulError| SampleError::Start(format!("bare spawn: {e}"));
        let path = CString::new(exe.as_os_str().as_bytes()).map_err(bad)?;
        let args = [
            "threadfork",
            super::spawn::WORKER_ARG,
            super::spawn::BARE_ARG,
        ]
        .into_iter()
        .map(|a| CString::new(a).map_err(bad))
        .collect::<Result<_, _>>()?;
        Ok(BareSpawn { path, args })
    }

    /// One bare `posix_spawn` + reap, in ns; the child's clean exit is checked.
    pub fn roundtrip(&self, timeout: Duration) -> Result<f64, SampleError> {
        let mut argv: Vec<*mut libc::c_char> =
            self.args.iter().map(|a| a.as_ptr() as *mut _).collect();
        argv.push(std::ptr::null_mut());
        let envp: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
        let mut pid: libc::pid_t = 0;
        let t0 = now_ns();
        // SAFETY: path, argv and envp are NUL-terminated and outlive the call; no attributes.
        let rc = super::testing::spawn(|| unsafe {
            libc::posix_spawn(
                &mut pid,
                self.path.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr(),
                envp.as_ptr(),
            )
        });
        if rc != 0 {
            return Err(SampleError::Start(format!(
                "posix_spawn failed: {}",
                std::io::Error::from_raw_os_error(rc)
            )));
        }
        reap_bare(pid, "spawn", timeout)?;
        Ok((now_ns() - t0) as f64)
    }
}

/// A bare loop of an OS or std primitive, with nothing of the harness around it.
pub enum Primitive {
    /// `std::thread::spawn` + `join`: what a Rust program's threads start with.
    StdThread,
    /// `pthread_create` + `pthread_join`: what the threads model's workers start with, and
    /// the OS primitive under std's threads.
    Pthread,
    Fork,
    Spawn(BareSpawn),
}

impl Primitive {
    /// The bare loops measured beside `model`'s start-up, with their variant names.
    pub fn for_model(model: crate::api::Model, exe: &Path) -> Vec<(&'static str, Primitive)> {
        use crate::api::Model;
        use crate::results::derived::{BARE_VARIANT, PTHREAD_VARIANT};
        match model {
            Model::Threads => vec![
                (BARE_VARIANT, Primitive::StdThread),
                (PTHREAD_VARIANT, Primitive::Pthread),
            ],
            Model::Fork => vec![(BARE_VARIANT, Primitive::Fork)],
            Model::Spawn => BareSpawn::new(exe)
                .map(|s| vec![(BARE_VARIANT, Primitive::Spawn(s))])
                .unwrap_or_default(),
            Model::Sequential | Model::Pool(..) => Vec::new(),
        }
    }

    /// One start and end of the primitive, in ns.
    pub fn roundtrip(&self, timeout: Duration) -> Result<f64, String> {
        use crate::measure::calibration;
        match self {
            Primitive::StdThread => {
                calibration::bare_std_thread_roundtrip().map_err(|e| format!("{e:#}"))
            }
            Primitive::Pthread => {
                calibration::bare_thread_roundtrip().map_err(|e| format!("{e:#}"))
            }
            Primitive::Fork => bare_fork_roundtrip(timeout).map_err(|e| e.to_string()),
            Primitive::Spawn(s) => s.roundtrip(timeout).map_err(|e| e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_fork_returns_a_positive_time() {
        assert!(bare_fork_roundtrip(Duration::from_secs(10)).unwrap() > 0.0);
    }

    #[test]
    fn a_late_thread_is_let_go_at_the_deadline() {
        let t0 = now_ns();
        let r = watched(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(5));
        });
        assert!(matches!(r, Err(SampleError::WorkerFailed(_))), "{r:?}");
        assert!(now_ns() - t0 < 2_000_000_000);
    }
}
