//! Run flags resolved into a validated plan over a registry's workloads: what runs (runtimes,
//! workloads, models, parameters), how much (workers, samples, sizes, times), and the
//! test-only injections. Each step names the flag a mistake came from.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::workload::WorkloadRef;
use crate::api::{Model, Param, Registry, Size};
use crate::error::BadInput;
use crate::exec::testing::Injected;
use crate::options::args::RunArgs;
use crate::options::hint;
use crate::options::parse::*;
use crate::runtime::cpython::{self, CPython, CPythonStudy};
use crate::sweep::plan::{self, Plan, Selected, SelectedStudy};

/// Turns raw run flags into a validated plan over `registry`'s workloads, on a machine with
/// `machine_cpus` allowed CPUs.
pub fn resolve(
    a: &RunArgs,
    args: Vec<String>,
    machine_cpus: Vec<usize>,
    registry: &Registry,
) -> Result<Plan, BadInput> {
    let topology = crate::machine::Topology::read(&machine_cpus);
    let mut what = choose(a, registry)?;
    let declared: Vec<Param> = registry
        .workloads()
        .iter()
        .flat_map(|w| w.info().params.iter().copied())
        .collect();
    let given = given_params(a, &declared)?;
    check_params_exist(&given, &what)?;
    let selected = select_workloads(a, &what, &given, &declared)?;
    let (studies, runtimes) = select_studies(registry, &mut what, &given);
    let pin = match &a.pin {
        None => None,
        Some(t) => Some(crate::machine::PinMode::parse(t).ok_or_else(|| {
            BadInput::new(format!("--pin: '{t}' is not a pin mode (spread, compact)"))
        })?),
    };
    let (case_timeout, sample_ns) = times(a)?;
    let exe = crate::sys::exe::host_exe()
        .map_err(|e| BadInput::new(format!("cannot find the host executable: {e}")))?;
    if a.instructions {
        crate::measure::instructions::valgrind().map_err(|e| {
            BadInput::new(format!(
                "--instructions needs valgrind (callgrind) on PATH: {e}; install it, e.g. apt-get install valgrind"
            ))
        })?;
    }
    Ok(Plan {
        runtimes,
        injected: Injected::parse(a.inject_fault.as_deref(), a.inject_slowdown.as_deref())?,
        instructions: a.instructions,
        quick: a.quick,
        workloads: selected,
        studies,
        models: what.models.iter().filter_map(|m| Model::parse(m)).collect(),
        // A full run's default 2×cores point oversubscribes the cores: for a pool that
        // measures the scheduler's wake-up chains more than the pool, and costs the most.
        pool_workers_max: a.workers.is_none().then_some(machine_cpus.len().max(1)),
        workers: worker_counts(a, machine_cpus.len(), topology.cores.len())?,
        samples: samples(a)?,
        warmup: if a.quick { 1 } else { 2 },
        startup_samples: if a.quick { 20 } else { 50 },
        startup_fill: Duration::from_millis(if a.quick { 150 } else { 400 }),
        pin: pin.is_some(),
        cpus: pin.map_or(machine_cpus, |mode| topology.pin_order(mode)),
        parent_rss: parent_rss(a)?,
        parent_threads: parent_threads(a)?,
        lean_parent: true,
        sizes: sizes(a)?,
        out: a.out.clone(),
        exe,
        case_timeout,
        charts: !a.no_charts,
        args,
        sample_ns,
        scaling: match a.scaling.as_str() {
            "strong" => plan::Scaling::Strong,
            "weak" => plan::Scaling::Weak,
            other => {
                return Err(BadInput::new(format!(
                    "--scaling: '{other}' is not strong or weak"
                )));
            }
        },
        costs: plan::Costs::default(),
        estimated_s: None,
    })
}

