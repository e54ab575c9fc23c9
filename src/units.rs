//! Human units: SI prefixes for rates, µs/ms for times, KiB/MiB for bytes.

/// "123 Mops/s"-style rate with an SI prefix, three significant digits.
pub fn rate(ops_per_s: f64, unit: &str) -> String {
    let (v, p) = si(ops_per_s);
    format!("{} {p}{unit}", sig3(v))
}

/// "2.61 G squares/s": a rate of named operations, three significant digits.
pub fn rate_of(per_s: f64, op: &str) -> String {
    let (v, p) = si(per_s);
    if p.is_empty() {
        format!("{} {op}/s", sig3(v))
    } else {
        format!("{} {p} {op}/s", sig3(v))
    }
}

fn si(x: f64) -> (f64, &'static str) {
    let a = x.abs();
    if a >= 1e9 {
        (x / 1e9, "G")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    }
}

/// Three significant digits, no exponent.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A duration in ns as "850 ns", "15.2 µs", "1.23 ms" or "2.10 s".
pub fn ns(t: f64) -> String {
    let a = t.abs();
    if !t.is_finite() {
        "–".into()
    } else if a >= 1e9 {
        format!("{} s", sig3(t / 1e9))
    } else if a >= 1e6 {
        format!("{} ms", sig3(t / 1e6))
    } else if a >= 1e3 {
        format!("{} µs", sig3(t / 1e3))
    } else {
        format!("{} ns", sig3(t))
    }
}

/// Bytes as "0 B", "512 B", "8.00 KiB", "7.63 MiB", "1.00 GiB".
pub fn bytes(b: f64) -> String {
    let a = b.abs();
    if !b.is_finite() {
        "–".into()
    } else if a >= (1u64 << 30) as f64 {
        format!("{} GiB", sig3(b / (1u64 << 30) as f64))
    } else if a >= (1u64 << 20) as f64 {
        format!("{} MiB", sig3(b / (1u64 << 20) as f64))
    } else if a >= 1024.0 {
        format!("{} KiB", sig3(b / 1024.0))
    } else {
        format!("{b:.0} B")
    }
}

/// A value in the measurement's own unit.
pub fn value(v: f64, unit: &str) -> String {
    match unit {
        "ns" => ns(v),
        "bytes" => bytes(v),
        "ops/s" => rate(v, "ops/s"),
        "count" => format!("{v:.0}"),
        _ => sig3(v),
    }
}

/// A count like 1000000 as "10^6" when it is a power of ten, else with thin grouping.
pub fn count(n: u64) -> String {
    if n >= 1000
        && n.to_string()
            .trim_start_matches('1')
            .chars()
            .all(|c| c == '0')
    {
        return format!("10^{}", n.to_string().len() - 1);
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_well() {
        assert_eq!(rate(123_456_789.0, "ops/s"), "123 Mops/s");
        assert_eq!(rate(1_500.0, "ops/s"), "1.50 kops/s");
        assert_eq!(ns(850.0), "850 ns");
        assert_eq!(ns(15_234.0), "15.2 µs");
        assert_eq!(ns(1_234_000.0), "1.23 ms");
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(8_000_000.0), "7.63 MiB");
        assert_eq!(bytes(1024.0 * 1024.0 * 1024.0), "1.00 GiB");
        assert_eq!(count(1_000_000), "10^6");
        assert_eq!(count(1_500), "1500");
        assert_eq!(rate_of(2.61e9, "squares"), "2.61 G squares/s");
        assert_eq!(rate_of(850.0, "items"), "850 items/s");
    }
}
