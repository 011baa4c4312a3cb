//! Whether the repository is fit for a checkpoint: the spec's `validate_checkpoint_state`.

use std::path::Path;
use std::process::{Command, Stdio};

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

/// Validates the repository at `path`; a path outside any work tree gives an invalid result,
/// not an error. `test_command` (run with `sh -c`, exactly as the user wrote it) decides
/// `tests_passing`.
pub fn validate_at(path: &Path, test_command: Option<&str>) -> Result<ValidationResult> {
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
    validate(&repo, test_command)
}

/// Validates `repo`; see [`validate_at`].
pub fn validate(repo: &Repo, test_command: Option<&str>) -> Result<ValidationResult> {
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
            "{} uncommitted change(s): a checkpoint commits them (or use --snapshot)",
            status.entries.len()
        ));
    }
    let tests_passing = match test_command {
        None => None,
        Some(command) => {
            let (passed, detail) = run_test_command(repo.workdir(), command);
            if !passed {
                errors.push(format!("test command `{command}` failed: {detail}"));
            }
            Some(passed)
        }
    };
    Ok(ValidationResult {
        is_valid: errors.is_empty(),
        errors,
        warnings,
        git_status: status.porcelain_v1(),
        has_uncommitted_changes: status.has_changes(),
        tests_passing,
    })
}

/// Runs the user's test command in the work tree with its output captured.
fn run_test_command(workdir: &Path, command: &str) -> (bool, String) {
    let result = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    match result {
        Ok(out) if out.status.success() => (true, String::new()),
        Ok(out) => (
            false,
            out.status
                .code()
                .map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}")),
        ),
        Err(e) => (false, format!("could not start sh: {e}")),
    }
}
