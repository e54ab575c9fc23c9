//! The columns of the metric table (`metric.rs`): how a figure is put in units of its core's
//! speed, judged, written, charted, gated and carried across machines.

/// How a sample of the metric is put in units of its core's speed at the time (the frozen
/// probe taken beside it), so that a slower core of the moment is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Speed {
    /// Not at all: bytes, counts and ratios do not follow the core's speed.
    Exact,
    /// Divided by the probe: operations per probe step.
    Divided,
    /// Multiplied by the probe: a wait in probe steps.
    Multiplied,
    /// Multiplied by the probe to the power `normalize::START_SPEED_POWER`: a start cost,
    /// which follows the core only in part (the kernel's page-table copies follow memory).
    StartCost,
}

impl Speed {
    /// What a figure put in units of the core's speed is called after its metric's name.
    pub fn label(self) -> &'static str {
        match self {
            Speed::Exact => "",
            Speed::Divided => "÷ core speed",
            Speed::Multiplied => "× core speed",
            Speed::StartCost => "× √core speed",
        }
    }
}

/// Whether a figure is judged as a cost or listed beside the costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judged {
    /// A cost: compare and A/B judge it.
    Cost,
    /// Exact: judged on its counts, with no noise to allow for.
    Exact,
    /// Listed, never judged (a race's outcome, a pool's opening, a fitted size).
    Listed,
}

/// How a value of the figure is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Operations per second, in the workload's own operation.
    Rate,
    /// A time in ns.
    Time,
    Bytes,
    /// A count of things (switches, updates, instructions).
    Count,
    /// A ratio near 1, two decimals ("0.97").
    Ratio,
    /// A factor ("1.97×").
    Times,
    /// What is added, in per cent ("+3.1%").
    Added,
}

/// Which chart draws the figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    /// Against the worker count, one line per model (and an efficiency chart beside it).
    Workers,
    /// Every sample, one column per model (start costs).
    Strip,
    /// Against the parameter that varies, one line per model.
    Param,
    /// In the tables only.
    None,
}

/// Which of the figure's rows gate an A/B job by default (`--gate` names others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Its widest rows: each workload's every-model row (and each variant's), which pool every
    /// model's pairs — where a change of the workload's own code shows, and settles soonest.
    /// A workload of one model gates its model's row.
    Pooled,
    /// Each model's row: a start cost is the model's own (a slower fork is not a slower
    /// thread), and pooled with the others it would be diluted.
    PerModel,
    /// Never: listed and judged, never failing (a process's peak RSS, fixed once per process).
    Never,
}

/// Where the figure stands across machines (`compare` of two machines' runs): the
/// machine-independent figures it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Across {
    /// Its speedup over sequential and its efficiency.
    Scaling,
    /// Its ratio to the threads model's figure at the same parameters.
    VsThreads,
    /// Itself: it does not depend on the machine's speed (exact bytes).
    Itself,
    /// Nothing: it says how fast this machine is.
    Omitted,
}
