//! The `fork` model: each worker is a child made by `fork`, working in a `MAP_SHARED` region
//! prepared before the fork, leaving with `_exit`, reaped by the parent with `wait4`.

use std::sync::atomic::Ordering;

use nix::libc;
use nix::unistd::{ForkResult, fork, getpid};

use super::children::{Children, die_with_parent};
use super::region::Region;
use super::{Executor, Job, RawSample, SampleError, deadline, prepare};
use crate::api::workload::Erased;
use crate::measure::clock::now_ns;

/// Per-sample forked workers.
pub struct Fork;

impl Executor for Fork {
    fn sample(&mut self, job: &Job<'_>) -> Result<RawSample, SampleError> {
        let region = job.region_anonymous()?;
        prepare(&region, job);
        let parent = getpid().as_raw();
        let deadline_ns = deadline(job.timeout);
        let workload: &dyn Erased = job.workload.as_ref();
        // Allocated before any fork: the children never touch the allocator.
        let mut children = Children::with_capacity(job.workers);
        for k in 0..job.workers {
            let slot = region.slot(k);
            slot.requested_ns.store(now_ns(), Ordering::Relaxed);
            // SAFETY: the child runs only `child`, which touches memory prepared before the
            // fork (the region, the workload) and the stack, makes system calls, and leaves
            // with `_exit`: it does not return into the parent's code.
            let started = super::testing::fork(|| unsafe { fork() });
            match started {
                Ok(ForkResult::Child) => child(&region, k, parent, workload),
                Ok(ForkResult::Parent { child }) => {
                    slot.pid.store(child.as_raw() as u32, Ordering::Relaxed);
                    children.push(child.as_raw());
                }
                Err(e) => return Err(SampleError::Start(format!("fork failed: {e}"))),
            }
        }
        super::finish_processes(&region, job, &mut children, deadline_ns)
    }
}

/// The forked child's whole life: die with the parent, serve, leave.
fn child(region: &Region, index: usize, parent: i32, workload: &dyn Erased) -> ! {
    let started_ns = now_ns();
    let code = if die_with_parent(parent) {
        super::worker::serve_process(region, index, started_ns, workload)
    } else {
        1
    };
    // SAFETY: `_exit` ends the child at once, without running the parent's atexit handlers
    // or flushing buffers that belong to the parent.
    unsafe { libc::_exit(code) }
}
