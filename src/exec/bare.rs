//! A workload's own code called directly on the calling thread — one worker with the whole
//! sample, no thread, barrier or slot — and verified: the bare loop the harness's overhead is
//! measured against.

use super::region::Region;
use super::{Job, SampleError};
use crate::api::workload::{Orders, Verdict};
use crate::measure::clock::now_ns;

/// Ops per second of one bare run of `job`'s workload with `job.workers` = 1's share.
pub fn bare_run(job: &Job<'_>) -> Result<f64, SampleError> {
    let info = job.workload.info();
    let region = Region::anonymous(1, info.shared_size, info.shared_align)
        .map_err(|e| SampleError::Start(format!("{e:#}")))?;
    let one = Job {
        workers: 1,
        ..job.clone()
    };
    super::prepare(&region, &one);
    let orders = Orders {
        index: 0,
        units: one.units(0),
        sample: one.sample_of(),
    };
    let t0 = now_ns();
    let out = job.workload.run(region.shared(), &orders);
    let dt = now_ns().saturating_sub(t0).max(1);
    let verdict = job
        .workload
        .verify(region.shared(), one.sample_of(), &[out]);
    job.workload.teardown();
    match verdict {
        Verdict::Failed(why) => Err(SampleError::WorkerFailed(format!("bare loop: {why}"))),
        _ if out.ops == 0 => Err(SampleError::WorkerFailed(
            "bare loop: the workload counted no operation".into(),
        )),
        _ => Ok(out.ops as f64 / (dt as f64 / 1e9)),
    }
}

/// [`bare_run`] on a thread pinned to each CPU of `cpus` in turn (`None` where it failed).
pub fn per_cpu_bare_runs(job: &Job<'_>, cpus: &[usize]) -> Vec<Option<f64>> {
    cpus.iter()
        .map(|&cpu| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    super::worker::pin_to(cpu as i32);
                    bare_run(job).ok()
                })
                .join()
                .ok()
                .flatten()
            })
        })
        .collect()
}
