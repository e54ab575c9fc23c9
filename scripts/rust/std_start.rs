//! threadfork's independent reference for what a Rust thread costs to start: std's own
//! `thread::Builder::spawn`, in a minimal loop with nothing of threadfork around it — beside
//! scripts/c/startup.c's bare `pthread_create`, it shows what std adds (a guarded signal stack
//! mapped for every thread, its affinity and id read).
//!
//!   std_start N      (built: rustc -O -o std_start std_start.rs)
//!
//! prints, one per line, the medians in ns of N rounds of:
//!   std_thread_roundtrip  spawn + join of a thread that returns at once
//!   std_thread_startup    spawn called -> the new thread's first clock read
//! the two kinds interleaved round by round, so that both see the same moments of a noisy host.

use std::time::Instant;

fn median(v: &mut [u128]) -> u128 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 300,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: std_start N (N >= 1)");
            std::process::exit(2);
        }
    };
    let origin = Instant::now();
    let (mut roundtrip, mut startup) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t0 = Instant::now();
        std::thread::Builder::new().spawn(|| ()).unwrap().join().unwrap();
        roundtrip.push(t0.elapsed().as_nanos());
        let called = origin.elapsed().as_nanos();
        let first = std::thread::Builder::new()
            .spawn(move || origin.elapsed().as_nanos())
            .unwrap()
            .join()
            .unwrap();
        startup.push(first - called);
    }
    println!("std_thread_roundtrip {}", median(&mut roundtrip));
    println!("std_thread_startup {}", median(&mut startup));
}
