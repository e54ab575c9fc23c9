//! For a terminal: the summary and A/B report as Markdown (it reads as plain text), a
//! comparison as an aligned table.

use super::{Exporter, Report};
use crate::export::compare_report;

pub struct Text;

impl Exporter for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn render(&self, report: Report<'_>) -> String {
        // The summary and the A/B report read as plain text in their Markdown form.
        match report {
            Report::Compare(c) => compare_report::render_text(c),
            other => super::markdown::Markdown.render(other),
        }
    }
}
