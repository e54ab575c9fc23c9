//! Fault injection, for tests only: makes worker 0 of a sample panic, abort, kill itself,
//! exit with an error or hang, so that the harness's handling of each fault can be tested
//! end to end. Reached through the hidden `run --inject-fault KIND:MODEL` flag.

/// What worker 0 does right after the barrier releases it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    Panic,
    Abort,
    Kill,
    Exit,
    Hang,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::None,
        Fault::Panic,
        Fault::Abort,
        Fault::Kill,
        Fault::Exit,
        Fault::Hang,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Panic => "panic",
            Fault::Abort => "abort",
            Fault::Kill => "kill",
            Fault::Exit => "exit",
            Fault::Hang => "hang",
        }
    }

    pub fn parse(s: &str) -> Option<Fault> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    pub fn code(self) -> u32 {
        Self::ALL.iter().position(|f| *f == self).unwrap_or(0) as u32
    }

    pub fn from_code(code: u32) -> Fault {
        Self::ALL.get(code as usize).copied().unwrap_or_default()
    }

    /// Whether a thread can suffer this fault without taking the whole harness with it.
    pub fn containable_in_thread(self) -> bool {
        matches!(self, Fault::None | Fault::Panic | Fault::Hang)
    }

    /// Does the fault. Returns only for `None`.
    pub fn strike(self, worker: usize) {
        match self {
            Fault::None => {}
            Fault::Panic => panic!("injected fault: worker {worker} panicked"),
            Fault::Abort => std::process::abort(),
            Fault::Kill => {
                // SAFETY: raising a signal on the calling process has no memory preconditions.
                unsafe { nix::libc::raise(nix::libc::SIGKILL) };
            }
            Fault::Exit => std::process::exit(3),
            Fault::Hang => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_round_trip_by_name_and_code() {
        for f in Fault::ALL {
            assert_eq!(Fault::from_code(f.code()), f);
            assert_eq!(Fault::parse(f.name()), Some(f));
        }
    }
}
