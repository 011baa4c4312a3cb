//! [`CheckpointManager`]: the spec's operations (create, list, get, rollback, summary, delete,
//! validate) plus snapshot, undo and repair. Every rule of the product lives here or in the
//! modules it calls; the CLI and the Python binding only translate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::defaults::{DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_UNTRACKED_DIR_FILES, MAX_FILE_SIZE_ENV};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ids::{CheckpointId, SessionId};
use crate::lock::{self, DEFAULT_LOCK_TIMEOUT};
use crate::log::{self, SessionLog};
use crate::model::PathRestoreOutcome;
use crate::model::{
    Checkpoint, CheckpointMode, CheckpointPhase, CheckpointSummary, CheckpointType, DeleteOutcome,
    Notice, Operation, RepairReport, ResetMode, RollbackOutcome, StateSnapshot, ValidationResult,
};
use crate::progress::{ProgressSink, Stage, StageGuard};
use crate::remote::{self, PullOutcome, PushOutcome, Sessions};
use crate::settings::Settings;
use crate::snapshot::Caps;
use crate::validate;

/// Settings of a manager; the defaults suit almost everyone. Closed to struct literals (a new
/// setting is not a breaking change): start from [`Options::default`] or [`Options::from_env`]
/// and use the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// How long to wait for a busy repository or session lock.
    pub lock_timeout: Duration,
    /// Untracked files larger than this are left out of snapshots and commit-mode commits (and
    /// reported as skipped); `Some(None)` captures everything. `None` (not set here): git config
    /// `checkpoint-manager.maxFileSize`, else 100 MiB.
    pub max_file_size: Option<Option<u64>>,
    /// Hears what a command did on its own or left out (see [`Notice`]); the library prints
    /// nothing.
    pub on_notice: Option<NoticeSink>,
    /// Untracked folders holding more files than this are left out as a whole (and reported as
    /// skipped); `Some(None)`: no cap. `None` (not set here): git config
    /// `checkpoint-manager.maxUntrackedDirFiles`, else 10,000.
    pub max_untracked_dir_files: Option<Option<u64>>,
    /// Hears the progress of long steps (see [`crate::Progress`]); the library draws nothing.
    pub on_progress: Option<ProgressSink>,
}

/// A callback for [`Notice`]s. A callback rather than a field of each result: the spec's results
/// keep their shape, and a notice reaches the user even when the command then fails.
#[derive(Clone)]
pub struct NoticeSink(pub(crate) std::sync::Arc<dyn Fn(&Notice) + Send + Sync>);

impl NoticeSink {
    /// Wraps `f`, which is called once per notice.
    pub fn new(f: impl Fn(&Notice) + Send + Sync + 'static) -> Self {
        NoticeSink(std::sync::Arc::new(f))
    }
}

impl std::fmt::Debug for NoticeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeSink")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            max_file_size: None,
            on_notice: None,
            max_untracked_dir_files: None,
            on_progress: None,
        }
    }
}

impl Options {
    /// Sets how long to wait for a busy repository or session lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Sets the size cap on untracked files (`None`: capture everything); it wins over git
    /// config and the environment.
    pub fn with_max_file_size(mut self, cap: Option<u64>) -> Self {
        self.max_file_size = Some(cap);
        self
    }

    /// Sets who hears what a command did on its own.
    pub fn with_notice_sink(mut self, sink: NoticeSink) -> Self {
        self.on_notice = Some(sink);
        self
    }

    /// The defaults, with the size cap taken from `CHECKPOINT_MANAGER_MAX_FILE_SIZE` when set
    /// (it wins over git config).
    pub fn from_env() -> Result<Self> {
        let mut options = Options::default();
        if let Some(raw) = std::env::var_os(MAX_FILE_SIZE_ENV) {
            let raw = raw.to_string_lossy();
            options.max_file_size = Some(match raw.trim() {
                "0" | "none" => None,
                text => Some(text.parse().map_err(|_| Error::InvalidChoice {
                    what: MAX_FILE_SIZE_ENV,
                    value: raw.to_string(),
                    expected: "a size in bytes, or 0/none for no cap".to_owned(),
                })?),
            });
        }
        Ok(options)
    }

    /// Sets the cap on the number of files of an untracked folder (`None`: no cap); it wins
    /// over git config.
    pub fn with_max_untracked_dir_files(mut self, cap: Option<u64>) -> Self {
        self.max_untracked_dir_files = Some(cap);
        self
    }

    /// Sets who hears the progress of long steps.
    pub fn with_progress_sink(mut self, sink: ProgressSink) -> Self {
        self.on_progress = Some(sink);
        self
    }

