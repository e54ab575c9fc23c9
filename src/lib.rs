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
#[doc(hidden)]
pub mod builtin;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod compare;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod exec;
#[doc(hidden)]
pub mod export;
#[doc(hidden)]
pub mod host;
#[doc(hidden)]
pub mod machine;
#[doc(hidden)]
pub mod measure;
#[doc(hidden)]
pub mod options;
#[doc(hidden)]
pub mod results;
#[doc(hidden)]
pub mod runtime;
#[doc(hidden)]
pub mod stats;
#[doc(hidden)]
pub mod sweep;
#[doc(hidden)]
pub mod sys;
#[doc(hidden)]
pub mod units;

/// What the macros expand to: not part of the API, and free to change.
#[doc(hidden)]
pub mod __private {
    pub use crate::cli::run_main_at;
    pub use crate::measure::alloc::{CountingAlloc, pin_malloc_threshold};
    pub use crate::measure::clock::now_ns;
}

pub use api::answers;
pub use api::study;
pub use api::{
    Ctx, Model, Output, Param, Params, Registry, Sample, Size, Verdict, Workload, split,
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
            $crate::__private::run_main_at(started_ns, $registry)
        }
    };
    ($($workload:expr),+ $(,)?) => {
        $crate::main!(registry: $crate::Registry::new()$(.with($workload))+);
    };
}
