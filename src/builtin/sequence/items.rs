//! Sequences: produce 0..n (or its evens, or its squares) and consume it by summing, either
//! lazily one item at a time or eagerly after collecting a `Vec<u64>`. Verified in closed form.

use std::hint::black_box;

/// Which sequence is produced and summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SequenceVariant {
    /// 0..n, summed: the classic `sum(range(n))` against `sum(list(range(n)))`.
    Range,
    /// The even numbers of 0..n, through a filter: `(x for x in range(n) if x % 2 == 0)`.
    Evens,
    /// The squares of 0..n, summed: the per-item work of the parallel pipeline.
    Squares,
}

impl SequenceVariant {
    pub const ALL: [SequenceVariant; 3] = [
        SequenceVariant::Range,
        SequenceVariant::Evens,
        SequenceVariant::Squares,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SequenceVariant::Range => "range",
            SequenceVariant::Evens => "evens",
            SequenceVariant::Squares => "squares",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }

    /// Items the consumer sees for this n.
    pub fn items(self, n: u64) -> u64 {
        match self {
            SequenceVariant::Evens => n.div_ceil(2),
            _ => n,
        }
    }

    /// The lazy producer: an iterator that makes each item when it is pulled.
    pub fn produce(self, n: u64) -> Box<dyn Iterator<Item = u64>> {
        match self {
            SequenceVariant::Range | SequenceVariant::Squares => Box::new(0..n),
            SequenceVariant::Evens => Box::new((0..n).filter(|x| x % 2 == 0)),
        }
    }

    /// What the consumer adds for one produced item.
    #[inline]
    pub fn consume_item(self, x: u64) -> u64 {
        match self {
            SequenceVariant::Squares => x.wrapping_mul(x),
            _ => x,
        }
    }

    /// The expected sum in closed form.
    pub fn expected_sum(self, n: u64) -> u64 {
        match self {
            SequenceVariant::Range => triangle(n),
            SequenceVariant::Evens => {
                let k = u128::from(n.div_ceil(2));
                (k * k.saturating_sub(1)) as u64
            }
            SequenceVariant::Squares => crate::builtin::square::expected_task(n),
        }
    }

    pub fn verify(self, n: u64, got: u64) -> Result<(), String> {
        let expected = self.expected_sum(n);
        if got == expected {
            Ok(())
        } else {
            Err(format!(
                "sequence sum mismatch: got {got}, expected {expected} ({} of n = {n})",
                self.name()
            ))
        }
    }
}

/// 0 + 1 + … + (n-1), wrapping like the consumer's sum.
fn triangle(n: u64) -> u64 {
    let n = u128::from(n);
    ((n * n.saturating_sub(1)) / 2) as u64
}

/// Sums the items of `iter` one at a time; every item passes through `black_box`, so the
/// compiler can neither skip producing it nor fold the loop into a formula.
#[inline]
pub fn sum_items(variant: SequenceVariant, iter: impl Iterator<Item = u64>) -> u64 {
    iter.fold(0u64, |acc, x| {
        acc.wrapping_add(variant.consume_item(black_box(x)))
    })
}

/// The lazy path: pull from the producer, one item at a time, with no buffer in between.
pub fn lazy_sum(variant: SequenceVariant, n: u64) -> u64 {
    match variant {
        // Monomorphic loops so that the lazy path is not charged for dynamic dispatch.
        SequenceVariant::Range | SequenceVariant::Squares => sum_items(variant, 0..n),
        SequenceVariant::Evens => sum_items(variant, (0..n).filter(|x| x % 2 == 0)),
    }
}

/// The eager path's first half: collect everything into a `Vec<u64>`. For 0..n the range's
/// exact size hint gives the exact capacity (8·n bytes); a filter cannot know its length, so
/// the evens grow the Vec by doubling as Python's list does.
pub fn collect(variant: SequenceVariant, n: u64) -> Vec<u64> {
    match variant {
        SequenceVariant::Range | SequenceVariant::Squares => (0..n).map(black_box).collect(),
        SequenceVariant::Evens => (0..n).filter(|x| x % 2 == 0).map(black_box).collect(),
    }
}

/// The eager path: collect, then sum the collected items.
pub fn eager_sum(variant: SequenceVariant, n: u64) -> u64 {
    let items = collect(variant, n);
    sum_items(variant, items.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_match_hand_values() {
        assert_eq!(SequenceVariant::Range.expected_sum(0), 0);
        assert_eq!(SequenceVariant::Range.expected_sum(5), 10);
        assert_eq!(SequenceVariant::Evens.expected_sum(5), 6); // 0 + 2 + 4
        assert_eq!(SequenceVariant::Evens.expected_sum(6), 6);
        assert_eq!(SequenceVariant::Evens.expected_sum(7), 12);
        assert_eq!(SequenceVariant::Squares.expected_sum(4), 14);
    }

    #[test]
    fn lazy_and_eager_agree_with_the_closed_form() {
        for v in SequenceVariant::ALL {
            for n in [0, 1, 2, 9, 10, 12_345] {
                assert_eq!(v.verify(n, lazy_sum(v, n)), Ok(()), "{v:?} lazy n={n}");
                assert_eq!(v.verify(n, eager_sum(v, n)), Ok(()), "{v:?} eager n={n}");
                assert_eq!(sum_items(v, v.produce(n)), v.expected_sum(n));
                assert_eq!(collect(v, n).len() as u64, v.items(n));
            }
        }
        assert!(SequenceVariant::Range.verify(10, 44).is_err());
    }

    #[test]
    fn collecting_a_range_allocates_its_exact_size() {
        let v = collect(SequenceVariant::Range, 1000);
        assert_eq!(v.capacity(), 1000);
    }
}