    /// The caps in force: set here, else from git config (`0`: none), else the defaults.
    pub(crate) fn caps(&self, settings: &Settings) -> Caps {
        let pick = |set: Option<Option<u64>>, configured: Option<u64>, default: u64| {
            set.unwrap_or(match configured {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(default),
            })
        };
        Caps {
            max_file_size: pick(
                self.max_file_size,
                settings.max_file_size,
                DEFAULT_MAX_FILE_SIZE,
            ),
            max_untracked_dir_files: pick(
                self.max_untracked_dir_files,
                settings.max_untracked_dir_files,
                DEFAULT_MAX_UNTRACKED_DIR_FILES,
            ),
        }
    }
}

/// What to checkpoint and how: start from [`CreateRequest::new`], then the `with_*` builders
/// (non-exhaustive, so fields can be added without breaking callers).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CreateRequest {
    pub description: String,
    pub phase: CheckpointPhase,
    pub checkpoint_type: CheckpointType,
    pub state_snapshot: Option<StateSnapshot>,
    /// `Commit` is the spec's `commit_first = true`, `Tag` its `commit_first = false`.
    pub mode: CheckpointMode,
    /// Paths (files or folders) captured even when ignored or over a cap; relative paths are
    /// taken from the top of the work tree.
    pub include: Vec<PathBuf>,
}

impl CreateRequest {
    /// Sets the checkpoint's type.
    pub fn with_type(mut self, checkpoint_type: CheckpointType) -> Self {
        self.checkpoint_type = checkpoint_type;
        self
    }

    /// Sets the orchestrator's state snapshot recorded with the checkpoint.
    pub fn with_state_snapshot(mut self, state: Option<StateSnapshot>) -> Self {
        self.state_snapshot = state;
        self
    }

    /// Sets how the checkpoint is made (commit, tag or snapshot).
    pub fn with_mode(mut self, mode: CheckpointMode) -> Self {
        self.mode = mode;
        self
    }

    /// A manual commit-mode checkpoint with no state snapshot.
    pub fn new(description: impl Into<String>, phase: CheckpointPhase) -> Self {
        CreateRequest {
            description: description.into(),
            phase,
            checkpoint_type: CheckpointType::Manual,
            state_snapshot: None,
            mode: CheckpointMode::Commit,
            include: Vec::new(),
        }
    }

    /// Sets paths (files or folders, inside the work tree) to capture even when ignored, too
    /// large or in a folder over the cap; relative paths are taken from the top of the work tree.
    pub fn with_include(mut self, paths: Vec<PathBuf>) -> Self {
        self.include = paths;
        self
    }
}

/// A checkpoint just created, or the newest one when nothing changed.
#[derive(Debug, Clone)]
pub struct Created {
    pub checkpoint: Checkpoint,
    /// True when nothing was created: [`CheckpointManager::create_if_changed`] found the files
    /// exactly as the session's newest checkpoint holds them and returned that checkpoint.
    pub unchanged: bool,
}

/// Checkpoints of one repository.
#[derive(Debug, Clone)]
pub struct CheckpointManager {
    pub(crate) repo: Repo,
    pub(crate) options: Options,
}

