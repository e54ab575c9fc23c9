//! The flags of every command, as clap reads them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "threadfork",
    version,
    about = "What threads, processes and lazy pipelines really cost on this machine",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the benchmarks, write results/MACHINE/RUN.json and print a summary
    Run(Box<RunArgs>),
    /// Draw charts and index.html for one run, or overlay several runs
    Report(ReportArgs),
    /// Compare two runs (files, or folders holding runs): verdicts and exit code 0/1/2
    Compare(CompareArgs),
    /// Measure a base build against this one side by side, sample by sample (A/B): verdicts
    /// and exit code 0/1/2 as compare
    Ab(Box<AbArgs>),
    /// One machine's runs as a series per figure: change points, when and by how much, with
    /// the commits around each; exit 1 for a regression among the newest --window runs
    History(HistoryArgs),
    /// Print this machine's fingerprint
    Machine {
        /// Print it as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the workloads this binary runs, with their parameters, variants and models
    List,
    /// Fit the Universal Scalability Law to every throughput curve of a results file
    Scaling {
        /// A results file (from any machine)
        #[arg(value_name = "RESULTS.json")]
        file: PathBuf,
        /// Print the fits as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Results files (one: its charts; several: the same charts overlaid)
    #[arg(required = true, value_name = "RESULTS.json")]
    pub files: Vec<PathBuf>,
    /// Folder for the charts [default: beside the JSON for one run; results/overlay-… for several]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one run's figures as text (the summary), markdown, json, junit (JUnit XML: a
    /// test case per case) or csv (a line per figure) [default: text]
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// The baseline, then the run to judge (last). A baseline may be several results files
    /// or folders: every run of one machine in them counts, and each key is then judged
    /// against its spread between those runs (3 or more). The run to judge is a results file,
    /// or a folder whose newest run is taken
    #[arg(value_name = "BASE... CURRENT", num_args = 2.., required = true)]
    pub paths: Vec<PathBuf>,
    /// Smallest change that counts, e.g. 5% or 0.05
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub threshold: String,
    /// Smallest change that counts for exact instruction counts (`run --instructions`)
    #[arg(long, value_name = "PCT", default_value = "1%")]
    pub instructions_threshold: String,
    /// Write the report as text, markdown, json, junit (JUnit XML, for CI test reports) or
    /// csv [default: text]
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["markdown", "json"])]
    pub format: Option<String>,
    /// Print a Markdown table (for a CI step summary or a PR comment): --format markdown
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print a machine-readable JSON verdict
    #[arg(long)]
    pub json: bool,
    /// Judge absolute figures even when the runs come from different machines
    #[arg(long)]
    pub absolute: bool,
    /// Do not fail (exit 1) because the current run has failed cases
    #[arg(long)]
    pub allow_failed: bool,
    /// Do not fail (exit 1) because the current run lacks keys the baseline has (same machine)
    #[arg(long)]
    pub allow_missing: bool,
    /// Compare an incomplete (interrupted) run instead of refusing it (exit 2)
    #[arg(long)]
    pub allow_incomplete: bool,
}

