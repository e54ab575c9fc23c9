//! The resolved plan of a run: workloads × models × variants × worker counts × samples, from
//! validated options. Nothing after this point sees a raw command-line string.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::study::StudyRef;
use crate::api::workload::WorkloadRef;
use crate::api::{Model, Size};
use crate::exec::Job;
use crate::exec::testing::{Fault, Injected};
use crate::results::{CaseId, WorkloadInfo};

/// A workload chosen for the run, with its parameters' values.
#[derive(Clone)]
pub struct Selected {
    pub workload: WorkloadRef,
    /// Values in the workload's declared order.
    pub params: Vec<u64>,
    /// Its samples are sized by time: the size parameter was not set on the command line, so
    /// each case's is calibrated to make a sample last `--sample-time`.
    pub time_sized: bool,
    /// Nanoseconds one unit of its own code takes on one core (from the preflight).
    pub unit_ns: Option<f64>,
    /// Units per task on the pools: `--chunk`; one for a workload whose unit's work is swept (the
    /// granularity sweep); else, from the preflight, what lasts about [`POOL_TASK_NS`] of the
    /// workload's own code (`None` until then).
    pub chunk: Option<u64>,
}

/// How long a pool's task of a workload lasts by default, in the workload's own code on one
/// core: long next to handing a task out (0.3–30 µs on the pools here, the granularity sweep
/// shows where each pays), short next to a sample, so that a pool row measures the workload,
/// not its dispatch. Tasks of one unit are what `--chunk 1` and the granularity sweep show.
pub const POOL_TASK_NS: u64 = 10_000;

impl Selected {
    /// The index of the parameter that sizes a sample, if any.
    pub fn size_index(&self) -> Option<usize> {
        let info = self.workload.info();
        match info.size {
            Size::Split(name) | Size::PerWorker(name) => {
                info.params.iter().position(|p| p.name == name.name)
            }
            Size::None => None,
        }
    }

    /// The parameters by name, as recorded with every measurement; a time-sized workload's
    /// size parameter is left out (it differs from case to case: `ops_per_sample` says it).
    pub fn named_params(&self) -> BTreeMap<String, u64> {
        let info = self.workload.info();
        let skip = self.size_index().filter(|_| self.time_sized);
        info.params
            .iter()
            .zip(&self.params)
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, (p, v))| (p.name.to_string(), *v))
            .collect()
    }

    /// Units of one worker's share that take about `ns` on one core (at least 1).
    pub fn units_for(&self, ns: u64) -> u64 {
        self.unit_ns
            .map_or(1, |u| (ns as f64 / u.max(1e-3)).round() as u64)
            .max(1)
    }

    pub fn describe(&self) -> WorkloadInfo {
        let info = self.workload.info();
        WorkloadInfo {
            name: info.name.into(),
            op: info.op.into(),
            description: info.describe.into(),
            params: self.named_params(),
            pool_task_units: self.chunk,
        }
    }
}

/// A study chosen for the run, with the models of its own that were asked for.
#[derive(Clone)]
pub struct SelectedStudy {
    pub study: StudyRef,
    pub models: Vec<&'static str>,
}

/// One unit of the sweep; each yields one or more measurements.
#[derive(Clone, Debug, PartialEq)]
pub enum Case {
    /// Workload `w` (an index into [`Plan::workloads`]) on a model with N workers:
    /// throughput, memory and the workload's own extra figures.
    Task {
        w: usize,
        model: Model,
        variant: usize,
        workers: usize,
    },
    /// A start-only workload's one worker, with the parent holding `parent_rss`: startup
    /// and roundtrip beside the bare OS loop.
    Startup {
        w: usize,
        model: Model,
        parent_rss: u64,
    },
}

impl Case {
    /// The model the case runs on.
    pub fn model(&self) -> Model {
        match *self {
            Case::Task { model, .. } | Case::Startup { model, .. } => model,
        }
    }
}

