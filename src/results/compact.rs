//! Compact encodings of a results file's per-sample arrays, so that a quick run's file keeps
//! every raw sample and stays small: whole numbers written without a fraction, other samples
//! at twelve significant digits (a ratio of counts to nanoseconds: beyond what the clock
//! resolves), the probe at the five its own noise allows (it moves by percents), shares (interference) at four decimals,
//! and a parent's per-sample state as runs of repeated values. Each reader also takes the
//! plain form older files were written in.

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};

/// Writes floats, each a whole number without a fraction when it is one.
fn write_all<S: Serializer>(
    xs: impl ExactSizeIterator<Item = f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(xs.len()))?;
    for x in xs {
        if x.fract() == 0.0 && x.abs() < 9.0e15 {
            seq.serialize_element(&(x as i64))?;
        } else {
            seq.serialize_element(&x)?;
        }
    }
    seq.end()
}

/// `x` rounded to `digits` significant digits.
pub fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Raw samples: whole numbers exact and without a fraction, the rest at twelve significant
/// digits.
pub mod floats {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
        write_all(xs.iter().map(|&x| significant(x, 12)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

/// The core-speed probe: five significant digits (it moves by percents from sample to
/// sample).
pub mod probe {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
        write_all(xs.iter().map(|&x| significant(x, 5)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

/// Probes that a pair may lack (`null`): five significant digits, as [`probe`].
pub mod probes {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(xs.len()))?;
        for x in xs {
            match x.map(|x| significant(x, 5)) {
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                    seq.serialize_element(&(x as i64))?
                }
                x => seq.serialize_element(&x)?,
            }
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<f64>>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

/// Shares of a sample (0…1 and a little beyond): four decimals.
pub mod share {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
        write_all(xs.iter().map(|&x| (x * 1e4).round() / 1e4), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

/// Whole numbers that repeat from sample to sample: a value alone, or `[value, count]` for a
/// run of two or more. A plain array of numbers (older files) reads as it is.
pub mod runs {
    use super::*;

    pub fn serialize<S: Serializer>(xs: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut groups: Vec<(u64, u64)> = Vec::new();
        for &x in xs {
            match groups.last_mut() {
                Some((v, n)) if *v == x => *n += 1,
                _ => groups.push((x, 1)),
            }
        }
        let mut seq = s.serialize_seq(Some(groups.len()))?;
        for (v, n) in groups {
            if n == 1 {
                seq.serialize_element(&v)?;
            } else {
                seq.serialize_element(&[v, n])?;
            }
        }
        seq.end()
    }

    /// One element: a value, or a run of one.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Item {
        One(u64),
        Run([u64; 2]),
    }

    /// The most values a run may expand to: far beyond any case's samples, so that a damaged
    /// file cannot make the reader allocate without bound.
    const MOST: u64 = 1 << 20;

    struct Runs;

    impl<'de> Visitor<'de> for Runs {
        type Value = Vec<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of whole numbers and [value, count] runs")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<Item>()? {
                match item {
                    Item::One(v) => out.push(v),
                    Item::Run([v, n]) => {
                        if out.len() as u64 + n > MOST {
                            return Err(de::Error::custom("a run longer than any case's samples"));
                        }
                        out.extend(std::iter::repeat_n(v, n as usize));
                    }
                }
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        d.deserialize_seq(Runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        #[serde(with = "floats")]
        samples: Vec<f64>,
        #[serde(with = "probe")]
        probe: Vec<f64>,
        #[serde(with = "share")]
        share: Vec<f64>,
        #[serde(with = "runs")]
        rss: Vec<u64>,
    }

    #[test]
    fn round_trips_and_is_short() {
        let row = Row {
            samples: vec![12844.0, 2442445244.22765, 0.5],
            probe: vec![1137837040.1236176],
            share: vec![0.0022082442795714626, 0.0],
            rss: vec![5, 7, 7, 7, 9, 9],
        };
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(
            text,
            r#"{"samples":[12844,2442445244.23,0.5],"probe":[1137800000],"share":[0.0022,0],"rss":[5,[7,3],[9,2]]}"#
        );
        let back: Row = serde_json::from_str(&text).unwrap();
        assert_eq!(back.samples, vec![12844.0, 2442445244.23, 0.5]);
        assert_eq!(back.rss, row.rss);
        assert_eq!(back.probe, vec![1137800000.0]);
        // The plain form of older files reads as it is.
        let old: Row =
            serde_json::from_str(r#"{"samples":[1.0],"probe":[2.5],"share":[0.1],"rss":[4,4,4]}"#)
                .unwrap();
        assert_eq!(old.rss, vec![4, 4, 4]);
        let huge = r#"{"samples":[],"probe":[],"share":[],"rss":[[1,99999999999]]}"#;
        assert!(serde_json::from_str::<Row>(huge).is_err());
    }
}
