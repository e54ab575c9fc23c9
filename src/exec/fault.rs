//! Fault injection, for tests only: makes worker 0 of a sample panic, abort, kill itself,
//! exit with an error or hang, so that the harness's handling of each fault can be tested
//! end to end. Reached through the hidden `run --inject-fault KIND:MODEL` flag.

use std::sync::atomic::{AtomicU64, Ordering};

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

/// Exit code of a process worker whose job panicked (the code Rust uses for a panic).
pub const PANIC_EXIT: i32 = 101;

/// Bytes of a panic message kept in a slot.
pub const MESSAGE_WORDS: usize = 12;

/// Copies up to 96 bytes of `msg` into a slot's message words (allocation-free).
pub fn store_message(words: &[AtomicU64; MESSAGE_WORDS], msg: &str) {
    let bytes = msg.as_bytes();
    for (i, w) in words.iter().enumerate() {
        let mut chunk = [0u8; 8];
        for (k, c) in chunk.iter_mut().enumerate() {
            *c = bytes.get(i * 8 + k).copied().unwrap_or(0);
        }
        w.store(u64::from_le_bytes(chunk), Ordering::Relaxed);
    }
}

/// Reads a message stored by [`store_message`].
pub fn load_message(words: &[AtomicU64; MESSAGE_WORDS]) -> String {
    let bytes: Vec<u8> = words
        .iter()
        .flat_map(|w| w.load(Ordering::Relaxed).to_le_bytes())
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The text of a panic payload.
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic with a non-text payload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_truncate() {
        let words: [AtomicU64; MESSAGE_WORDS] = Default::default();
        store_message(&words, "injected fault: worker 0 panicked");
        assert_eq!(load_message(&words), "injected fault: worker 0 panicked");
        store_message(&words, &"x".repeat(200));
        assert_eq!(load_message(&words).len(), 96);
        for f in Fault::ALL {
            assert_eq!(Fault::from_code(f.code()), f);
            assert_eq!(Fault::parse(f.name()), Some(f));
        }
    }
}
