//! A task case's samples: each reduced to its figures, judged clean or contaminated by the
//! interference read beside it, retaken while the case's budget allows, and turned into the
//! case's measurements from the clean ones.

use crate::api::Model;
use crate::api::workload::Verdict;
use crate::exec::RawSample;
use crate::measure::sched::CpuTimes;
use crate::results::{CONTAMINATED, CaseId, Load, Measurement, Metric, OTHERS_HOLD};

/// Clean samples a figure needs before the contaminated ones are set aside rather than used.
const CLEAN_ENOUGH: usize = 3;

/// One verified task sample, reduced to its figures.
#[derive(Clone, Debug)]
pub(crate) struct SampleFigures {
    pub(crate) elapsed_ns: f64,
    /// Every figure of the sample, throughput first.
    pub(crate) values: Vec<(Metric, f64)>,
    pub(crate) ops: u64,
    pub(crate) verified: bool,
    /// The workers' own cores' speed around the sample.
    pub(crate) probe: Option<f64>,
    /// What others took of the workers' time (`RawSample::interference`).
    pub(crate) interference: Option<f64>,
    /// Cores of the allowed CPUs busy with other processes around the sample (`/proc/stat`
    /// against the run's own CPU time; a tick's resolution).
    pub(crate) others: Option<f64>,
}

impl SampleFigures {
    /// What other processes took of the workers' time: their wait for a CPU beyond their own
    /// number, where other processes held at least [`OTHERS_HOLD`] cores around the sample
    /// (0 where they did not: the wait was the run's own threads').
    pub(crate) fn interference(&self) -> Option<f64> {
        let wait = self.interference?;
        Some(if self.others.is_none_or(|o| o >= OTHERS_HOLD) {
            wait
        } else {
            0.0
        })
    }

    /// Others took more than [`CONTAMINATED`] of the workers' time.
    pub(crate) fn contaminated(&self) -> bool {
        self.interference().is_some_and(|i| i > CONTAMINATED)
    }
}

/// A sample's figures on `cores` CPUs: throughput, peak RSS where readable, the workload's
/// own figure, the workers' context switches.
pub(crate) fn figures(
    model: Model,
    raw: &RawSample,
    cores: usize,
) -> Result<SampleFigures, String> {
    let (verified, extra) = match &raw.verdict {
        Verdict::Failed(why) => return Err(why.clone()),
        Verdict::Passed => (true, None),
        Verdict::PassedWith { metric, value } => (true, Some((*metric, *value))),
        Verdict::Unverified => (false, None),
    };
    let secs = raw.elapsed_ns().max(1) as f64 / 1e9;
    let rss = if model.is_process() {
        // Each child's private pages; absent when any child's could not be read.
        raw.workers
            .iter()
            .map(|w| w.private_bytes)
            .sum::<Option<u64>>()
    } else {
        raw.rss_growth_bytes
    };
    let throughput = raw.ops() as f64 / secs;
    let mut values = vec![(Metric::Throughput, throughput)];
    values.extend(rss.map(|b| (Metric::PeakRss, b as f64)));
    values.extend(extra);
    if let Some((voluntary, involuntary)) = raw.switches() {
        values.push((Metric::VoluntarySwitches, voluntary as f64));
        values.push((Metric::InvoluntarySwitches, involuntary as f64));
    }
    Ok(SampleFigures {
        elapsed_ns: raw.elapsed_ns() as f64,
        values,
        ops: raw.ops(),
        verified,
        probe: raw.probe(),
        interference: raw.interference(cores),
        others: None,
    })
}

/// A case's counted samples, in the order they were taken, and its retakes.
#[derive(Default)]
pub(crate) struct Kept {
    pub(crate) samples: Vec<SampleFigures>,
    /// Contaminated samples replaced by a retake.
    pub(crate) retaken: usize,
    /// Retakes the case may still spend.
    pub(crate) retakes_left: usize,
}

impl Kept {
    pub(crate) fn new(samples: usize) -> Kept {
        Kept {
            samples: Vec::with_capacity(samples),
            retaken: 0,
            // Three tries a sample: a machine busy for the whole run would otherwise keep
            // the run going for nothing (the time allowed bounds the retakes too).
            retakes_left: 3 * samples,
        }
    }

    /// Whether a contaminated sample waits for a retake and the case has retakes left.
    pub(crate) fn wants_retake(&self) -> bool {
        self.retakes_left > 0 && self.samples.iter().any(SampleFigures::contaminated)
    }

    /// A retake: a clean one replaces the first contaminated sample (true); a contaminated
    /// one is dropped. Either way it spends one of the case's retakes.
    pub(crate) fn retake(&mut self, f: SampleFigures) -> bool {
        self.retakes_left = self.retakes_left.saturating_sub(1);
        if f.contaminated() {
            return false;
        }
        match self.samples.iter().position(SampleFigures::contaminated) {
            Some(i) => {
                self.samples.remove(i);
                self.samples.push(f);
                self.retaken += 1;
                true
            }
            None => false,
        }
    }