impl CheckpointManager {
    /// Opens the repository that contains `path` (any subdirectory works).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_options(path, Options::from_env()?)
    }

    /// Opens the repository that contains `path` with non-default settings.
    pub fn with_options(path: impl AsRef<Path>, options: Options) -> Result<Self> {
        Ok(CheckpointManager {
            repo: Repo::discover(path.as_ref())?,
            options,
        })
    }

    /// Returns the top of the work tree.
    pub fn workdir(&self) -> &Path {
        self.repo.workdir()
    }

    /// Returns the tool's settings from git config (`checkpoint-manager.*`).
    pub fn settings(&self) -> Result<crate::Settings> {
        crate::Settings::read(&self.repo)
    }

    /// Returns the pager git itself would use here, or `None` when paging is turned off; for
    /// faces that show long text to people on a terminal.
    pub fn pager(&self) -> Result<Option<String>> {
        crate::git::pager(&self.repo)
    }

    /// Returns the log of `session`: a writer that takes no lock, so it stays inside the crate
    /// (operations write it through a locked session).
    pub(crate) fn session_log(&self, session: SessionId) -> SessionLog {
        SessionLog::new(self.repo.workdir(), session)
    }

    /// Checks whether the repository is fit for a checkpoint (the spec's
    /// `validate_checkpoint_state`), running `test_command` to decide `tests_passing`.
    pub fn validate(&self, test_command: Option<&str>) -> Result<ValidationResult> {
        validate::validate(&self.repo, test_command.map(validate::TestRun::new))
    }

    /// [`CheckpointManager::validate`] with a chosen test timeout.
    pub fn validate_with(&self, tests: Option<validate::TestRun<'_>>) -> Result<ValidationResult> {
        validate::validate(&self.repo, tests)
    }

    /// Creates a checkpoint and records it in the session's log.
    pub fn create(&self, session: SessionId, request: &CreateRequest) -> Result<Checkpoint> {
        self.create_inner(session, request, false, false)
            .map(|created| created.checkpoint)
    }

    /// Creates a checkpoint like [`create`](Self::create) and tells the notice sink what the
    /// user should hear: [`Notice::TooLarge`] per untracked file left out of a commit for its
    /// size, and, on the first checkpoint commit in this repository,
    /// [`Notice::CommitsSkipHooks`] (remembered in the git dir, so it is said once).
    pub fn create_with_notices(
        &self,
        session: SessionId,
        request: &CreateRequest,
    ) -> Result<Checkpoint> {
        self.create_inner(session, request, true, false)
            .map(|created| created.checkpoint)
    }

    /// Creates a checkpoint like [`create_with_notices`](Self::create_with_notices), unless the
    /// files (the tree the new checkpoint would hold) are exactly those of the session's newest
    /// checkpoint: then nothing is written and that checkpoint comes back with `unchanged` set.
    /// For callers that checkpoint often (an agent's hook before every tool call).
    pub fn create_if_changed(
        &self,
        session: SessionId,
        request: &CreateRequest,
    ) -> Result<Created> {
        self.create_inner(session, request, true, true)
    }

    /// Returns the checkpoints the user or orchestrator created in a session, newest first (an
    /// empty list for a new session). Safety snapshots are left out; see [`Self::list_all`].
    pub fn list(&self, session: SessionId) -> Result<Vec<Checkpoint>> {
        let contents = self.read_log(session)?.unwrap_or_default();
        Ok(log::into_newest_first(contents.into_user_checkpoints()))
    }

    /// Returns every checkpoint of a session, safety snapshots included, newest first.
    pub fn list_all(&self, session: SessionId) -> Result<Vec<Checkpoint>> {
        let contents = self.read_log(session)?.unwrap_or_default();
        Ok(log::into_newest_first(contents.checkpoints))
    }

    /// Returns one checkpoint (a safety snapshot too).
    pub fn get(&self, session: SessionId, checkpoint: CheckpointId) -> Result<Checkpoint> {
        // The one record read in full, unless the log is missing or behind git (rebuilt first).
        if let Some((found, ids)) = self.session_log(session).read_entry(checkpoint)? {
            if !self.refs_ahead_of(session, ids.into_iter()) {
                return found.ok_or(Error::CheckpointNotFound {
                    session,
                    checkpoint,
                });
            }
        }
        let contents = self.read_existing_log(session)?;
        find(&contents.checkpoints, session, checkpoint).cloned()
    }

    /// Returns the spec's summary statistics over the user's checkpoints (zeros for a new
    /// session).
    pub fn summary(&self, session: SessionId) -> Result<CheckpointSummary> {
        let contents = self.read_log(session)?.unwrap_or_default();
        Ok(log::summarize(&contents.checkpoints))
    }

    /// Returns the session's operation history (every rollback, undo and redo), oldest first.
    pub fn operations(&self, session: SessionId) -> Result<Vec<Operation>> {
        Ok(self.read_existing_log(session)?.operations)
    }

    /// Rolls the repository back to a checkpoint, after taking a safety snapshot that `undo`
    /// returns to. `Mixed` moves HEAD and the index and leaves files; `Hard` makes files, index
    /// and HEAD the checkpoint's (for a snapshot: exactly as captured).
    pub fn rollback(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        mode: ResetMode,
    ) -> Result<RollbackOutcome> {
        let mut open = self.lock_session(session, true)?;
        let target = find(&open.checkpoints, session, checkpoint)?.clone();
        self.restore(&mut open, session, &target, mode, None)
    }

    /// Steps back one entry of the operation history: branch, HEAD, index and every file return
    /// to the state before the newest operation still in effect (its safety snapshot). Repeated,
    /// it keeps going back; an operation that failed or was killed is undone like any other.
    /// Undo takes its own safety snapshot first, so `redo` can take it back.
    pub fn undo(&self, session: SessionId) -> Result<RollbackOutcome> {
        let mut open = self.lock_session(session, true)?;
        let (target, step) = Self::undo_target(&open, session)?;
        self.restore(&mut open, session, &target, ResetMode::Hard, Some(step))
    }

    /// Takes back the newest undo still in effect: the repository returns to the state before
    /// that undo (its safety snapshot).
    pub fn redo(&self, session: SessionId) -> Result<RollbackOutcome> {
        let mut open = self.lock_session(session, true)?;
        let (target, step) = Self::redo_target(&open, session)?;
        self.restore(&mut open, session, &target, ResetMode::Hard, Some(step))
    }

    /// Removes a checkpoint from the log and (when `delete_tag`) its tag. Its commit and
    /// metadata stay reachable under `refs/checkpoint-trash/`, so a delete can be taken back.
    pub fn delete(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        delete_tag: bool,
    ) -> Result<DeleteOutcome> {
        self.delete_checkpoint(session, checkpoint, delete_tag)
    }

    /// Rebuilds the session's log from git: a corrupt file is moved aside, every checkpoint
    /// whose private ref exists is restored, and records whose commit is gone are dropped.
    pub fn repair(&self, session: SessionId) -> Result<RepairReport> {
        let log = self.session_log(session);
        let _repo_lock = self.lock_repo()?;
        let _session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        self.rebuild(session, &log)
    }

    /// Sends the sessions' checkpoints to `remote` (default: git config
    /// `checkpoint-manager.remote`, else `origin`); see `remote.rs`.
    pub fn push(&self, remote: Option<&str>, sessions: Sessions) -> Result<PushOutcome> {
        let remote = remote::resolve_remote(&self.repo, remote)?;
        remote::push(self, &remote, sessions)
    }

    /// Fetches the sessions' checkpoints from `remote` and merges them into the local refs and
    /// logs, under the repository lock.
    pub fn pull(
        &self,
        remote: Option<&str>,
        sessions: Sessions,
        include_deleted: bool,
    ) -> Result<PullOutcome> {
        let remote = remote::resolve_remote(&self.repo, remote)?;
        let _repo_lock = self.lock_repo()?;
        remote::pull(self, &remote, sessions, include_deleted)
    }

    /// Deletes a checkpoint's refs on `remote` (its tag too with `with_tag`); returns them.
    pub fn delete_on_remote(
        &self,
        remote: Option<&str>,
        session: SessionId,
        checkpoint: CheckpointId,
        with_tag: bool,
    ) -> Result<Vec<String>> {
        let remote = remote::resolve_remote(&self.repo, remote)?;
        remote::delete_on_remote(&self.repo, &remote, session, checkpoint, with_tag)
    }

    /// Brings back the named files and folders exactly as `checkpoint` holds them (content,
    /// mode, symlinks; a snapshot's exact bytes), after a safety snapshot that `undo` returns
    /// to. A file under a named path that the checkpoint lacks is removed (it is in the safety
    /// snapshot). HEAD, the branch, every other path and (unless `staged`) the index stay as
    /// they are; `staged` also sets the named paths' index entries to the checkpoint's.
    /// Relative paths are taken from the current folder when it is inside the work tree, else
    /// from the top of the work tree.
    pub fn restore_paths(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        paths: &[impl AsRef<Path>],
        staged: bool,
    ) -> Result<PathRestoreOutcome> {
        let paths: Vec<std::path::PathBuf> = paths.iter().map(|p| p.as_ref().to_owned()).collect();
        self.restore_chosen_paths(session, checkpoint, &paths, staged)
    }

    // Retention (prune).
    /// Removes the checkpoints of `sessions` beyond the request's limits (or, when it gives
    /// none, those of git config `checkpoint-manager.keepLast` / `checkpoint-manager.maxAge`):
    /// they leave the log and their refs move to `refs/checkpoint-trash/`, so they stay
    /// recoverable; deleted checkpoints already in the trash and beyond the same limits are
    /// deleted for good. Never the newest checkpoint of a session, nor (unless
    /// `include_safety`) a safety snapshot undo or redo still returns to. See `ops/prune.rs`.
    pub fn prune(
        &self,
        sessions: Sessions,
        request: &crate::PruneRequest,
    ) -> Result<crate::PruneOutcome> {
        self.prune_sessions(sessions, request)
    }

    pub(crate) fn repo(&self) -> &Repo {
        &self.repo
    }

    pub(crate) fn lock_timeout(&self) -> Duration {
        self.options.lock_timeout
    }

    /// Says `Started` to the progress sink; the guard says `Finished` when dropped.
    pub(crate) fn progress(&self, stage: Stage, total: Option<u64>) -> StageGuard<'_> {
        StageGuard::start(self.options.on_progress.as_ref(), stage, total)
    }

    /// Hands `notice` to the notice sink, when there is one.
    pub(crate) fn notify(&self, notice: Notice) {
        if let Some(sink) = &self.options.on_notice {
            (sink.0)(&notice);
        }
    }
}

pub(crate) fn find(
    checkpoints: &[Checkpoint],
    session: SessionId,
    checkpoint: CheckpointId,
) -> Result<&Checkpoint> {
    checkpoints
        .iter()
        .find(|c| c.checkpoint_id == checkpoint)
        .ok_or(Error::CheckpointNotFound {
            session,
            checkpoint,
        })
}
