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

/// Current resident set size in bytes, from /proc/self/statm. Allocation-free, so it can
/// be read inside a heap-measuring window without disturbing it.
pub fn current_rss_bytes() -> Option<u64> {
    let mut buf = [0u8; 256];
    let text = read_small(b"/proc/self/statm\0", &mut buf)?;
    // "size resident shared text lib data dt", in pages.
    let resident = text.split(|&b| b == b' ').nth(1)?;
    let pages = std::str::from_utf8(resident)
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// This process's state as a parent: (resident bytes, mapped bytes, threads), from
/// /proc/self/statm and the thread count of /proc/self/stat.
pub fn parent_state() -> Option<(u64, u64, u64)> {
    let mut buf = [0u8; 256];
    let text = read_small(b"/proc/self/statm\0", &mut buf)?;
    let mut fields = text.split(|&b| b == b' ').map(|f| {
        std::str::from_utf8(f)
            .ok()
            .and_then(|f| f.trim().parse::<u64>().ok())
    });
    let (size, resident) = (fields.next()??, fields.next()??);
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    let mut stat = [0u8; 1024];
    let stat = read_small(b"/proc/self/stat\0", &mut stat)?;
    // "pid (comm) state ppid …": field 20 is num_threads, the 18th after the comm's ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let threads = std::str::from_utf8(&stat[close + 2..])
        .ok()?
        .split(' ')
        .nth(17)?
        .parse::<u64>()
        .ok()?;
    Some((resident * page, size * page, threads))
}

/// Reads a small /proc file into `buf` with raw system calls (no allocation).
fn read_small<'a>(path: &[u8], buf: &'a mut [u8]) -> Option<&'a [u8]> {
    debug_assert_eq!(path.last(), Some(&0));
    // SAFETY: `path` is NUL-terminated; open has no other preconditions.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
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
    Some(&buf[..len])
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

/// A window over the process's peak RSS: the growth above the RSS at its start, from VmHWM
/// (reset at the start) and from readings the measured code takes at the moments it holds
/// the most. Both are needed: the kernel folds a transient peak into VmHWM only at some
/// events, so memory mapped, touched and unmapped inside the window can escape it.
pub struct PeakRssWindow {
    start_rss: u64,
    reset: bool,
    noted: Option<u64>,
}

impl PeakRssWindow {
    pub fn start() -> Self {
        let reset = reset_peak_rss();
        PeakRssWindow {
            start_rss: current_rss_bytes().unwrap_or(0),
            reset,
            noted: None,
        }
    }

    /// Records the RSS now, as a candidate for the peak.
    pub fn note(&mut self) {
        if let Some(rss) = current_rss_bytes() {
            self.noted = Some(self.noted.map_or(rss, |n| n.max(rss)));
        }
    }

    /// Peak RSS growth in bytes since [`PeakRssWindow::start`]; `None` when there is neither
    /// a reset VmHWM nor a noted reading (an un-reset VmHWM includes older peaks).
    pub fn growth_bytes(&self) -> Option<u64> {
        let hwm = if self.reset { peak_rss_bytes() } else { None };
        let peak = match (hwm, self.noted) {
            (None, None) => return None,
            (a, b) => a.unwrap_or(0).max(b.unwrap_or(0)),
        };
        Some(peak.saturating_sub(self.start_rss))
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

/// Private bytes of the calling process (Private_Dirty from /proc/self/smaps_rollup): the
/// pages this process alone holds and the kernel cannot drop without writing them out — its
/// anonymous pages and those it copied on write — not those it still shares with a parent
/// after fork. A clean private page is a page of a file (the executable, a library) that no
/// other process maps at that moment: the kernel drops it at will, and a spawned worker held
/// 0–192 KiB of them, sample by sample, with which pages its parent had mapped. Uses only a
/// stack buffer and raw system calls, so it is safe in a forked child. `None` when the file
/// cannot be read or holds no such line.
pub fn private_bytes_self() -> Option<u64> {
    let mut buf = [0u8; 4096];
    read_small(b"/proc/self/smaps_rollup\0", &mut buf).and_then(private_dirty)
}

/// The Private_Dirty line of an smaps_rollup text, in bytes; `None` without one.
fn private_dirty(text: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(&b"Private_Dirty:"[..]))
        .and_then(parse_kib)
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
    fn reads_the_private_dirty_line_only() {
        let text = b"Rss: 100 kB\nShared_Clean: 50 kB\nPrivate_Clean: 8 kB\nPrivate_Dirty: 12 kB\n";
        assert_eq!(private_dirty(text), Some(12 * 1024));
        assert_eq!(private_dirty(b"Rss: 100 kB\nPrivate_Clean: 8 kB\n"), None);
    }

    #[test]
    fn reads_own_private_bytes() {
        assert!(private_bytes_self().unwrap() > 0);
        assert!(current_rss_bytes().unwrap() > 0);
    }
}
