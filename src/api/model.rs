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

impl Model {
    pub const ALL: [Model; 13] = {
        let mut all = [Model::Sequential; 13];
        let firsts = [Model::Sequential, Model::Threads, Model::Fork, Model::Spawn];
        let mut i = 0;
        while i < 4 {
            all[i] = firsts[i];
            i += 1;
        }
        let mut p = 0;
        while p < 3 {
            let mut q = 0;
            while q < 3 {
                all[4 + p * 3 + q] = Model::Pool(Pool::ALL[p], Pattern::ALL[q]);
                q += 1;
            }
            p += 1;
        }
        all
    };

    /// The models that start their workers in every sample.
    pub const PER_SAMPLE: [Model; 4] =
        [Model::Sequential, Model::Threads, Model::Fork, Model::Spawn];

    pub fn name(self) -> &'static str {
        use Pattern::*;
        use Pool::*;
        match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Fork => "fork",
            Model::Spawn => "spawn",
            Model::Pool(Threads, Map) => "thread-pool-map",
            Model::Pool(Threads, AsCompleted) => "thread-pool-as-completed",
            Model::Pool(Threads, SubmitWait) => "thread-pool-submit-wait",
            Model::Pool(Rayon, Map) => "rayon-map",
            Model::Pool(Rayon, AsCompleted) => "rayon-as-completed",
            Model::Pool(Rayon, SubmitWait) => "rayon-submit-wait",
            Model::Pool(Processes, Map) => "process-pool-map",
            Model::Pool(Processes, AsCompleted) => "process-pool-as-completed",
            Model::Pool(Processes, SubmitWait) => "process-pool-submit-wait",
        }
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
        matches!(
            self,
            Model::Fork | Model::Spawn | Model::Pool(Pool::Processes, _)
        )
    }

    /// The pool and pattern of a pool model.
    pub fn pool(self) -> Option<(Pool, Pattern)> {
        match self {
            Model::Pool(p, q) => Some((p, q)),
            _ => None,
        }
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
    }
}
