//! Whether the repository is fit for a checkpoint: the spec's `validate_checkpoint_state`.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::git::{Repo, Status};
use crate::model::ValidationResult;

/// The problems that forbid a checkpoint: an operation in progress, unmerged paths.
pub fn blocking_problems(repo: &Repo, status: &Status) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(op) = repo.operation_in_progress() {
        errors.push(format!(
            "{} is in progress: finish it or abort it first",
            op.name()
        ));
    }
    let unmerged: Vec<String> = status
        .unmerged()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    if !unmerged.is_empty() {
        errors.push(format!(
            "unmerged paths: {} (resolve them and `git add` them first)",
            unmerged.join(", ")
        ));
    }
    errors
}

/// Fails with the first problem that forbids a checkpoint.
pub fn require_checkpointable(repo: &Repo, status: &Status) -> Result<()> {
    let problems = blocking_problems(repo, status);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidState { problems })
    }
}

/// How long a test command may run before it is stopped, unless told otherwise.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(600);

/// How much of the test command's output a result keeps: its last 4 KiB.
pub const TEST_OUTPUT_TAIL: usize = 4096;

/// What `validate` runs to decide `tests_passing`.
#[derive(Debug, Clone, Copy)]
pub struct TestRun<'a> {
    /// Run with `sh -c`, exactly as the user wrote it, in the work tree.
    pub command: &'a str,
    /// After this long the command's whole process group is killed and the tests fail.
    pub timeout: Duration,
}

impl<'a> TestRun<'a> {
    /// A test command with the default timeout.
    pub fn new(command: &'a str) -> Self {
        TestRun {
            command,
            timeout: DEFAULT_TEST_TIMEOUT,
        }
    }
}

/// Validates the repository at `path`; a path outside any work tree gives an invalid result,
/// not an error. `test_command` (run with `sh -c`, exactly as the user wrote it) decides
/// `tests_passing`; it may run for [`DEFAULT_TEST_TIMEOUT`].
pub fn validate_at(path: &Path, test_command: Option<&str>) -> Result<ValidationResult> {
    validate_at_with(path, test_command.map(TestRun::new))
}

/// [`validate_at`] with a chosen test timeout.
pub fn validate_at_with(path: &Path, tests: Option<TestRun<'_>>) -> Result<ValidationResult> {
    let repo = match Repo::discover(path) {
        Ok(repo) => repo,
        Err(Error::NotARepository { path }) => {
            return Ok(ValidationResult {
                is_valid: false,
                errors: vec![format!("{}: not a git work tree", path.display())],
                ..ValidationResult::default()
            })
        }
        Err(e) => return Err(e),
    };
    validate(&repo, tests)
}

/// Validates `repo`; see [`validate_at`].
pub fn validate(repo: &Repo, tests: Option<TestRun<'_>>) -> Result<ValidationResult> {
    let status = crate::snapshot::read_user_status(repo, false)?;
    let mut errors = blocking_problems(repo, &status);
    let mut warnings = Vec::new();
    if status.head.branch.is_none() {
        warnings.push("HEAD is detached: a commit checkpoint is not on any branch".to_owned());
    }
    if status.head.oid.is_none() {
        warnings.push("the repository has no commit yet".to_owned());
    }
    if status.has_changes() {
        warnings.push(format!(
            "{} uncommitted change(s): a checkpoint commits them (or a snapshot leaves them in place)",
            status.entries.len()
        ));
    }
    let mut test_output = None;
    let tests_passing = tests.map(|tests| {
        let outcome = run_test_command(repo.workdir(), tests);
        if let Some(failure) = outcome.failure {
            errors.push(format!(
                "test command `{}` failed: {failure}",
                tests.command
            ));
        }
        test_output = Some(outcome.output_tail);
        outcome.passed
    });
    Ok(ValidationResult {
        is_valid: errors.is_empty(),
        errors,
        warnings,
        git_status: status.porcelain_v1(),
        has_uncommitted_changes: status.has_changes(),
        tests_passing,
        test_output,
    })
}

/// What running the test command gave.
#[derive(Debug)]
struct TestOutcome {
    passed: bool,
    /// Why it did not pass (exit code, signal, timeout, could not start).
    failure: Option<String>,
    /// The last [`TEST_OUTPUT_TAIL`] bytes of stdout and stderr as written, interleaved.
    output_tail: String,
}

/// Runs the user's test command in the work tree, in its own process group, with stdout and
/// stderr going to an unnamed temporary file: we wait for the command itself to exit, not for
/// the background processes it may leave holding its output (a server it started). After
/// `timeout` the whole group is killed.
fn run_test_command(workdir: &Path, tests: TestRun<'_>) -> TestOutcome {
    let (mut child, output) = match spawn_test_command(workdir, tests.command) {
        Ok(started) => started,
        Err(failure) => {
            return TestOutcome {
                passed: false,
                failure: Some(failure),
                output_tail: String::new(),
            }
        }
    };
    let (passed, failure) = wait_for_verdict(&mut child, tests.timeout);
    TestOutcome {
        passed,
        failure,
        output_tail: read_tail(output, TEST_OUTPUT_TAIL),
    }
}

/// Starts `sh -c command` in `workdir`, in its own process group, stdout and stderr both going
/// to the returned unnamed temporary file. Err says why it could not start.
fn spawn_test_command(
    workdir: &Path,
    command: &str,
) -> std::result::Result<(Child, std::fs::File), String> {
    let no_file = |e: std::io::Error| format!("no temporary file for its output: {e}");
    let output = tempfile::tempfile().map_err(no_file)?;
    let (stdout, stderr) = match (output.try_clone(), output.try_clone()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(no_file(e)),
    };
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start sh: {e}"))?;
    Ok((child, output))
}

/// Waits for the test command up to `timeout` (then kills its process group): whether it
/// passed, and why not.
fn wait_for_verdict(child: &mut Child, timeout: Duration) -> (bool, Option<String>) {
    match wait_with_timeout(child, timeout) {
        Ok(Some(status)) if status.success() => (true, None),
        Ok(Some(status)) => (false, Some(describe_exit(status))),
        Ok(None) => {
            kill_group(child);
            (
                false,
                Some(format!(
                    "timed out after {} s; its process group was killed",
                    timeout.as_secs_f64()
                )),
            )
        }
        Err(e) => {
            kill_group(child);
            (false, Some(format!("could not wait for it: {e}")))
        }
    }
}

/// Waits for `child` to exit, up to `timeout`; `None` when it is still running then.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Kills the command's whole process group (the command is its leader), then reaps it.
fn kill_group(child: &mut Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "killed by a signal".to_owned(),
    }
}

/// Returns the last `limit` bytes of `file` as text (invalid UTF-8 replaced).
fn read_tail(mut file: std::fs::File, limit: usize) -> String {
    let len = file.seek(SeekFrom::End(0)).unwrap_or(0);
    let start = len.saturating_sub(limit as u64);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.take(limit as u64).read_to_end(&mut bytes);
    }
    // A cut in the middle of a character drops its first bytes, not the whole tail.
    let skip = bytes
        .iter()
        .take(3)
        .take_while(|b| (**b & 0xC0) == 0x80)
        .count();
    String::from_utf8_lossy(&bytes[skip..]).into_owned()
}
