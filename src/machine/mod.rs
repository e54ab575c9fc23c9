//! The machine fingerprint: what a results file says about where it was measured.

pub mod settings;

use serde::{Deserialize, Serialize};
pub use settings::Settings;

/// Where a run was measured. `id` is a stable slug of host name and CPU, used as the folder
/// under `results/` and to tell same-machine from cross-machine comparisons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub id: String,
    pub hostname: String,
    pub cpu_brand: String,
    pub logical_cores: usize,
    pub physical_cores: Option<usize>,
    /// CPUs this process may run on (sched_getaffinity): "the machine's cores" for sweeps.
    #[serde(default)]
    pub allowed_cpus: Vec<usize>,
    pub memory_bytes: u64,
    /// The allowed CPUs grouped by physical core (SMT siblings together), from /sys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<Topology>,
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub rustc: String,
    /// The settings that move figures between days (absent in runs made before they were
    /// read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
}

/// The rustc that built this binary.
pub const RUSTC: &str = env!("THREADFORK_RUSTC");
/// The harness's git commit at build time (`-dirty` with uncommitted changes).
pub const GIT_COMMIT: &str = env!("THREADFORK_GIT_COMMIT");
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Lower-case letters and digits joined by single dashes: "Intel(R) Xeon(R)" → "intel-r-xeon-r".
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(80);
    out
}

/// Which allowed CPUs share a physical core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Physical cores, each the list of its allowed logical CPUs (its SMT siblings), in order.
    pub cores: Vec<Vec<usize>>,
    /// True when some physical core has more than one allowed logical CPU.
    pub smt: bool,
}

/// How `--pin` orders the CPUs that worker k, k+1, … are pinned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinMode {
    /// Distinct physical cores first, their SMT siblings after.
    Spread,
    /// A core's SMT siblings first, then the next core.
    Compact,
}

impl PinMode {
    pub fn parse(s: &str) -> Option<PinMode> {
        match s {
            "spread" => Some(PinMode::Spread),
            "compact" => Some(PinMode::Compact),
            _ => None,
        }
    }
}

impl Topology {
    /// Reads `cpus`' physical package, die and core ids from /sys; a CPU whose ids cannot be
    /// read counts as a core of its own.
    pub fn read(cpus: &[usize]) -> Topology {
        let id = |cpu: usize, what: &str| -> Option<i64> {
            let p = format!("/sys/devices/system/cpu/cpu{cpu}/topology/{what}");
            std::fs::read_to_string(p).ok()?.trim().parse().ok()
        };
        // (package, die, core) of each physical core met so far, and its CPUs.
        type CoreId = Option<(i64, i64, i64)>;
        let mut keys: Vec<(CoreId, Vec<usize>)> = Vec::new();
        for &cpu in cpus {
            let key = id(cpu, "physical_package_id")
                .zip(id(cpu, "core_id"))
                .map(|(p, c)| (p, id(cpu, "die_id").unwrap_or(0), c));
            match keys.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
                Some((_, list)) => list.push(cpu),
                None => keys.push((key, vec![cpu])),
            }
        }
        Topology::from_cores(keys.into_iter().map(|(_, l)| l).collect())
    }

    pub fn from_cores(cores: Vec<Vec<usize>>) -> Topology {
        let smt = cores.iter().any(|c| c.len() > 1);
        Topology { cores, smt }
    }

    /// The CPUs in the order `mode` pins workers to them.
    pub fn pin_order(&self, mode: PinMode) -> Vec<usize> {
        match mode {
            PinMode::Compact => self.cores.iter().flatten().copied().collect(),
            PinMode::Spread => {
                let widest = self.cores.iter().map(Vec::len).max().unwrap_or(0);
                (0..widest)
                    .flat_map(|i| self.cores.iter().filter_map(move |c| c.get(i).copied()))
                    .collect()
            }
        }
    }
}

/// The CPUs this process is allowed to run on, in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(_) => (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect(),
    }
}

/// Reads the fingerprint of this machine.
pub fn fingerprint() -> Machine {
    use sysinfo::{CpuRefreshKind, RefreshKind, System};
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    let cpu_brand = sys
        .as_ref()
        .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "unknown-cpu".into());
    let logical_cores = sys
        .as_ref()
        .map(|s| s.cpus().len())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let hostname = System::host_name().unwrap_or_else(|_| "unknown-host".into());
    Machine {
        id: slug(&format!("{hostname}-{cpu_brand}")),
        hostname,
        cpu_brand,
        logical_cores,
        physical_cores: System::physical_core_count().ok(),
        allowed_cpus: allowed_cpus(),
        memory_bytes: sys.as_ref().map_or(0, |s| s.total_memory()),
        topology: Some(Topology::read(&allowed_cpus())),
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        kernel: System::kernel_version().unwrap_or_else(|_| "unknown".into()),
        arch: std::env::consts::ARCH.into(),
        rustc: RUSTC.into(),
        settings: Some(Settings::read(&allowed_cpus())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_stable_and_clean() {
        assert_eq!(
            slug("box-1 Intel(R) Xeon(R) CPU @ 2.20GHz"),
            "box-1-intel-r-xeon-r-cpu-2-20ghz"
        );
        assert_eq!(slug("--A__b--"), "a-b");
    }

    #[test]
    fn pin_orders_spread_over_cores_or_pack_siblings() {
        let t = Topology::from_cores(vec![vec![0, 4], vec![1, 5], vec![2, 6], vec![3]]);
        assert!(t.smt);
        assert_eq!(t.pin_order(PinMode::Spread), vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(t.pin_order(PinMode::Compact), vec![0, 4, 1, 5, 2, 6, 3]);
        let flat = Topology::from_cores(vec![vec![0], vec![1]]);
        assert!(!flat.smt);
        assert_eq!(
            flat.pin_order(PinMode::Spread),
            flat.pin_order(PinMode::Compact)
        );
    }

    #[test]
    fn this_machines_topology_covers_every_allowed_cpu() {
        let cpus = allowed_cpus();
        let t = Topology::read(&cpus);
        let mut all: Vec<usize> = t.cores.concat();
        all.sort_unstable();
        assert_eq!(all, cpus);
    }

    #[test]
    fn fingerprint_is_filled() {
        let m = fingerprint();
        assert!(!m.id.is_empty());
        assert!(m.logical_cores >= 1);
        assert!(!m.allowed_cpus.is_empty());
        assert_eq!(m.id, fingerprint().id);
    }
}
