//! The `threadfork` binary: a counting allocator, the spawn model's worker entry, and the CLI.

use std::process::ExitCode;

use threadfork::measure::alloc::CountingAlloc;
use threadfork::measure::clock::now_ns;
use threadfork::model::spawn::{WORKER_ARG, worker_main};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// glibc's default: allocations from 128 KiB up are served by their own mmap.
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Pins glibc's mmap threshold. Left dynamic, glibc raises it after the first large free
/// (up to 32 MiB), so that a later Vec of a few MiB reuses pages already resident and its
/// cost vanishes from RSS: the second eager sample of 10^6 items would show 0 bytes.
/// Pinned, every large buffer is mapped fresh and returned when freed, as measured.
fn pin_malloc_threshold() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator tuning; called before any thread exists.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

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
    pin_malloc_threshold();
    ExitCode::from(threadfork::cli::main(args))
}
