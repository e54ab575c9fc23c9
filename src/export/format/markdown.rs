//! Markdown, for a CI step summary or a pull-request comment.

use super::{Exporter, Report};
use crate::export::{ab_report, compare_report, summary};

pub struct Markdown;

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn render(&self, report: Report<'_>) -> String {
        match report {
            Report::Run(r) => summary::render(r),
            Report::Compare(c) => compare_report::render_markdown(c),
            Report::Ab(r, _) => ab_report::markdown(r),
        }
    }
}
