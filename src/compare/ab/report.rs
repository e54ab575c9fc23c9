//! An A/B job's results — both sides' raw samples, each row's pair ratios and verdict — as
//! saved, and the judging of its rows (`export::ab_report` writes them for a reader).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ALPHA;
use super::epochs::{epoch_centres, epochs_agree};
use super::judge::{Call, Judged, UNCHANGED_ALPHA, call, holm, judge, worse_log};
use crate::host::protocol::Hello;
use crate::machine::Machine;
use crate::results::{Better, CaseId, Failure, Metric};

pub const SCHEMA: &str = "threadfork/ab/v1";

/// One side's build.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SideInfo {
    pub exe: PathBuf,
    /// threadfork's version and commit in that build.
    pub harness: String,
    pub commit: String,
    pub injected: Option<String>,
    /// The build itself: its crate's target, the commit it was built from, its bytes' hash
    /// (absent in jobs made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<super::build::Build>,
}

impl SideInfo {
    pub fn of(exe: &Path, hello: &Hello, build: &super::build::Build) -> SideInfo {
        SideInfo {
            exe: exe.to_path_buf(),
            harness: hello.harness.clone(),
            commit: hello.commit.clone(),
            injected: hello.injected.clone(),
            build: Some(build.clone()),
        }
    }
}

/// One key's paired samples: `base[i]` and `head[i]` were taken side by side.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Key {
    pub case: CaseId,
    pub metric: Metric,
    pub unit: String,
    pub better: Better,
    /// A figure A/B judges (a workload's own count, such as lost updates, is only listed).
    pub judged: bool,
    #[serde(with = "crate::results::compact::floats")]
    pub base: Vec<f64>,
    #[serde(with = "crate::results::compact::floats")]
    pub head: Vec<f64>,
    #[serde(with = "crate::results::compact::probes")]
    pub base_probe: Vec<Option<f64>>,
    #[serde(with = "crate::results::compact::probes")]
    pub head_probe: Vec<Option<f64>>,
    /// The epoch (the pair of side processes) each pair was taken by.
    pub epoch: Vec<usize>,
    /// At a start-up, each side's own state as the parent at each pair (resident bytes,
    /// mapped bytes, threads), when every reply of the side carried it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_parent: Vec<[u64; 3]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head_parent: Vec<[u64; 3]>,
    /// Every sample of both sides passed its workload's check.
    pub verified: bool,
}

/// One judged row: a key, or a group of keys (one workload's model and metric over its
/// variants and worker counts; or one workload's metric over every model).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    pub group: bool,
    /// What the row pools: a key, a model's keys, a variant's or a workload's every model.
    #[serde(default)]
    pub scope: Scope,
    /// The smallest change the row is judged by, as a fraction: `--threshold`, or the
    /// metric's own floor where that is larger (a start cost's 5%).
    #[serde(default)]
    pub threshold: f64,
    pub metric: Metric,
    /// Which way is better for the metric: what "worse" means for the ratio.
    pub better: Better,
    pub pairs: usize,
    /// The figure's median pair ratio, head ÷ base, and its interval (None: too few pairs).
    pub ratio: Option<f64>,
    pub ratio_interval: Option<[f64; 2]>,
    /// How much worse head is than base, in per cent (negative: better).
    pub worse_pct: Option<f64>,
    /// The same from each epoch's pairs alone.
    pub epochs_worse_pct: Vec<f64>,
    pub call: Call,
}

/// Where a job's time went, in seconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Phases {
    /// Both sides started, their plans resolved and preflighted.
    pub hello_s: f64,
    /// Parent memory mapped for the start-up cases, in turns.
    pub hold_s: f64,
    pub startup_s: f64,
    pub calibration_s: f64,
    pub task_s: f64,
    /// Rounds past the planned pairs, of the task cases not yet settled (both epochs).
    #[serde(default)]
    pub more_rounds: usize,
}

