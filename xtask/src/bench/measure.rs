//! Running whole processes: the hermetic environment every process of the benchmark gets, wall
//! time from the first spawn to the last exit, and peak resident memory.
//!
//! Peak memory comes from `wait4(2)` (std's `Child::wait` throws the rusage away), but not of a
//! child of the harness itself: Linux starts a child's `ru_maxrss` at its parent's high-water
//! mark (`exec` keeps the old memory map's peak), and the harness holds 10,000-checkpoint logs.
//! So memory is measured in separate, untimed runs through `xtask rss-probe`, a small fresh
//! process that runs the command and reports its child's peak on stderr.
//!
//! A third kind of run traces every git process (`GIT_TRACE2_EVENT`, which our binary passes on
//! to the gits it runs) to show where the time goes.

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The fixed identity and dates of every commit the benchmark makes or causes, so that the
/// generated repositories have the same commit ids on every machine.
const IDENTITY: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Bench Author"),
    ("GIT_AUTHOR_EMAIL", "bench@example.com"),
    ("GIT_AUTHOR_DATE", "1700000000 +0000"),
    ("GIT_COMMITTER_NAME", "Bench Author"),
    ("GIT_COMMITTER_EMAIL", "bench@example.com"),
    ("GIT_COMMITTER_DATE", "1700000000 +0000"),
];

/// The programs under test and the environment they run in: nothing from the developer's git
/// config, environment or locale leaks in (`env_clear` + an explicit list).
#[derive(Debug, Clone)]
pub struct Tools {
    ours: PathBuf,
    vars: Vec<(OsString, OsString)>,
    /// This program, which runs commands under `rss-probe` in [`Mode::Memory`].
    probe: PathBuf,
    /// Where git writes its trace in [`Mode::Trace`].
    trace: PathBuf,
    mode: Cell<Mode>,
}

/// How commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Directly (timed runs and set-up).
    Plain,
    /// Under `xtask rss-probe`, which reports peak memory.
    Memory,
    /// With `GIT_TRACE2_EVENT` set, so that every git process logs its start and exit.
    Trace,
}

impl Tools {
    /// Tools that run `ours` (the checkpoint-manager binary) and `git` from `PATH`, with
    /// `home` as an empty home folder; `probe` is the xtask binary and `trace` the file of
    /// [`Mode::Trace`].
    pub fn new(ours: PathBuf, probe: PathBuf, home: &Path, trace: PathBuf) -> Self {
        let mut vars: Vec<(OsString, OsString)> = Vec::new();
        for name in ["PATH", "TMPDIR"] {
            if let Some(value) = std::env::var_os(name) {
                vars.push((name.into(), value));
            }
        }
        vars.push(("HOME".into(), home.into()));
        for (name, value) in [
            ("LC_ALL", "C"),
            ("GIT_CONFIG_GLOBAL", "/dev/null"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_TERMINAL_PROMPT", "0"),
        ]
        .into_iter()
        .chain(IDENTITY)
        {
            vars.push((name.into(), value.into()));
        }
        Tools {
            ours,
            vars,
            probe,
            trace,
            mode: Cell::new(Mode::Plain),
        }
    }

    /// Sets how the following commands run.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.set(mode);
    }

    /// Returns the file git writes its trace to in [`Mode::Trace`].
    pub fn trace_path(&self) -> &Path {
        &self.trace
    }

    /// Returns the checkpoint-manager binary under test.
    pub fn ours_path(&self) -> &Path {
        &self.ours
    }

    /// Returns `git <args>` run in `dir`.
    pub fn git<I, S>(&self, dir: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command("git", dir, args)
    }

    /// Returns `checkpoint-manager <args>` run in `dir`.
    pub fn ours<I, S>(&self, dir: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command(&self.ours, dir, args)
    }

    fn command<P, I, S>(&self, program: P, dir: &Path, args: I) -> Command
    where
        P: AsRef<std::ffi::OsStr>,
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mode = self.mode.get();
        let mut cmd = if mode == Mode::Memory {
            let mut cmd = Command::new(&self.probe);
            cmd.args([OsStr::new(PROBE_TASK), OsStr::new("--"), program.as_ref()]);
            cmd
        } else {
            Command::new(program)
        };
        cmd.env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .args(args);
        if mode == Mode::Trace {
            cmd.env("GIT_TRACE2_EVENT", &self.trace);
        }
        cmd
    }
}

/// The sub-command of xtask that runs a command and reports its peak memory.
pub const PROBE_TASK: &str = "rss-probe";

/// How `rss-probe` reports, as the last line of its stderr.
const PROBE_MARK: &str = "xtask-rss-probe: maxrss_kib=";

/// One run: wall time in milliseconds and the largest peak RSS among its processes (known only
/// in memory runs, through `rss-probe`).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub ms: f64,
    pub peak_rss_kib: Option<u64>,
}

