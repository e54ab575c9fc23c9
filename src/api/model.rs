//! The execution models a workload can run on, by the names used on the command line.

use std::fmt;

/// How a case's workers are run. Every model runs every workload that supports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// The calling thread runs every worker's share, one after another.
    Sequential,
    /// One OS thread per worker, per sample.
    Threads,
    /// One `fork()`ed child per worker, per sample, in a `MAP_SHARED` region.
    Fork,
    /// The host executable started afresh per worker (`posix_spawn`), mapping the region.
    Spawn,
    /// Persistent workers, started once per case, fed tasks one by one (or `--chunk` at a
    /// time) and submitted in one [`Pattern`].
    Pool(Pool, Pattern),
}

/// The kinds of pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pool {
    /// Persistent threads fed through a crossbeam channel.
    Threads,
    /// rayon's own pool: what Rust programs really use.
    Rayon,
    /// Persistent forked workers fed through a shared-memory queue with futex wake-ups (the
    /// `multiprocessing.Pool` analogue).
    Processes,
}

/// How a pool's user hands it tasks and takes their results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// Submit every task, then collect the results in submission order (`Pool.map`,
    /// `executor.map`, `par_iter().collect()`).
    Map,
    /// Submit every task, fold each result as it comes back (`as_completed`).
    AsCompleted,
    /// Submit one task and wait for its result before submitting the next
    /// (`executor.submit(f).result()` inside the loop): the pool runs one task at a time.
    SubmitWait,
}

impl Pool {
    pub const ALL: [Pool; 3] = [Pool::Threads, Pool::Rayon, Pool::Processes];

    pub fn name(self) -> &'static str {
        match self {
            Pool::Threads => "thread-pool",
            Pool::Rayon => "rayon",
            Pool::Processes => "process-pool",
        }
    }
}

impl Pool {
    /// The pools' names, for help and error lines: "thread-pool, rayon, process-pool".
    pub fn names() -> String {
        Pool::ALL.map(Pool::name).join(", ")
    }
}

impl Pattern {
    pub const ALL: [Pattern; 3] = [Pattern::Map, Pattern::AsCompleted, Pattern::SubmitWait];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Map => "map",
            Pattern::AsCompleted => "as-completed",
            Pattern::SubmitWait => "submit-wait",
        }
    }
}

/// Whether and when a model starts workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Starts {
    /// None: the calling thread runs the shares.
    Nothing,
    /// In every sample: its start-up is a cost of each sample.
    PerSample,
    /// Once per case, when the pool opens.
    PerCase,
}

/// One row of the table of models.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub model: Model,
    /// Its name on the command line and in results files.
    pub name: &'static str,
    /// Whether workers are separate processes.
    pub process: bool,
    /// Whether it is the reference: its N shares run one after another on one thread.
    pub reference: bool,
    /// The kind of pool it feeds, for a pool model.
    pub pool: Option<Pool>,
    /// Whether its workers' private memory is settled once per case (forked once, when the
    /// pool opens), so that every sample of a run repeats one figure.
    pub memory_once: bool,
    pub starts: Starts,
    /// The bare OS primitive measured beside its start-up (empty: none).
    pub bare: &'static str,
    /// One line for `list` and the docs.
    pub about: &'static str,
}