#[derive(Args, Debug, Clone)]
pub struct HistoryArgs {
    /// Results files or folders (every run in them), of one machine, in any order
    #[arg(value_name = "PATH", required_unless_present = "revs")]
    pub paths: Vec<PathBuf>,
    /// Build each commit of this range of this binary's crate (A..B, oldest first), make a
    /// run of each (kept under --out, reused by the next call) and read them as the history
    #[arg(long, value_name = "A..B")]
    pub revs: Option<String>,
    /// With --revs: every K-th commit of the range's first-parent line, counted back from B
    /// (B always among them), for a long range
    #[arg(long, value_name = "K", default_value_t = 1, requires = "revs")]
    pub step: usize,
    /// The flags of each commit's run with --revs
    #[arg(
        long,
        value_name = "FLAGS",
        default_value = "--quick --workload square,counter,empty --model sequential,threads,fork,spawn",
        allow_hyphen_values = true
    )]
    pub run_flags: String,
    /// The machine whose runs make the history, when the paths hold several
    #[arg(long, value_name = "ID")]
    pub machine: Option<String>,
    /// Smallest change for the worse that fails a nightly gate, e.g. 5% or 0.05
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub threshold: String,
    /// Fail (exit 1) only for a change whose first run is among the newest N runs (2 or more:
    /// a change is seen once two runs hold its new level)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub window: usize,
    /// Write the report as text, markdown, json or junit [default: text]
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["markdown", "json"])]
    pub format: Option<String>,
    /// --format markdown
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// --format json
    #[arg(long)]
    pub json: bool,
    /// Where index.html and its charts go
    #[arg(long, value_name = "DIR", default_value = "results/history")]
    pub out: PathBuf,
    /// No index.html or charts
    #[arg(long)]
    pub no_charts: bool,
    /// The evaluation of scripts/history-eval.sh: the paths are A/A runs of one build; print
    /// how often steps of these sizes (e.g. 2%,5%,10%) are found in series made from them
    #[arg(long, value_name = "STEPS", hide = true)]
    pub evaluate: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct AbArgs {
    /// The base build (A): a threadfork binary, or a user's bench binary, built from the base
    /// revision; this binary is the head (B). Or --rev REV, to have it built
    #[arg(
        value_name = "BASE_BINARY",
        required_unless_present = "rev",
        conflicts_with = "rev"
    )]
    pub base: Option<PathBuf>,
    /// Build the base from this revision of this binary's own crate (a git worktree and a
    /// target folder of its own, kept for the next job), e.g. origin/main or HEAD~1
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Build the head from this revision too, instead of measuring this binary
    #[arg(long, value_name = "REV", requires = "rev")]
    pub head_rev: Option<String>,
    /// Smallest change that counts, e.g. 2% or 0.02 [default: 2% (start costs: 5% at least);
    /// 1% with --instructions]
    #[arg(long, value_name = "PCT")]
    pub threshold: Option<String>,
    /// The job's time: past the default pairs, each epoch takes more of the task cases whose
    /// rows have not settled until its share of it is up; the pairs taken are judged and the
    /// rows they cannot decide are listed as undecided ("none": no limit, no more pairs)
    #[arg(long, value_name = "TIME", default_value = "110s")]
    pub budget: String,
    /// Write the report as text, markdown, json, junit (JUnit XML, for CI test reports) or
    /// csv [default: text]
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["markdown", "json"])]
    pub format: Option<String>,
    /// Print the Markdown report only (for a CI step summary or a PR comment): --format
    /// markdown
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print a machine-readable JSON verdict
    #[arg(long)]
    pub json: bool,
    /// Judge a saved job again (BASE_BINARY is then its results file, ab-….json), e.g. at
    /// another --threshold; nothing is measured
    #[arg(long)]
    pub judge: bool,
    /// The rows that gate (set the exit code), as WORKLOAD[/MODEL] items, e.g.
    /// square,counter/threads [default: each workload's every-model throughput rows, and each
    /// model's start costs at 5% or --threshold]; the rest are listed and judged, never failing
    #[arg(long, value_name = "LIST")]
    pub gate: Vec<String>,
    /// What a job whose gated rows stay undecided exits with: pass (0) or fail (1) [default:
    /// 3, inconclusive]
    #[arg(long, value_name = "pass|fail")]
    pub undecided: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

