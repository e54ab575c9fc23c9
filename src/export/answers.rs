//! The answers a reader comes for, first in the summary and at the top of `index.html`: the
//! lines each workload gave for the run (stored in the results file), or — for a file saved
//! before workloads gave answers — the generic lines of each workload
//! ([`crate::answers::RunFigures::generic`]).

use crate::answers::RunFigures;
use crate::results::Results;
pub use crate::results::{Answer, Quote};

/// Every answer of the run, in the order the workloads gave them.
pub fn answers(r: &Results) -> Vec<Answer> {
    if !r.answers.is_empty() {
        return r.answers.clone();
    }
    r.workload_names()
        .iter()
        .flat_map(|w| RunFigures::new(r, w).generic())
        .collect()
}