/// What the flags chose to run: runtimes, workload names, models.
struct Chosen {
    /// Rust workloads run (`--runtime rust`, the default).
    rust: bool,
    /// The interpreter asked for (`--runtime cpython`), already asked what it is.
    cpython: Option<CPython>,
    /// The chosen workload and study names.
    names: Vec<&'static str>,
    /// The chosen workloads the Rust runtime runs.
    workloads: Vec<WorkloadRef>,
    /// The models to run, in order.
    models: Vec<&'static str>,
}

/// Runtimes, workloads and models from `--runtime`, `--workload` and `--model`.
fn choose(a: &RunArgs, registry: &Registry) -> Result<Chosen, BadInput> {
    let runtimes = match joined(&a.runtime) {
        Some(t) => parse_list(
            "--runtime",
            &t,
            |s| ["rust", "cpython"].into_iter().find(|r| *r == s),
            "a runtime (rust, cpython)",
        )?,
        None => vec!["rust"],
    };
    let rust = runtimes.contains(&"rust");
    // The interpreter is asked what it is before anything runs: a bad --python is bad input.
    let cpython = if runtimes.contains(&"cpython") {
        Some(CPython::new(&a.python)?)
    } else {
        None
    };
    let all = registry.names();
    let names: Vec<&'static str> = match joined(&a.workload) {
        Some(t) => parse_list(
            "--workload",
            &t,
            |s| all.iter().copied().find(|n| *n == s),
            &format!("a workload ({})", all.join(", ")),
        )?,
        None => all.clone(),
    };
    let workloads: Vec<WorkloadRef> = registry
        .workloads()
        .iter()
        .filter(|w| rust && names.contains(&w.info().name))
        .cloned()
        .collect();
    let mut chosen = Chosen {
        rust,
        cpython,
        names,
        workloads,
        models: Vec::new(),
    };
    chosen.models = choose_models(a, registry, &chosen)?;
    Ok(chosen)
}

/// The models that Python cases run on, when the interpreter is in the run.
fn py_models(c: &Chosen) -> &'static [&'static str] {
    if c.cpython.is_some() {
        &cpython::MODELS
    } else {
        &[]
    }
}

/// `--model`: each name a model (or a pool's family), each of which must run something.
fn choose_models(
    a: &RunArgs,
    registry: &Registry,
    c: &Chosen,
) -> Result<Vec<&'static str>, BadInput> {
    let study_models: Vec<&'static str> = registry
        .studies()
        .iter()
        .filter(|s| c.names.contains(&s.name()))
        .flat_map(|s| s.models().iter().copied())
        .collect();
    let all_models: Vec<&'static str> = Model::ALL
        .iter()
        .map(|m| m.name())
        .chain(
            registry
                .studies()
                .iter()
                .flat_map(|s| s.models().iter().copied()),
        )
        .chain(py_models(c).iter().copied())
        .collect();
    let Some(t) = joined(&a.model) else {
        return Ok(all_models);
    };
    let lists = parse_list(
        "--model",
        &t,
        |s| {
            let family: Vec<&'static str> = Model::family(s).into_iter().map(Model::name).collect();
            match all_models.iter().copied().find(|m| *m == s) {
                Some(m) => Some(vec![m]),
                None => (!family.is_empty()).then_some(family),
            }
        },
        &format!(
            "a model ({}, or a pool: {})",
            all_models.join(", "),
            crate::api::model::Pool::names()
        ),
    )?;
    let runs = |m: &str| {
        study_models.contains(&m)
            || py_models(c).contains(&m)
            || Model::parse(m).is_some_and(|model| {
                // A pool runs no start-only workload: its start-up is its own opening.
                c.workloads.iter().any(|w| {
                    !(w.info().start_only && model.pool().is_some())
                        && (0..w.info().variants.len()).any(|v| w.supports(model, v))
                })
            })
    };
    // A model named on its own must run something; a pool's family keeps the patterns that
    // do (the counter runs on one pattern of each pool).
    let mut seen = std::collections::BTreeSet::new();
    let mut models = Vec::new();
    for item in lists {
        let item: Vec<&'static str> = item.into_iter().filter(|m| seen.insert(*m)).collect();
        if let Some(m) = item.iter().find(|m| !runs(m)).filter(|_| item.len() == 1) {
            return Err(BadInput::new(format!(
                "--model: {m} runs none of the chosen workloads ({})",
                c.names.join(", ")
            )));
        }
        let some: Vec<&'static str> = if item.len() > 1 {
            item.iter().copied().filter(|m| runs(m)).collect()
        } else {
            item.clone()
        };
        if some.is_empty() {
            return Err(BadInput::new(format!(
                "--model: no pattern of {} runs the chosen workloads ({})",
                item.first()
                    .and_then(|m| Model::parse(m))
                    .and_then(|m| m.pool())
                    .map_or("that pool", |(p, _)| p.name()),
                c.names.join(", ")
            )));
        }
        models.extend(some);
    }
    Ok(models)
}