/// A whole A/B job, as saved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AbResults {
    pub schema: String,
    pub id: String,
    pub started_at: String,
    pub duration_s: f64,
    pub args: Vec<String>,
    pub machine: Machine,
    pub base: SideInfo,
    pub head: SideInfo,
    pub threshold: f64,
    pub alpha: f64,
    pub incomplete: bool,
    pub keys: Vec<Key>,
    /// Derived from `keys`: `ab --judge` makes them again, so a file's own are not needed.
    #[serde(default, skip_deserializing)]
    pub rows: Vec<Row>,
    pub failures: Vec<Failure>,
    /// What the plan held that A/B does not measure.
    pub left_out: Vec<String>,
    pub phases: Phases,
    /// `--gate`: the rows that set the exit code (empty: the default set, every group row
    /// but a process's fixed-once peak RSS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gate: Vec<String>,
    /// `--undecided`: what a job whose gated rows stay undecided exits with.
    #[serde(default)]
    pub undecided: super::judge::Undecided,
    /// What others took from the job: pairs retaken and kept, cores others held.
    #[serde(default)]
    pub interference: super::interfere::JobInterference,
}

impl AbResults {
    /// `<out>/<machine-id>/ab-<id>.json`
    pub fn path_in(&self, out: &Path) -> PathBuf {
        out.join(&self.machine.id)
            .join(format!("ab-{}.json", self.id))
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        crate::results::io::write_atomic_with(path, &json, false)
    }
}

/// What a row pools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One key.
    #[default]
    Key,
    /// One workload's model and metric over its keys.
    Model,
    /// One workload's variant and metric over its models.
    Variant,
    /// One workload's metric over every model.
    Workload,
}

/// A row before judging: its label, what it pools, its keys (the first stands for the
/// metric), and its pairs' (epoch, log-ratio).
type RowPairs<'a> = (String, Scope, Vec<&'a Key>, Vec<(usize, f64)>);

/// A key's log-ratios, signed so that positive is worse.
fn worse_logs(k: &Key) -> Vec<(usize, f64)> {
    let slack = k.metric.facts().pair_slack;
    k.base
        .iter()
        .zip(&k.head)
        .zip(&k.epoch)
        .filter_map(|((&a, &b), &e)| {
            if (a - b).abs() < slack {
                return Some((e, 0.0));
            }
            worse_log(a, b, k.better, slack).map(|x| (e, x))
        })
        .collect()
}

/// The rows of a job: every judged key, each workload's model and metric over two or more
/// keys, each workload's variant and metric over two or more models (when the workload has
/// variants: the process-shared lock of every process model), and each workload's metric over
/// two or more models; all called together under one family-wise error rate.
pub fn judge_rows(keys: &[Key], threshold: f64) -> Vec<Row> {
    let (rows, stats, calls) = judged_rows(keys, threshold);
    rows.into_iter()
        .zip(stats)
        .zip(calls)
        .map(|(((label, scope, members, xs), s), call)| {
            let key = members[0];
            let epochs = epoch_centres(&xs)
                .into_iter()
                .map(|c| (c.exp() - 1.0) * 100.0)
                .collect();
            let to_ratio = |x: f64| match key.better {
                Better::Lower => x.exp(),
                Better::Higher => (-x).exp(),
            };
            let interval = s.as_ref().map(|s| {
                let (a, b) = (to_ratio(s.lo), to_ratio(s.hi));
                [a.min(b), a.max(b)]
            });
            Row {
                label,
                group: scope != Scope::Key,
                scope,
                threshold: key.metric.gate_threshold(threshold),
                metric: key.metric,
                better: key.better,
                pairs: xs.len(),
                ratio: s.as_ref().map(|s| to_ratio(s.centre)),
                ratio_interval: interval,
                worse_pct: s.as_ref().map(|s| (s.centre.exp() - 1.0) * 100.0),
                epochs_worse_pct: epochs,
                call,
            }
        })
        .collect()
}

