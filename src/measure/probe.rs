//! The frozen core-speed probe: a loop of its own — never any workload's code — taken beside
//! every sample, so that a comparison can tell a slower machine from a slower workload.
//! Frozen: its code and length never change, so probe figures of any two runs compare.

use std::hint::black_box;

use super::clock::now_ns;

/// Which probe a run's figures are in units of. Runs whose probes differ in kind are never
/// divided by them against each other. `chain` (the first, a dependent multiply chain) ran
/// at the core's latency and did not see this host's slow spells, which come from a busy
/// sibling hyperthread taking the core's issue slots; `l1-mix` runs on those slots.
pub const PROBE_KIND: &str = "l1-mix";

/// Steps of one probe: about 0.1 ms on a current core — short next to a sample (a worker
/// takes one before its share and one after), long enough to average the sub-millisecond
/// flicker of a shared core.
pub const PROBE_STEPS: u64 = 131_072;

/// Words of the probe's stack buffer: 4 KiB, resident in any L1 data cache.
const WORDS: usize = 512;

/// Runs `steps` steps from a fixed seed over a stack buffer; returns the end value. Each step
/// loads, adds and stores two words and feeds an add–xorshift chain: several independent
/// operations per step, so that it runs on the core's issue slots and load/store ports as
/// most workloads do, not on one latency. Allocation-free: a forked child may run it.
#[inline(never)]
pub fn chain(steps: u64, buf: &mut [u64; WORDS]) -> u64 {
    buf.fill(0);
    let mut x = SEED;
    for i in 0..black_box(steps) {
        let (a, b) = ((i as usize * 7) % WORDS, (i as usize * 13) % WORDS);
        buf[a] = buf[a].wrapping_add(i);
        x = x.wrapping_add(buf[b]) ^ (x >> 17);
    }
    black_box(buf);
    x
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The end of [`chain`] after `steps`, computed at compile time.
const fn chain_end(steps: u64) -> u64 {
    let mut buf = [0u64; WORDS];
    let (mut x, mut i) = (SEED, 0);
    while i < steps {
        let (a, b) = ((i as usize * 7) % WORDS, (i as usize * 13) % WORDS);
        buf[a] = buf[a].wrapping_add(i);
        x = x.wrapping_add(buf[b]) ^ (x >> 17);
        i += 1;
    }
    x
}

/// What every probe must end at.
pub const PROBE_END: u64 = chain_end(PROBE_STEPS);

/// The calling thread's core speed right now, in probe steps per second; `None` if the chain
/// did not end where it must (a reading that checks nothing is no reading).
pub fn probe() -> Option<f64> {
    speed(probe_ns())
}

/// One probe's duration in ns, or 0 when the chain did not end where it must: what a worker
/// stores in its slot (a plain integer crosses into the parent from any process). The buffer
/// is written before the clock starts: a forked child's first write to a stack page copies
/// it, and that is not the core's speed.
pub fn probe_ns() -> u64 {
    let mut buf = [1u64; WORDS];
    black_box(&mut buf);
    let t0 = now_ns();
    let end = black_box(chain(PROBE_STEPS, &mut buf));
    let dt = now_ns().saturating_sub(t0).max(1);
    if end == PROBE_END { dt } else { 0 }
}

/// Steps per second from a probe's duration in ns (`None` for a failed probe).
pub fn speed(probe_ns: u64) -> Option<f64> {
    (probe_ns > 0).then(|| PROBE_STEPS as f64 / (probe_ns as f64 / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_deterministic_and_the_probe_positive() {
        let mut buf = [7u64; WORDS];
        assert_eq!(chain(1000, &mut buf), chain(1000, &mut [0; WORDS]));
        assert_ne!(chain(1000, &mut buf), chain(1001, &mut buf));
        assert_eq!(chain(PROBE_STEPS, &mut buf), PROBE_END);
        assert_eq!(chain(1000, &mut buf), chain_end(1000));
        assert!(probe_ns() > 0 && speed(probe_ns()).unwrap() > 0.0);
        assert!(probe().unwrap() > 0.0);
    }
}