/// Every model, in the order runs measure and report them: the only place that names one.
/// Adding a model is a row here, its executor (a file in `exec/`) and the executor's line in
/// `exec::executor`.
pub const MODELS: [Facts; 13] = [
    Facts {
        model: Model::Sequential,
        name: "sequential",
        reference: true,
        pool: None,
        memory_once: false,
        process: false,
        starts: Starts::Nothing,
        bare: "",
        about: "the calling thread runs every worker's share, one after another: the reference",
    },
    Facts {
        model: Model::Threads,
        name: "threads",
        reference: false,
        pool: None,
        memory_once: false,
        process: false,
        starts: Starts::PerSample,
        bare: "std::thread::spawn + join",
        about: "one OS thread per worker (pthread_create), started and joined in every sample",
    },
    Facts {
        model: Model::Fork,
        name: "fork",
        reference: false,
        pool: None,
        memory_once: false,
        process: true,
        starts: Starts::PerSample,
        bare: "fork + _exit + waitpid",
        about: "one fork()ed child per worker, in every sample, sharing a MAP_SHARED region",
    },
    Facts {
        model: Model::Spawn,
        name: "spawn",
        reference: false,
        pool: None,
        memory_once: false,
        process: true,
        starts: Starts::PerSample,
        bare: "posix_spawn + waitpid",
        about: "the host executable started afresh per worker (posix_spawn), mapping the region",
    },
    Facts {
        model: Model::Pool(Pool::Threads, Pattern::Map),
        name: "thread-pool-map",
        reference: false,
        pool: Some(Pool::Threads),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent threads fed through a channel: submit every task, collect in order (Pool.map)",
    },
    Facts {
        model: Model::Pool(Pool::Threads, Pattern::AsCompleted),
        name: "thread-pool-as-completed",
        reference: false,
        pool: Some(Pool::Threads),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent threads fed through a channel: fold each result as it comes (as_completed)",
    },
    Facts {
        model: Model::Pool(Pool::Threads, Pattern::SubmitWait),
        name: "thread-pool-submit-wait",
        reference: false,
        pool: Some(Pool::Threads),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent threads fed through a channel: one task at a time, waiting for each (submit(f).result())",
    },
    Facts {
        model: Model::Pool(Pool::Rayon, Pattern::Map),
        name: "rayon-map",
        reference: false,
        pool: Some(Pool::Rayon),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "rayon's own pool: submit every task, collect in order (Pool.map)",
    },
    Facts {
        model: Model::Pool(Pool::Rayon, Pattern::AsCompleted),
        name: "rayon-as-completed",
        reference: false,
        pool: Some(Pool::Rayon),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "rayon's own pool: fold each result as it comes (as_completed)",
    },
    Facts {
        model: Model::Pool(Pool::Rayon, Pattern::SubmitWait),
        name: "rayon-submit-wait",
        reference: false,
        pool: Some(Pool::Rayon),
        memory_once: false,
        process: false,
        starts: Starts::PerCase,
        bare: "",
        about: "rayon's own pool: one task at a time, waiting for each (submit(f).result())",
    },
    Facts {
        model: Model::Pool(Pool::Processes, Pattern::Map),
        name: "process-pool-map",
        reference: false,
        pool: Some(Pool::Processes),
        memory_once: true,
        process: true,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent forked workers fed through a shared-memory queue: submit every task, collect in order (Pool.map)",
    },
    Facts {
        model: Model::Pool(Pool::Processes, Pattern::AsCompleted),
        name: "process-pool-as-completed",
        reference: false,
        pool: Some(Pool::Processes),
        memory_once: true,
        process: true,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent forked workers fed through a shared-memory queue: fold each result as it comes (as_completed)",
    },
    Facts {
        model: Model::Pool(Pool::Processes, Pattern::SubmitWait),
        name: "process-pool-submit-wait",
        reference: false,
        pool: Some(Pool::Processes),
        memory_once: true,
        process: true,
        starts: Starts::PerCase,
        bare: "",
        about: "persistent forked workers fed through a shared-memory queue: one task at a time, waiting for each (submit(f).result())",
    },
];

impl Model {
    pub const ALL: [Model; MODELS.len()] = {
        let mut all = [Model::Sequential; MODELS.len()];
        let mut i = 0;
        while i < MODELS.len() {
            all[i] = MODELS[i].model;
            i += 1;
        }
        all
    };

    /// The models that start their workers in every sample (and the sequential reference).
    pub const PER_SAMPLE: [Model; 4] =
        [Model::Sequential, Model::Threads, Model::Fork, Model::Spawn];

    /// Its row of [`MODELS`].
    /// The models that start their workers for every sample (no pool): what `ab` measures
    /// unless `--model` asks for pools, so that a gate times the workload's code, not a
    /// pool's dispatch of it.
    pub fn per_sample() -> impl Iterator<Item = Model> {
        MODELS.iter().filter(|f| f.pool.is_none()).map(|f| f.model)
    }

