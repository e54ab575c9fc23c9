//! What the scheduler did to a thread, and what other processes took from the machine.
//!
//! Each worker reads its own thread's counters at its probe points, outside the sample's
//! window: the time it was runnable but waiting for a CPU (`/proc/thread-self/schedstat`,
//! the kernel's per-thread run-queue wait) and its voluntary and involuntary context switches
//! (`getrusage(RUSAGE_THREAD)`). Both readings are allocation-free system calls, so a forked
//! child may take them too.
//!
//! The whole run's share of the allowed CPUs held by other processes comes from `/proc/stat`
//! (every CPU's busy and steal time) against the run's own CPU time, children included.

use std::sync::atomic::{AtomicU64, Ordering};

use nix::libc;

/// A thread's scheduler counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Time on a CPU, ns (0 when the kernel keeps no schedstat).
    pub run_ns: u64,
    /// Time runnable but waiting for a CPU, ns.
    pub wait_ns: u64,
    pub voluntary: u64,
    pub involuntary: u64,
}

/// What a slot holds for counters that could not be read.
const UNREAD: Counters = Counters {
    run_ns: u64::MAX,
    wait_ns: u64::MAX,
    voluntary: u64::MAX,
    involuntary: u64::MAX,
};

/// The counters a slot holds: before and after a sample, four words each.
pub type Words = [AtomicU64; 4];

impl Counters {
    /// The calling thread's counters; `None` when neither source could be read.
    pub fn now() -> Option<Counters> {
        let (run_ns, wait_ns) = schedstat().unwrap_or((0, 0));
        // SAFETY: getrusage writes one rusage into the zeroed struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; RUSAGE_THREAD reads the calling thread only.
        let ok = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } == 0;
        if !ok && run_ns == 0 {
            return None;
        }
        Some(Counters {
            run_ns,
            wait_ns,
            voluntary: if ok { ru.ru_nvcsw as u64 } else { 0 },
            involuntary: if ok { ru.ru_nivcsw as u64 } else { 0 },
        })
    }

    /// Stores the counters in a slot's words (all `u64::MAX`: not read).
    pub fn store(c: Option<Counters>, words: &Words) {
        let c = c.unwrap_or(UNREAD);
        for (w, v) in words
            .iter()
            .zip([c.run_ns, c.wait_ns, c.voluntary, c.involuntary])
        {
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Reads what [`Counters::store`] stored; `None`: not read.
    pub fn load(words: &Words) -> Option<Counters> {
        let [run_ns, wait_ns, voluntary, involuntary] =
            std::array::from_fn(|i| words[i].load(Ordering::Acquire));
        let c = Counters {
            run_ns,
            wait_ns,
            voluntary,
            involuntary,
        };
        (c != UNREAD).then_some(c)
    }

    /// What happened between `before` and `self`; `None` when the counters went backwards
    /// (another thread's, a slot not written this sample).
    pub fn since(self, before: Counters) -> Option<Counters> {
        Some(Counters {
            run_ns: self.run_ns.checked_sub(before.run_ns)?,
            wait_ns: self.wait_ns.checked_sub(before.wait_ns)?,
            voluntary: self.voluntary.checked_sub(before.voluntary)?,
            involuntary: self.involuntary.checked_sub(before.involuntary)?,
        })
    }
}

/// `/proc/thread-self/schedstat`: time on a CPU and time waiting on a run queue, ns.
/// Read into a stack buffer: no allocation.
fn schedstat() -> Option<(u64, u64)> {
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe {
        libc::open(
            c"/proc/thread-self/schedstat".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 96];
    // SAFETY: reads at most `buf.len()` bytes into `buf`, from the descriptor opened above.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: closes the descriptor opened above, once.
    unsafe { libc::close(fd) };
    let text = buf.get(..usize::try_from(n).ok()?)?;
    let mut fields = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .map(|f| {
            f.iter().try_fold(0u64, |acc, &b| {
                b.is_ascii_digit()
                    .then(|| acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0')))
            })
        });
    Some((fields.next()??, fields.next()??))
}

/// Busy and steal time of some CPUs, and the run's own CPU time, at one instant (ns).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTimes {
    /// User, nice, system, irq and softirq time of the CPUs, summed.
    pub busy_ns: u64,
    /// Time the hypervisor ran something else while these CPUs wanted to run.
    pub steal_ns: u64,
    /// This process's CPU time and its reaped children's.
    pub own_ns: u64,
    pub at_ns: u64,
}

impl CpuTimes {
    /// Reads `/proc/stat` for `cpus` and this process's own CPU time.
    pub fn now(cpus: &[usize]) -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // USER_HZ: the unit of /proc/stat (100 on every Linux since 2.6, checked at runtime).
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let tick = 1_000_000_000 / hz;
        let (mut busy, mut steal) = (0u64, 0u64);
        for line in stat.lines() {
            let mut f = line.split_whitespace();
            let Some(cpu) = f
                .next()
                .and_then(|c| c.strip_prefix("cpu"))
                .and_then(|c| c.parse::<usize>().ok())
            else {
                continue;
            };
            if !cpus.contains(&cpu) {
                continue;
            }
            let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal
            let at = |i: usize| v.get(i).copied().unwrap_or(0);
            busy += at(0) + at(1) + at(2) + at(5) + at(6);
            steal += at(7);
        }
        Some(CpuTimes {
            busy_ns: busy * tick,
            steal_ns: steal * tick,
            own_ns: own_cpu_ns(),
            at_ns: crate::measure::clock::now_ns(),
        })
    }

    /// Cores held by other processes between `before` and `self` (what the CPUs were busy
    /// with beyond this run's own CPU time, over the wall time), and the cores stolen by the
    /// hypervisor. `/proc/stat` counts in ticks (10 ms): over a window of `w` seconds the
    /// figure is good to about `cpus × 0.01 / w` cores.
    pub fn others_since(&self, before: &CpuTimes) -> (f64, f64) {
        let wall = self.at_ns.saturating_sub(before.at_ns).max(1) as f64;
        let busy = self.busy_ns.saturating_sub(before.busy_ns) as f64;
        let own = self.own_ns.saturating_sub(before.own_ns) as f64;
        let steal = self.steal_ns.saturating_sub(before.steal_ns) as f64;
        (((busy - own) / wall).max(0.0), steal / wall)
    }
}

/// The shortest window over which others' share of the CPUs is judged around a sample: the
/// kernel counts CPU time in 10 ms ticks, so a window of a sample alone would read mostly
/// its rounding.
const OTHERS_WINDOW_NS: u64 = 300_000_000;

/// Readings taken after recent samples, oldest first, kept over a few windows: each new one
/// is judged against the latest reading at least 300 ms before it (the kernel's 10 ms ticks make a shorter window mostly rounding).
#[derive(Debug)]
pub struct Recent<T> {
    items: std::collections::VecDeque<(u64, T)>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            items: std::collections::VecDeque::new(),
        }
    }
}

