//! The machine's settings that move figures between days, read when a run starts: the
//! transparent-huge-page mode, the cgroup's CPU quota, the frequency governor and boost, SMT,
//! isolated CPUs, ASLR, and how busy the machine was. Each is `None` where this machine does
//! not expose it (a VM hides its governor) — and in runs made before it was read.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `/sys/kernel/mm/transparent_hugepage/enabled`: always, madvise or never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thp: Option<String>,
    /// CPUs the cgroup's quota allows (quota ÷ period); absent without a quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<f64>,
    /// The scaling governor of the first allowed CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governor: Option<String>,
    /// Turbo / boost on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boost: Option<bool>,
    /// `/sys/devices/system/cpu/smt/control`: on, off, forceoff, notsupported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smt: Option<String>,
    /// Isolated CPUs, as the kernel lists them (empty: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated: Option<String>,
    /// `kernel.randomize_va_space`: 0 off, 1 partial, 2 full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aslr: Option<u8>,
    /// The one-minute load average when the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_at_start: Option<f64>,
    /// Share of the allowed CPUs' time stolen by the hypervisor over the 100 ms before the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_at_start: Option<f64>,
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The bracketed choice of a sysfs selector: `always [madvise] never` → `madvise`.
fn chosen(text: &str) -> Option<String> {
    let open = text.find('[')?;
    let close = text[open..].find(']')? + open;
    Some(text[open + 1..close].to_string())
}

/// The cgroup's CPU quota in CPUs: cgroup v2's `cpu.max` for this process's group, or v1's
/// `cpu.cfs_quota_us` ÷ `cpu.cfs_period_us`.
fn cpu_quota() -> Option<f64> {
    let groups = read("/proc/self/cgroup").unwrap_or_default();
    let v2 = groups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| format!("/sys/fs/cgroup{}/cpu.max", p.trim_end_matches('/')));
    for path in v2
        .iter()
        .map(String::as_str)
        .chain(["/sys/fs/cgroup/cpu.max"])
    {
        if let Some(t) = read(path) {
            let mut f = t.split_whitespace();
            let (q, p) = (f.next()?, f.next()?);
            return match (q.parse::<f64>(), p.parse::<f64>()) {
                (Ok(q), Ok(p)) if p > 0.0 => Some(q / p),
                _ => None,
            };
        }
    }
    let q: f64 = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.parse().ok()?;
    let p: f64 = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.parse().ok()?;
    (q > 0.0 && p > 0.0).then(|| q / p)
}

/// Steal time's share of `cpus` over a short window.
fn steal(cpus: &[usize]) -> Option<f64> {
    let field = |text: &str| -> Option<(u64, u64)> {
        let (mut total, mut steal) = (0u64, 0u64);
        for l in text.lines() {
            let mut f = l.split_whitespace();
            let cpu = f.next()?.strip_prefix("cpu").and_then(|c| c.parse().ok());
            if !cpu.is_some_and(|c: usize| cpus.contains(&c)) {
                continue;
            }
            let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
            total += v.iter().take(8).sum::<u64>();
            steal += v.get(7).copied().unwrap_or(0);
        }
        Some((total, steal))
    };
    let a = field(&read("/proc/stat")?)?;
    std::thread::sleep(std::time::Duration::from_millis(100));
    let b = field(&read("/proc/stat")?)?;
    let total = b.0.saturating_sub(a.0);
    (total > 0).then(|| b.1.saturating_sub(a.1) as f64 / total as f64)
}

impl Settings {
    /// Reads this machine's settings for the CPUs this process may use.
    pub fn read(cpus: &[usize]) -> Settings {
        let first = cpus.first().copied().unwrap_or(0);
        let cpufreq = format!("/sys/devices/system/cpu/cpu{first}/cpufreq");
        let boost = read("/sys/devices/system/cpu/cpufreq/boost")
            .map(|b| b == "1")
            .or_else(|| read("/sys/devices/system/cpu/intel_pstate/no_turbo").map(|b| b == "0"));
        Settings {
            thp: read("/sys/kernel/mm/transparent_hugepage/enabled").and_then(|t| chosen(&t)),
            cpu_quota: cpu_quota(),
            governor: read(&format!("{cpufreq}/scaling_governor")),
            boost,
            smt: read("/sys/devices/system/cpu/smt/control"),
            isolated: read("/sys/devices/system/cpu/isolated"),
            aslr: read("/proc/sys/kernel/randomize_va_space").and_then(|a| a.parse().ok()),
            load_at_start: read("/proc/loadavg")
                .and_then(|l| l.split_whitespace().next().and_then(|x| x.parse().ok())),
            steal_at_start: steal(cpus),
        }
    }

