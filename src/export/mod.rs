//! Everything a person reads, each built from the results on its own: the summary (as a
//! document rendered to Markdown or HTML), charts, and the HTML index.

pub mod ab_chart;
pub mod ab_report;
pub mod answers;
pub mod charts;
pub mod compare_report;
pub mod differ;
pub mod doc;
pub mod format;
pub mod history;
pub mod html;
pub mod summary;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::results::{Results, write_atomic};

/// Draws the charts of `runs` (one run: its charts; several: overlaid) and `index.html`
/// into `dir`. Returns the files written.
pub fn write_report(runs: &[Results], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let charts = match runs {
        [one] => charts::charts_for(one),
        many => charts::overlay_charts(many),
    };
    let mut files = Vec::new();
    let mut listed = Vec::new();
    for chart in &charts {
        files.extend(charts::draw(chart, dir)?);
        listed.push((format!("{}.svg", chart.stem), chart.title.clone()));
    }
    let index = dir.join("index.html");
    write_atomic(&index, html::page(runs, &listed).as_bytes())
        .with_context(|| format!("cannot write {}", index.display()))?;
    files.push(index);
    Ok(files)
}
