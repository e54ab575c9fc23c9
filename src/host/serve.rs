//! Serve mode: one side of an A/B job. The host binary, started by the orchestrator with a
//! run's flags, resolves the same plan a `run` would, says hello, and then takes one sample
//! at a time as asked — measured exactly as `run` measures it (the same executors, the same
//! calibration, the probe beside every sample) — and answers with its figures. It keeps no
//! results and draws nothing: the orchestrator pairs the two sides' samples.

use std::io::{BufRead, Write};

use super::protocol::{CaseInfo, Figure, Hello, PROTOCOL, Reply, Request};
use crate::api::workload::Verdict;
use crate::exec::{Executor, executor, take_sample};
use crate::measure::ballast::Ballast;
use crate::results::Metric;
use crate::sweep::plan::{Case, Plan};
use crate::sweep::samples::figures;
use crate::sweep::sizing::{calibrate, starting_size};

/// An open case: its executor (a pool's workers stay up between samples) and, for a start-up
/// case, the parent memory it holds.
struct Open {
    exec: Box<dyn Executor>,
}

/// The side's state: its plan, its cases, and the cases it has open.
pub struct Side<'a> {
    plan: &'a Plan,
    cases: Vec<Case>,
    open: Vec<Option<Open>>,
    /// The parent memory held for the start-up cases, grown chunk by chunk as asked.
    ballast: Vec<Ballast>,
    /// The CPU the last start-up sample was taken from.
    last_cpu: Option<usize>,
}

impl<'a> Side<'a> {
    pub fn new(plan: &'a Plan) -> Side<'a> {
        let cases = plan.cases();
        let open = cases.iter().map(|_| None).collect();
        Side {
            plan,
            cases,
            open,
            ballast: Vec::new(),
            last_cpu: None,
        }
    }

    /// What the side says first: its build and its plan's cases.
    pub fn hello(&self) -> Hello {
        let plan = self.plan;
        let cases = self
            .cases
            .iter()
            .map(|case| {
                // The plan's own parameters: a time-sized case's starting size comes from this
                // side's preflight, so it is left to calibration on the head side.
                let (w, startup, sized) = match *case {
                    Case::Task {
                        w, model, workers, ..
                    } => {
                        let sized = starting_size(plan, w, model, workers).is_some();
                        let strong = plan.scaling == crate::sweep::plan::Scaling::Strong;
                        (w, false, sized && strong)
                    }
                    Case::Startup { w, .. } => (w, true, false),
                };
                let params = plan.workloads[w].params.clone();
                CaseInfo {
                    id: plan.case_id(case),
                    startup,
                    params,
                    sized,
                    op: plan.workloads[w].workload.info().op.into(),
                }
            })
            .collect();
        Hello {
            protocol: PROTOCOL,
            harness: crate::machine::HARNESS_VERSION.into(),
            commit: crate::machine::GIT_COMMIT.into(),
            error: None,
            cases,
            samples: plan.samples,
            warmup: plan.warmup,
            startup_samples: plan.startup_samples,
            injected: plan.injected.slowdown.map(|s| s.spec()),
            left_out: plan
                .studies
                .iter()
                .map(|s| s.study.name().to_string())
                .collect(),
        }
    }

    /// Answers one request; `None` for `close`.
    pub fn answer(&mut self, request: Request) -> Option<Reply> {
        let failed = |e: String| Reply {
            error: Some(e),
            ..Reply::default()
        };
        Some(match request {
            Request::Close => return None,
            Request::Hold { bytes } => self.hold(bytes).unwrap_or_else(failed),
            Request::Calibrate { case } => self.calibrate(case).unwrap_or_else(failed),
            Request::Sample { case, params, turn } => {
                let cpus = turned(&self.plan.cpus, turn);
                let _pinned = Pinned::to(cpus.first().copied());
                self.sample(case, &params, &cpus).unwrap_or_else(failed)
            }
        })
    }

    fn case(&self, k: usize) -> Result<Case, String> {
        self.cases
            .get(k)
            .cloned()
            .ok_or_else(|| format!("no case {k}: this side's plan has {}", self.cases.len()))
    }

    /// Opens case `k` if it is not open yet; a start-up case first closes any other start-up
    /// case, so that the parent holds one ballast at a time.
    fn opened(&mut self, k: usize, params: &[u64]) -> Result<&mut Open, String> {
        let case = self.case(k)?;
        if self.open[k].is_none() {
            if matches!(case, Case::Startup { .. }) {
                for (j, c) in self.cases.iter().enumerate() {
                    if matches!(c, Case::Startup { .. })
                        && let Some(mut o) = self.open[j].take()
                    {
                        o.exec.close();
                    }
                }
            }
            let (model, job) = (case_model(&case), self.plan.job(&case));
            let mut exec = executor(model);
            let job = crate::exec::Job { params, ..job };
            exec.open(&job).map_err(|e| e.to_string())?;
            self.open[k] = Some(Open { exec });
        }
        self.open[k]
            .as_mut()
            .ok_or_else(|| "the case did not open".to_string())
    }

    fn hold(&mut self, bytes: u64) -> Result<Reply, String> {
        if bytes == 0 {
            self.ballast.clear();
        } else {
            let b = Ballast::new(bytes).map_err(|e| format!("{e:#}"))?;
            self.ballast.push(b);
        }
        Ok(Reply {
            verified: true,
            ..Reply::default()
        })
    }

    fn calibrate(&mut self, k: usize) -> Result<Reply, String> {
        let case = self.case(k)?;
        let Case::Task {
            w, model, workers, ..
        } = case
        else {
            return Err("a start-up case is not calibrated".into());
        };
        let plan = self.plan;
        let mut params = plan.workloads[w].params.clone();
        let sized = starting_size(plan, w, model, workers);
        if let Some((i, units)) = sized {
            params[i] = units;
        }
        let open = self.opened(k, &params)?;
        if let Some((i, _)) = sized {
            calibrate(
                plan,
                &case,
                &mut params,
                open.exec.as_mut(),
                (i, plan.sample_ns as f64),
            )?;
        }
        Ok(Reply {
            params: Some(params),
            verified: true,
            ..Reply::default()
        })
    }

    fn sample(&mut self, k: usize, params: &[u64], cpus: &[usize]) -> Result<Reply, String> {
        let case = self.case(k)?;
        let plan = self.plan;
        let model = case_model(&case);
        let held: u64 = self.ballast.iter().map(|b| b.len() as u64).sum();
        let moved = std::mem::replace(&mut self.last_cpu, cpus.first().copied()) != self.last_cpu;
        let open = self.opened(k, params)?;
        match case {
            Case::Startup { parent_rss, .. } => {
                if held != parent_rss {
                    return Err(format!(
                        "the side holds {held} bytes of parent memory, not the {parent_rss} the case asks"
                    ));
                }
                let job = crate::exec::Job {
                    params,
                    ..plan.job(&case)
                };
                if moved {
                    // A thread just moved to this core starts its first thread (or child) from
                    // cold caches: one sample to warm it, not kept.
                    take_sample(open.exec.as_mut(), &job).map_err(|e| e.to_string())?;
                }
                // The core's speed of the moment, beside the sample: the judge of a start cost.
                let probe = crate::measure::probe::probe();
                let parent = crate::measure::rss::parent_state().map(|(r, m, t)| [r, m, t]);
                let raw = take_sample(open.exec.as_mut(), &job).map_err(|e| e.to_string())?;
                if let Verdict::Failed(why) = &raw.verdict {
                    return Err(why.clone());
                }
                let w = raw.workers[0];
                Ok(Reply {
                    figures: vec![
                        figure(Metric::Startup, w.started_ns.saturating_sub(w.requested_ns)),
                        figure(
                            Metric::Roundtrip,
                            w.joined_ns.saturating_sub(w.requested_ns),
                        ),
                    ],
                    probe,
                    verified: raw.verdict != Verdict::Unverified,
                    parent,
                    ..Reply::default()
                })
            }
            Case::Task { .. } => {
                let job = crate::exec::Job {
                    params,
                    cpus,
                    ..plan.job(&case)
                };
                let raw = take_sample(open.exec.as_mut(), &job).map_err(|e| e.to_string())?;
                let f = figures(model, &raw, plan.cpus.len())?;
                let out = f
                    .values
                    .iter()
                    .map(|&(metric, value)| Figure { metric, value })
                    .collect();
                Ok(Reply {
                    figures: out,
                    probe: f.probe,
                    verified: f.verified,
                    interference: f.interference,
                    ..Reply::default()
                })
            }
        }
    }

    /// Closes every open case: pools stop and are reaped, ballast is let go.
    pub fn close(&mut self) {
        for o in self.open.iter_mut().filter_map(Option::take) {
            let mut o = o;
            o.exec.close();
        }
    }
}

/// The plan's CPUs from the `turn`-th on, wrapping around.
fn turned(cpus: &[usize], turn: usize) -> Vec<usize> {
    (0..cpus.len())
        .map(|k| cpus[(turn + k) % cpus.len()])
        .collect()
}

/// The calling thread pinned to one CPU until dropped, then given back the CPUs it had.
struct Pinned(Option<nix::sched::CpuSet>);

impl Pinned {
    fn to(cpu: Option<usize>) -> Pinned {
        use nix::sched::sched_getaffinity;
        use nix::unistd::Pid;
        let Some(cpu) = cpu else {
            return Pinned(None);
        };
        let before = sched_getaffinity(Pid::from_raw(0)).ok();
        crate::exec::worker::pin_to(cpu as i32);
        Pinned(before)
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(set) = &self.0 {
            let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), set);
        }
    }
}

