//! The `fork` model: each worker is a child made by `fork`, working in a `MAP_SHARED` region
//! prepared before the fork, leaving with `_exit`, reaped by the parent with `wait4`.

use std::sync::atomic::Ordering;

use nix::libc;
use nix::unistd::{ForkResult, fork, getpid};

use super::process::{Children, die_with_parent};
use super::region::Region;
use super::{RawSample, SampleError, SampleSpec, deadline, prepare};
use crate::measure::clock::now_ns;

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
            Ok(ForkResult::Child) => child(&region, k, parent),
            Ok(ForkResult::Parent { child }) => {
                slot.pid.store(child.as_raw() as u32, Ordering::Relaxed);
                children.push(child.as_raw());
            }
            Err(e) => return Err(SampleError::Start(format!("fork failed: {e}"))),
        }
    }
    super::finish_processes(&region, spec, &mut children, deadline_ns)
}

/// The forked child's whole life.
fn child(region: &Region, index: usize, parent: i32) -> ! {
    let started_ns = now_ns();
    let code = if die_with_parent(parent) {
        super::worker::serve_process(region, index, started_ns)
    } else {
        1
    };
    // SAFETY: `_exit` ends the child at once, without running the parent's atexit handlers
    // or flushing buffers that belong to the parent.
    unsafe { libc::_exit(code) }
}
