//! What each figure is, in one table: the metrics measured per sample, the figures of a case
//! (a pool's opening, a break-even task size) and the figures derived from a run (speedup,
//! efficiency, start-up ratios). Each row holds its name in the results file, unit, the
//! direction that is better, the noise floor below which compare does not judge it, how
//! compare and A/B put it in units of the core's speed, whether it is judged or listed, how
//! the summary titles and formats it, which derived columns follow it and which chart draws
//! it. Nothing else in threadfork says what a figure is: adding one is one variant and one
//! row here, plus the code that measures it.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What a figure measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Throughput,
    Startup,
    Roundtrip,
    PeakRss,
    HeapBytes,
    FirstItem,
    Instructions,
    Getsizeof,
    /// Times the workers gave up their CPU themselves (blocked on a lock, a futex, I/O).
    VoluntarySwitches,
    /// Times the workers were taken off their CPU by the scheduler (preempted).
    InvoluntarySwitches,
    /// From asking for a pool to every worker running.
    PoolStart,
    /// A lock-free race's lost updates: what a workload's check passed with.
    LostUpdates,
    /// The smallest task size at which a pool beats sequential.
    BreakEven,
    /// What one task costs a pool beyond its work.
    TaskOverhead,
    /// Throughput ÷ the sequential model's at 1 worker.
    Speedup,
    /// Throughput(N) ÷ (N × throughput(1)) of the same model.
    Efficiency,
    /// Throughput ÷ what the cores it could use did alone in the same rounds.
    EfficiencyVsCores,
    /// A model's start-up ÷ the threads model's at the same parameters.
    ThreadStartupRatio,
    /// A start-only case's roundtrip ÷ the bare OS loop interleaved with it.
    HarnessAdds,
    /// A figure a workload's check passed with that threadfork has no row for, by its name.
    Own(&'static str),
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

pub use super::facets::{Across, Chart, Format, Gate, Judged, Speed};

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub metric: Metric,
    /// The name in the results file and on the command line.
    pub name: &'static str,
    pub unit: &'static str,
    pub better: Better,
    /// Absolute differences below this, in `unit`, are noise whatever their ratio.
    pub noise_floor: f64,
    pub speed: Speed,
    pub judged: Judged,
    pub format: Format,
    /// The largest value physics allows (an efficiency's 1): beyond it, beyond its noise,
    /// the figure is unresolved rather than reported.
    pub cap: Option<f64>,
    /// The summary table's column head; `{op}` stands for the workload's operation.
    pub title: &'static str,
    /// The charts' y axis; `{op}` as above.
    pub axis: &'static str,
    /// The derived figures shown right after it in the summary.
    pub columns: &'static [Metric],
    pub chart: Chart,
    pub across: Across,
    /// Which rows gate an A/B job by default.
    pub gate: Gate,
    /// The smallest change an A/B job judges the figure by: `--threshold` or this, whichever
    /// is larger.
    pub gate_floor: f64,
    /// An A/B pair's two figures closer than this, in `unit`, are equal, and each is compared
    /// with this added (a figure that can be 0 compares as it): what no build changes.
    pub pair_slack: f64,
    /// How a derived column's per-round samples are made from the measurement it follows
    /// (`None`: the figure is measured, not derived).
    pub derived_by: Option<Derivation>,
}

/// How a derived figure is made from the measurement whose column it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    /// Throughput ÷ the sequential run's at 1 worker, round by round.
    Speedup,
    /// Throughput(N) ÷ (N × throughput(1)) of the same model.
    Efficiency,
    /// Throughput ÷ the cores' own speed alone (the per-CPU bare loops).
    EfficiencyVsCores,
    /// A roundtrip ÷ the bare OS loop measured beside it.
    HarnessAdds,
}

/// The A/B bar of a start cost (see [`Facts::gate_floor`]).
const START_GATE_FLOOR: f64 = 0.05;

/// A row with the defaults of a listed count; rows below override what differs.
const LISTED: Facts = Facts {
    metric: Metric::Own(""),
    name: "",
    unit: "count",
    better: Better::Lower,
    noise_floor: 0.0,
    speed: Speed::Exact,
    judged: Judged::Listed,
    format: Format::Count,
    cap: None,
    title: "",
    axis: "",
    columns: &[],
    chart: Chart::None,
    across: Across::Omitted,
    gate: Gate::Pooled,
    gate_floor: 0.0,
    pair_slack: 0.0,
    derived_by: None,
};