fn case_model(case: &Case) -> crate::api::Model {
    match *case {
        Case::Task { model, .. } | Case::Startup { model, .. } => model,
    }
}

fn figure(metric: Metric, ns: u64) -> Figure {
    Figure {
        metric,
        value: ns as f64,
    }
}

/// Says hello on `out`, then answers each request line of `input` until `close` or the end
/// of input; returns the exit code. A line that is not a request ends the side (exit 2).
pub fn serve(plan: &Plan, input: impl BufRead, out: &mut impl Write) -> i32 {
    let mut side = Side::new(plan);
    if send(out, &side.hello()).is_err() {
        return 1;
    }
    let mut code = 0;
    for line in input.lines() {
        let Ok(line) = line else { break };
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("threadfork serve: not a request ({e}): {line}");
                code = 2;
                break;
            }
        };
        let Some(reply) = side.answer(request) else {
            break;
        };
        if send(out, &reply).is_err() {
            code = 1;
            break;
        }
    }
    side.close();
    code
}

/// Hello sent in place of a plan the side cannot make: the reason, in the side's words.
pub fn refuse(out: &mut impl Write, reason: &str) {
    let hello = Hello {
        protocol: PROTOCOL,
        harness: crate::machine::HARNESS_VERSION.into(),
        commit: crate::machine::GIT_COMMIT.into(),
        error: Some(reason.into()),
        cases: Vec::new(),
        samples: 0,
        warmup: 0,
        startup_samples: 0,
        injected: None,
        left_out: Vec::new(),
    };
    let _ = send(out, &hello);
}

fn send(out: &mut impl Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let line = serde_json::to_string(value).map_err(std::io::Error::other)?;
    writeln!(out, "{line}")?;
    out.flush()
}
