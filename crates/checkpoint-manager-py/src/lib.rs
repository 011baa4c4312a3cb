//! `checkpoint_manager._native`: the Rust library as the Python package sees it.
//!
//! The binding is deliberately thin. Arguments cross as `str`, `bool` and numbers and are parsed
//! by the library's own parsers, so ids, phases and types are validated exactly as on the command
//! line; results cross as the library's JSON (the `checkpoints.json` spellings), from which the
//! pure-Python layer builds the spec's enums and dataclasses. Library errors become the package's
//! exception classes here, by [`ErrorKind`], so no Python code has to parse a message. Every call
//! into the library releases the interpreter, so other Python threads run meanwhile.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use checkpoint_manager::{
    CheckpointManager, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, Error,
    ErrorKind, Notice, NoticeSink, Options, ResetMode, SessionId, Sessions, StateSnapshot,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;
use serde::Serialize;

/// Hands a library notice (a log rebuilt from git, a killed operation's lock file removed) to
/// Python as a `UserWarning`. `create` here is the library's plain one, which tells the sink
/// nothing: no size warning (the checkpoint's `skipped` says it) and no commit notice.
fn warn(notice: &Notice) {
    let text = std::ffi::CString::new(format!("checkpoint-manager: {notice}")).unwrap_or_default();
    Python::attach(|py| {
        let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
        // A warnings filter that turns this into an error must not fail the call itself.
        let _ = PyErr::warn(py, &category, &text, 1);
    });
}

/// The Python module that defines the exception classes raised here.
const ERRORS_MODULE: &str = "checkpoint_manager._errors";

/// Returns the package's exception class for an error kind (see `_errors.py`).
fn exception_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Invalid => "CheckpointValueError",
        ErrorKind::NotFound => "CheckpointNotFoundError",
        ErrorKind::Git => "GitCommandError",
        ErrorKind::Busy => "LockTimeoutError",
        ErrorKind::Io => "CheckpointIOError",
    }
}

/// Turns a library error into the package's exception of its kind, with the library's message.
fn py_err(err: Error) -> PyErr {
    let message = match python_hint(&err) {
        Some(hint) => format!("{err}; {hint}"),
        None => err.to_string(),
    };
    Python::attach(|py| {
        let class = py
            .import(ERRORS_MODULE)
            .and_then(|module| module.getattr(exception_class(err.kind())))
            .and_then(|class| class.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, message),
            // Only reachable with a broken installation; keep the message all the same.
            Err(import_error) => PyRuntimeError::new_err(format!("{message} (and {import_error})")),
        }
    })
}

/// The keyword arguments of `create_checkpoint` that act on an error (the library names modes,
/// not Python parameters).
fn python_hint(err: &Error) -> Option<&'static str> {
    match err {
        Error::UncommittedChanges { .. } => {
            Some("commit_first=True commits them, snapshot=True leaves them in place")
        }
        Error::NothingToTag => Some("create with commit_first=True"),
        _ => None,
    }
}

fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

fn session(raw: &str) -> PyResult<SessionId> {
    SessionId::parse(raw).map_err(py_err)
}

/// An open repository: one `checkpoint_manager::CheckpointManager`.
#[pyclass(frozen, module = "checkpoint_manager._native")]
struct Manager {
    inner: CheckpointManager,
}