/// A derived ratio's defaults.
const RATIO: Facts = Facts {
    unit: "ratio",
    better: Better::Higher,
    judged: Judged::Cost,
    format: Format::Ratio,
    ..LISTED
};

/// Every figure with a row, in [`Metric`]'s order ([`Metric::Own`] has none).
pub const FACTS: [Facts; 19] = [
    Facts {
        metric: Metric::Throughput,
        name: "throughput",
        unit: "ops/s",
        better: Better::Higher,
        speed: Speed::Divided,
        judged: Judged::Cost,
        format: Format::Rate,
        title: "{op} per second (95% CI)",
        axis: "{op} per second (median, 95% CI)",
        columns: &[
            Metric::Efficiency,
            Metric::EfficiencyVsCores,
            Metric::Speedup,
        ],
        chart: Chart::Workers,
        across: Across::Scaling,
        ..LISTED
    },
    Facts {
        metric: Metric::Startup,
        name: "startup",
        unit: "ns",
        // A clock read is ~25 ns; a start moves by a microsecond with where the scheduler
        // puts the new thread or process.
        noise_floor: 1_000.0,
        speed: Speed::StartCost,
        judged: Judged::Cost,
        format: Format::Time,
        title: "startup: request → first instruction",
        axis: "startup (median)",
        chart: Chart::Strip,
        across: Across::VsThreads,
        gate: Gate::PerModel,
        // A start swings by ±20% from one pair to the next on a 2-vCPU VM: a 1% bar on it can
        // never be settled in a job's pairs; 5% can, and a slower fork or spawn shows above it.
        gate_floor: START_GATE_FLOOR,
        ..LISTED
    },
    Facts {
        metric: Metric::Roundtrip,
        name: "roundtrip",
        unit: "ns",
        noise_floor: 1_000.0,
        speed: Speed::StartCost,
        judged: Judged::Cost,
        format: Format::Time,
        title: "roundtrip: start + run + join/reap",
        axis: "roundtrip (median)",
        columns: &[Metric::HarnessAdds],
        chart: Chart::Strip,
        gate: Gate::PerModel,
        gate_floor: START_GATE_FLOOR,
        ..LISTED
    },
    Facts {
        metric: Metric::PeakRss,
        name: "peak_rss",
        unit: "bytes",
        // A forked child's private bytes jump by 128 KiB between runs with which stack and
        // libc pages the kernel happens to copy (seen: 68 and 196 KiB per worker).
        noise_floor: 256.0 * 1024.0,
        judged: Judged::Cost,
        format: Format::Bytes,
        title: "peak RSS",
        axis: "peak RSS (median; 0 drawn at 1 B)",
        chart: Chart::Param,
        gate: Gate::Never,
        // In A/A jobs here, one side's forked children dirtied 16 pages more than the other's
        // in every sample of both epochs (132 against 196 KiB), and in an earlier layout one
        // page more (68 against 72 KiB): where a process's own pages lie decides what its
        // child copies, and no build changed that.
        pair_slack: 256.0 * 1024.0,
        ..LISTED
    },
    Facts {
        metric: Metric::HeapBytes,
        name: "heap_bytes",
        unit: "bytes",
        // A pipeline's heap moves by a few hundred bytes with how often its threads blocked.
        noise_floor: 1024.0,
        judged: Judged::Cost,
        format: Format::Bytes,
        title: "heap bytes",
        axis: "heap bytes (median; 0 drawn at 1 B)",
        chart: Chart::Param,
        across: Across::Itself,
        ..LISTED
    },
    Facts {
        metric: Metric::FirstItem,
        name: "first_item",
        unit: "ns",
        // A first item within 50 µs depends on where the scheduler puts a thread, not on code.
        noise_floor: 50_000.0,
        speed: Speed::Multiplied,
        judged: Judged::Cost,
        format: Format::Time,
        title: "first item",
        axis: "first item (median)",
        chart: Chart::Param,
        ..LISTED
    },
    Facts {
        metric: Metric::Instructions,
        name: "instructions",
        unit: "instructions",
        judged: Judged::Exact,
        title: "instructions",
        axis: "instructions",
        ..LISTED
    },
    Facts {
        metric: Metric::Getsizeof,
        name: "getsizeof",
        unit: "bytes",
        judged: Judged::Cost,
        format: Format::Bytes,
        title: "getsizeof",
        axis: "getsizeof (median; 0 drawn at 1 B)",
        chart: Chart::Param,
        ..LISTED
    },
    Facts {
        metric: Metric::VoluntarySwitches,
        name: "voluntary_switches",
        unit: "switches",
        title: "voluntary switches per sample",
        axis: "voluntary context switches per sample (median)",
        chart: Chart::Param,
        ..LISTED
    },
    Facts {
        metric: Metric::InvoluntarySwitches,
        name: "involuntary_switches",
        unit: "switches",
        title: "preemptions per sample",
        axis: "involuntary context switches per sample (median)",
        chart: Chart::Param,
        ..LISTED
    },
    Facts {
        metric: Metric::PoolStart,
        name: "pool_start",
        unit: "ns",
        format: Format::Time,
        title: "pool start: request → every worker running",
        axis: "pool start (median)",
        ..LISTED
    },
    Facts {
        metric: Metric::LostUpdates,
        name: "lost_updates",
        unit: "count",
        title: "lost updates",
        axis: "lost updates (median)",
        ..LISTED
    },
    Facts {
        metric: Metric::BreakEven,
        name: "break_even_work",
        unit: "work",
        title: "break-even task size",
        axis: "work per task",
        ..LISTED
    },
    Facts {
        metric: Metric::TaskOverhead,
        name: "task_overhead_ns",
        unit: "ns",
        format: Format::Time,
        title: "cost of a task beyond its work",
        axis: "ns per task",
        ..LISTED
    },
    Facts {
        metric: Metric::Speedup,
        name: "speedup",
        format: Format::Times,
        title: "vs sequential",
        axis: "throughput ÷ sequential at 1 worker",
        derived_by: Some(Derivation::Speedup),
        ..RATIO
    },
    Facts {
        metric: Metric::Efficiency,
        name: "efficiency",
        cap: Some(1.0),
        title: "efficiency",
        axis: "throughput(N) ÷ (N × throughput(1))",
        derived_by: Some(Derivation::Efficiency),
        ..RATIO
    },
    Facts {
        metric: Metric::EfficiencyVsCores,
        name: "efficiency_vs_cores",
        cap: Some(1.0),
        title: "vs cores' own speed",
        axis: "throughput ÷ the cores' own speed alone",
        derived_by: Some(Derivation::EfficiencyVsCores),
        ..RATIO
    },
    Facts {
        metric: Metric::ThreadStartupRatio,
        name: "thread_startup_ratio",
        better: Better::Lower,
        format: Format::Times,
        title: "start-up ÷ a thread's",
        axis: "start-up ÷ the threads model's",
        ..RATIO
    },
    Facts {
        metric: Metric::HarnessAdds,
        name: "harness_adds",
        better: Better::Lower,
        format: Format::Added,
        title: "harness adds",
        axis: "roundtrip ÷ the bare OS loop beside it",
        derived_by: Some(Derivation::HarnessAdds),
        ..RATIO
    },
];