/// Everything a run needs, validated.
#[derive(Clone)]
pub struct Plan {
    pub quick: bool,
    pub workloads: Vec<Selected>,
    pub studies: Vec<SelectedStudy>,
    pub models: Vec<Model>,
    pub workers: Vec<usize>,
    /// The most workers a pool case takes (the default worker counts stop pools at the
    /// cores; `--workers` given on the command line is taken as it is).
    pub pool_workers_max: Option<usize>,
    pub samples: usize,
    pub warmup: usize,
    /// Startup cases are cheap: they take more samples.
    pub startup_samples: usize,
    /// Past `startup_samples`, a start-up case takes more while its samples have run less
    /// than this, up to `sweep::lean::STARTUP_SAMPLES_MAX` (400): a start costs microseconds,
    /// and the median of a few dozen comes out where a host's slow and fast starts fall.
    pub startup_fill: Duration,
    pub pin: bool,
    /// CPUs this process may use; "the machine's cores".
    pub cpus: Vec<usize>,
    pub parent_rss: Vec<u64>,
    /// Idle threads the lean start-up parent holds (`--parent-threads`).
    pub parent_threads: usize,
    /// Start-up cases run in a lean parent, a fresh process of `exe` (always, from the command
    /// line); false measures them in this process, for a library caller whose binary is no
    /// host binary (a test harness).
    pub lean_parent: bool,
    /// Sizes n for the studies.
    pub sizes: Vec<u64>,
    pub out: PathBuf,
    pub exe: PathBuf,
    pub case_timeout: Duration,
    pub charts: bool,
    pub args: Vec<String>,
    /// Faults and slowdowns injected (tests only).
    pub injected: Injected,
    /// Runtimes besides Rust that run cases, with what they said they are.
    pub runtimes: std::collections::BTreeMap<String, String>,
    /// `--instructions`: count the task cases at one worker under callgrind instead of
    /// timing them.
    pub instructions: bool,
    /// How long a time-sized sample should last.
    pub sample_ns: u64,
    pub scaling: Scaling,
    /// What starting workers costs here, measured by the preflight.
    pub costs: Costs,
    /// The run's estimated length in seconds, once the preflight has made it.
    pub estimated_s: Option<f64>,
}

/// The machine's costs that the run's estimate is made of, measured before the run.
#[derive(Clone, Debug, Default)]
pub struct Costs {
    /// One worker's start and join (or reap), per model, in ns.
    pub start_ns: Vec<(Model, f64)>,
    /// What a fork costs more per byte of the parent's resident memory, in ns.
    pub fork_ns_per_byte: f64,
    /// Touching one byte of the parent's ballast, in ns.
    pub touch_ns_per_byte: f64,
}

impl Costs {
    pub fn start(&self, model: Model) -> f64 {
        self.start_ns
            .iter()
            .find(|(m, _)| *m == model)
            .map_or(0.0, |(_, ns)| *ns)
    }
}

/// How a time-sized sample's work grows with its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    /// Each case's work is calibrated so that a sample lasts the target: more workers, the
    /// same time (and, where they scale, more work).
    Strong,
    /// Each worker gets the work one core does in the target time, whatever the count.
    Weak,
}

/// 1, 2, 4, … up to `cores` (logical CPUs), exactly `cores`, the physical-core count when
/// SMT makes it smaller, and 2×`cores` in a full run.
pub fn default_workers(cores: usize, physical: usize, quick: bool) -> Vec<usize> {
    let cores = cores.max(1);
    let mut v = Vec::new();
    let mut w = 1;
    while w < cores {
        v.push(w);
        w *= 2;
    }
    v.push(cores);
    if (1..cores).contains(&physical) {
        v.push(physical);
    }
    if !quick {
        v.push(2 * cores);
    }
    v.sort_unstable();
    v.dedup();
    v
}

