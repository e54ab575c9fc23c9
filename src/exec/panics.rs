//! Panics in a workload's own code: recorded with the place in the user's code they came
//! from, and reported once, in the case's failure line — not printed by every worker that hit
//! the same mistake. Panics anywhere else print as Rust prints them.

use std::cell::{Cell, RefCell};
use std::sync::Once;

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
            let text = super::fault::payload_text(info.payload());
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
        .unwrap_or_else(|| super::fault::payload_text(payload).to_string())
}