    pub fn facts(self) -> &'static Facts {
        MODELS
            .iter()
            .find(|f| f.model == self)
            .expect("every model has its row in MODELS")
    }

    pub fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn parse(s: &str) -> Option<Model> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The models a `--model` item names: one model, or a pool's family (`thread-pool`,
    /// `rayon`, `process-pool`: its three patterns).
    pub fn family(s: &str) -> Vec<Model> {
        match Pool::ALL.into_iter().find(|p| p.name() == s) {
            Some(pool) => Pattern::ALL.map(|q| Model::Pool(pool, q)).to_vec(),
            None => Self::parse(s).into_iter().collect(),
        }
    }

    /// Whether workers are separate processes (their shared state must be [`crate::Shared`]
    /// in the region; anything else in the workload is a private copy per process).
    pub fn is_process(self) -> bool {
        self.facts().process
    }

    /// The pool and pattern of a pool model.
    pub fn pool(self) -> Option<(Pool, Pattern)> {
        match self {
            Model::Pool(p, q) => Some((p, q)),
            _ => None,
        }
    }
}

/// The runtimes besides threadfork's own Rust that run cases of their own: a results file
/// names their models `RUNTIME-MODEL` (`cpython-threads`).
pub const RUNTIMES: [&str; 1] = ["cpython"];

/// A model as a results file names it: one of [`MODELS`], the same model run by another
/// runtime (`cpython-threads`), or a study's or a runtime's own (`lazy`, `cpython-list`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named {
    /// The runtime that ran it, when not threadfork's Rust.
    pub runtime: Option<&'static str>,
    /// The model of [`MODELS`] it is, if any.
    pub model: Option<Model>,
}

impl Named {
    /// What `name` is.
    pub fn of(name: &str) -> Named {
        let prefixed = RUNTIMES.iter().find_map(|rt| {
            let rest = name.strip_prefix(rt)?.strip_prefix('-')?;
            Some((*rt, rest))
        });
        match prefixed {
            Some((rt, rest)) => Named {
                runtime: Some(rt),
                model: Model::parse(rest),
            },
            None => Named {
                runtime: None,
                model: Model::parse(name),
            },
        }
    }

    /// Whether it is a reference: its workers' shares run one after another on one thread, so
    /// that its figure at N workers is not a parallel one.
    pub fn is_reference(self) -> bool {
        self.model.is_some_and(|m| m.facts().reference)
    }

    /// The name of the reference its speedups are measured against: its own runtime's.
    pub fn reference(self) -> String {
        let seq = Model::Sequential.name();
        match self.runtime {
            Some(rt) => format!("{rt}-{seq}"),
            None => seq.to_string(),
        }
    }

    /// Whether it is a pool (of any runtime).
    pub fn is_pool(self) -> bool {
        self.model.is_some_and(|m| m.facts().pool.is_some())
    }

    /// Its row of [`MODELS`], if it is one of them.
    pub fn facts(self) -> Option<&'static Facts> {
        self.model.map(Model::facts)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_parses_back_from_its_name_and_families_expand() {
        for m in Model::ALL {
            assert_eq!(Model::parse(m.name()), Some(m));
        }
        let names: std::collections::BTreeSet<_> = Model::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Model::ALL.len());
        assert_eq!(Model::family("rayon").len(), 3);
        assert_eq!(Model::family("fork"), vec![Model::Fork]);
        assert!(Model::family("java").is_empty());
        // PER_SAMPLE is the table's models that start nothing or start per sample.
        let per_sample: Vec<Model> = MODELS
            .iter()
            .filter(|f| f.starts != Starts::PerCase)
            .map(|f| f.model)
            .collect();
        assert_eq!(per_sample, Model::PER_SAMPLE);
        for f in MODELS {
            assert_eq!(
                f.starts == Starts::PerCase,
                f.model.pool().is_some(),
                "{}",
                f.name
            );
        }
    }
}
