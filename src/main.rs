//! The `threadfork` binary: a registry host of the built-in workloads, with the counting
//! allocator the sequence study's heap figures need.

use std::process::ExitCode;

use threadfork::measure::alloc::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> ExitCode {
    // The spawn model's startup ends at this clock read: the worker's first instruction.
    let started_ns = threadfork::measure::clock::now_ns();
    threadfork::measure::alloc::pin_malloc_threshold();
    threadfork::cli::run_main_at(started_ns, threadfork::builtin::registry())
}
