//! The registry: workload names to workloads, for the command line, the sweep and the spawn
//! model's workers, which re-enter the host binary and look their workload up by name.

use std::sync::Arc;

use super::workload::{MAX_PARAMS, Size, Workload, WorkloadRef};
use crate::api::study::{Study, StudyRef};

/// Largest shared state a workload may declare: it is mapped once per sample.
pub const MAX_SHARED_BYTES: usize = 1 << 30;
/// Strictest alignment a shared state may ask for: the region is page-aligned.
pub const MAX_SHARED_ALIGN: usize = 4096;

/// The workloads a binary offers. Build it with [`Registry::with`] and hand it to
/// [`crate::run_main`] (or use [`crate::main!`]).
#[derive(Clone, Default)]
pub struct Registry {
    workloads: Vec<WorkloadRef>,
    studies: Vec<StudyRef>,
    problems: Vec<String>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a workload. A name that is taken or malformed, too many parameters, a size
    /// parameter that is not declared, or shared state too large or too strictly aligned is
    /// reported when the binary starts, as one line and exit code 2.
    pub fn with<W: Workload>(mut self, workload: W) -> Registry {
        let w: WorkloadRef = Arc::new(workload);
        let info = w.info();
        if let Some(p) = check(&info, self.names().as_slice()) {
            self.problems.push(format!("workload '{}': {p}", info.name));
        }
        self.workloads.push(w);
        self
    }

    /// Adds a study: cases with models of their own (the sequence study's lazy, eager and
    /// pipeline), run by the sweep beside the workloads; see [`crate::study`] for an example.
    pub fn with_study<S: Study>(mut self, study: S) -> Registry {
        let name = study.name();
        if self.names().contains(&name) {
            self.problems
                .push(format!("study '{name}': the name is taken"));
        }
        self.studies.push(Arc::new(study));
        self
    }

    pub fn workloads(&self) -> &[WorkloadRef] {
        &self.workloads
    }

    pub fn studies(&self) -> &[StudyRef] {
        &self.studies
    }

    pub fn find(&self, name: &str) -> Option<&WorkloadRef> {
        self.workloads.iter().find(|w| w.info().name == name)
    }

    /// Every name the registry answers to: workloads, then studies.
    pub fn names(&self) -> Vec<&'static str> {
        self.workloads
            .iter()
            .map(|w| w.info().name)
            .chain(self.studies.iter().map(|s| s.name()))
            .collect()
    }

    /// What is wrong with the registered workloads, if anything.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check(info: &super::workload::Info, taken: &[&str]) -> Option<String> {
    if !valid_name(info.name) {
        return Some("a name is 1 to 40 lower-case letters, digits, '-' or '_'".into());
    }
    if taken.contains(&info.name) {
        return Some("the name is taken".into());
    }
    if info.params.len() > MAX_PARAMS {
        return Some(format!("at most {MAX_PARAMS} parameters"));
    }
    if let Some(p) = info.params.iter().find(|p| !valid_name(p.name)) {
        return Some(format!("parameter name '{}' is not a valid name", p.name));
    }
    if let Some(p) = info
        .params
        .iter()
        .find(|p| p.flag.is_some_and(|f| !valid_name(f) || f.contains('_')))
    {
        return Some(format!(
            "parameter '{}': a flag is 1 to 40 lower-case letters, digits or '-'",
            p.name
        ));
    }
    if let Some(p) = info
        .params
        .iter()
        .find(|p| p.min > p.max || p.default < p.min || p.default > p.max)
    {
        return Some(format!(
            "parameter '{}' has default {} outside {}..={}",
            p.name, p.default, p.min, p.max
        ));
    }
    if let Size::Split(n) | Size::PerWorker(n) = info.size
        && !info.params.contains(&n)
    {
        return Some(format!(
            "its size parameter '{}' is not declared in params()",
            n.name
        ));
    }
    if info.variants.is_empty() || info.variants.iter().any(|v| !valid_name(v)) {
        return Some("variants must be one or more valid names".into());
    }
    if info.shared_size > MAX_SHARED_BYTES || info.shared_align > MAX_SHARED_ALIGN {
        return Some(format!(
            "shared state of {} bytes aligned to {} is over the limit of {} bytes aligned to {}",
            info.shared_size, info.shared_align, MAX_SHARED_BYTES, MAX_SHARED_ALIGN
        ));
    }
    None
}
