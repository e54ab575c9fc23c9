//! A protocol channel on standard output that a workload's prints cannot break.

/// Moves this process's standard output to a new descriptor, returned as a file the protocol
/// is written to, and points descriptor 1 at standard error: whatever a workload prints can
/// then never break a protocol line.
pub fn take_stdout() -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup of descriptor 1 returns a new descriptor or -1; nothing else owns the copy.
    let fd = unsafe { nix::libc::dup(1) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: dup2 of 2 onto 1 only retargets descriptor 1; Rust's stdout writes to fd 1.
    if unsafe { nix::libc::dup2(2, 1) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor from dup above, owned by nothing else.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}
