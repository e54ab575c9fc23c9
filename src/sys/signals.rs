//! Ctrl-C and SIGTERM: the handler only records the signal; the sweep stops between samples,
//! the process models kill and reap their children, and the run is saved as `incomplete`.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Set once SIGINT or SIGTERM arrived.
pub static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work: two atomic stores.
    SIGNAL.store(sig, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handler for SIGINT and SIGTERM. Without SA_RESTART, a blocking wait (poll on
/// a child, a futex) returns at once with EINTR, so the harness notices promptly.
pub fn install() {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to atomics, which is async-signal-safe.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// Ignores SIGXFSZ, so that a write past a file-size limit fails with an error the harness
/// reports (and cleans up after) instead of killing the process mid-write.
pub fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to "ignore" has no preconditions.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGXFSZ, SigHandler::SigIgn) };
}

pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// The conventional exit code for the signal received: 128 + its number (130, 143).
pub fn exit_code() -> Option<u8> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some((128 + sig) as u8),
    }
}

/// The signal's name, for messages.
pub fn name() -> String {
    signal_name(SIGNAL.load(Ordering::SeqCst))
}

/// "SIGKILL" for 9; "signal N" for a number with no name.
pub fn signal_name(sig: i32) -> String {
    Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}
