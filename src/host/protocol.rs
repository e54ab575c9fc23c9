//! The A/B serve protocol: one JSON object a line. The side first says hello (its build and
//! its plan's cases); the orchestrator then asks for calibrations and samples, one at a time,
//! and reads each reply before it sends the next request.

use serde::{Deserialize, Serialize};

use crate::results::CaseId;

/// The hidden first argument that makes a host binary serve one side of an A/B job:
/// `EXE __threadfork-serve PARENT_PID [run flags]`.
pub const SERVE_ARG: &str = "__threadfork-serve";

/// Bumped whenever a message changes shape: two sides must speak the same one.
pub const PROTOCOL: u32 = 1;

/// One case the side's plan holds, in the order the side numbers them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseInfo {
    pub id: CaseId,
    /// A start-up case (one worker of a start-only workload): startup and roundtrip.
    pub startup: bool,
    /// The case's parameter values before calibration.
    pub params: Vec<u64>,
    /// Its sample size is calibrated to the sample time (`calibrate` answers it).
    pub sized: bool,
    /// The workload's op, for throughput's unit.
    pub op: String,
}

/// What a side says first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub harness: String,
    pub commit: String,
    /// Why the side cannot serve this plan (a workload or flag it does not know), in its words.
    pub error: Option<String>,
    pub cases: Vec<CaseInfo>,
    /// Samples and warm-up rounds of the plan, and start-up samples.
    pub samples: usize,
    pub warmup: usize,
    pub startup_samples: usize,
    /// The slowdown this side has injected (tests and sensitivity scripts only).
    pub injected: Option<String>,
    /// What the plan holds that A/B leaves out (the studies), in words.
    pub left_out: Vec<String>,
}

/// What the orchestrator asks.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Size the case's samples to the sample time; the reply carries the parameters.
    Calibrate { case: usize },
    /// One sample of the case with these parameters, its workers placed from CPU `turn` of
    /// the plan's CPUs on (worker k on CPU `(turn + k) mod cores`, the requesting thread on
    /// the first): both sides of a pair run on the very same cores, and the turn moves on
    /// from pair to pair, so that a core faster than another favours neither side.
    Sample {
        case: usize,
        params: Vec<u64>,
        turn: usize,
    },
    /// Grow the parent memory the side holds for its start-up cases by `bytes` (the
    /// orchestrator grows both sides' in turns, chunk by chunk, so that neither gets the
    /// better-placed pages); `bytes` 0 lets all of it go.
    Hold { bytes: u64 },
    /// Close every case and exit.
    Close,
}

/// One figure of a sample, named as in results files (`throughput`, `startup`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub metric: crate::results::Metric,
    pub value: f64,
}

/// A side's answer to one request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Why the request failed (the case's failure), in the side's words.
    pub error: Option<String>,
    /// A calibration's parameters.
    pub params: Option<Vec<u64>>,
    /// A sample's figures.
    pub figures: Vec<Figure>,
    /// The core-speed probe beside the sample, in steps per second.
    pub probe: Option<f64>,
    /// The sample passed its workload's check (false: unverified, a workload that cannot say).
    pub verified: bool,
    /// At a start-up sample, the serving process's own state as the parent: resident bytes,
    /// mapped bytes and threads, read just before it started the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<[u64; 3]>,
    /// What others took of the sample's workers' time (`RawSample::interference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interference: Option<f64>,
}
