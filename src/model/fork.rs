//! The `fork` model: each worker is a child made by `fork`, working in a `MAP_SHARED` region
//! prepared before the fork, leaving with `_exit`, reaped by the parent with `wait4`.

use std::sync::atomic::Ordering;

use nix::libc;
use nix::unistd::{ForkResult, fork, getpid};

use super::process::{Children, die_with_parent};
use super::region::Region;
use super::{RawSample, SampleError, SampleSpec, deadline, prepare};
use crate::measure::clock::now_ns;
use crate::workload::Job;

pub fn run(spec: &SampleSpec<'_>) -> Result<RawSample, SampleError> {
    let region = Region::anonymous(spec.workers).map_err(|e| SampleError::Start(e.to_string()))?;
    prepare(&region, spec);
    let parent = getpid().as_raw();
    let deadline_ns = deadline(spec.timeout);
    // Allocated before any fork: the children never touch the allocator.
    let mut children = Children::with_capacity(spec.workers);
    for k in 0..spec.workers {
        let slot = region.slot(k);
        slot.requested_ns.store(now_ns(), Ordering::Relaxed);
        // SAFETY: the child runs only `child`, which touches memory prepared before the fork
        // (the region) and the stack, makes system calls, and leaves with `_exit`: it does not
        // allocate, take a lock another thread may hold, or return into the parent's code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => child(&region, k, parent, spec.job == Job::Empty),
            Ok(ForkResult::Parent { child }) => {
                slot.pid.store(child.as_raw() as u32, Ordering::Relaxed);
                children.push(child.as_raw());
            }
            Err(e) => return Err(SampleError::Start(format!("fork failed: {e}"))),
        }
    }
    super::finish_processes(&region, spec, &mut children, deadline_ns)
}

/// The forked child's whole life. An empty job (`empty`, known from the parent's memory
/// without touching the region) only reports its start and leaves: it lives microseconds,
/// so it needs no parent-death signal, and a roundtrip then measures fork, not the harness.
fn child(region: &Region, index: usize, parent: i32, empty: bool) -> ! {
    let started_ns = now_ns();
    if empty {
        let slot = region.slot(index);
        slot.started_ns.store(started_ns, Ordering::Release);
        super::worker::finish(slot);
        // SAFETY: as below.
        unsafe { libc::_exit(0) }
    }
    let code = if die_with_parent(parent) {
        super::worker::serve_process(region, index, started_ns)
    } else {
        1
    };
    // SAFETY: `_exit` ends the child at once, without running the parent's atexit handlers
    // or flushing buffers that belong to the parent.
    unsafe { libc::_exit(code) }
}
