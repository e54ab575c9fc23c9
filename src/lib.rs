//! threadfork: what threads, processes, pools and lazy pipelines really cost on this machine
//! — for your own code.
//!
//! Implement [`Workload`] for a piece of work, register it, and threadfork runs it
//! sequentially, as OS threads, as `fork`ed processes and as freshly spawned processes, at
//! every worker count, verifying every sample, and writes results, charts and comparisons.
//! State that workers share across processes is [`Shared`]: plain data in a `MAP_SHARED`
//! region, with threadfork's process-shared [`Mutex`] and the std atomics.
//!
//! A bench binary (`harness = false`) is one `impl Workload` and one line:
//!
//! ```no_run
//! # use threadfork::{Ctx, Output, Sample, Size, Verdict, Workload, Param};
//! # struct Mine;
//! # impl Workload for Mine {
//! #     type Shared = ();
//! #     fn name(&self) -> &'static str { "mine" }
//! #     fn op(&self) -> &'static str { "things" }
//! #     fn size(&self) -> Size { Size::None }
//! #     fn run(&self, _: &Ctx<'_, ()>) -> Output { Output::new(1, 0) }
//! #     fn verify(&self, _: &Sample<'_, ()>) -> Verdict { Verdict::Passed }
//! # }
//! threadfork::main!(Mine);
//! ```
//!
//! `cargo bench --bench NAME -- run --quick` then runs threadfork's whole command line over
//! `Mine`; the spawn model re-enters that same binary as its workers.
//!
//! A whole workload — shared deposits under threadfork's process-shared lock — and one sample
//! of it on four threads and on four forked processes, as a crate's own test checks that it
//! stays exact ([`testing`]):
//!
//! ```
//! use std::path::Path;
//! use threadfork::testing::{Bound, run_sample};
//! use threadfork::{Ctx, Model, Mutex, Output, Param, Registry, Sample, Size, Verdict, Workload};
//!
//! struct Bank;
//!
//! const DEPOSITS: Param = Param::new("deposits", 10_000).range(1, 1 << 40);
//!
//! impl Workload for Bank {
//!     type Shared = Mutex<[u64; 8]>;
//!     fn name(&self) -> &'static str { "bank" }
//!     fn op(&self) -> &'static str { "deposits" }
//!     fn params(&self) -> &'static [Param] { &[DEPOSITS] }
//!     fn size(&self) -> Size { Size::PerWorker(DEPOSITS) }
//!     fn run(&self, ctx: &Ctx<'_, Self::Shared>) -> Output {
//!         for i in 0..ctx.units() {
//!             ctx.shared().lock()[(i % 8) as usize] += 1;
//!         }
//!         Output::new(ctx.units(), 0)
//!     }
//!     fn verify(&self, s: &Sample<'_, Self::Shared>) -> Verdict {
//!         let total: u64 = s.shared().lock().iter().sum();
//!         Verdict::check(total == s.total_units(), || format!("{total} deposited"))
//!     }
//! }
//!
//! let registry = Registry::new().with(Bank);
//! let bank = Bound::new(registry.find("bank").unwrap(), "default", &[]).unwrap();
//! // Threads and fork run in this process; only the spawn model needs a host binary.
//! for model in [Model::Threads, Model::Fork] {
//!     let raw = run_sample(model, &bank.job(4, Path::new("unused"))).unwrap();
//!     assert_eq!(raw.verdict, Verdict::Passed);
//!     assert_eq!(raw.ops(), 4 * 10_000);
//! }
//! ```

pub mod api;
pub mod builtin;
mod cli;
mod compare;
mod error;
mod exec;
mod export;
mod host;
mod machine;
mod measure;
mod options;
mod results;
mod runtime;
mod stats;
mod sweep;
mod sys;
mod units;