#[pymethods]
impl Manager {
    /// Opens the repository that contains `path`. `lock_timeout` is in seconds. `max_file_size`
    /// caps untracked files in snapshots, in bytes, `0` for no cap; `None` takes the library's
    /// default (`CHECKPOINT_MANAGER_MAX_FILE_SIZE`, else 100 MiB), as the command line does.
    #[new]
    #[pyo3(signature = (path, lock_timeout, max_file_size))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        lock_timeout: f64,
        max_file_size: Option<u64>,
    ) -> PyResult<Self> {
        let lock_timeout = Duration::try_from_secs_f64(lock_timeout).map_err(|_| {
            py_err(Error::InvalidChoice {
                what: "lock_timeout",
                value: lock_timeout.to_string(),
                expected: "a number of seconds".to_owned(),
            })
        })?;
        let inner = py
            .detach(|| {
                let mut options = Options::from_env()?
                    .with_lock_timeout(lock_timeout)
                    .with_notice_sink(NoticeSink::new(warn));
                // Unset: the environment, else git config, else the default.
                if let Some(bytes) = max_file_size {
                    options = options.with_max_file_size((bytes != 0).then_some(bytes));
                }
                CheckpointManager::with_options(path, options)
            })
            .map_err(py_err)?;
        Ok(Manager { inner })
    }

    /// The top of the work tree.
    #[getter]
    fn workdir(&self) -> PathBuf {
        self.inner.workdir().to_path_buf()
    }

    /// Creates a checkpoint; `mode` is `commit`, `tag` or `snapshot`. Returns its JSON.
    /// `include` names paths captured even when ignored or over a cap.
    #[pyo3(signature = (session_id, description, phase, checkpoint_type, state_snapshot, mode, include=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        py: Python<'_>,
        session_id: &str,
        description: String,
        phase: &str,
        checkpoint_type: &str,
        state_snapshot: Option<&str>,
        mode: &str,
        include: Vec<PathBuf>,
    ) -> PyResult<String> {
        let session = session(session_id)?;
        let phase = phase.parse::<CheckpointPhase>().map_err(py_err)?;
        let checkpoint_type = checkpoint_type.parse::<CheckpointType>().map_err(py_err)?;
        let state_snapshot = state_snapshot
            .map(StateSnapshot::from_json)
            .transpose()
            .map_err(py_err)?;
        let mode = mode.parse::<CheckpointMode>().map_err(py_err)?;
        let request = CreateRequest::new(description, phase)
            .with_type(checkpoint_type)
            .with_state_snapshot(state_snapshot)
            .with_mode(mode)
            .with_include(include);
        let created = py
            .detach(|| self.inner.create(session, &request))
            .map_err(py_err)?;
        to_json(&created)
    }

    /// Returns the session's checkpoints, newest first, as a JSON array; safety snapshots only
    /// with `include_safety`.
    #[pyo3(signature = (session_id, include_safety=false))]
    fn list(&self, py: Python<'_>, session_id: &str, include_safety: bool) -> PyResult<String> {
        let session = session(session_id)?;
        let listed = py.detach(|| {
            if include_safety {
                self.inner.list_all(session)
            } else {
                self.inner.list(session)
            }
        });
        to_json(&listed.map_err(py_err)?)
    }

    /// Returns one checkpoint's JSON.
    fn get(&self, py: Python<'_>, session_id: &str, checkpoint_id: &str) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(
            &py.detach(|| {
                let checkpoint = self.inner.resolve_checkpoint(session, checkpoint_id)?;
                self.inner.get(session, checkpoint)
            })
            .map_err(py_err)?,
        )
    }

    /// Returns the session's summary as JSON.
    fn summary(&self, py: Python<'_>, session_id: &str) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(&py.detach(|| self.inner.summary(session)).map_err(py_err)?)
    }

    /// Rolls back (hard or mixed) and returns the outcome's JSON.
    fn rollback(
        &self,
        py: Python<'_>,
        session_id: &str,
        checkpoint_id: &str,
        hard_reset: bool,
    ) -> PyResult<String> {
        let session = session(session_id)?;
        let mode = if hard_reset {
            ResetMode::Hard
        } else {
            ResetMode::Mixed
        };
        to_json(
            &py.detach(|| {
                let checkpoint = self.inner.resolve_checkpoint(session, checkpoint_id)?;
                self.inner.rollback(session, checkpoint, mode)
            })
            .map_err(py_err)?,
        )
    }

    /// Returns to the newest safety snapshot and returns the outcome's JSON.
    fn undo(&self, py: Python<'_>, session_id: &str) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(&py.detach(|| self.inner.undo(session)).map_err(py_err)?)
    }

    /// Deletes a checkpoint and returns the outcome's JSON.
    fn delete(
        &self,
        py: Python<'_>,
        session_id: &str,
        checkpoint_id: &str,
        delete_tag: bool,
    ) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(
            &py.detach(|| {
                let checkpoint = self.inner.resolve_checkpoint(session, checkpoint_id)?;
                self.inner.delete(session, checkpoint, delete_tag)
            })
            .map_err(py_err)?,
        )
    }

    /// Rebuilds the session's log from git and returns the report's JSON.
    fn repair(&self, py: Python<'_>, session_id: &str) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(&py.detach(|| self.inner.repair(session)).map_err(py_err)?)
    }

    /// Pushes one session's checkpoints (all sessions when `session_id` is None) to `remote`
    /// (None: git config `checkpoint-manager.remote`, else `origin`); returns the outcome's JSON.
    #[pyo3(signature = (session_id=None, remote=None))]
    fn push(
        &self,
        py: Python<'_>,
        session_id: Option<&str>,
        remote: Option<&str>,
    ) -> PyResult<String> {
        let sessions = sessions(session_id)?;
        to_json(
            &py.detach(|| self.inner.push(remote, sessions))
                .map_err(py_err)?,
        )
    }

    /// Pulls checkpoints from `remote` into the local refs and logs; returns the outcome's JSON.
    #[pyo3(signature = (session_id=None, remote=None, include_deleted=false))]
    fn pull(
        &self,
        py: Python<'_>,
        session_id: Option<&str>,
        remote: Option<&str>,
        include_deleted: bool,
    ) -> PyResult<String> {
        let sessions = sessions(session_id)?;
        to_json(
            &py.detach(|| self.inner.pull(remote, sessions, include_deleted))
                .map_err(py_err)?,
        )
    }

    // Issue 10: restore of chosen paths.
    /// Brings back the named paths from a checkpoint; returns the outcome's JSON.
    #[pyo3(signature = (session_id, checkpoint_id, paths, staged=false))]
    fn restore_paths(
        &self,
        py: Python<'_>,
        session_id: &str,
        checkpoint_id: &str,
        paths: Vec<PathBuf>,
        staged: bool,
    ) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(
            &py.detach(|| {
                let checkpoint = self.inner.resolve_checkpoint(session, checkpoint_id)?;
                self.inner
                    .restore_paths(session, checkpoint, &paths, staged)
            })
            .map_err(py_err)?,
        )
    }

    // Retention (prune).
    /// Prunes one session (all sessions when `session_id` is None) beyond `keep_last` and
    /// `older_than` (a duration such as "7d"; with neither, git config's limits apply); returns
    /// the outcome's JSON.
    #[pyo3(signature = (
        session_id=None, keep_last=None, older_than=None, include_safety=false, dry_run=false,
        gc=false, remote=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn prune(
        &self,
        py: Python<'_>,
        session_id: Option<&str>,
        keep_last: Option<u64>,
        older_than: Option<&str>,
        include_safety: bool,
        dry_run: bool,
        gc: bool,
        remote: Option<String>,
    ) -> PyResult<String> {
        let sessions = sessions(session_id)?;
        let older_than = older_than
            .map(|text| checkpoint_manager::parse_duration("older_than", text))
            .transpose()
            .map_err(py_err)?;
        let request = checkpoint_manager::PruneRequest::new()
            .with_keep_last(keep_last)
            .with_older_than(older_than)
            .with_include_safety(include_safety)
            .with_dry_run(dry_run)
            .with_gc(gc)
            .with_remote(remote);
        to_json(
            &py.detach(|| self.inner.prune(sessions, &request))
                .map_err(py_err)?,
        )
    }

    fn __repr__(&self) -> String {
        format!("Manager({:?})", self.inner.workdir())
    }

    // Issue 10: the sessions list.

    /// Returns every session of the repository, newest first, as JSON.
    fn list_sessions(&self, py: Python<'_>) -> PyResult<String> {
        to_json(&py.detach(|| self.inner.list_sessions()).map_err(py_err)?)
    }

    // Issue 10: diff.
    /// Returns what changed from checkpoint `from_id` to `to_id` (`None`: the files as they are
    /// now) as the report's JSON; with `patch`, each file's unified diff too.
    #[pyo3(signature = (session_id, from_id, to_id=None, patch=false))]
    fn diff(
        &self,
        py: Python<'_>,
        session_id: &str,
        from_id: &str,
        to_id: Option<&str>,
        patch: bool,
    ) -> PyResult<String> {
        let session = session(session_id)?;
        to_json(
            &py.detach(|| {
                let from = self.inner.resolve_checkpoint(session, from_id)?;
                let to = to_id
                    .map(|to| self.inner.resolve_checkpoint(session, to))
                    .transpose()?;
                self.inner.diff(session, from, to, patch)
            })
            .map_err(py_err)?,
        )
    }
}

