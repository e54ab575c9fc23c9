//! The round loop: every sample of a run is taken round by round — one sample of each case per
//! round, the cases in the same order every round — so that a machine's slow spell, which
//! lasts longer than a sample, hits every case alike and sample i of one case sits beside
//! sample i of the next. The task cases, the sequence study, the CPython runtime and a user's
//! study all run through one loop (`round_robin`, crate-private); a study gets it, with the
//! assembly of its measurements, from [`crate::study::rounds`].

use crate::results::{CaseId, Measurement, Metric};

/// How many rounds a study's cases run: first `warmup` rounds whose samples are dropped, then
/// `samples` that count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounds {
    pub warmup: usize,
    pub samples: usize,
}

impl Rounds {
    /// The same without the warm-up (a case whose every sample starts fresh, as a new
    /// interpreter does, has nothing to warm).
    pub fn without_warmup(self) -> Rounds {
        Rounds { warmup: 0, ..self }
    }

    /// Samples taken per case, warm-up included: the study's progress steps per case.
    pub fn total(self) -> usize {
        self.warmup + self.samples
    }
}

/// The loop itself. Each round first runs `each_round` (told whether the round counts), then
/// one `turn` of every case that has not failed, in order; both get `state`, what the rounds
/// gather beside the cases. A turn returns false when a stop cut it short, and the loop ends
/// there, as it does when `stopped` says so.
pub(crate) fn round_robin<A, S>(
    rounds: Rounds,
    cases: &mut [A],
    state: &mut S,
    stopped: &dyn Fn() -> bool,
    failed: impl Fn(&A) -> bool,
    mut each_round: impl FnMut(&mut S, bool),
    mut turn: impl FnMut(&mut S, &mut A, bool) -> bool,
) {
    for round in 0..rounds.total() {
        let counted = round >= rounds.warmup;
        if stopped() {
            return;
        }
        each_round(state, counted);
        for case in cases.iter_mut().filter(|c| !failed(c)) {
            if stopped() || !turn(state, case, counted) {
                return;
            }
        }
    }
}

/// One sample of a study's case: the operations it did in how long, the core-speed probe
/// taken beside it, and any other figures it gave.
#[derive(Clone, Debug, Default)]
pub struct StudySample {
    pub ops: u64,
    pub elapsed_ns: u64,
    pub probe: Option<f64>,
    pub figures: Vec<(Metric, f64)>,
}

impl StudySample {
    /// `ops` operations in `elapsed_ns` (its throughput is their ratio).
    pub fn new(ops: u64, elapsed_ns: u64) -> StudySample {
        StudySample {
            ops,
            elapsed_ns,
            ..StudySample::default()
        }
    }

    /// Another figure of the sample: a case's measurement of `metric` is kept when every
    /// sample of the case gave one.
    pub fn with(mut self, metric: Metric, value: f64) -> StudySample {
        self.figures.push((metric, value));
        self
    }

    /// The core-speed probe taken beside the sample.
    pub fn with_probe(mut self, probe: Option<f64>) -> StudySample {
        self.probe = probe;
        self
    }
}

/// One case's samples as the rounds gather them.
pub(crate) struct Gathered {
    pub(crate) id: CaseId,
    throughput: Vec<f64>,
    probe: Vec<f64>,
    ops: u64,
    figures: Vec<(Metric, Vec<f64>)>,
    pub(crate) failed: Option<String>,
}

impl Gathered {
    pub(crate) fn new(id: CaseId) -> Gathered {
        Gathered {
            id,
            throughput: Vec::new(),
            probe: Vec::new(),
            ops: 0,
            figures: Vec::new(),
            failed: None,
        }
    }

    pub(crate) fn keep(&mut self, s: StudySample) {
        self.throughput
            .push(s.ops as f64 / (s.elapsed_ns.max(1) as f64 / 1e9));
        self.probe.extend(s.probe);
        self.ops = s.ops;
        for (metric, value) in s.figures {
            match self.figures.iter_mut().find(|(m, _)| *m == metric) {
                Some((_, values)) => values.push(value),
                None => self.figures.push((metric, vec![value])),
            }
        }
    }

    /// Throughput first (its op, its operations per sample, the probes when every sample had
    /// one), then each other figure that every sample gave, in the order first given.
    pub(crate) fn outcome(self, op: &str) -> (CaseId, Result<Vec<Measurement>, String>) {
        let id = self.id;
        if let Some(why) = self.failed {
            return (id, Err(why));
        }
        let taken = self.throughput.len();
        if taken == 0 {
            return (id, Err("interrupted before its first sample".into()));
        }
        let mut t = Measurement::new(&id, Metric::Throughput, self.throughput, true)
            .with_probe(&self.probe);
        t.op = Some(op.into());
        t.ops_per_sample = Some(self.ops);
        let probe = self.probe;
        let others = self
            .figures
            .into_iter()
            .filter(|(_, values)| values.len() == taken)
            .map(|(metric, values)| {
                let m = Measurement::new(&id, metric, values, true);
                if metric.facts().speed == crate::results::metric::Speed::Exact {
                    m
                } else {
                    m.with_probe(&probe)
                }
            });
        let out = std::iter::once(t).chain(others).collect();
        (id, Ok(out))
    }
}
