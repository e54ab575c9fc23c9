//! The one seam through which tests reach into the engine: injected faults (`--inject-fault`)
//! and injected slowdowns (`--inject-slowdown`). The engine calls the hooks below at the
//! points a fault or a slowdown belongs (a worker's share, a `fork`, a `spawn`, a lock); with
//! nothing injected each is a load and a branch. Nothing outside this folder names `fault` or
//! `inject`.

mod fault;
mod inject;

use crate::api::Model;
use crate::error::BadInput;

pub use fault::Fault;
pub use inject::{
    ENV as SLOWDOWN_ENV, Slowdown, child_arg, child_env, fork, from_arg, from_env, run_share,
    set as set_slowdown, spawn, spec as slowdown_spec,
};

/// What a run injects (tests only): a fault of one model's workers, a fault of the lean
/// start-up parent, a slowdown. All empty in a real run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// A fault of worker 0 of every task sample of one model.
    pub fault: Option<(Fault, Model)>,
    /// What the lean start-up parent does wrong instead of measuring (`hang`, `crash`).
    pub lean_fault: Option<&'static str>,
    /// A real slowdown, to measure what the gate sees.
    pub slowdown: Option<Slowdown>,
}

impl Injected {
    /// Reads the hidden `--inject-fault KIND:MODEL` (or `hang:lean`, `abort:lean`) and
    /// `--inject-slowdown TARGET=PCT` flags.
    pub fn parse(fault: Option<&str>, slowdown: Option<&str>) -> Result<Injected, BadInput> {
        let lean_fault = match fault {
            Some("hang:lean") => Some("hang"),
            Some("abort:lean") => Some("crash"),
            _ => None,
        };
        let fault = match fault {
            Some(t) if lean_fault.is_none() => Some(model_fault(t)?),
            _ => None,
        };
        Ok(Injected {
            fault,
            lean_fault,
            slowdown: slowdown.map(Slowdown::parse).transpose()?,
        })
    }

    /// The fault to inject into `model`'s samples ([`Fault::None`] for every other model).
    pub fn fault_for(&self, model: Model) -> Fault {
        match self.fault {
            Some((f, m)) if m == model => f,
            _ => Fault::None,
        }
    }
}

/// `KIND:MODEL`: a fault the model can contain.
fn model_fault(t: &str) -> Result<(Fault, Model), BadInput> {
    let bad = || {
        BadInput::new(format!(
            "--inject-fault: '{t}' is not KIND:MODEL (panic, abort, kill, exit, hang : a worker model)"
        ))
    };
    let (k, m) = t.split_once(':').ok_or_else(bad)?;
    let (f, m) = Fault::parse(k).zip(Model::parse(m)).ok_or_else(bad)?;
    if !m.is_process() && !f.containable_in_thread() || m == Model::Sequential && f == Fault::Hang {
        return Err(BadInput::new(format!(
            "--inject-fault: {} cannot be contained in model {m}: it shares the harness's process",
            f.name()
        )));
    }
    Ok((f, m))
}