/// Every row of a job with its statistics (intervals at the Bonferroni level, so that all
/// of them hold together) and its call.
pub(super) fn judged_rows(
    keys: &[Key],
    threshold: f64,
) -> (Vec<RowPairs<'_>>, Vec<Option<Judged>>, Vec<Call>) {
    let judged: Vec<&Key> = keys.iter().filter(|k| k.judged).collect();
    let mut rows: Vec<RowPairs<'_>> = Vec::new();
    for k in &judged {
        rows.push((k.case.to_string(), Scope::Key, vec![*k], worse_logs(k)));
    }
    rows.extend(group_rows(&judged));
    let per_row = ALPHA / rows.len().max(1) as f64;
    let all = |xs: &[(usize, f64)]| xs.iter().map(|p| p.1).collect::<Vec<f64>>();
    let mut stats: Vec<Option<Judged>> = rows.iter().map(|r| judge(&all(&r.3), per_row)).collect();
    let bars: Vec<f64> = rows
        .iter()
        .map(|r| r.2[0].metric.gate_threshold(threshold).ln_1p())
        .collect();
    let calls = call_rows(&rows, &mut stats, &bars);
    (rows, stats, calls)
}

/// The group rows over `judged` keys: each workload's model and metric over two or more keys,
/// each variant over two or more models (when the workload has variants), and each
/// workload's metric over two or more models.
fn group_rows<'a>(judged: &[&'a Key]) -> Vec<RowPairs<'a>> {
    let mut rows: Vec<RowPairs<'a>> = Vec::new();
    let mut groups: BTreeMap<(String, String, Metric), Vec<&Key>> = BTreeMap::new();
    let mut across: BTreeMap<(String, Metric), Vec<&Key>> = BTreeMap::new();
    for k in judged {
        let (w, m) = (k.case.workload.clone(), k.metric);
        groups
            .entry((w.clone(), k.case.model.clone(), m))
            .or_default()
            .push(k);
        across.entry((w, m)).or_default().push(k);
    }
    for ((w, model, _), ks) in &groups {
        if ks.len() >= 2 {
            let xs = ks.iter().flat_map(|k| worse_logs(k)).collect();
            let label = format!("{w} / {model} / every key");
            rows.push((label, Scope::Model, ks.clone(), xs));
        }
    }
    let mut variants: BTreeMap<(String, String, Metric), Vec<&Key>> = BTreeMap::new();
    for k in judged {
        let v = (k.case.workload.clone(), k.case.variant.clone(), k.metric);
        variants.entry(v).or_default().push(k);
    }
    for ((w, variant, m), ks) in &variants {
        let models: std::collections::BTreeSet<&str> =
            ks.iter().map(|k| k.case.model.as_str()).collect();
        let several = variants
            .keys()
            .filter(|(w2, _, m2)| w2 == w && m2 == m)
            .count()
            > 1;
        if models.len() >= 2 && several {
            let xs = ks.iter().flat_map(|k| worse_logs(k)).collect();
            let label = format!("{w} / {variant} / every model");
            rows.push((label, Scope::Variant, ks.clone(), xs));
        }
    }
    for ((w, _), ks) in &across {
        let models: std::collections::BTreeSet<&str> =
            ks.iter().map(|k| k.case.model.as_str()).collect();
        if models.len() >= 2 {
            let xs = ks.iter().flat_map(|k| worse_logs(k)).collect();
            let label = format!("{w} / every model");
            rows.push((label, Scope::Workload, ks.clone(), xs));
        }
    }
    rows
}

/// The share of the family-wise error rate spent on the group rows (and keys of no group);
/// the rest is spent on the keys of the groups.
const GROUP_SHARE: f64 = 0.8;

