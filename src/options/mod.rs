//! The command line's options: the raw flags (clap, `args`), the parsers of their values
//! (`parse`) and their resolution into a validated [`crate::sweep::plan::Plan`] (`resolve`).
//! Nothing after the plan sees a raw string.

pub mod args;
pub mod parse;
pub mod resolve;

pub use args::*;
pub use resolve::resolve;

/// How the user runs this command line, for hints in messages: `threadfork`, or in a bench
/// binary `cargo bench --bench NAME --`.
pub(crate) static COMMAND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `threadfork SUBCOMMAND`, as the user would type it here.
pub(crate) fn hint(subcommand: &str) -> String {
    let command = COMMAND.get().map_or("threadfork", String::as_str);
    format!("see {command} {subcommand}")
}