impl AbArgs {
    /// `--threshold` for timed figures, or the default.
    pub fn timed_threshold(&self) -> &str {
        (self.threshold.as_deref()).unwrap_or(crate::compare::ab::DEFAULT_THRESHOLD)
    }
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Fewer samples and worker counts: a pass in seconds
    #[arg(long)]
    pub quick: bool,
    /// Workloads to run (comma-separated or repeated; `list` shows them) [default: all]
    #[arg(long, value_name = "LIST")]
    pub workload: Vec<String>,
    #[arg(long, value_name = "LIST", help = model_help())]
    pub model: Vec<String>,
    /// Worker counts, e.g. 1,2,4 [default: 1, 2, 4, … and the core count; 2× cores in full runs]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub workers: Option<String>,
    /// Samples per case after warm-up [default: 5 quick, 10 full]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub samples: Option<String>,
    /// Pin worker k to the k-th CPU: spread (distinct physical cores first, the default) or
    /// compact (a core's SMT siblings first)
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "spread")]
    pub pin: Option<String>,
    /// A workload parameter, NAME=VALUE, or NAME=a,b,… to sweep it: every value is its own case (repeatable, each parameter once; `list` shows each workload's; a parameter with a flag of its own is listed below)
    #[arg(long = "param", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub params: Vec<String>,
    /// The workloads' own flags given (`--FLAG TEXT`): (flag, text), set when the command
    /// line is read (`cli::flags`), each flag declared by a workload's parameter.
    #[arg(skip)]
    pub flags: Vec<(String, String)>,
    /// Units per task on the pools (Pool.map's chunksize) [default: what takes about 10 µs of the workload's own code, measured; 1 when a sweep of a unit's work measures the task size, and in ab]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub chunk: Option<String>,
    /// Parent memory held while measuring startup, e.g. 0,256M,1G [default: 0,1G quick; 0,256M,1G full]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub parent_rss: Option<String>,
    /// Idle threads the start-up parent holds beside the one that starts the workers (a fork
    /// from a busy multi-threaded server) [default: 0]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub parent_threads: Option<String>,
    /// Sizes n for the studies, e.g. 1e3,1e6 [default: 10^3…10^6 quick, 10^3…10^8 full]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub sizes: Option<String>,
    /// How long a sample lasts: the work of a workload whose size was not given is calibrated
    /// to it [default: 15ms quick, 50ms full]
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub sample_time: Option<String>,
    /// How a sample's work grows with workers: strong (calibrated per case to the sample time)
    /// or weak (each worker gets what one core does in the sample time)
    #[arg(long, value_name = "MODE", default_value = "strong")]
    pub scaling: String,
    /// Give up on a sample after this long and record the case as failed
    #[arg(
        long,
        value_name = "TIME",
        default_value = "60s",
        allow_hyphen_values = true
    )]
    pub case_timeout: String,
    /// Folder for results (DIR/MACHINE-ID/RUN-ID.json)
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Do not draw the charts and index.html
    #[arg(long)]
    pub no_charts: bool,
    /// Tests only: make worker 0 of every task sample of MODEL panic, abort, kill, exit or hang
    #[arg(long, hide = true, value_name = "KIND:MODEL")]
    pub inject_fault: Option<String>,
    /// Tests only: a real slowdown of PCT% in workload code, fork/spawn start-up or the
    /// process-shared lock (code=PCT, start=PCT, lock=PCT); the run is marked and refused as a
    /// baseline
    #[arg(long, hide = true, value_name = "TARGET=PCT")]
    pub inject_slowdown: Option<String>,
    /// Count instructions instead of timing: every task case at 1 worker under valgrind's
    /// callgrind (exact, repeatable figures for noisy CI machines; metric `instructions`)
    #[arg(long)]
    pub instructions: bool,
    /// Runtimes to run: rust (threadfork's own workloads), cpython (the classic Python
    /// examples through python/threadfork_driver.py) [default: rust]
    #[arg(long, value_name = "LIST")]
    pub runtime: Vec<String>,
    /// The Python interpreter for --runtime cpython
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
}

/// `--model`'s help, from the table of models: the per-sample models by name, the pools by
/// their families.
fn model_help() -> String {
    use crate::api::model::{MODELS, Pattern, Pool, Starts};
    let own: Vec<&str> = MODELS
        .iter()
        .filter(|f| f.starts != Starts::PerCase)
        .map(|f| f.name)
        .collect();
    let patterns: Vec<String> = Pattern::ALL
        .iter()
        .map(|p| format!("-{}", p.name()))
        .collect();
    format!(
        "Models to run (`list` shows each): {}, the pools ({}: each pattern {}, or all three by \
         the pool's name) and the studies' own [default: all]",
        own.join(", "),
        Pool::names(),
        patterns.join(", ")
    )
}
