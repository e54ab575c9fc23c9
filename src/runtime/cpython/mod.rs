//! `--runtime cpython`: the classic Python examples run by CPython itself, through the driver
//! shipped in `python/threadfork_driver.py` (standard library only), beside the Rust figures.
//! The driver reports raw timestamps and counts; threadfork checks every checksum and total
//! with the same closed forms as the Rust side, computes the statistics and writes the same
//! schema, with the interpreter (implementation, version, GIL on or off) on every figure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::error::BadInput;
use crate::sys::command::{failure, output_within};

/// The driver, built into every threadfork binary (a user's bench too) and written to a
/// temporary file for the interpreter.
pub const DRIVER: &str = include_str!("../../../python/threadfork_driver.py");

/// The models, by the names `--model` accepts.
pub const MODELS: [&str; 8] = [
    "cpython-sequential",
    "cpython-threads",
    "cpython-fork",
    "cpython-spawn",
    "cpython-thread-pool",
    "cpython-process-pool",
    "cpython-list",
    "cpython-generator",
];

/// How long an interpreter may take to answer `--runtime`.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The shortest sample a CPython case is sized for: waking a thread or a process through a
/// `threading` / `multiprocessing` Event takes up to milliseconds, which would be a large
/// share of a Rust-sized sample.
pub(crate) const MIN_SAMPLE_NS: u64 = 100_000_000;

/// Beyond a sample's own timeout, what one driver call may add: the interpreter's start and
/// a process pool's.
pub(crate) const CALL_SLACK: Duration = Duration::from_secs(10);

/// The classic example's task: `square_numbers(100)`.
pub(crate) const WORK: u64 = 100;

/// Sequence sizes of a quick and of a full run.
pub(crate) const QUICK_SIZES: [u64; 2] = [1_000, 1_000_000];
pub(crate) const FULL_SIZES: [u64; 4] = [1_000, 100_000, 1_000_000, 10_000_000];

/// What the interpreter says it is.
#[derive(Clone, Debug, Deserialize)]
pub struct Interpreter {
    pub implementation: String,
    pub version: String,
    pub gil: bool,
}

impl Interpreter {
    /// `cpython 3.11.7 (GIL)` or `cpython 3.13.0 (free-threaded)`.
    pub fn label(&self) -> String {
        format!(
            "{} {} ({})",
            self.implementation,
            self.version,
            if self.gil { "GIL" } else { "free-threaded" }
        )
    }
}

/// The driver's file: one per driver text, named by its hash in the temp folder and never
/// removed, so that a threadfork killed by SIGKILL leaves no file behind that a later run would
/// not reuse. (A file it must be: multiprocessing's spawn start re-reads the main module.)
pub(crate) struct DriverFile(PathBuf);

impl DriverFile {
    pub(crate) fn new() -> Result<DriverFile, String> {
        let hash = crate::exec::region::name_hash(DRIVER);
        let path = std::env::temp_dir().join(format!("threadfork-driver-{hash:016x}.py"));
        if std::fs::read(&path).is_ok_and(|b| b == DRIVER.as_bytes()) {
            return Ok(DriverFile(path));
        }
        // Written beside and renamed: two runs starting at once each see a whole file.
        let tmp = path.with_extension(format!("{}.tmp", crate::stats::random_u64()));
        std::fs::write(&tmp, DRIVER)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{}: {e}", path.display())
            })?;
        Ok(DriverFile(path))
    }
}

/// The driver's command: it asks the kernel to end it when this process dies (its workers do
/// the same with it), so a SIGKILL of threadfork leaves no Python process running.
pub(crate) fn driver_command(python: &Path, driver: &DriverFile) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(&driver.0)
        .env("THREADFORK_PARENT", std::process::id().to_string());
    cmd
}

/// The CPython runtime: an interpreter that answered, and the driver it runs.
pub struct CPython {
    pub(crate) python: PathBuf,
    pub(crate) driver: DriverFile,
    pub interpreter: Interpreter,
}

impl CPython {
    /// Checks that `python` runs the driver and says what it is; bad input otherwise.
    pub fn new(python: &Path) -> Result<CPython, BadInput> {
        let bad = |why: String| {
            BadInput::new(format!(
                "--python: '{}' cannot run threadfork's Python driver: {why}",
                python.display()
            ))
        };
        let driver = DriverFile::new().map_err(bad)?;
        let mut cmd = driver_command(python, &driver);
        cmd.arg("--runtime");
        let out = output_within(&mut cmd, None, PROBE_TIMEOUT).map_err(bad)?;
        if !out.status.success() {
            return Err(bad(format!("it exited with {}", failure(&out))));
        }
        #[derive(Deserialize)]
        struct Answer {
            runtime: Interpreter,
        }
        let answer: Answer = serde_json::from_slice(&out.stdout)
            .map_err(|_| bad("it did not answer as a Python 3 interpreter does".into()))?;
        Ok(CPython {
            python: python.to_path_buf(),
            driver,
            interpreter: answer.runtime,
        })
    }

    /// One driver call: the request in, the report out, within `timeout`.
    pub(crate) fn call(
        &self,
        request: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Report, String> {
        let mut cmd = driver_command(&self.python, &self.driver);
        let input = request.to_string();
        let out = output_within(&mut cmd, Some(input.as_bytes()), timeout + CALL_SLACK)?;
        if !out.status.success() {
            return Err(format!("the Python driver failed ({})", failure(&out)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!("the Python driver printed something that is not its report ({e})")
        })
    }
}

mod cases;
mod study;
mod workloads;

pub(crate) use cases::*;
pub use study::*;
pub(crate) use workloads::PyCase;
