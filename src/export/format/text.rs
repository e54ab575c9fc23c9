//! For a terminal: the summary and A/B report as Markdown (it reads as plain text), a
//! comparison as an aligned table.

use super::{Exporter, Report};
use crate::export::{ab_report, compare_report, summary};

pub struct Text;

impl Exporter for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn render(&self, report: Report<'_>) -> String {
        match report {
            Report::Run(r) => summary::render(r),
            Report::Compare(c) => compare_report::render_text(c),
            Report::Ab(r, _) => ab_report::markdown(r),
        }
    }
}
