//! The `threadfork` binary: a counting allocator, the spawn model's worker entry, and the CLI.

use std::process::ExitCode;

use threadfork::measure::alloc::CountingAlloc;
use threadfork::measure::clock::now_ns;
use threadfork::model::spawn::{WORKER_ARG, worker_main};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> ExitCode {
    // The spawn model's startup ends at this clock read: the worker's first instruction.
    let started_ns = now_ns();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == WORKER_ARG) {
        if args.get(2).is_some_and(|a| a == "--bare") {
            // The calibration's bare spawn: a process that ends on entry.
            return ExitCode::SUCCESS;
        }
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return ExitCode::from(worker_main(started_ns, &rest) as u8);
    }
    threadfork::measure::alloc::pin_malloc_threshold();
    ExitCode::from(threadfork::cli::main(args))
}