    /// The samples the figures come from (the clean ones, when there are enough of them) and
    /// those set aside.
    fn split(&self) -> (Vec<&SampleFigures>, Vec<&SampleFigures>, bool) {
        let (clean, dirty): (Vec<_>, Vec<_>) = self.samples.iter().partition(|s| !s.contaminated());
        if dirty.is_empty() || clean.len() >= CLEAN_ENOUGH {
            (clean, dirty, false)
        } else {
            (self.samples.iter().collect(), Vec::new(), true)
        }
    }

    /// The case's measurements: one per figure every used sample carries, throughput first,
    /// each with the interference of the samples it comes from.
    pub(crate) fn measurements(&self, id: &CaseId, verified: bool) -> Vec<Measurement> {
        let (used, aside, flagged) = self.split();
        let Some(first) = used.first() else {
            return Vec::new();
        };
        let interference: Option<Vec<f64>> = used.iter().map(|s| s.interference()).collect();
        let mut out = Vec::new();
        for (metric, _) in &first.values {
            let of =
                |s: &SampleFigures| s.values.iter().find(|(m, _)| m == metric).map(|(_, v)| *v);
            let Some(values) = used.iter().map(|s| of(s)).collect::<Option<Vec<f64>>>() else {
                continue;
            };
            let mut m = Measurement::new(id, *metric, values, verified);
            m.interference = interference.clone().unwrap_or_default();
            m.retaken = self.retaken;
            m.set_aside = aside.iter().filter_map(|s| of(s)).collect();
            m.flagged = flagged;
            out.push(m);
        }
        if let Some(t) = out.first_mut() {
            t.durations_ns = used.iter().map(|s| s.elapsed_ns).collect();
            let probe: Vec<f64> = used.iter().filter_map(|s| s.probe).collect();
            if probe.len() == used.len() {
                t.probe = probe;
            }
        }
        out
    }
}

/// The run's load: what other processes took of the allowed CPUs between two readings, and
/// what the task samples saw of it.
pub(crate) fn load(
    measurements: &[Measurement],
    times: Option<(CpuTimes, CpuTimes)>,
    cores: usize,
) -> Option<Load> {
    let (before, after) = times?;
    let (others_cores, steal_cores) = after.others_since(&before);
    let mut l = Load {
        others_cores,
        steal_cores,
        cores,
        ..Load::default()
    };
    for m in measurements.iter().filter(|m| m.is(Metric::Throughput)) {
        let dirty = m.interference.iter().filter(|&&i| i > CONTAMINATED).count();
        l.samples += m.samples.len() + m.set_aside.len() + m.retaken;
        l.contaminated += dirty + m.set_aside.len() + m.retaken;
        l.retaken += m.retaken;
        l.kept_contaminated += dirty + m.set_aside.len();
        l.worst = m.interference.iter().fold(l.worst, |w, &i| w.max(i));
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(throughput: f64, interference: f64) -> SampleFigures {
        SampleFigures {
            elapsed_ns: 1e6,
            values: vec![
                (Metric::Throughput, throughput),
                (Metric::VoluntarySwitches, 2.0),
            ],
            ops: 1,
            verified: true,
            probe: Some(1.0),
            interference: Some(interference),
            others: None,
        }
    }

    fn id() -> CaseId {
        CaseId {
            workload: "w".into(),
            model: "m".into(),
            variant: "default".into(),
            workers: 2,
            params: Default::default(),
        }
    }

    #[test]
    fn contaminated_samples_are_retaken_within_the_budget_then_set_aside() {
        let mut k = Kept::new(2);
        k.retakes_left = 2;
        k.samples = vec![sample(10.0, 0.0), sample(3.0, 0.5), sample(4.0, 0.6)];
        assert!(k.wants_retake());
        assert!(
            !k.retake(sample(5.0, 0.5)),
            "a contaminated retake is dropped"
        );
        assert!(
            k.retake(sample(11.0, 0.0)),
            "a clean one replaces the first contaminated"
        );
        assert_eq!(k.samples.len(), 3);
        assert_eq!(k.retaken, 1);
        assert!(!k.wants_retake(), "the budget is spent");
        k.retaken = 2;
        k.samples = vec![
            sample(10.0, 0.0),
            sample(11.0, 0.01),
            sample(5.0, 0.4),
            sample(12.0, 0.0),
        ];
        let ms = k.measurements(&id(), true);
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].samples, vec![10.0, 11.0, 12.0]);
        assert_eq!(ms[0].set_aside, vec![5.0]);
        assert_eq!(ms[0].interference, vec![0.0, 0.01, 0.0]);
        assert_eq!(ms[0].durations_ns.len(), 3);
        assert!(!ms[0].flagged && ms[0].interfered());
    }

    #[test]
    fn too_few_clean_samples_keep_them_all_and_flag_the_figure() {
        let mut k = Kept::new(0);
        k.samples = vec![sample(10.0, 0.3), sample(11.0, 0.0), sample(5.0, 0.4)];
        let ms = k.measurements(&id(), true);
        assert_eq!(ms[0].samples, vec![10.0, 11.0, 5.0]);
        assert!(ms[0].flagged && ms[0].set_aside.is_empty());
    }
}
