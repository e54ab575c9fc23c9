//! OS threads started with `pthread_create` itself, for the `threads` model's workers: their
//! start-up is then the operating system's, as a minimal C loop measures it. std's
//! `thread::spawn` does more for every thread before it runs any code of the caller (it maps
//! a guarded signal stack, reads the thread's affinity and id): a thread took 1.5–1.6× as long
//! to start as with `pthread_create` on the 2-vCPU AMD EPYC VM, in a loop of each. The `bare`
//! loop beside the threads model's start-up still measures std's own spawn.
//!
//! A panic in the thread is caught and handed to [`Thread::join`]. A thread dropped without
//! being joined is detached: it runs on, and its resources go back to the system when it
//! ends. Such a thread has no signal stack of its own, so a stack overflow in it ends the
//! process with SIGSEGV, without std's message naming the thread.

use nix::libc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// What the thread hands back: whether it has ended, and its closure's outcome.
struct Packet<T> {
    done: AtomicBool,
    outcome: Mutex<Option<std::thread::Result<T>>>,
}

/// What the new thread starts from: its closure and where to leave the outcome.
struct Start<F, T> {
    f: F,
    packet: Arc<Packet<T>>,
}

/// A thread started by [`spawn`].
pub struct Thread<T> {
    tid: libc::pthread_t,
    packet: Arc<Packet<T>>,
    joined: bool,
}

/// A worker's stack, as std gives its threads: `RUST_MIN_STACK` bytes if set, else 2 MiB.
fn stack_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("RUST_MIN_STACK")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2 << 20)
    })
}

/// Starts `f` on a new thread with std's stack size ([`stack_size`]) and the system's other
/// default attributes.
pub fn spawn<F, T>(f: F) -> std::io::Result<Thread<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let packet = Arc::new(Packet {
        done: AtomicBool::new(false),
        outcome: Mutex::new(None),
    });
    let start = Box::into_raw(Box::new(Start {
        f,
        packet: packet.clone(),
    }));
    let mut tid: libc::pthread_t = 0;
    // SAFETY: a zeroed attribute object is initialised by `pthread_attr_init` before any use,
    // and destroyed once after `pthread_create`, which copies what it needs of it;
    // `entry::<F, T>` takes exactly the `Start<F, T>` leaked above and frees it; `tid` is a
    // valid out-parameter. A stack size the system refuses leaves its default in place.
    let rc = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let made = libc::pthread_attr_init(&mut attr) == 0;
        if made {
            libc::pthread_attr_setstacksize(&mut attr, stack_size());
        }
        let with: *const libc::pthread_attr_t = if made { &attr } else { std::ptr::null() };
        let rc = libc::pthread_create(&mut tid, with, entry::<F, T>, start.cast());
        if made {
            libc::pthread_attr_destroy(&mut attr);
        }
        rc
    };
    if rc != 0 {
        // SAFETY: no thread was started, so `start` was never handed over: it is freed once.
        drop(unsafe { Box::from_raw(start) });
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    Ok(Thread {
        tid,
        packet,
        joined: false,
    })
}

extern "C" fn entry<F, T>(arg: *mut libc::c_void) -> *mut libc::c_void
where
    F: FnOnce() -> T,
{
    // SAFETY: `arg` is the `Start<F, T>` that `spawn` leaked for this thread alone.
    let start = unsafe { Box::from_raw(arg.cast::<Start<F, T>>()) };
    let Start { f, packet } = *start;
    // A panic must not unwind out of a C entry point: it is caught and handed to `join`.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    *packet
        .outcome
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(outcome);
    packet.done.store(true, Ordering::Release);
    std::ptr::null_mut()
}

impl<T> Thread<T> {
    /// Whether the thread's closure has returned (or panicked).
    pub fn is_finished(&self) -> bool {
        self.packet.done.load(Ordering::Acquire)
    }

    /// Waits for the thread to end; its closure's value, or the payload of its panic.
    pub fn join(mut self) -> std::thread::Result<T> {
        self.joined = true;
        // SAFETY: `tid` is a joinable thread started by `spawn`, joined here once (`self` is
        // consumed, and `Drop` does not detach a joined thread).
        let rc = unsafe { libc::pthread_join(self.tid, std::ptr::null_mut()) };
        let outcome = self
            .packet
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match (rc, outcome) {
            (0, Some(outcome)) => outcome,
            _ => Err(Box::new(format!("pthread_join failed: {rc}"))),
        }
    }
}

impl<T> Drop for Thread<T> {
    fn drop(&mut self) {
        if !self.joined {
            // SAFETY: `tid` is a thread started by `spawn`, neither joined nor detached yet.
            unsafe { libc::pthread_detach(self.tid) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_returns_its_value_and_a_panic_its_payload() {
        let t = spawn(|| 6 * 7).unwrap();
        assert_eq!(t.join().unwrap(), 42);
        let t = spawn(|| -> u32 { std::panic::panic_any("worker failed") }).unwrap();
        let payload = t.join().unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker failed"));
    }

    #[test]
    fn a_dropped_thread_runs_on_detached() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let t = spawn(move || {
            let _ = wait.recv();
            tx.send(7).unwrap();
        })
        .unwrap();
        assert!(!t.is_finished());
        drop(t);
        go.send(()).unwrap();
        assert_eq!(rx.recv().unwrap(), 7);
    }
}