/// One sample of a workload on one model, as threadfork's executors take it: what a crate's
/// own tests use to check that its workload is exact across threads and processes.
///
/// ```no_run
/// use std::path::Path;
/// use threadfork::testing::{Bound, run_sample};
/// use threadfork::{Model, Verdict};
///
/// let registry = threadfork::Registry::new(); // .with(YourWorkload)
/// let mine = Bound::new(registry.find("mine").unwrap(), "default", &[("items", 1000)]).unwrap();
/// // The spawn model re-enters a host binary: in a crate's tests, env!("CARGO_BIN_EXE_<name>").
/// let raw = run_sample(Model::Fork, &mine.job(4, Path::new("target/release/host"))).unwrap();
/// assert_eq!(raw.verdict, Verdict::Passed);
/// assert_eq!(raw.ops(), 4 * 1000);
/// ```
pub mod testing {
    pub use crate::exec::{Bound, Job, RawSample, SampleError, WorkerReport, run_sample};
}

/// Each engine module `m`, re-exported whole as `__private::m`.
macro_rules! engine_modules {
    ($($m:ident),*) => {
        $(pub mod $m {
            pub use crate::$m::*;
        })*
    };
}

/// What the macros expand to, and the engine's modules that threadfork's own tests read: not
/// part of the API, and free to change.
#[doc(hidden)]
pub mod __private {
    pub use crate::cli::rev::{HostCrate, set_host_crate};
    pub use crate::cli::{parse_args, run_main_at};
    pub use crate::measure::alloc::{CountingAlloc, pin_malloc_threshold};
    pub use crate::measure::clock::now_ns;
    engine_modules!(
        exec, export, machine, measure, options, results, stats, sweep
    );
}

pub use api::answers;
pub use api::study;
pub use api::{
    Ctx, Metric, Model, Output, Param, ParamValues, Params, Registry, Sample, Size, Verdict,
    Workload, split,
};
pub use cli::run_main;
pub use sys::futex::{Mutex, MutexGuard};
pub use sys::shared::Shared;

/// The `main` of a bench or example binary: runs threadfork's command line (`run`, `ab`,
/// `compare`, `report`, `machine`, `list`) over the given workloads, serves as the spawn
/// model's worker and as an A/B side when the harness re-enters the binary, and installs
/// threadfork's counting allocator (a wrapper of the system allocator) so that heap figures
/// are measured. `main!(registry: expr)` takes a whole [`Registry`] instead.
///
/// ```no_run
/// # use threadfork::{Ctx, Output, Sample, Size, Verdict, Workload};
/// # struct A; struct B;
/// # impl Workload for A { type Shared = (); fn name(&self) -> &'static str { "a" }
/// #   fn op(&self) -> &'static str { "x" } fn size(&self) -> Size { Size::None }
/// #   fn run(&self, _: &Ctx<'_, ()>) -> Output { Output::new(1, 0) }
/// #   fn verify(&self, _: &Sample<'_, ()>) -> Verdict { Verdict::Passed } }
/// # impl Workload for B { type Shared = (); fn name(&self) -> &'static str { "b" }
/// #   fn op(&self) -> &'static str { "x" } fn size(&self) -> Size { Size::None }
/// #   fn run(&self, _: &Ctx<'_, ()>) -> Output { Output::new(1, 0) }
/// #   fn verify(&self, _: &Sample<'_, ()>) -> Verdict { Verdict::Passed } }
/// threadfork::main!(A, B);
/// ```
#[macro_export]
macro_rules! main {
    (registry: $registry:expr $(,)?) => {
        // Heap figures (bytes allocated per item, a sequence's peak) need every allocation
        // counted: the binary's allocator is threadfork's counting wrapper of the system's.
        #[global_allocator]
        static THREADFORK_ALLOC: $crate::__private::CountingAlloc =
            $crate::__private::CountingAlloc;

        fn main() -> ::std::process::ExitCode {
            // The spawn model's startup ends here: the worker's first instruction.
            let started_ns = $crate::__private::now_ns();
            $crate::__private::pin_malloc_threshold();
            // The crate this binary is built from, for `ab --rev`: read where main! expands.
            $crate::__private::set_host_crate($crate::__private::HostCrate {
                package: env!("CARGO_PKG_NAME"),
                manifest_dir: env!("CARGO_MANIFEST_DIR"),
                target: env!("CARGO_CRATE_NAME"),
                bin: option_env!("CARGO_BIN_NAME"),
            });
            $crate::__private::run_main_at(started_ns, $registry)
        }
    };
    ($($workload:expr),+ $(,)?) => {
        $crate::main!(registry: $crate::Registry::new()$(.with($workload))+);
    };
}
