//! The `spawn` model: each worker is a fresh process of the harness's own executable
//! (`threadfork worker`), started by `std::process::Command` and reaching the shared region
//! through a memfd handed over as its standard input.

use std::os::fd::BorrowedFd;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use super::process::{Children, die_with_parent};
use super::region::Region;
use super::{RawSample, SampleError, SampleSpec, deadline, prepare};
use crate::measure::clock::now_ns;

/// The hidden subcommand that makes the executable a worker.
pub const WORKER_ARG: &str = "worker";

pub fn run(spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    let start_err = |e: &dyn std::fmt::Display| SampleError::Start(e.to_string());
    let region = Region::memfd(spec.workers).map_err(|e| start_err(&e))?;
    prepare(&region, spec);
    let fd = region
        .fd()
        .ok_or_else(|| start_err(&"region has no memfd"))?;
    let parent = std::process::id().to_string();
    // Everything a spawn needs is built before the clock starts. No `pre_exec` hook: it would
    // turn posix_spawn (vfork-like, flat in the parent's size) into fork+exec.
    let mut commands = Vec::with_capacity(spec.workers);
    for k in 0..spec.workers {
        let stdin = fd.try_clone_to_owned().map_err(|e| start_err(&e))?;
        let mut cmd = Command::new(spec.exe);
        cmd.arg(WORKER_ARG)
            .arg(k.to_string())
            .arg(&parent)
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::null());
        commands.push(cmd);
    }
    let deadline_ns = deadline(spec.timeout);
    let mut children = Children::with_capacity(spec.workers);
    for (k, cmd) in commands.iter_mut().enumerate() {
        let slot = region.slot(k);
        slot.requested_ns.store(now_ns(), Ordering::Relaxed);
        let child = cmd
            .spawn()
            .map_err(|e| start_err(&format_args!("cannot start {}: {e}", spec.exe.display())))?;
        slot.pid.store(child.id(), Ordering::Relaxed);
        children.push(child.id() as i32);
    }
    drop(commands);
    super::finish_processes(&region, spec, &mut children, deadline_ns)
}

/// `threadfork worker INDEX PARENT_PID`, with the region as standard input. `started_ns` is
/// the clock read at the top of `main`. Returns the process exit code.
pub fn worker_main(started_ns: u64, args: &[String]) -> i32 {
    let parsed = match args {
        [index, parent] => index.parse::<usize>().ok().zip(parent.parse::<i32>().ok()),
        _ => None,
    };
    let Some((index, parent)) = parsed else {
        eprintln!(
            "threadfork worker: internal subcommand; usage: threadfork worker INDEX PARENT_PID"
        );
        return 2;
    };
    if !die_with_parent(parent) {
        return 1;
    }
    // SAFETY: descriptor 0 stays open for the life of the process; the region is only read
    // through it while mapping.
    let fd = unsafe { BorrowedFd::borrow_raw(0) };
    let region = match Region::attach(fd) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("threadfork worker: {e:#}");
            return 2;
        }
    };
    if index >= region.capacity() {
        eprintln!("threadfork worker: index {index} outside the region");
        return 2;
    }
    region
        .slot(index)
        .pid
        .store(std::process::id(), Ordering::Relaxed);
    super::worker::serve_process(&region, index, started_ns)
}