/// A `--param NAME=…` must name a parameter of a chosen workload.
fn check_params_exist(given: &[GivenParam], c: &Chosen) -> Result<(), BadInput> {
    let unknown = given.iter().find(|g| {
        g.flag.starts_with("--param")
            && !c
                .workloads
                .iter()
                .any(|w| w.info().params.iter().any(|p| p.name == g.name))
    });
    match unknown {
        Some(g) => Err(BadInput::new(format!(
            "{}: no chosen workload has a parameter '{}' ({})",
            g.flag,
            g.name,
            hint("list")
        ))),
        None => Ok(()),
    }
}

/// A parameter swept by the flags (`--param NAME=a,b`, or a workload's own flag given a
/// list): its name, the flag that swept it and its values.
struct Sweep {
    name: String,
    flag: String,
    values: Vec<u64>,
}

fn sweeps(a: &RunArgs, declared: &[Param]) -> Result<Vec<Sweep>, BadInput> {
    let mut out: Vec<Sweep> = Vec::new();
    let count = |flag: &str, list: &str| parse_list(flag, list, parse_count, "a whole number");
    for (flag, list) in a.flags.iter().filter(|(_, v)| v.contains(',')) {
        let flag = format!("--{flag}");
        for p in declared.iter().filter(|p| p.flag == Some(&flag[2..])) {
            if p.read.is_some() {
                return Err(BadInput::new(format!(
                    "{flag}: takes one value, not a list"
                )));
            }
            if !out.iter().any(|s| s.name == p.name) {
                out.push(Sweep {
                    name: p.name.into(),
                    flag: flag.clone(),
                    values: count(&flag, list)?,
                });
            }
        }
    }
    for text in &a.params {
        if let Some((name, list)) = text.split_once('=').filter(|(_, v)| v.contains(',')) {
            let flag = format!("--param {}", name.trim());
            out.push(Sweep {
                name: name.trim().into(),
                values: count(&flag, list)?,
                flag,
            });
        }
    }
    out.retain(|s| s.values.len() > 1);
    Ok(out)
}

