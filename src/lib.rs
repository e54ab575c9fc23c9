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

pub mod api;
pub mod builtin;
pub mod cli;
pub mod compare;
pub mod error;
pub mod exec;
pub mod export;
pub mod host;
pub mod machine;
pub mod measure;
pub mod results;
pub mod runtime;
pub mod stats;
pub mod sweep;
pub mod sys;
pub mod units;

pub use api::{
    Ctx, Model, Output, Param, Params, Registry, Sample, Size, Verdict, Workload, split,
};
pub use cli::run_main;
pub use sys::futex::{Mutex, MutexGuard};
pub use sys::shared::Shared;

/// The `main` of a bench or example binary: runs threadfork's command line (`run`, `compare`,
/// `report`, `machine`, `list`) over the given workloads, and serves as the spawn model's
/// worker when the harness re-enters the binary.
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
    ($($workload:expr),+ $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            // The spawn model's startup ends here: the worker's first instruction.
            let started_ns = $crate::measure::clock::now_ns();
            $crate::cli::run_main_at(started_ns, $crate::Registry::new()$(.with($workload))+)
        }
    };
}
