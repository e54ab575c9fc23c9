//! Parsers of flag values: lists, sizes, counts, durations, parameters; each error
//! names the flag.

use std::time::Duration;

use crate::api::Param;
use crate::error::BadInput;
use crate::options::args::RunArgs;

/// Parses a comma-separated list with `item`, naming `flag` in errors.
pub fn parse_list<T>(
    flag: &str,
    text: &str,
    item: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Vec<T>, BadInput> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(BadInput::new(format!("{flag}: empty item in '{text}'")));
        }
        out.push(
            item(part)
                .ok_or_else(|| BadInput::new(format!("{flag}: '{part}' is not {expected}")))?,
        );
    }
    Ok(out)
}

/// A decimal number and the unit written after it (`1.5G` → 1.5, `G`).
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit))
}

/// Parses a byte size: `0`, `4096`, `64K`, `256M`, `1G`, `1GiB`, `1.5G` (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let (value, unit) = number_and_unit(text)?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    let bytes = value * scale as f64;
    (value.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Parses a count: `1000`, `1_000_000`, `1e6`, `10^6`.
pub fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim().replace('_', "");
    if let Some((m, e)) = t
        .split_once(['e', 'E'])
        .or_else(|| t.strip_prefix("10^").map(|e| ("1", e)))
    {
        let m: u64 = m.parse().ok()?;
        let e: u32 = e.parse().ok()?;
        return m.checked_mul(10u64.checked_pow(e)?);
    }
    t.parse().ok()
}

/// Parses a duration in seconds: `30s`, `500ms`, `2m`, `1h`, or plain seconds; `None` for anything
/// that is not a non-negative finite number with one of those units.
pub fn parse_duration_secs(text: &str) -> Option<f64> {
    let (value, unit) = number_and_unit(text)?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// [`parse_duration_secs`] as a `Duration`; `None` also for zero and lengths no `Duration`
/// holds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(parse_duration_secs(text)?)
        .ok()
        .filter(|d| !d.is_zero())
}

pub(crate) fn joined(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| v.join(","))
}

pub(crate) fn positive(flag: &str, text: &str) -> Result<u64, BadInput> {
    let n = parse_count(text)
        .ok_or_else(|| BadInput::new(format!("{flag}: '{text}' is not a whole number")))?;
    if n == 0 {
        return Err(BadInput::new(format!("{flag}: must be at least 1 (got 0)")));
    }
    Ok(n)
}

/// Most workers a case may ask for: each is a thread or a process with its own slot.
pub(crate) const MAX_WORKERS: usize = 1024;
/// Most samples a case may take: ten thousand samples of the shortest case already take
/// minutes, and every sample is kept in the results.
pub(crate) const MAX_SAMPLES: u64 = 10_000;
/// The largest n a study may be asked for: 10^12 items, hours of the fastest loop.
pub(crate) const MAX_SIZE: u64 = 1_000_000_000_000;
/// `--case-timeout` bounds: a sample needs some milliseconds to be a sample; a day is more
/// than any case needs.
pub(crate) const MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(10);
pub(crate) const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// The share of MemAvailable that `--parent-rss` may take: the rest stays for the system.
pub(crate) const PARENT_RSS_SHARE: f64 = 0.75;

/// A parameter set on the command line: its name, the flag that set it, and its text.
#[derive(Clone)]
pub(crate) struct GivenParam {
    pub(crate) name: String,
    pub(crate) flag: String,
    pub(crate) value: u64,
}