/// Each chosen workload with its parameters; once per combination of the swept values of the
/// parameters it declares (`--param NAME=a,b`; of a parameter marked as a unit's work, the
/// granularity sweep).
fn select_workloads(
    a: &RunArgs,
    c: &Chosen,
    given: &[GivenParam],
    declared: &[Param],
) -> Result<Vec<Selected>, BadInput> {
    let sweeps = sweeps(a, declared)?;
    let chunk = chunk(a)?;
    let declares = |w: &WorkloadRef, name: &str| w.info().params.iter().any(|p| p.name == name);
    for s in &sweeps {
        if !c.workloads.iter().any(|w| declares(w, &s.name)) {
            return Err(BadInput::new(format!(
                "{}: no chosen workload has a parameter '{}' to sweep ({})",
                s.flag,
                s.name,
                c.names.join(", ")
            )));
        }
    }
    let mut selected = Vec::new();
    for w in &c.workloads {
        let info = w.info();
        let size_given = match info.size {
            Size::Split(n) | Size::PerWorker(n) => given.iter().any(|g| g.name == n.name),
            Size::None => true,
        };
        // Every combination of this workload's swept values, the first sweep outermost.
        let mut combos: Vec<Vec<GivenParam>> = vec![given.to_vec()];
        for s in sweeps.iter().filter(|s| declares(w, &s.name)) {
            combos = combos
                .into_iter()
                .flat_map(|g| {
                    s.values.iter().map(move |&v| {
                        let mut g = g.clone();
                        g.retain(|x| x.name != s.name);
                        g.push(GivenParam {
                            name: s.name.clone(),
                            flag: s.flag.clone(),
                            value: v,
                        });
                        g
                    })
                })
                .collect();
        }
        // The granularity sweep (of a unit's work) measures tasks of one unit of each size.
        let granularity = sweeps
            .iter()
            .any(|s| info.params.iter().any(|p| p.unit_work && p.name == s.name));
        for given in combos {
            selected.push(Selected {
                workload: w.clone(),
                params: params_for(w, &given)?,
                time_sized: !size_given && !info.start_only,
                unit_ns: None,
                chunk: chunk.or(granularity.then_some(1)),
            });
        }
    }
    Ok(selected)
}

/// The chosen studies (a workload with models of its own) and the Python cases, with the
/// labels of the runtimes beside Rust.
fn select_studies(
    registry: &Registry,
    c: &mut Chosen,
    given: &[GivenParam],
) -> (Vec<SelectedStudy>, BTreeMap<String, String>) {
    let py = py_models(c);
    let mut studies: Vec<SelectedStudy> = registry
        .studies()
        .iter()
        .filter(|s| c.rust && c.names.contains(&s.name()))
        .map(|s| SelectedStudy {
            study: s.clone(),
            models: s
                .models()
                .iter()
                .copied()
                .filter(|m| c.models.contains(m))
                .collect(),
        })
        .filter(|s| !s.models.is_empty())
        .collect();
    let mut labels = BTreeMap::new();
    if let Some(cp) = c.cpython.take() {
        labels.insert("cpython".to_string(), cp.interpreter.label());
        // `--hold` reaches the Python counter too: the classic example sleeps 30 ms there.
        let hold = cpython::Hold::of(|name| given.iter().find(|g| g.name == name).map(|g| g.value));
        studies.push(SelectedStudy {
            study: std::sync::Arc::new(CPythonStudy {
                cp,
                hold,
                workloads: c.names.clone(),
            }),
            models: c
                .models
                .iter()
                .copied()
                .filter(|m| py.contains(m))
                .collect(),
        });
    }
    (studies, labels)
}

/// `--chunk`: units per task handed out by a pool; `None`: sized by the preflight.
fn chunk(a: &RunArgs) -> Result<Option<u64>, BadInput> {
    let Some(t) = &a.chunk else { return Ok(None) };
    let n = positive("--chunk", t)?;
    if n > 1 << 40 {
        return Err(BadInput::new(format!(
            "--chunk: at most 2^40 units (got {n})"
        )));
    }
    Ok(Some(n))
}

/// `--workers`, or the default ladder for this machine.
fn worker_counts(a: &RunArgs, cpus: usize, cores: usize) -> Result<Vec<usize>, BadInput> {
    let Some(t) = &a.workers else {
        return Ok(plan::default_workers(cpus, cores, a.quick));
    };
    let list = parse_list(
        "--workers",
        t,
        |s| s.parse::<usize>().ok(),
        "a worker count",
    )?;
    if let Some(bad) = list.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
        return Err(BadInput::new(format!(
            "--workers: worker counts must be between 1 and {MAX_WORKERS} (got {bad})"
        )));
    }
    Ok(list)
}

/// `--samples`: samples per task case.
fn samples(a: &RunArgs) -> Result<usize, BadInput> {
    let Some(t) = &a.samples else {
        return Ok(if a.quick { 5 } else { 10 });
    };
    let n = positive("--samples", t)?;
    if n > MAX_SAMPLES {
        return Err(BadInput::new(format!(
            "--samples: at most {MAX_SAMPLES} (got {n}); every sample is run and kept"
        )));
    }
    Ok(n as usize)
}

