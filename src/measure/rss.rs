//! Resident memory readings from /proc: process RSS and its high-water mark, and the private
//! (unshared) bytes of a process, read without allocating so that a forked child may call it.

use nix::libc;

/// Reads `/proc/self/status` field `key` (e.g. `VmHWM:`) in bytes.
fn status_field(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| parse_kib(&l.as_bytes()[key.len()..]))
}

/// Current resident set size in bytes.
pub fn current_rss_bytes() -> Option<u64> {
    status_field("VmRSS:")
}

/// Peak resident set size (VmHWM) in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_field("VmHWM:")
}

/// Resets VmHWM to the current RSS by writing 5 to /proc/self/clear_refs. Returns false
/// where the kernel or a sandbox does not allow it; peak growth is then only an upper bound.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// A window over the process's peak RSS: the growth of VmHWM above the RSS at its start.
pub struct PeakRssWindow {
    start_rss: u64,
    reset: bool,
}

impl PeakRssWindow {
    pub fn start() -> Self {
        let reset = reset_peak_rss();
        PeakRssWindow {
            start_rss: current_rss_bytes().unwrap_or(0),
            reset,
        }
    }

    /// Peak RSS growth in bytes since [`PeakRssWindow::start`]; `None` when VmHWM could not
    /// be reset (the figure would then include peaks from before the window).
    pub fn growth_bytes(&self) -> Option<u64> {
        if !self.reset {
            return None;
        }
        Some(peak_rss_bytes()?.saturating_sub(self.start_rss))
    }
}

/// Parses "   1234 kB" into bytes.
fn parse_kib(field: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    let mut seen = false;
    for &b in field {
        match b {
            b'0'..=b'9' => {
                value = value * 10 + u64::from(b - b'0');
                seen = true;
            }
            b' ' | b'\t' if !seen => {}
            _ => break,
        }
    }
    seen.then_some(value * 1024)
}

/// Private bytes of the calling process (Private_Clean + Private_Dirty from
/// /proc/self/smaps_rollup): pages this process owns alone, not those it still shares with a
/// parent after fork. Uses only a stack buffer and raw system calls, so it is safe in a
/// forked child. Returns 0 when the file cannot be read.
pub fn private_bytes_self() -> u64 {
    let mut buf = [0u8; 4096];
    let path = b"/proc/self/smaps_rollup\0";
    // SAFETY: `path` is NUL-terminated; open has no memory-safety preconditions beyond that.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return 0;
    }
    let mut len = 0usize;
    while len < buf.len() {
        // SAFETY: the destination is the unfilled tail of `buf`, of the length passed.
        let n = unsafe { libc::read(fd, buf[len..].as_mut_ptr().cast(), buf.len() - len) };
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    // SAFETY: `fd` was opened above and is closed once.
    unsafe { libc::close(fd) };
    sum_private(&buf[..len])
}

/// Sums the Private_Clean and Private_Dirty lines of an smaps_rollup text, in bytes.
fn sum_private(text: &[u8]) -> u64 {
    let mut total = 0;
    for line in text.split(|&b| b == b'\n') {
        for key in [&b"Private_Clean:"[..], &b"Private_Dirty:"[..]] {
            if line.starts_with(key) {
                total += parse_kib(&line[key.len()..]).unwrap_or(0);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kib_fields() {
        assert_eq!(parse_kib(b"   1234 kB"), Some(1234 * 1024));
        assert_eq!(parse_kib(b"\t0 kB"), Some(0));
        assert_eq!(parse_kib(b" kB"), None);
    }

    #[test]
    fn sums_private_lines_only() {
        let text = b"Rss: 100 kB\nShared_Clean: 50 kB\nPrivate_Clean: 8 kB\nPrivate_Dirty: 12 kB\n";
        assert_eq!(sum_private(text), 20 * 1024);
    }

    #[test]
    fn reads_own_private_bytes() {
        assert!(private_bytes_self() > 0);
        assert!(current_rss_bytes().unwrap() > 0);
    }
}