    /// Each setting with a one-line judgement of what it does to the figures, on a machine
    /// that lets this process use `allowed` CPUs: (name, value, judgement).
    pub fn judgements(&self, allowed: usize) -> Vec<(&'static str, String, String)> {
        let unknown = || "not exposed here".to_string();
        let mut out = Vec::new();
        let thp = self.thp.clone().unwrap_or_else(unknown);
        let j = match thp.as_str() {
            "always" => "fork and pool RSS figures depend on huge-page placement",
            "madvise" => "huge pages only where a program asks: RSS figures as on most hosts",
            "never" => "no huge pages: RSS in 4 KiB pages",
            _ => "RSS figures may depend on huge pages",
        };
        out.push(("THP", thp, j.to_string()));
        let (q, j) = match self.cpu_quota {
            Some(q) if q < allowed as f64 => (
                format!("{q:.2} CPUs"),
                format!(
                    "quota {q:.2} CPUs < {allowed} allowed: efficiency at {allowed} workers is capped at {:.2}",
                    q / allowed as f64
                ),
            ),
            Some(q) => (
                format!("{q:.2} CPUs"),
                "no tighter than the allowed CPUs".into(),
            ),
            None => ("none".into(), format!("all {allowed} allowed CPUs usable")),
        };
        out.push(("CPU quota", q, j));
        let g = self.governor.clone().unwrap_or_else(unknown);
        let j = match g.as_str() {
            "performance" => "cores held at speed".to_string(),
            "not exposed here" => {
                "the host sets the speed (a VM): the probe beside every sample corrects for it"
                    .into()
            }
            other => format!(
                "{other}: a core's speed follows its load; the probe beside every sample corrects for it"
            ),
        };
        out.push(("governor", g, j));
        let (b, j) = match self.boost {
            Some(true) => (
                "on".into(),
                "a core alone runs faster than beside busy ones: efficiency reads low".to_string(),
            ),
            Some(false) => ("off".into(), "one speed alone or beside others".into()),
            None => (unknown(), "not exposed (a VM: the host decides)".into()),
        };
        out.push(("turbo/boost", b, j));
        out.extend(self.scheduling_judgements(allowed));
        out
    }

    /// SMT, isolated CPUs, ASLR and how busy the machine was, judged.
    fn scheduling_judgements(&self, allowed: usize) -> Vec<(&'static str, String, String)> {
        let unknown = || "not exposed here".to_string();
        let mut out = Vec::new();
        let smt = self.smt.clone().unwrap_or_else(unknown);
        let j = if smt == "on" {
            "siblings share a core: workers on siblings run slower (--pin cores)"
        } else {
            "one thread per core"
        };
        out.push(("SMT", smt, j.to_string()));
        let iso = self.isolated.clone().unwrap_or_default();
        let j = if iso.is_empty() {
            "none: every allowed CPU is shared with the system"
        } else {
            "isolated CPUs hold no other work: pin workers there for the quietest figures"
        };
        out.push((
            "isolated CPUs",
            if iso.is_empty() { "none".into() } else { iso },
            j.into(),
        ));
        let (a, j) = match self.aslr {
            Some(0) => ("0 (off)".to_string(), "same layout every run"),
            Some(n) => (
                format!("{n} (on)"),
                "layout differs run to run: tight loops may move by a few %",
            ),
            None => (unknown(), ""),
        };
        out.push(("ASLR", a, j.into()));
        let load = self
            .load_at_start
            .map_or_else(unknown, |l| format!("{l:.2}"));
        let j = match self.load_at_start {
            Some(l) if l >= 0.5 * allowed as f64 => {
                "busy when the run started: expect retaken samples"
            }
            Some(_) => "quiet when the run started",
            None => "",
        };
        out.push(("load at start", load, j.into()));
        let steal = self
            .steal_at_start
            .map_or_else(unknown, |s| format!("{:.1}%", s * 100.0));
        let j = match self.steal_at_start {
            Some(s) if s >= 0.02 => "the hypervisor takes CPU time from this guest",
            Some(_) => "no steal to speak of",
            None => "",
        };
        out.push(("steal at start", steal, j.into()));
        out
    }

    /// The settings two runs differ in that move figures (THP, quota, governor, SMT), in words.
    pub fn differences(a: &Settings, b: &Settings) -> Vec<String> {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        let mut out = Vec::new();
        let mut differ = |name: &str, x: String, y: String, moves: &str| {
            if x != y {
                out.push(format!("{name} differs ({x} against {y}): {moves}"));
            }
        };
        differ(
            "THP",
            show(&a.thp),
            show(&b.thp),
            "peak RSS of fork and pools moves with it",
        );
        let q = |v: Option<f64>| v.map_or("none".into(), |q| format!("{q:.2} CPUs"));
        differ(
            "CPU quota",
            q(a.cpu_quota),
            q(b.cpu_quota),
            "efficiency is capped by the quota",
        );
        differ(
            "governor",
            show(&a.governor),
            show(&b.governor),
            "a core's speed moves with it",
        );
        differ(
            "SMT",
            show(&a.smt),
            show(&b.smt),
            "workers may share cores on one side",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_judgements_read_as_said() {
        assert_eq!(chosen("always [madvise] never").as_deref(), Some("madvise"));
        let s = Settings {
            cpu_quota: Some(1.5),
            thp: Some("always".into()),
            ..Settings::default()
        };
        let j = s.judgements(2);
        assert!(j.iter().any(|(_, _, w)| w
            == "quota 1.50 CPUs < 2 allowed: efficiency at 2 workers is capped at 0.75"));
        assert!(j.iter().any(|(n, v, _)| *n == "THP" && v == "always"));
        let d = Settings::differences(&s, &Settings::default());
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(Settings::read(&[0]).aslr.is_some());
    }
}