/// `--parent-rss`: the parent sizes start-up is measured at, within what the machine holds.
fn parent_rss(a: &RunArgs) -> Result<Vec<u64>, BadInput> {
    let sizes = match &a.parent_rss {
        Some(t) => parse_list("--parent-rss", t, parse_size, "a size (0, 256M, 1G)")?,
        None if a.quick => vec![0, 1 << 30],
        None => vec![0, 256 << 20, 1 << 30],
    };
    if let (Some(&most), Some(avail)) = (
        sizes.iter().max(),
        crate::measure::meminfo::available_memory_bytes(),
    ) && most as f64 > avail as f64 * PARENT_RSS_SHARE
    {
        return Err(BadInput::new(format!(
            "--parent-rss: {} is more than this machine can hold: {} available, of which at most {:.0}% may be used",
            crate::units::bytes(most as f64),
            crate::units::bytes(avail as f64),
            100.0 * PARENT_RSS_SHARE
        )));
    }
    Ok(sizes)
}

/// `--sizes`: the sequence lengths a study runs at.
fn sizes(a: &RunArgs) -> Result<Vec<u64>, BadInput> {
    let Some(t) = &a.sizes else {
        return Ok(Vec::new());
    };
    let v = parse_list("--sizes", t, parse_count, "a count (1000, 1e6)")?;
    if v.contains(&0) {
        return Err(BadInput::new("--sizes: n must be at least 1 (got 0)"));
    }
    if let Some(big) = v.iter().find(|&&n| n > MAX_SIZE) {
        return Err(BadInput::new(format!(
            "--sizes: n must be at most 10^12 (got {big})"
        )));
    }
    Ok(v)
}

/// `--case-timeout` and `--sample-time` (ns), the second within a quarter of the first.
fn times(a: &RunArgs) -> Result<(Duration, u64), BadInput> {
    let secs = parse_duration_secs(&a.case_timeout).ok_or_else(|| {
        BadInput::new(format!(
            "--case-timeout: '{}' is not a duration (30s, 500ms, 2m, 1h)",
            a.case_timeout
        ))
    })?;
    if !(MIN_TIMEOUT.as_secs_f64()..=MAX_TIMEOUT.as_secs_f64()).contains(&secs) {
        return Err(BadInput::new(format!(
            "--case-timeout: must be between 10ms and 24h (got {})",
            a.case_timeout
        )));
    }
    let case_timeout = Duration::from_secs_f64(secs);
    let sample_ns = match &a.sample_time {
        None if a.quick => 15_000_000,
        None => 50_000_000,
        Some(t) => {
            let d = parse_duration(t).ok_or_else(|| {
                BadInput::new(format!(
                    "--sample-time: '{t}' is not a duration (15ms, 0.1s)"
                ))
            })?;
            if d < Duration::from_millis(1) || d > case_timeout / 4 {
                return Err(BadInput::new(format!(
                    "--sample-time: must be between 1ms and a quarter of --case-timeout ({}) (got {t})",
                    a.case_timeout
                )));
            }
            d.as_nanos() as u64
        }
    };
    Ok((case_timeout, sample_ns))
}

/// The most idle threads `--parent-threads` takes.
const MAX_PARENT_THREADS: u64 = 4096;

/// `--parent-threads N`: idle threads held by the start-up parent.
fn parent_threads(a: &RunArgs) -> Result<usize, BadInput> {
    let Some(t) = &a.parent_threads else {
        return Ok(0);
    };
    match t.trim().parse::<u64>() {
        Ok(n) if n <= MAX_PARENT_THREADS => Ok(n as usize),
        _ => Err(BadInput::new(format!(
            "--parent-threads: '{t}' is not a whole number from 0 to {MAX_PARENT_THREADS}"
        ))),
    }
}
