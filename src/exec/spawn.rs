//! The `spawn` model: each worker is a fresh process of the host executable — threadfork, or a
//! user's bench binary — started by `std::process::Command` with a hidden first argument, and
//! reaching the shared region through a memfd handed over as its standard input.

use std::os::fd::BorrowedFd;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use super::children::{Children, die_with_parent};
use super::region::{Region, name_hash};
use super::{Executor, Job, RawSample, SampleError, deadline, prepare};
use crate::api::workload::WorkloadRef;
use crate::measure::clock::now_ns;

/// The hidden first argument that makes the host executable a worker. `run_main` looks for
/// it before anything else.
pub const WORKER_ARG: &str = "__threadfork-worker";

/// The worker argument's mode for the calibration's bare spawn: a process that ends on entry.
pub const BARE_ARG: &str = "--bare";

/// Per-sample spawned workers.
pub struct Spawn;

impl Executor for Spawn {
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let start_err = |e: &dyn std::fmt::Display| SampleError::Start(e.to_string());
        let info = job.workload.info();
        let region = Region::memfd(job.workers, info.shared_size, info.shared_align)
            .map_err(|e| start_err(&format_args!("{e:#}")))?;
        prepare(&region, job);
        let fd = region
            .fd()
            .ok_or_else(|| start_err(&"region has no memfd"))?;
        let parent = std::process::id().to_string();
        let slowdown = super::testing::child_arg();
        // Everything a spawn needs is built before the clock starts. No `pre_exec` hook: it
        // would turn posix_spawn (vfork-like, flat in the parent's size) into fork+exec.
        let mut commands = Vec::with_capacity(job.workers);
        for k in 0..job.workers {
            let stdin = fd.try_clone_to_owned().map_err(|e| start_err(&e))?;
            let mut cmd = Command::new(job.exe);
            cmd.arg(WORKER_ARG)
                .arg(info.name)
                .arg(k.to_string())
                .arg(&slowdown)
                .arg(&parent)
                .stdin(Stdio::from(stdin))
                .stdout(Stdio::null());
            commands.push(cmd);
        }
        let deadline_ns = deadline(job.timeout);
        let mut children = Children::with_capacity(job.workers);
        for (k, cmd) in commands.iter_mut().enumerate() {
            let slot = region.slot(k);
            slot.requested_ns.store(now_ns(), Ordering::Relaxed);
            let child = super::testing::spawn(|| cmd.spawn())
                .map_err(|e| start_err(&format_args!("cannot start {}: {e}", job.exe.display())))?;
            slot.pid.store(child.id(), Ordering::Relaxed);
            children.push(child.id() as i32);
        }
        drop(commands);
        super::finish_processes(&region, job, &mut children, deadline_ns)
    }
}

/// `EXE __threadfork-worker NAME INDEX SLOWDOWN PARENT_PID`, with the region as standard
/// input (`SLOWDOWN`: `-`, or what `--inject-slowdown` gave the parent);
/// `find` looks the workload up in the host binary's registry. `started_ns` is the clock read
/// at the top of `main`. Returns the process exit code.
pub fn worker_main(
    started_ns: u64,
    args: &[String],
    find: impl Fn(&str) -> Option<WorkloadRef>,
) -> i32 {
    if args.first().is_some_and(|a| a == BARE_ARG) {
        // Even a process that ends on entry must not outlive a harness killed meanwhile.
        super::children::set_death_signal();
        return 0;
    }
    let usage = || {
        eprintln!(
            "threadfork worker: internal; usage: {WORKER_ARG} WORKLOAD INDEX SLOWDOWN PARENT_PID, with a region on stdin"
        );
        2
    };
    let [name, index, slowdown, parent] = args else {
        return usage();
    };
    let (Ok(index), Ok(parent)) = (index.parse::<usize>(), parent.parse::<i32>()) else {
        return usage();
    };
    if !die_with_parent(parent) {
        return 1;
    }
    super::testing::from_arg(slowdown);
    let Some(workload) = find(name) else {
        eprintln!("threadfork worker: this binary has no workload '{name}'");
        return 2;
    };
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
    let info = workload.info();
    if region.header().workload.load(Ordering::Acquire) != name_hash(info.name)
        || region.shared_len() < info.shared_size
    {
        eprintln!("threadfork worker: the region was made for another workload than '{name}'");
        return 2;
    }
    if index >= region.capacity() {
        eprintln!("threadfork worker: index {index} outside the region");
        return 2;
    }
    region
        .slot(index)
        .pid
        .store(std::process::id(), Ordering::Relaxed);
    super::worker::serve_process(&region, index, started_ns, workload.as_ref())
}
