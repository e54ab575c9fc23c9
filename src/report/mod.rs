//! Everything a person reads: the Markdown summary, charts and the HTML index.

pub mod format;
pub mod summary;