/// Names of figures that have no row, read from results files or given by workloads: kept
/// once each for the life of the process, so that a [`Metric`] stays `Copy`.
static OWN_NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// `name` as a `'static` string, the same one for every call with the same text.
fn intern(name: &str) -> &'static str {
    let mut names = OWN_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    match names.get(name) {
        Some(n) => n,
        None => {
            let n: &'static str = Box::leak(name.to_string().into_boxed_str());
            names.insert(n);
            n
        }
    }
}

impl Metric {
    /// Every figure with a row, in the table's order.
    pub const ALL: [Metric; FACTS.len()] = {
        let mut all = [Metric::Throughput; FACTS.len()];
        let mut i = 0;
        while i < FACTS.len() {
            all[i] = FACTS[i].metric;
            i += 1;
        }
        all
    };

    /// Its row of the table; a workload's own figure gets a listed count's.
    pub fn facts(self) -> &'static Facts {
        match FACTS.iter().find(|f| f.metric == self) {
            Some(f) => f,
            None => &LISTED,
        }
    }

    /// The figure a results file or a workload names: its row's, or a workload's own.
    pub fn parse(s: &str) -> Metric {
        match FACTS.iter().find(|f| f.name == s) {
            Some(f) => f.metric,
            None => Metric::Own(intern(s)),
        }
    }

    /// A metric that has a row, `None` for any other name.
    pub fn known(s: &str) -> Option<Metric> {
        FACTS.iter().find(|f| f.name == s).map(|f| f.metric)
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Own(name) => name,
            m => m.facts().name,
        }
    }

    pub fn unit(self) -> &'static str {
        self.facts().unit
    }

    pub fn better(self) -> Better {
        self.facts().better
    }

    /// The smallest change an A/B job judges it by, given `--threshold`.
    pub fn gate_threshold(self, threshold: f64) -> f64 {
        threshold.max(self.facts().gate_floor)
    }

    /// Whether compare and A/B judge it (exactly or against noise) rather than list it.
    pub fn is_judged(self) -> bool {
        self.facts().judged != Judged::Listed
    }

    /// Whether it is an exact count, judged with no noise to allow for.
    pub fn is_exact(self) -> bool {
        self.facts().judged == Judged::Exact
    }

    /// The summary's column head, with the workload's operation put in.
    pub fn title(self, op: &str) -> String {
        match self {
            Metric::Own(name) => name.replace('_', " "),
            m => m.facts().title.replace("{op}", op),
        }
    }

    /// The charts' y axis, with the workload's operation put in.
    pub fn axis(self, op: &str) -> String {
        match self {
            Metric::Own(name) => name.replace('_', " "),
            m => m.facts().axis.replace("{op}", op),
        }
    }

    /// Whether it is what a workload's check passed with (`Verdict::PassedWith`): an outcome
    /// listed beside the case's throughput, such as a race's lost updates.
    pub fn is_outcome(self) -> bool {
        matches!(self, Metric::LostUpdates | Metric::Own(_))
    }

    /// A value of the figure written as its row says: a rate in the workload's `op`, a time,
    /// bytes, a count, a ratio, a factor or what is added.
    pub fn show(self, v: f64, op: &str) -> String {
        use crate::units;
        match self.facts().format {
            Format::Rate => units::rate_of(v, op),
            Format::Time => units::ns(v),
            Format::Bytes => units::bytes(v),
            Format::Count => format!("{v:.0}"),
            Format::Ratio => format!("{v:.2}"),
            Format::Times => format!("{v:.2}×"),
            Format::Added => format!("{:+.1}%", 100.0 * (v - 1.0)),
        }
    }

    /// The words for better and worse of the figure: faster and slower for times and rates,
    /// smaller and larger for sizes.
    pub fn words(self) -> (&'static str, &'static str) {
        match self.facts().format {
            Format::Rate | Format::Time => ("faster", "slower"),
            Format::Bytes => ("smaller", "larger"),
            Format::Count | Format::Ratio | Format::Times | Format::Added => ("better", "worse"),
        }
    }

    /// A name that may become part of a file's name.
    pub fn slug(self) -> String {
        self.name().replace(['_', ' '], "-")
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Metric::parse(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_names_its_own_metric_once_and_names_round_trip() {
        let names: BTreeSet<_> = FACTS.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FACTS.len());
        for f in FACTS {
            assert_eq!(Metric::parse(f.name), f.metric);
            assert_eq!(f.metric.name(), f.name);
            assert!(!matches!(f.metric, Metric::Own(_)));
        }
        // Metric::ALL follows the enum's order, so a row out of place shows as a mismatch.
        let mut sorted = Metric::ALL;
        sorted.sort();
        assert_eq!(sorted, Metric::ALL);
        assert_eq!(
            Metric::Throughput.title("squares"),
            "squares per second (95% CI)"
        );
    }

    #[test]
    fn a_name_without_a_row_is_a_workloads_own_listed_figure() {
        let m = Metric::parse("bins_touched");
        assert_eq!(m, Metric::Own("bins_touched"));
        assert_eq!(m.name(), "bins_touched");
        assert!(!m.is_judged());
        assert_eq!(Metric::parse("bins_touched"), m);
        assert_eq!(Metric::known("bins_touched"), None);
        let json = serde_json::to_string(&Metric::PeakRss).unwrap();
        assert_eq!(json, "\"peak_rss\"");
        assert_eq!(
            serde_json::from_str::<Metric>(&json).unwrap(),
            Metric::PeakRss
        );
    }
}
