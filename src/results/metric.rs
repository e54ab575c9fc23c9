//! What each metric is, in one table: its name in the results file, unit, the direction that
//! is better, the noise floor below which compare does not judge it, how compare and A/B put
//! it in units of the core's speed, and how the summary and the charts title it. Nothing
//! else in threadfork says what a metric is; adding one is one variant and one row here.
//!
//! Figures derived from a run (speedup, efficiency, start-up ratios: unit "ratio") are not
//! metrics of a sample and have no row: they are judged as they are, with no floor.

use serde::{Deserialize, Serialize};

/// What a measurement measures.
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
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// How a sample of the metric is put in units of its core's speed at the time (the frozen
/// probe taken beside it), so that a slower core of the moment is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speed {
    /// Not at all: bytes and instruction counts do not follow the core's speed.
    Exact,
    /// Divided by the probe: operations per probe step.
    Divided,
    /// Multiplied by the probe: a wait in probe steps.
    Multiplied,
    /// Multiplied by the probe to the power `normalize::START_SPEED_POWER`: a start cost,
    /// which follows the core only in part (the kernel's page-table copies follow memory).
    StartCost,
}

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
    /// The summary table's column head; `{op}` stands for the workload's operation.
    pub title: &'static str,
    /// The charts' y axis; `{op}` as above.
    pub axis: &'static str,
}

/// Every metric, in [`Metric`]'s order.
pub const FACTS: [Facts; 8] = [
    Facts {
        metric: Metric::Throughput,
        name: "throughput",
        unit: "ops/s",
        better: Better::Higher,
        noise_floor: 0.0,
        speed: Speed::Divided,
        title: "{op} per second (95% CI)",
        axis: "{op} per second (median, 95% CI)",
    },
    Facts {
        metric: Metric::Startup,
        name: "startup",
        unit: "ns",
        better: Better::Lower,
        // A clock read is ~25 ns; a start moves by a microsecond with where the scheduler
        // puts the new thread or process.
        noise_floor: 1_000.0,
        speed: Speed::StartCost,
        title: "startup: request → first instruction",
        axis: "startup (median)",
    },
    Facts {
        metric: Metric::Roundtrip,
        name: "roundtrip",
        unit: "ns",
        better: Better::Lower,
        noise_floor: 1_000.0,
        speed: Speed::StartCost,
        title: "roundtrip: start + run + join/reap",
        axis: "roundtrip (median)",
    },
    Facts {
        metric: Metric::PeakRss,
        name: "peak_rss",
        unit: "bytes",
        better: Better::Lower,
        // A forked child's private bytes jump by 128 KiB between runs with which stack and
        // libc pages the kernel happens to copy (seen: 68 and 196 KiB per worker).
        noise_floor: 256.0 * 1024.0,
        speed: Speed::Exact,
        title: "peak RSS",
        axis: "peak RSS (median; 0 drawn at 1 B)",
    },
    Facts {
        metric: Metric::HeapBytes,
        name: "heap_bytes",
        unit: "bytes",
        better: Better::Lower,
        // A pipeline's heap moves by a few hundred bytes with how often its threads blocked.
        noise_floor: 1024.0,
        speed: Speed::Exact,
        title: "heap bytes",
        axis: "heap bytes (median; 0 drawn at 1 B)",
    },
    Facts {
        metric: Metric::FirstItem,
        name: "first_item",
        unit: "ns",
        better: Better::Lower,
        // A first item within 50 µs depends on where the scheduler puts a thread, not on code.
        noise_floor: 50_000.0,
        speed: Speed::Multiplied,
        title: "first item",
        axis: "first item (median)",
    },
    Facts {
        metric: Metric::Instructions,
        name: "instructions",
        unit: "instructions",
        better: Better::Lower,
        noise_floor: 0.0,
        speed: Speed::Exact,
        title: "instructions",
        axis: "instructions",
    },
    Facts {
        metric: Metric::Getsizeof,
        name: "getsizeof",
        unit: "bytes",
        better: Better::Lower,
        noise_floor: 0.0,
        speed: Speed::Exact,
        title: "getsizeof",
        axis: "getsizeof (median; 0 drawn at 1 B)",
    },
];

impl Metric {
    pub const ALL: [Metric; FACTS.len()] = {
        let mut all = [Metric::Throughput; FACTS.len()];
        let mut i = 0;
        while i < FACTS.len() {
            all[i] = FACTS[i].metric;
            i += 1;
        }
        all
    };

    /// Its row of the table.
    pub fn facts(self) -> &'static Facts {
        &FACTS[self as usize]
    }

    /// The metric a results file names, `None` for a derived figure's name.
    pub fn parse(s: &str) -> Option<Metric> {
        FACTS.iter().find(|f| f.name == s).map(|f| f.metric)
    }

    pub fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn unit(self) -> &'static str {
        self.facts().unit
    }

    pub fn better(self) -> Better {
        self.facts().better
    }
}

/// The row of a metric by its name in a results file, `None` for a derived figure.
pub fn facts_of(name: &str) -> Option<&'static Facts> {
    Metric::parse(name).map(Metric::facts)
}

/// A title or axis of the table with the workload's operation put in.
pub fn with_op(text: &str, op: &str) -> String {
    text.replace("{op}", op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_sits_at_its_metric_and_names_are_distinct() {
        for (i, f) in FACTS.iter().enumerate() {
            assert_eq!(f.metric as usize, i, "{}", f.name);
            assert_eq!(Metric::parse(f.name), Some(f.metric));
        }
        let names: std::collections::BTreeSet<_> = FACTS.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FACTS.len());
        assert_eq!(facts_of("speedup").map(|f| f.name), None);
        assert_eq!(
            with_op(FACTS[0].title, "squares"),
            "squares per second (95% CI)"
        );
    }
}