/// Every parameter the flags set, from `--param NAME=VALUE` and the workloads' own flags
/// (each set by the `declared` parameters that carry it: a list is checked here by its first
/// item, each item by the sweep; a flag with a reader takes its text as the reader says).
pub(crate) fn given_params(a: &RunArgs, declared: &[Param]) -> Result<Vec<GivenParam>, BadInput> {
    let mut out = Vec::new();
    for text in &a.params {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| BadInput::new(format!("--param: '{text}' is not NAME=VALUE")))?;
        let flag = format!("--param {name}");
        out.push(GivenParam {
            name: name.trim().into(),
            value: first_count(&flag, value)?,
            flag,
        });
    }
    for (flag, text) in &a.flags {
        let flag_text = format!("--{flag}");
        let mut named: Vec<&str> = Vec::new();
        for p in declared.iter().filter(|p| p.flag == Some(flag.as_str())) {
            if named.contains(&p.name) {
                continue;
            }
            named.push(p.name);
            let value = match p.read {
                Some(r) => {
                    (r.read)(text).map_err(|e| BadInput::new(format!("{flag_text}: {e}")))?
                }
                None => first_count(&flag_text, text)?,
            };
            out.push(GivenParam {
                name: p.name.into(),
                flag: flag_text.clone(),
                value,
            });
        }
    }
    // One value per parameter: a second one would silently win.
    for (i, g) in out.iter().enumerate() {
        if let Some(first) = out[..i].iter().find(|f| f.name == g.name) {
            return Err(BadInput::new(format!(
                "{}: '{}' is already set by {}; give each parameter once (a list sweeps it: --param NAME=a,b)",
                g.flag, g.name, first.flag
            )));
        }
    }
    Ok(out)
}

/// The first item of a value that may be a list (a sweep), as a whole number.
fn first_count(flag: &str, text: &str) -> Result<u64, BadInput> {
    let first = text.split(',').next().unwrap_or("");
    parse_count(first)
        .ok_or_else(|| BadInput::new(format!("{flag}: '{first}' is not a whole number")))
}

/// The chosen workload's parameter values: defaults, then what the flags set, checked against
/// each parameter's range, then the workload's own adjustments.
pub(crate) fn params_for(
    w: &crate::api::workload::WorkloadRef,
    given: &[GivenParam],
) -> Result<Vec<u64>, BadInput> {
    let info = w.info();
    let mut values: Vec<u64> = info.params.iter().map(|p| p.default).collect();
    let mut set = vec![false; values.len()];
    for g in given {
        if let Some(i) = info.params.iter().position(|p| p.name == g.name) {
            let p = &info.params[i];
            if g.value < p.min {
                return Err(BadInput::new(format!(
                    "{}: must be at least {} (got {})",
                    g.flag, p.min, g.value
                )));
            }
            if g.value > p.max {
                return Err(BadInput::new(format!(
                    "{}: must be at most {} (got {})",
                    g.flag, p.max, g.value
                )));
            }
            values[i] = g.value;
            set[i] = true;
        }
    }
    w.finish_params(&mut values, &set);
    Ok(values)
}

/// The report format `--format` names (`--markdown` and `--json` are its shorthands).
pub fn exporter(
    format: Option<&str>,
    markdown: bool,
    json: bool,
) -> Result<&'static dyn crate::export::format::Exporter, BadInput> {
    use crate::export::format::{by_name, names};
    let name = match (format, markdown, json) {
        (Some(f), _, _) => f,
        (None, true, _) => "markdown",
        (None, _, true) => "json",
        (None, false, false) => "text",
    };
    by_name(name).ok_or_else(|| BadInput::new(format!("--format: '{name}' is none of {}", names())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_counts_and_durations_parse() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_count("1e6"), Some(1_000_000));
        assert_eq!(parse_count("10^3"), Some(1000));
        assert_eq!(parse_count("1_000"), Some(1000));
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0"), None);
        // Regression: a length no Duration holds panicked ("cannot convert float seconds").
        assert_eq!(parse_duration("100000000000000000000000"), None);
        assert_eq!(parse_duration("999999999999999999999m"), None);
    }

    #[test]
    fn lists_name_the_bad_item() {
        let e =
            parse_list("--workers", "1,x", |s| s.parse::<usize>().ok(), "a number").unwrap_err();
        assert_eq!(e.to_string(), "--workers: 'x' is not a number");
    }
}