impl Plan {
    /// What a study with the chosen `models` of its own is asked to run.
    pub fn study_plan<'a>(
        &'a self,
        models: &'a [&'static str],
    ) -> crate::api::study::StudyPlan<'a> {
        crate::api::study::StudyPlan {
            models,
            sizes: &self.sizes,
            quick: self.quick,
            workers: &self.workers,
            samples: self.samples,
            warmup: self.warmup,
            sample_ns: self.sample_ns,
            timeout: self.case_timeout,
        }
    }

    /// The cases of this plan, in the order they run: every workload's task cases, then the
    /// start-only workloads' startup cases.
    pub fn cases(&self) -> Vec<Case> {
        let mut cases = Vec::new();
        for (w, sel) in self.workloads.iter().enumerate() {
            let info = sel.workload.info();
            if info.start_only {
                continue;
            }
            for &model in &self.models {
                for variant in 0..info.variants.len() {
                    if !sel.workload.supports(model, variant) {
                        continue;
                    }
                    let most = match (model.pool(), self.pool_workers_max) {
                        (Some(_), Some(most)) => most,
                        _ => usize::MAX,
                    };
                    cases.extend(self.workers.iter().filter(|&&n| n <= most).map(|&workers| {
                        Case::Task {
                            w,
                            model,
                            variant,
                            workers,
                        }
                    }));
                }
            }
        }
        for (w, sel) in self.workloads.iter().enumerate() {
            if !sel.workload.info().start_only {
                continue;
            }
            for &parent_rss in &self.parent_rss {
                for &model in &self.models {
                    // A pool's start-up is measured when each of its cases opens it.
                    if sel.workload.supports(model, 0)
                        && model != Model::Sequential
                        && model.pool().is_none()
                    {
                        cases.push(Case::Startup {
                            w,
                            model,
                            parent_rss,
                        });
                    }
                }
            }
        }
        cases
    }

    /// The job one sample of a case runs.
    pub fn job(&self, case: &Case) -> Job<'_> {
        let cpus: &[usize] = if self.pin { &self.cpus } else { &[] };
        let (w, model, variant, workers) = match *case {
            Case::Task {
                w,
                model,
                variant,
                workers,
            } => (w, model, variant, workers),
            Case::Startup { w, model, .. } => (w, model, 0, 1),
        };
        let sel = &self.workloads[w];
        Job {
            workload: &sel.workload,
            variant,
            params: &sel.params,
            workers,
            cpus: if matches!(case, Case::Task { .. }) {
                cpus
            } else {
                &[]
            },
            exe: &self.exe,
            timeout: self.case_timeout,
            fault: if matches!(case, Case::Task { .. }) {
                self.injected.fault_for(model)
            } else {
                Fault::None
            },
            chunk: sel.chunk.unwrap_or(1),
        }
    }

    /// Pool tasks of one unit wherever `--chunk` did not size them: an A/B job's two builds
    /// must hand out the same tasks, and each side's preflight would size them to its own pace.
    pub fn one_unit_pool_tasks(&mut self) {
        for sel in &mut self.workloads {
            sel.chunk.get_or_insert(1);
        }
    }

    /// The case's identity in the results file.
    pub fn case_id(&self, case: &Case) -> CaseId {
        let (w, model, variant, workers, extra) = match *case {
            Case::Task {
                w,
                model,
                variant,
                workers,
            } => (w, model, variant, workers, None),
            Case::Startup {
                w,
                model,
                parent_rss,
            } => (w, model, 0, 1, Some(("parent_rss", parent_rss))),
        };
        let sel = &self.workloads[w];
        let info = sel.workload.info();
        let mut params = sel.named_params();
        if let Some((k, v)) = extra {
            params.insert(k.into(), v);
        }
        CaseId {
            workload: info.name.into(),
            model: model.name().into(),
            variant: info
                .variants
                .get(variant)
                .copied()
                .unwrap_or("default")
                .into(),
            workers,
            params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_cover_powers_and_the_core_count() {
        assert_eq!(default_workers(2, 2, true), vec![1, 2]);
        assert_eq!(default_workers(2, 2, false), vec![1, 2, 4]);
        assert_eq!(default_workers(6, 6, true), vec![1, 2, 4, 6]);
        assert_eq!(default_workers(1, 1, false), vec![1, 2]);
        // 16 logical CPUs on 8 SMT cores: the physical count is a point of its own.
        assert_eq!(default_workers(16, 8, true), vec![1, 2, 4, 8, 16]);
        assert_eq!(default_workers(12, 6, true), vec![1, 2, 4, 6, 8, 12]);
    }
}