impl<T: Copy> Recent<T> {
    /// Forgets every reading (what they counted no longer compares with what comes).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Keeps `value`, read at `at_ns`, and returns the reading a window or more before it (the
    /// oldest kept when none is that old; none for the first).
    pub fn push(&mut self, at_ns: u64, value: T) -> Option<T> {
        let from = (self.items.iter().rev())
            .find(|(t, _)| at_ns.saturating_sub(*t) >= OTHERS_WINDOW_NS)
            .or(self.items.front())
            .map(|(_, v)| *v);
        self.items.push_back((at_ns, value));
        while (self.items.front())
            .is_some_and(|(t, _)| at_ns.saturating_sub(*t) > 4 * OTHERS_WINDOW_NS)
        {
            self.items.pop_front();
        }
        from
    }
}

/// CPU time of every process in the process groups `groups` (user and system, with each
/// one's reaped children's), in ns: a live child's own time and a reaped one's, counted once
/// (reaped, it moves into its parent's). `None` when `/proc` cannot be read.
pub fn groups_cpu_ns(groups: &[u32]) -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let mut ticks = 0u64;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the command name, which may hold spaces: state is field 3, the
        // process group 5, utime, stime, cutime and cstime 14 to 17.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| f.get(n - 3).and_then(|x| x.parse::<u64>().ok());
        if field(5).is_some_and(|g| groups.contains(&(g as u32))) {
            ticks += (14..=17).filter_map(field).sum::<u64>();
        }
    }
    Some(ticks * (1_000_000_000 / hz))
}

/// This process's user and system time, with its reaped children's, in ns.
pub fn own_cpu_ns() -> u64 {
    let read = |who| {
        // SAFETY: getrusage writes one rusage into the zeroed struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::getrusage(who, &mut ru) } != 0 {
            return 0;
        }
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
        ns(ru.ru_utime) + ns(ru.ru_stime)
    };
    read(libc::RUSAGE_SELF) + read(libc::RUSAGE_CHILDREN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_reads_its_own_counters_and_their_difference() {
        let before = Counters::now().expect("getrusage works on Linux");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = Counters::now().unwrap();
        let d = after.since(before).unwrap();
        assert!(d.voluntary >= 1, "a sleep is a voluntary switch: {d:?}");
        let words: Words = Default::default();
        Counters::store(Some(after), &words);
        assert_eq!(Counters::load(&words), Some(after));
        Counters::store(None, &words);
        assert_eq!(Counters::load(&words), None);
        assert_eq!(before.since(after), None, "counters never run backwards");
    }

    #[test]
    fn the_machine_reading_covers_the_asked_cpus_only() {
        let a = CpuTimes::now(&[0]).unwrap();
        let none = CpuTimes::now(&[]).unwrap();
        assert_eq!(none.busy_ns, 0);
        assert!(a.own_ns > 0);
        let (others, steal) = a.others_since(&a);
        assert!(others >= 0.0 && steal >= 0.0);
    }
}
