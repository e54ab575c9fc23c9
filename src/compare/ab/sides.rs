//! The two sides of an A/B job: each a host binary started in serve mode, in a process group
//! of its own, spoken to one request at a time; killed with its whole group on a fault, a
//! timeout or Ctrl-C, so that no side and no worker of one is left behind.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::error::BadInput;
use crate::host::protocol::{CaseInfo, Hello, PROTOCOL, Reply, Request, SERVE_ARG};

/// The head's executable and the path it is shown by: one built by `--head-rev`, else this
/// process's own file (shown by the path it was started by, run from a copy of the very file).
pub fn head_exe(built: Option<&Path>) -> Result<(PathBuf, PathBuf), BadInput> {
    if let Some(b) = built {
        return Ok((b.to_path_buf(), b.to_path_buf()));
    }
    let exe = crate::sys::exe::host_exe()
        .map_err(|e| BadInput::new(format!("cannot find the host executable: {e}")))?;
    let shown = std::env::current_exe().unwrap_or_else(|_| exe.clone());
    Ok((exe, shown))
}

/// How long a side may take to say hello: it resolves the plan and runs the preflight.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(120);

/// Which build a side runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The base build (A): the binary given on the command line.
    Base,
    /// The head build (B): the binary running `ab`.
    Head,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Base => "base",
            Which::Head => "head",
        }
    }
}

/// One running side.
pub struct Side {
    pub which: Which,
    /// The binary as the user named it (the side runs a copy of it).
    pub exe: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<std::io::Result<String>>,
    /// Why the side can take no more requests (it ended, hung or spoke nonsense).
    pub dead: Option<String>,
}

impl Side {
    /// Starts `exe` in serve mode with the run flags `flags`; messages name it `shown`.
    pub fn start(which: Which, exe: &Path, shown: &Path, flags: &[String]) -> Result<Side, String> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(exe)
            .arg(SERVE_ARG)
            .arg(std::process::id().to_string())
            .args(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", shown.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let end = line.is_err();
                if tx.send(line).is_err() || end {
                    break;
                }
            }
        });
        // Standard error is the side's own: its last lines explain an early end.
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let _ = writeln!(std::io::stderr(), "{}: {line}", which.name());
                }
            });
        }
        Ok(Side {
            which,
            exe: shown.to_path_buf(),
            child,
            stdin,
            lines,
            dead: None,
        })
    }

    /// The side's process group: the side, its workers and its pool's processes.
    pub fn group(&self) -> u32 {
        self.child.id()
    }

    /// Reads the side's hello.
    pub fn hello(&mut self) -> Result<Hello, String> {
        let line = self.read(HELLO_TIMEOUT).map_err(|e| {
            format!(
                "{} is not a threadfork host: it did not answer serve mode ({e}); a host is a \
                 binary made with threadfork::main!",
                self.exe.display()
            )
        })?;
        serde_json::from_str(&line).map_err(|_| {
            self.kill();
            format!(
                "{} is not a threadfork host with serve mode: it answered '{}'",
                self.exe.display(),
                line.chars().take(80).collect::<String>()
            )
        })
    }

    /// Sends one request and waits for its reply, at most `timeout`; a side that does not
    /// answer in time, ends, or answers nonsense is killed and marked dead.
    pub fn ask(&mut self, request: &Request, timeout: Duration) -> Result<Reply, String> {
        if let Some(why) = &self.dead {
            return Err(why.clone());
        }
        let line = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let sent = self
            .stdin
            .as_mut()
            .map(|s| writeln!(s, "{line}").and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.died("stopped reading requests"));
        }
        let answer = self.read(timeout)?;
        serde_json::from_str(&answer).map_err(|_| {
            let why = format!("answered something that is not a reply: '{answer}'");
            self.died(&why)
        })
    }

    fn read(&mut self, timeout: Duration) -> Result<String, String> {
        let until = Instant::now() + timeout;
        loop {
            if crate::sys::signals::stop_requested() {
                return Err(self.died("interrupted"));
            }
            let nap = until
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100));
            match self.lines.recv_timeout(nap) {
                Ok(Ok(line)) => return Ok(line),
                Ok(Err(e)) => return Err(self.died(&format!("its output broke: {e}"))),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string());
                    let how = status.unwrap_or_else(|e| e.to_string());
                    return Err(self.died(&format!("ended ({how})")));
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() >= until => {
                    let why = format!(
                        "did not answer within {:.0} s and was stopped",
                        timeout.as_secs_f64()
                    );
                    return Err(self.died(&why));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Marks the side dead with the reason, kills it, and returns the reason in full.
    fn died(&mut self, why: &str) -> String {
        let why = format!(
            "the {} side ({}) {why}",
            self.which.name(),
            self.exe.display()
        );
        self.kill();
        self.dead = Some(why.clone());
        why
    }

    /// Kills the side's whole process group (its workers, its pool) and reaps it.
    pub fn kill(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Asks the side to close (its pools stop, its workers are reaped) and waits a little for
    /// it to exit; kills it if it does not.
    pub fn close(mut self) {
        if self.dead.is_none()
            && let Some(mut s) = self.stdin.take()
        {
            let close = serde_json::to_string(&Request::Close).unwrap_or_default();
            let _ = writeln!(s, "{close}");
            drop(s);
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.kill();
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Both sides must speak one protocol and hold one plan: the same cases, in the same order,
/// with the same parameters.
pub fn check_plans(base: &Hello, head: &Hello) -> Result<(), BadInput> {
    if let Some(why) = &head.error {
        return Err(BadInput::new(why.clone()));
    }
    if let Some(why) = &base.error {
        return Err(BadInput::new(format!(
            "ab: the base build cannot run this plan: {why}"
        )));
    }
    if base.protocol != head.protocol || head.protocol != PROTOCOL {
        return Err(BadInput::new(format!(
            "ab: the base build speaks serve protocol {} and this build {}: build both from revisions that have the same one",
            base.protocol, head.protocol
        )));
    }
    let differs = |what: &str, case: &CaseInfo| {
        BadInput::new(format!(
            "ab: the two builds hold different plans: {what} {}",
            case.id
        ))
    };
    for c in &head.cases {
        match base.cases.iter().find(|b| b.id == c.id) {
            None => return Err(differs("the base build has no case", c)),
            Some(b) if b.params != c.params || b.startup != c.startup => {
                return Err(differs("the builds give different parameters to", c));
            }
            Some(_) => {}
        }
    }
    if let Some(c) = base
        .cases
        .iter()
        .find(|b| !head.cases.iter().any(|c| c.id == b.id))
    {
        return Err(differs("this build has no case", c));
    }
    if base.cases != head.cases {
        return Err(BadInput::new(
            "ab: the two builds hold the same cases in a different order",
        ));
    }
    Ok(())
}
