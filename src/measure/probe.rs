//! The frozen core-speed probe: a loop of its own — never any workload's code — taken beside
//! every sample, so that a comparison can tell a slower machine from a slower workload.
//! Frozen: its code and length never change, so probe figures of any two runs compare.

use std::hint::black_box;

use super::clock::now_ns;

/// Steps of one probe: about 0.1 ms on a current core (a dependent multiply–xorshift chain
/// runs at roughly one step per 5 cycles), short next to any sample, long next to the clock.
pub const PROBE_STEPS: u64 = 60_000;

/// One step of the chain: a 64-bit multiply, an add and a xorshift, each depending on the
/// last, so that the loop runs at the core's latency and no compiler can shorten it.
#[inline(always)]
fn step(x: u64, i: u64) -> u64 {
    let y = x.wrapping_mul(0x5851_f42d_4c95_7f2d).wrapping_add(i);
    y ^ (y >> 29)
}

/// Runs `steps` steps from a fixed seed; returns the chain's end value.
#[inline(never)]
pub fn chain(steps: u64) -> u64 {
    let mut x = SEED;
    for i in 0..black_box(steps) {
        x = step(x, i);
    }
    x
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The chain's end after [`PROBE_STEPS`], computed by the compiler: what every probe must end at.
pub const PROBE_END: u64 = {
    let (mut x, mut i) = (SEED, 0);
    while i < PROBE_STEPS {
        let y = x.wrapping_mul(0x5851_f42d_4c95_7f2d).wrapping_add(i);
        x = y ^ (y >> 29);
        i += 1;
    }
    x
};

/// The calling thread's core speed right now, in probe steps per second; `None` if the chain
/// did not end where it must (a reading that checks nothing is no reading).
pub fn probe() -> Option<f64> {
    let t0 = now_ns();
    let end = black_box(chain(PROBE_STEPS));
    let dt = now_ns().saturating_sub(t0).max(1);
    (end == PROBE_END).then(|| PROBE_STEPS as f64 / (dt as f64 / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_deterministic_and_the_probe_positive() {
        assert_eq!(chain(1000), chain(1000));
        assert_ne!(chain(1000), chain(1001));
        assert_eq!(chain(PROBE_STEPS), PROBE_END);
        assert!(probe().unwrap() > 0.0);
    }
}
