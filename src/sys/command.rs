//! Running a helper program (valgrind, a Python interpreter) with a deadline: its output is
//! read on a thread of its own so that a full pipe never blocks it, and it is killed at the
//! deadline or on Ctrl-C — with every process it started (it runs in a process group of its
//! own), so that nothing is left behind.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with `input` on its standard input (or none), collecting its output, for at most
/// `timeout`; an error says why it did not finish (or could not start).
pub fn output_within(
    cmd: &mut Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        // A child that exits without reading leaves a broken pipe: its exit status tells.
        let _ = stdin.write_all(bytes);
    }
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let deadline = Instant::now() + timeout;
    while !waiter.is_finished() {
        let stop = super::signals::stop_requested();
        if Instant::now() >= deadline || stop {
            // The whole group: a Python driver's multiprocessing workers, valgrind's children.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = waiter.join();
            return Err(if stop {
                "interrupted".into()
            } else {
                format!(
                    "{program} did not finish within {:.0} s and was stopped",
                    timeout.as_secs_f64()
                )
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    waiter
        .join()
        .map_err(|_| format!("the waiter for {program} panicked"))?
        .map_err(|e| format!("{program}: {e}"))
}

/// A failed program's exit status and the last line it wrote to standard error: what a user
/// needs to know why, in one line.
pub fn failure(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    format!("{}: {last}", out.status)
}
