//! JSON, for a script: a run's results as saved, a comparison's verdicts, an A/B job's rows.

use super::{Exporter, Report};
use crate::export::ab_report;

pub struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, report: Report<'_>) -> String {
        let value = match report {
            Report::Run(r) => serde_json::to_value(r),
            Report::Compare(c) => serde_json::to_value(c),
            Report::Ab(r, saved) => Ok(ab_report::json(r, saved)),
        };
        // Every value here is plain data (strings, numbers, maps with string keys); were one
        // not, the error still goes out as JSON.
        let text = value
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
        text + "\n"
    }
}
