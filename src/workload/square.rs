//! `square_numbers`: i*i for i in 0..n folded into a checksum, verified in closed form.

use std::hint::black_box;

use super::VerifyError;

/// The classic example's list length: square the numbers 0..100.
pub const DEFAULT_WORK: u64 = 100;

/// One task: the wrapping sum of i*i for i in 0..n. `black_box` on every square keeps the
/// compiler from replacing the loop by its closed form, so each square is really computed.
#[inline]
pub fn square_numbers(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(black_box(i.wrapping_mul(i)));
    }
    acc
}

/// `tasks` tasks of `work` squares; the checksum is the wrapping sum of the task checksums.
/// Never inlined: every model and the calibration then run the very same machine code, so
/// that no model is faster or slower merely because its copy of the loop was laid out
/// differently (on the reference machine two inlined copies differed by 1.6×).
#[inline(never)]
pub fn run_tasks(work: u64, tasks: u64) -> u64 {
    let mut sum = 0u64;
    for _ in 0..tasks {
        sum = sum.wrapping_add(square_numbers(black_box(work)));
    }
    sum
}

/// Closed form of one task: sum of i^2 for i in 0..n is (n-1)n(2n-1)/6, wrapping to u64.
pub fn expected_task(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Exact in u128 for n < 2^41; beyond that reduce with the factors that divide exactly.
    let (a, b, c) = (u128::from(n - 1), u128::from(n), 2 * u128::from(n) - 1);
    let (mut x, mut y, mut z) = (a, b, c);
    // One of n-1, n is even; one of n-1, n, 2n-1 is a multiple of 3.
    if x % 2 == 0 {
        x /= 2;
    } else {
        y /= 2;
    }
    if x % 3 == 0 {
        x /= 3;
    } else if y % 3 == 0 {
        y /= 3;
    } else {
        z /= 3;
    }
    let m = u128::from(u64::MAX) + 1;
    let p = ((x % m) * (y % m)) % m;
    ((p * (z % m)) % m) as u64
}

/// Checks the checksum of `tasks` tasks of `work` squares.
pub fn verify(work: u64, tasks: u64, checksum: u64) -> Result<(), VerifyError> {
    let expected = expected_task(work).wrapping_mul(tasks);
    if checksum == expected {
        Ok(())
    } else {
        Err(VerifyError::Checksum {
            got: checksum,
            expected,
            work,
            tasks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_hand_values() {
        assert_eq!(expected_task(0), 0);
        assert_eq!(expected_task(1), 0);
        assert_eq!(expected_task(4), 1 + 4 + 9);
        assert_eq!(expected_task(100), 328_350);
    }

    #[test]
    fn closed_form_matches_the_loop_when_it_wraps() {
        // 3_000_000 squares sum past 2^64, so both sides must wrap the same way.
        for n in [2, 3, 7, 1000, 3_000_000] {
            assert_eq!(square_numbers(n), expected_task(n), "n = {n}");
        }
    }

    #[test]
    fn verify_accepts_right_and_rejects_wrong_checksums() {
        let sum = run_tasks(100, 7);
        assert_eq!(verify(100, 7, sum), Ok(()));
        let err = verify(100, 7, sum + 1).unwrap_err();
        assert!(matches!(err, VerifyError::Checksum { .. }));
        assert!(err.to_string().contains("checksum mismatch"));
    }
}