/// A timed sequence of processes, from [`Timer::start`] to [`Timer::stop`]; what the harness
/// does in between (reading output, copying an index) counts too, as it would for any caller.
#[derive(Debug)]
pub struct Timer {
    start: Instant,
    peak_rss_kib: Option<u64>,
}

impl Timer {
    /// Starts the clock.
    pub fn start() -> Self {
        Timer {
            start: Instant::now(),
            peak_rss_kib: None,
        }
    }

    /// Runs `cmd` to completion and returns its stdout (trimmed); fails unless it exits 0.
    pub fn output(&mut self, cmd: &mut Command) -> Result<String> {
        let (stdout, rss) = spawn_and_wait(cmd, true)?;
        self.peak_rss_kib = self.peak_rss_kib.max(rss);
        Ok(String::from_utf8_lossy(&stdout).trim().to_owned())
    }

    /// Runs `cmd` to completion with stdout sent to `/dev/null`; fails unless it exits 0.
    pub fn run(&mut self, cmd: &mut Command) -> Result<()> {
        let (_, rss) = spawn_and_wait(cmd, false)?;
        self.peak_rss_kib = self.peak_rss_kib.max(rss);
        Ok(())
    }

    /// Runs `cmd` with the file `input` on its stdin (an agent's hook event).
    pub fn run_with_stdin(&mut self, cmd: &mut Command, input: &Path) -> Result<()> {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        let (_, rss) = spawn_and_wait_with(cmd, false, Stdio::from(file))?;
        self.peak_rss_kib = self.peak_rss_kib.max(rss);
        Ok(())
    }

    /// Stops the clock.
    pub fn stop(self) -> Sample {
        Sample {
            ms: self.start.elapsed().as_secs_f64() * 1000.0,
            peak_rss_kib: self.peak_rss_kib,
        }
    }
}

/// Runs an untimed set-up command and returns its stdout (trimmed); fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<String> {
    Timer::start().output(cmd)
}

/// Runs an untimed set-up command with `input` on its stdin; fails unless it exits 0.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Result<()> {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", describe(cmd)))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .with_context(|| format!("cannot write to {}", describe(cmd)))?;
    }
    let output = child
        .wait_with_output()
        .with_context(|| format!("cannot wait for {}", describe(cmd)))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Runs `cmd`; returns its stdout (if `capture`) and the peak memory `rss-probe` reported.
fn spawn_and_wait(cmd: &mut Command, capture: bool) -> Result<(Vec<u8>, Option<u64>)> {
    spawn_and_wait_with(cmd, capture, Stdio::null())
}

/// Runs `cmd` with `stdin` like [`spawn_and_wait`].
fn spawn_and_wait_with(
    cmd: &mut Command,
    capture: bool,
    stdin: Stdio,
) -> Result<(Vec<u8>, Option<u64>)> {
    cmd.stdin(stdin)
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", describe(cmd)))?;
    // Outputs are small (at most a few MB from `list`); stderr is read after stdout, which is
    // safe as long as a child writes less than a pipe's worth to stderr, as git and we do.
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_end(&mut stdout)
            .with_context(|| format!("cannot read the output of {}", describe(cmd)))?;
    }
    let mut stderr = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_end(&mut stderr)
            .with_context(|| format!("cannot read the errors of {}", describe(cmd)))?;
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {}", describe(cmd)))?;
    let stderr = String::from_utf8_lossy(&stderr);
    let (message, rss) = split_probe_mark(&stderr);
    if !status.success() {
        bail!("{} failed ({status}): {message}", describe(cmd));
    }
    Ok((stdout, rss))
}

/// Splits `rss-probe`'s report off the end of a child's stderr.
fn split_probe_mark(stderr: &str) -> (&str, Option<u64>) {
    match stderr.rfind(PROBE_MARK) {
        Some(at) => (
            stderr[..at].trim(),
            stderr[at + PROBE_MARK.len()..].trim().parse().ok(),
        ),
        None => (stderr.trim(), None),
    }
}

/// `xtask rss-probe -- PROGRAM ARGS...`: runs the program with this process's stdio and
/// environment, then prints its peak RSS as the last line of stderr and exits with its code.
pub fn probe(program: &OsStr, args: &[OsString]) -> Result<std::process::ExitCode> {
    let child = Command::new(program)
        .args(args)
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let (status, rss) = wait4(&child).context("wait4 failed")?;
    eprintln!("{PROBE_MARK}{rss}");
    let code = status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1);
    Ok(std::process::ExitCode::from(code))
}

/// Reaps `child` and returns its exit status and peak RSS in KiB. The kernel reports the larger
/// of the child's own peak and those of the descendants it reaped, so for `checkpoint-manager`
/// this is the largest process of its tree (often a git it runs), and never less than this
/// process's own peak when it started the child.
#[allow(unsafe_code)]
fn wait4(child: &Child) -> io::Result<(ExitStatus, u64)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is a child of this process that nothing else waits for (std's `Child`
        // only reaps in `wait`, which is never called on it), and both pointers point to live
        // locals of the right types.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let rss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    Ok((ExitStatus::from_raw(status), rss))
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