/// One session, or every session when `None`.
fn sessions(session_id: Option<&str>) -> PyResult<Sessions> {
    Ok(match session_id {
        Some(id) => Sessions::One(session(id)?),
        None => Sessions::All,
    })
}

/// Validates the repository around `path` (a path outside any work tree gives an invalid
/// result, not an error) and returns the result's JSON.
#[pyfunction]
#[pyo3(signature = (path, test_command=None, test_timeout=None))]
fn validate_at(
    py: Python<'_>,
    path: PathBuf,
    test_command: Option<&str>,
    test_timeout: Option<f64>,
) -> PyResult<String> {
    let timeout = match test_timeout {
        None => checkpoint_manager::DEFAULT_TEST_TIMEOUT,
        Some(seconds) => std::time::Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "test_timeout {seconds}: not a positive number of seconds"
                ))
            })?,
    };
    let tests = test_command.map(|command| checkpoint_manager::TestRun { command, timeout });
    to_json(
        &py.detach(|| checkpoint_manager::validate_at_with(&path, tests))
            .map_err(py_err)?,
    )
}

/// Returns the JSON Schema of `checkpoints.json`, as text.
#[pyfunction]
fn log_schema() -> PyResult<String> {
    serde_json::to_string(&checkpoint_manager::log_schema())
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Runs the `checkpoint-manager` command line (`args[0]` is the program name) and returns its
/// exit status. It prints to the process's stdout and stderr, as the binary does.
#[pyfunction]
fn run_cli(py: Python<'_>, args: Vec<OsString>) -> u8 {
    py.detach(|| checkpoint_manager_cli::run_status(args))
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Manager>()?;
    module.add_function(wrap_pyfunction!(validate_at, module)?)?;
    module.add_function(wrap_pyfunction!(log_schema, module)?)?;
    module.add_function(wrap_pyfunction!(run_cli, module)?)?;
    module.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    module.add(
        "DEFAULT_LOCK_TIMEOUT",
        Options::default().lock_timeout.as_secs_f64(),
    )?;
    module.add(
        "DEFAULT_MAX_FILE_SIZE",
        Some(checkpoint_manager::DEFAULT_MAX_FILE_SIZE),
    )?;
    Ok(())
}
