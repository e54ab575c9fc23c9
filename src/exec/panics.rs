//! Panics in a workload's own code: recorded with the place in the user's code they came
//! from, and reported once, in the case's failure line — not printed by every worker that hit
//! the same mistake. Panics anywhere else print as Rust prints them.

use std::cell::{Cell, RefCell};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Set while this thread runs a workload's own code.
    static IN_USER_CODE: Cell<bool> = const { Cell::new(false) };
    /// The last panic of this thread, with its location.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook, once per process: what a host binary's `main` does first.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = payload_text(info.payload());
            let located = match info.location() {
                Some(l) => format!("{text} (at {}:{}:{})", l.file(), l.line(), l.column()),
                None => text.to_string(),
            };
            LAST.with(|p| *p.borrow_mut() = Some(located));
            if !IN_USER_CODE.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// Runs a workload's own code (`run`, `verify`), marked as such for the hook.
pub fn user_code<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_USER_CODE.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(IN_USER_CODE.with(|c| c.replace(true)));
    f()
}

/// What a caught panic said: its message and, where the hook saw it, where in the code it
/// was raised.
pub fn text(payload: &(dyn std::any::Any + Send)) -> String {
    LAST.with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| payload_text(payload).to_string())
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
        store_message(&words, "a worker panicked");
        assert_eq!(load_message(&words), "a worker panicked");
        store_message(&words, &"x".repeat(200));
        assert_eq!(load_message(&words).len(), 96);
    }
}
