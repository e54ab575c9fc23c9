//! The formats every report can be written in, behind one trait: the summary of a run, a
//! comparison of runs, and an A/B job each go to stdout through an [`Exporter`] chosen by
//! `--format`. Adding a format is one file here and its line in [`EXPORTERS`].
//! (`index.html` and the charts are files of their own: `export::write_report`.)

mod csv;
mod json;
mod junit;
mod markdown;
mod text;

use std::path::Path;

use crate::compare::Report as Comparison;
use crate::compare::ab::report::AbResults;
use crate::results::Results;

/// What a command hands an exporter.
#[derive(Clone, Copy)]
pub enum Report<'a> {
    /// One run's results (`run`, `report`).
    Run(&'a Results),
    /// A baseline judged against a run (`compare`).
    Compare(&'a Comparison),
    /// An A/B job, and where its results file was saved.
    Ab(&'a AbResults, Option<&'a Path>),
}

/// One output format.
pub trait Exporter: Sync {
    /// Its name for `--format`.
    fn name(&self) -> &'static str;
    /// `report` written in this format.
    fn render(&self, report: Report<'_>) -> String;
}

/// Every format, the default first.
pub const EXPORTERS: [&dyn Exporter; 5] = [
    &text::Text,
    &markdown::Markdown,
    &json::Json,
    &junit::Junit,
    &csv::Csv,
];

/// The format `name` names.
pub fn by_name(name: &str) -> Option<&'static dyn Exporter> {
    EXPORTERS.iter().copied().find(|e| e.name() == name)
}

/// The names `--format` takes, for its error message.
pub fn names() -> String {
    EXPORTERS
        .iter()
        .map(|e| e.name())
        .collect::<Vec<_>>()
        .join(", ")
}