/// Calls the rows. What is worse at all is decided by Holm's step-down in two families that
/// share the 5% family-wise error rate: the group rows and the keys that belong to no group
/// (4%) — a change that moves a workload's model shows in its group, which pools its keys'
/// pairs — and the keys of the groups (1%), where a change confined to one key (the lock of
/// one variant) shows. Rows whose pairs are all equal (a peak RSS that never moved) cannot be
/// found worse and are left out (Tarone). A key of a regressed group is confirmed on its own
/// when its pairs say so beyond a Bonferroni share of 5% among the group's keys. A row
/// regresses only when each epoch's pairs alone are worse than the threshold too, and the
/// epochs agree. A row is unchanged when its own 95% interval rules out a worsening of the
/// threshold ([`UNCHANGED_ALPHA`]).
fn call_rows(rows: &[RowPairs<'_>], stats: &mut [Option<Judged>], bars: &[f64]) -> Vec<Call> {
    let model_group = |k: &Key| format!("{} / {} / every key", k.case.workload, k.case.model);
    let group_of: Vec<Option<usize>> = rows
        .iter()
        .map(|(_, group, members, _)| {
            let key = members[0];
            (*group == Scope::Key)
                .then(|| {
                    rows.iter().position(|(l, g, ks, _)| {
                        *g == Scope::Model && *l == model_group(key) && ks[0].metric == key.metric
                    })
                })
                .flatten()
        })
        .collect();
    let testable = |i: usize| rows[i].3.iter().any(|p| p.1 != 0.0) && stats[i].is_some();
    let (groups, keys): (Vec<usize>, Vec<usize>) = (0..rows.len())
        .filter(|&i| testable(i))
        .partition(|&i| rows[i].1 != Scope::Key || group_of[i].is_none());
    let (by_group, group_levels) = holm(stats, &groups, ALPHA * GROUP_SHARE);
    let (by_key, key_levels) = holm(stats, &keys, ALPHA * (1.0 - GROUP_SHARE));
    let worse: Vec<bool> = by_group
        .iter()
        .zip(&by_key)
        .map(|(a, b)| *a || *b)
        .collect();
    // Each row's interval at the level its family's step-down judged it (one-sided on each
    // side, so two-sided at twice it): what calls a row regressed or improved. Unchanged goes
    // by the row's own interval (`UNCHANGED_ALPHA`). What is printed is what decided.
    let xs = |i: usize| rows[i].3.iter().map(|p| p.1).collect::<Vec<f64>>();
    let surely: Vec<Option<Judged>> = (0..rows.len())
        .map(|i| match group_levels[i].or(key_levels[i]) {
            Some(level) => judge(&xs(i), (2.0 * level).min(1.0)).or_else(|| stats[i].clone()),
            None => stats[i].clone(),
        })
        .collect();
    let plainly: Vec<Option<Judged>> = (0..rows.len())
        .map(|i| judge(&xs(i), UNCHANGED_ALPHA))
        .collect();
    // One process's luck is not enough: every epoch's pairs must say so, and the epochs must
    // agree within their own noise.
    let every_epoch = |i: usize| {
        epoch_centres(&rows[i].3).iter().all(|e| *e > bars[i]) && epochs_agree(&rows[i].3)
    };
    let call_row =
        |i: usize, worse: bool| call(surely[i].as_ref(), plainly[i].as_ref(), worse, bars[i]);
    let mut calls: Vec<Call> = (0..rows.len())
        .map(|i| call_row(i, worse[i] && every_epoch(i)))
        .collect();
    for i in 0..rows.len() {
        let Some(g) = group_of[i] else { continue };
        let members = group_of.iter().filter(|x| **x == Some(g)).count().max(1);
        let own = surely[i]
            .as_ref()
            .is_some_and(|s| s.p_worse <= ALPHA / members as f64);
        let confirmed = calls[g] == Call::Regressed && own && every_epoch(i);
        if confirmed {
            calls[i] = call_row(i, true);
        }
    }
    for (i, c) in calls.iter().enumerate() {
        stats[i] = match c {
            Call::Regressed | Call::Improved => surely[i].clone(),
            Call::Unchanged | Call::Undecided => plainly[i].clone(),
        };
    }
    calls
}

/// A key of `model` whose head is `shift0` slower in the first epoch and `shift1` in the
/// second, with a little noise of its own (for the tests here and in `gate`).
#[cfg(test)]
pub(super) fn test_key(model: &str, shift0: f64, shift1: f64) -> Key {
    let n = 40;
    let noise = |i: usize| 1.0 + 0.01 * (((i * 7) % 5) as f64 - 2.0);
    let base: Vec<f64> = (0..n).map(|i| 1e9 * noise(i)).collect();
    let epoch: Vec<usize> = (0..n).map(|i| usize::from(i >= n / 2)).collect();
    let head = base
        .iter()
        .zip(&epoch)
        .enumerate()
        .map(|(i, (b, e))| {
            let shift = if *e == 0 { shift0 } else { shift1 };
            b / (1.0 + shift) * noise(i + 2) / noise(i)
        })
        .collect();
    Key {
        case: CaseId {
            workload: "w".into(),
            model: model.into(),
            variant: "default".into(),
            workers: 1,
            params: Default::default(),
        },
        metric: Metric::Throughput,
        unit: "ops/s".into(),
        better: Better::Higher,
        judged: true,
        base,
        head,
        base_probe: vec![None; n],
        head_probe: vec![None; n],
        epoch,
        base_parent: Vec::new(),
        head_parent: Vec::new(),
        verified: true,
    }
}

#[cfg(test)]
mod tests {
    use super::test_key as key;
    use super::*;

    fn call_of(rows: &[Row], label: &str) -> Call {
        rows.iter()
            .find(|r| r.label == label)
            .map(|r| r.call)
            .unwrap()
    }

    #[test]
    fn a_change_every_epoch_agrees_on_regresses_and_one_epochs_luck_does_not() {
        let mut same = key("threads", 0.05, 0.05);
        same.case.workers = 2;
        let rows = judge_rows(&[key("threads", 0.05, 0.05), same], 0.01);
        assert_eq!(call_of(&rows, "w / threads / every key"), Call::Regressed);
        // One epoch far worse than the other: what one pair of processes was dealt.
        let mut lucky = key("fork", 0.60, 0.02);
        lucky.case.workers = 2;
        let rows = judge_rows(&[key("fork", 0.60, 0.02), lucky], 0.01);
        assert_ne!(call_of(&rows, "w / fork / every key"), Call::Regressed);
        assert!(rows.iter().all(|r| r.call != Call::Regressed), "{rows:?}");
        // No change at all: nothing regresses.
        let rows = judge_rows(&[key("spawn", 0.0, 0.0)], 0.01);
        assert!(rows.iter().all(|r| r.call != Call::Regressed), "{rows:?}");
    }

    #[test]
    fn a_variant_slower_on_every_process_model_has_a_row_of_its_own() {
        let variant = |model: &str, v: &str, shift: f64| {
            let mut k = key(model, shift, shift);
            k.case.variant = v.into();
            k
        };
        let keys = [
            variant("fork", "locked", 0.2),
            variant("spawn", "locked", 0.2),
            variant("fork", "free", 0.0),
            variant("spawn", "free", 0.0),
        ];
        // (The helper's noise alone leans 1% worse: a 3% threshold is clear of it.)
        let rows = judge_rows(&keys, 0.03);
        assert_eq!(call_of(&rows, "w / locked / every model"), Call::Regressed);
        assert_ne!(call_of(&rows, "w / free / every model"), Call::Regressed);
        // A workload of one variant gets no variant row: "every model" says it already.
        let rows = judge_rows(&[key("fork", 0.0, 0.0), key("spawn", 0.0, 0.0)], 0.01);
        assert!(
            rows.iter().all(|r| r.label != "w / default / every model"),
            "{rows:?}"
        );
    }
}
