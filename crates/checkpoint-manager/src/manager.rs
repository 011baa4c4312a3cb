//! [`CheckpointManager`]: the spec's operations (create, list, get, rollback, summary, delete,
//! validate) plus snapshot, undo and repair. Every rule of the product lives here or in the
//! modules it calls; the CLI and the Python binding only translate.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::git::{Repo, Status};
use crate::ids::{CheckpointId, OperationId, SessionId};
use crate::journal;
use crate::lock::{self, LockGuard, DEFAULT_LOCK_TIMEOUT};
use crate::log::{self, now_timestamp, LogContents, SessionLog, SESSIONS_EXCLUDE};
use crate::model::{
    BranchMove, Checkpoint, CheckpointMode, CheckpointPhase, CheckpointSummary, CheckpointType,
    DeleteOutcome, Notice, Operation, OperationKind, OperationState, RepairReport, ResetMode,
    RollbackOutcome, SkipReason, SkippedPath, SnapshotInfo, StateSnapshot, ValidationResult,
};
use crate::remote::{self, PullOutcome, PushOutcome, Sessions};
use crate::restore::{self, RestoreTarget};
use crate::snapshot::{self, Captured, IndexFile, IndexStamp, TempIndex, DEFAULT_MAX_FILE_SIZE};
use crate::store::{self, RefTransaction};
use crate::validate;

/// Settings of a manager; the defaults suit almost everyone.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for a busy repository or session lock.
    pub lock_timeout: Duration,
    /// Untracked files larger than this are left out of snapshots and commit-mode commits (and
    /// reported as skipped); `None` captures everything.
    pub max_file_size: Option<u64>,
    /// Hears what a command did on its own (a log rebuilt from git); the library prints nothing.
    pub on_notice: Option<NoticeSink>,
}

/// A callback for [`Notice`]s. A callback rather than a field of each result: the spec's results
/// keep their shape, and a notice reaches the user even when the command then fails.
#[derive(Clone)]
pub struct NoticeSink(std::sync::Arc<dyn Fn(&Notice) + Send + Sync>);

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

/// How long to wait for the git child of a killed holder of the repository lock to finish (git
/// does not die with its parent) before judging the lock files it may hold.
const INDEX_LOCK_GRACE: Duration = Duration::from_secs(3);

/// Environment variable that sets [`Options::max_file_size`] in bytes (`0` or `none`: no cap).
pub const MAX_FILE_SIZE_ENV: &str = "CHECKPOINT_MANAGER_MAX_FILE_SIZE";

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            max_file_size: Some(DEFAULT_MAX_FILE_SIZE),
            on_notice: None,
        }
    }
}

impl Options {
    /// The defaults, with the size cap taken from `CHECKPOINT_MANAGER_MAX_FILE_SIZE` when set.
    pub fn from_env() -> Result<Self> {
        let mut options = Options::default();
        if let Some(raw) = std::env::var_os(MAX_FILE_SIZE_ENV) {
            let raw = raw.to_string_lossy();
            options.max_file_size = match raw.trim() {
                "0" | "none" => None,
                text => Some(text.parse().map_err(|_| Error::InvalidChoice {
                    what: MAX_FILE_SIZE_ENV,
                    value: raw.to_string(),
                    expected: "a size in bytes, or 0/none for no cap".to_owned(),
                })?),
            };
        }
        Ok(options)
    }
}

/// What to checkpoint and how.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub description: String,
    pub phase: CheckpointPhase,
    pub checkpoint_type: CheckpointType,
    pub state_snapshot: Option<StateSnapshot>,
    /// `Commit` is the spec's `commit_first = true`, `Tag` its `commit_first = false`.
    pub mode: CheckpointMode,
}

impl CreateRequest {
    /// A manual commit-mode checkpoint with no state snapshot.
    pub fn new(description: impl Into<String>, phase: CheckpointPhase) -> Self {
        CreateRequest {
            description: description.into(),
            phase,
            checkpoint_type: CheckpointType::Manual,
            state_snapshot: None,
            mode: CheckpointMode::Commit,
        }
    }
}

/// A checkpoint just created, with what the user should be told about it.
#[derive(Debug, Clone)]
pub struct Created {
    pub checkpoint: Checkpoint,
    /// Something left out that the user may expect in it (a file over the size cap).
    pub warnings: Vec<String>,
    /// How checkpoint commits differ from the user's own, said once per repository.
    pub notices: Vec<String>,
    /// True when nothing was created: [`CheckpointManager::create_if_changed`] found the files
    /// exactly as the session's newest checkpoint holds them and returned that checkpoint.
    pub unchanged: bool,
}

/// Marker (in the git dir's private folder) that the commit notice was shown in this repository.
const COMMIT_NOTICE_MARKER: &str = "commit-notice-shown";

/// Said once per repository, on its first checkpoint commit.
const COMMIT_NOTICE: &str = "checkpoint commits are written with `git commit-tree`: your \
pre-commit and commit-msg hooks do not run and the commits are not signed (commit.gpgSign is \
not used); this is said once per repository";

/// Checkpoints of one repository.
#[derive(Debug, Clone)]
pub struct CheckpointManager {
    repo: Repo,
    options: Options,
    /// What commands did on their own that the user should hear of (see `take_notices`).
    notices: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
            notices: Default::default(),
        })
    }

    /// Returns the top of the work tree.
    pub fn workdir(&self) -> &Path {
        self.repo.workdir()
    }

    /// Returns the log of `session`.
    pub fn session_log(&self, session: SessionId) -> SessionLog {
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

    /// Creates a checkpoint like [`create`](Self::create) and returns what to tell the user:
    /// a warning per untracked file left out of a commit for its size, and, on the first
    /// checkpoint commit in this repository, a notice that such commits skip hooks and signing
    /// (remembered in the git dir, so it is said once).
    pub fn create_with_notices(
        &self,
        session: SessionId,
        request: &CreateRequest,
    ) -> Result<Created> {
        self.create_inner(session, request, true, false)
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

    fn create_inner(
        &self,
        session: SessionId,
        request: &CreateRequest,
        announce: bool,
        if_changed: bool,
    ) -> Result<Created> {
        if request.description.trim().is_empty() {
            return Err(Error::EmptyText {
                what: "description",
            });
        }
        if request.description.contains('\0') {
            return Err(Error::NulInText {
                what: "description",
            });
        }
        // A corrupt log fails here, before anything changes.
        let mut open = self.lock_session(session, false)?;
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        let snapshot_mode = request.mode == CheckpointMode::Snapshot;
        let (status, index_copy) = snapshot::read_state(
            &self.repo,
            request.mode != CheckpointMode::Tag,
            snapshot_mode,
        )?;
        validate::require_checkpointable(&self.repo, &status)?;

        let id = CheckpointId::new_random();
        let mut checkpoint = Checkpoint {
            checkpoint_id: id,
            commit_sha: String::new(),
            timestamp: now_timestamp(),
            description: request.description.clone(),
            phase: request.phase,
            checkpoint_type: request.checkpoint_type,
            commit_message: None,
            state_snapshot: request.state_snapshot,
            tags: Vec::new(),
            rollback_used: false,
            rollback_count: 0,
            mode: request.mode,
            snapshot: None,
            skipped: Vec::new(),
        };
        let mut new_index = None;
        let mut made_commit = false;
        let mut refs = RefTransaction::default();
        match request.mode {
            CheckpointMode::Tag => {
                if status.has_changes() {
                    return Err(Error::UncommittedChanges {
                        count: status.entries.len(),
                    });
                }
                checkpoint.commit_sha = status.head.oid.clone().ok_or(Error::NothingToTag)?;
            }
            CheckpointMode::Commit => {
                let message = commit_message(request, id);
                let (commit, staged, skipped) = self.commit_all(&status, &message)?;
                if staged.is_some() {
                    refs.update("HEAD", &commit, status.head.oid.as_deref());
                    checkpoint.commit_message = Some(message);
                    made_commit = true;
                }
                checkpoint.skipped = skipped;
                new_index = staged;
                checkpoint.commit_sha = commit;
            }
            CheckpointMode::Snapshot => {
                let message = format!("checkpoint-manager snapshot: {}", request.description);
                let copy = index_copy.expect("snapshot mode copies the index")?;
                let assume_unchanged = copy.assume_unchanged().to_vec();
                let captured = snapshot::capture(
                    &self.repo,
                    &status,
                    copy,
                    self.options.max_file_size,
                    &[],
                    &[],
                    &message,
                )?;
                checkpoint.commit_sha = captured.commit.clone();
                checkpoint.commit_message = Some(message);
                checkpoint.snapshot = Some(snapshot_info(captured, false, &assume_unchanged));
            }
        }
        if if_changed {
            if let Some(newest) = self.same_files_as_newest(&open.checkpoints, &checkpoint) {
                return Ok(Created {
                    checkpoint: newest,
                    warnings: Vec::new(),
                    notices: Vec::new(),
                    unchanged: true,
                });
            }
        }
        if request.mode != CheckpointMode::Snapshot {
            let tag = store::tag_name(id);
            refs.create(&format!("refs/tags/{tag}"), &checkpoint.commit_sha);
            checkpoint.tags.push(tag);
        }
        let tag_object = store::write_metadata_tag(&self.repo, session, &checkpoint)?;
        refs.create(&store::private_ref(session, id), &tag_object);
        refs.commit(
            &self.repo,
            &format!(
                "checkpoint-manager: checkpoint {id}: {}",
                first_line(&request.description)
            ),
        )?;
        open.checkpoints.push(checkpoint.clone());
        open.save().map_err(|e| Error::NotLogged {
            source: Box::new(e),
            session: session.as_string(),
            checkpoint: id.as_string(),
        })?;
        // The commit is on the branch and logged: the user's index follows it.
        if let Some(staged) = new_index {
            self.install_staged_index(staged)
                .map_err(|e| Error::IndexNotUpdated {
                    source: Box::new(e),
                    checkpoint: id.as_string(),
                })?;
        }
        let warnings = checkpoint
            .skipped
            .iter()
            .map(|skipped| too_large_warning(skipped, self.options.max_file_size))
            .collect();
        let notices = if announce && made_commit && self.first_commit_notice() {
            vec![COMMIT_NOTICE.to_owned()]
        } else {
            Vec::new()
        };
        Ok(Created {
            checkpoint,
            warnings,
            notices,
            unchanged: false,
        })
    }

    /// Returns the session's newest checkpoint when its tree is `candidate`'s. Only the objects
    /// of `candidate` exist yet (no ref, no log entry), so dropping it changes nothing. A
    /// newest checkpoint whose commit git cannot read counts as different: a new one is made.
    fn same_files_as_newest(
        &self,
        checkpoints: &[Checkpoint],
        candidate: &Checkpoint,
    ) -> Option<Checkpoint> {
        let newest = log::newest_first(checkpoints).into_iter().next()?;
        if !is_object_id(&candidate.commit_sha) || !is_object_id(&newest.commit_sha) {
            return None;
        }
        let trees = self
            .repo
            .tree_ids(&[&candidate.commit_sha, &newest.commit_sha])
            .ok()?;
        (trees.len() == 2 && trees[0] == trees[1]).then_some(newest)
    }

    /// True the first time it is asked in this repository (best effort: when the marker cannot
    /// be written, the notice is said again next time rather than never).
    fn first_commit_notice(&self) -> bool {
        let dir = self.repo.private_dir();
        let marker = dir.join(COMMIT_NOTICE_MARKER);
        if marker.exists() {
            return false;
        }
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&marker, b""));
        true
    }

    /// Stages everything (like `git add -A`) in a copy of the user's index and commits it; with
    /// nothing to commit it returns HEAD. Returns the commit and, when it is new, the staged
    /// index to put in place once the commit is on the branch (with the stamp of the index it
    /// was copied from: a version written meanwhile by another git is not overwritten). Untracked
    /// files over the size cap stay out, as in a snapshot, and are returned as skipped.
    fn commit_all(
        &self,
        status: &Status,
        message: &str,
    ) -> Result<(String, Option<StagedIndex>, Vec<SkippedPath>)> {
        let (paths, skipped) =
            snapshot::paths_to_capture(&self.repo, status, self.options.max_file_size);
        // Nested repositories become gitlinks below, and a submodule's commit is what a commit
        // holds anyway: only files left out for their size are reported.
        let skipped: Vec<SkippedPath> = skipped
            .into_iter()
            .filter(|s| s.reason == SkipReason::TooLarge)
            .collect();
        let paths: Vec<Vec<u8>> = paths
            .into_iter()
            .chain(status.entries.iter().filter_map(|e| match e {
                // `git add -A` records an untracked nested repository as a gitlink.
                crate::git::StatusEntry::Untracked { path } if path.ends_with(b"/") => {
                    Some(path[..path.len() - 1].to_vec())
                }
                _ => None,
            }))
            .collect();
        if !status.has_changes() {
            if let Some(head) = &status.head.oid {
                return Ok((head.clone(), None, skipped));
            }
        }
        // Staged in a copy that replaces the user's index only once the commit is on the
        // branch: if anything fails before, the user's index (partial staging included) is as
        // it was. No `index.lock` is held meanwhile, so a kill -9 cannot leave one behind.
        self.require_index_unlocked()?;
        let stamp = IndexStamp::of(&self.repo)?;
        let copy = TempIndex::copy_of_user_index(&self.repo)?;
        let index = IndexFile::Replacement(copy.path());
        snapshot::stage_paths(&self.repo, index, &paths)?;
        let tree = snapshot::write_tree(&self.repo, index)?;
        // Without staged changes the new tree is HEAD's plus work-tree changes, so it differs;
        // only staged changes can cancel out (staged, then reverted in the work tree), and a
        // submodule with work inside but the same commit changes nothing in the tree.
        // Files left out for their size can leave nothing to commit too.
        let may_equal_head = !skipped.is_empty()
            || status.entries.iter().any(|e| {
                matches!(e, crate::git::StatusEntry::Changed { x, dirty_submodule, .. }
                if *x != '.' || *dirty_submodule)
            });
        if let (Some(head), true) = (&status.head.oid, may_equal_head) {
            let head_tree = self
                .repo
                .git()
                .args(["rev-parse", "--verify", &format!("{head}^{{tree}}")])
                .run_text()?;
            if head_tree == tree {
                return Ok((head.clone(), None, skipped));
            }
        }
        let commit = self.commit_tree_as_user(&tree, status.head.oid.as_deref(), message)?;
        Ok((commit, Some(StagedIndex { copy, stamp, paths }), skipped))
    }

    /// Puts the staged copy in place of the user's index; when another git wrote the index
    /// meanwhile, stages the same paths into that version instead (as `git add -A` would now).
    fn install_staged_index(&self, staged: StagedIndex) -> Result<()> {
        let StagedIndex { copy, stamp, paths } = staged;
        if copy.replace_user_index(&self.repo, &stamp)? {
            return Ok(());
        }
        snapshot::stage_paths(&self.repo, IndexFile::User, &paths)
    }

    /// Commits `tree` with the user's identity, or the tool's when the repository has none.
    fn commit_tree_as_user(
        &self,
        tree: &str,
        parent: Option<&str>,
        message: &str,
    ) -> Result<String> {
        let build = |fallback: bool| {
            let mut git = self.repo.git();
            if fallback {
                for (key, value) in snapshot::tool_identity() {
                    git = git.env(key, value);
                }
            }
            git = git.args([
                "-c",
                "user.useConfigOnly=true",
                "commit-tree",
                "--no-gpg-sign",
                tree,
            ]);
            if let Some(parent) = parent {
                git = git.args(["-p", parent]);
            }
            git.message_on_stdin(message)
        };
        // git's words when it has no identity to use (with `user.useConfigOnly`).
        const NO_IDENTITY: &[&str] = &[
            "identity unknown",
            "no email was given",
            "no name was given",
            "empty ident name",
            "unable to auto-detect",
        ];
        let first = build(false).output()?;
        if first.code == Some(0) {
            return Ok(first.text());
        }
        let stderr = String::from_utf8_lossy(&first.stderr).to_ascii_lowercase();
        if NO_IDENTITY.iter().any(|words| stderr.contains(words)) {
            build(true).run_text()
        } else {
            Err(crate::git::git_error("commit-tree".to_owned(), &first))
        }
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

    /// Reads the session's log without a lock. A missing log (git still holding the session's
    /// refs) or one behind the refs is rebuilt first, as `repair` does, with a notice. When the
    /// log is there, the check reads one folder and starts no git process.
    fn read_log(&self, session: SessionId) -> Result<Option<LogContents>> {
        let log = self.session_log(session);
        let missing = match log.read()? {
            Some(contents) if !self.log_is_behind(session, &contents) => return Ok(Some(contents)),
            Some(_) => false,
            None if !store::session_has_refs(&self.repo, session)? => return Ok(None),
            None => true,
        };
        let _repo_lock = self.lock_repo()?;
        let _session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        self.rebuild_if_needed(session, &log, missing)
    }

    fn read_existing_log(&self, session: SessionId) -> Result<LogContents> {
        let log = self.session_log(session);
        self.read_log(session)?
            .ok_or_else(|| Error::SessionNotFound {
                session: session.as_string(),
                path: log.path(),
            })
    }

    /// Returns true when a private ref of the session (a loose one: the check starts no git)
    /// names a checkpoint the log lacks.
    fn log_is_behind(&self, session: SessionId, contents: &LogContents) -> bool {
        let Some(ids) = store::loose_session_ref_ids(&self.repo, session) else {
            return false;
        };
        if ids.is_empty() {
            return false;
        }
        // A set: a session can hold 10,000 checkpoints.
        let logged: std::collections::HashSet<CheckpointId> = contents
            .checkpoints
            .iter()
            .map(|c| c.checkpoint_id)
            .collect();
        ids.iter().any(|id| !logged.contains(id))
    }

    /// With both locks held: reads the log again (another process may have fixed it meanwhile)
    /// and rebuilds it from git when it is still missing or behind, telling the notice sink.
    fn rebuild_if_needed(
        &self,
        session: SessionId,
        log: &SessionLog,
        missing: bool,
    ) -> Result<Option<LogContents>> {
        if let Some(contents) = log.read()? {
            if !self.log_is_behind(session, &contents) {
                return Ok(Some(contents));
            }
        }
        let report = match self.rebuild(session, log) {
            Err(Error::SessionNotFound { .. }) => return Ok(None),
            other => other?,
        };
        // A ref whose metadata cannot be read (not ours) brings nothing back: no news.
        let news = missing || !report.restored.is_empty();
        if let (Some(sink), true) = (&self.options.on_notice, news) {
            (sink.0)(&Notice::LogRebuilt {
                session: session.as_string(),
                path: log.path(),
                missing,
                restored: report.restored.len(),
            });
        }
        log.read()
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
        let (in_effect, _) = undo_stacks(&open.operations);
        let (target, undone) = match in_effect.last() {
            Some(op) => (op.safety_checkpoint_id, Some((*op).clone())),
            // A log from before the operation history: its newest safety snapshot.
            None if open.operations.is_empty() => {
                let newest = log::newest_first(&open.checkpoints)
                    .into_iter()
                    .find(Checkpoint::is_safety_snapshot)
                    .ok_or_else(|| Error::NothingToUndo {
                        session: session.as_string(),
                    })?;
                (newest.checkpoint_id, None)
            }
            None => {
                return Err(Error::NothingToUndo {
                    session: session.as_string(),
                })
            }
        };
        let target = find(&open.checkpoints, session, target)?.clone();
        let step = Step {
            kind: OperationKind::Undo,
            undone,
        };
        self.restore(&mut open, session, &target, ResetMode::Hard, Some(step))
    }

    /// Takes back the newest undo still in effect: the repository returns to the state before
    /// that undo (its safety snapshot).
    pub fn redo(&self, session: SessionId) -> Result<RollbackOutcome> {
        let mut open = self.lock_session(session, true)?;
        let (_, undos) = undo_stacks(&open.operations);
        let undo = undos.last().ok_or_else(|| Error::NothingToRedo {
            session: session.as_string(),
        })?;
        let step = Step {
            kind: OperationKind::Redo,
            undone: Some((*undo).clone()),
        };
        let target = find(&open.checkpoints, session, undo.safety_checkpoint_id)?.clone();
        self.restore(&mut open, session, &target, ResetMode::Hard, Some(step))
    }

    /// Restores `target`: a rollback when `step` is `None`, else an undo or redo (which
    /// re-attach HEAD to the branch the snapshot was taken on).
    fn restore(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        step: Option<Step>,
    ) -> Result<RollbackOutcome> {
        let reattach = step.is_some();
        let kind = step.as_ref().map_or(OperationKind::Rollback, |s| s.kind);
        let action = match kind {
            OperationKind::Rollback => "roll back",
            OperationKind::Undo => "undo",
            OperationKind::Redo => "redo",
        };
        if let Some(op) = self.repo.operation_in_progress() {
            return Err(Error::OperationInProgress {
                action,
                operation: op.name(),
            });
        }
        self.require_index_unlocked()?;
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        // The target's checks (its commit exists; what a hard restore would write over) read
        // nothing that status reads: they run on the other core meanwhile.
        let (state, target_checks) = std::thread::scope(|scope| {
            let checks = scope.spawn(|| -> Result<(ResolvedTarget, restore::Overwritten)> {
                let resolved = self.resolve_target(session, target)?;
                let overwritten = match mode {
                    ResetMode::Hard => restore::overwritten(&self.repo, &target.commit_sha)?,
                    ResetMode::Mixed => restore::Overwritten::default(),
                };
                Ok((resolved, overwritten))
            });
            let state = snapshot::read_state(&self.repo, true, true);
            (state, checks.join())
        });
        let (resolved, overwritten) = target_checks.unwrap_or_else(|_| {
            Err(Error::GitOutput {
                args: "diff-index".into(),
                detail: "the target check thread panicked".into(),
            })
        })?;
        let (status, index_copy) = state?;
        validate::require_checkpointable(&self.repo, &status)?;
        let index_copy = index_copy.expect("the index was copied")?;
        let mut overwritten = overwritten;
        if matches!(mode, ResetMode::Hard) {
            restore::replaced_folders(&self.repo, &status, &target.commit_sha, &mut overwritten)?;
        }

        let worktree_commit = target.commit_sha.clone();
        let ResolvedTarget {
            index_tree,
            raw_tree,
            base,
            branch,
        } = resolved;
        let head = reattach.then_some(branch);
        if let Some(Some(branch)) = &head {
            self.refuse_moving_another_branch(&status, branch, base.as_deref())?;
        }
        let branch_moved = match (self.branch_to_move(&status, head.as_ref())?, &base) {
            (Some((branch, old)), Some(new)) if old.as_deref() != Some(new.as_str()) => {
                Some(self.branch_move(branch, old, new)?)
            }
            _ => None,
        };

        // 1. The safety snapshot and the operation's entry, recorded before anything changes.
        let description = format!(
            "Safety snapshot before {} to checkpoint {}",
            kind, target.checkpoint_id
        );
        let message = format!("checkpoint-manager snapshot: {description}");
        let assume_unchanged = index_copy.assume_unchanged().to_vec();
        let captured = snapshot::capture(
            &self.repo,
            &status,
            index_copy,
            self.options.max_file_size,
            &overwritten.untracked,
            &overwritten.tracked,
            &message,
        )?;
        let safety_tree = captured.tree.clone();
        let safety_id = CheckpointId::new_random();
        let mut operation = Operation {
            operation_id: OperationId::new_random(),
            kind,
            target_checkpoint_id: target.checkpoint_id,
            safety_checkpoint_id: safety_id,
            mode,
            timestamp: now_timestamp(),
            state: OperationState::Started,
            undid: step
                .as_ref()
                .and_then(|s| s.undone.as_ref().map(|o| o.operation_id)),
        };
        let safety = Checkpoint {
            checkpoint_id: safety_id,
            commit_sha: captured.commit.clone(),
            timestamp: now_timestamp(),
            description,
            phase: target.phase,
            checkpoint_type: CheckpointType::PreRiskyOperation,
            commit_message: Some(message),
            state_snapshot: None,
            tags: Vec::new(),
            rollback_used: false,
            rollback_count: 0,
            mode: CheckpointMode::Snapshot,
            snapshot: Some(snapshot_info(captured, true, &assume_unchanged)),
            skipped: Vec::new(),
        };
        let tag_object =
            store::write_metadata_tag_with(&self.repo, session, &safety, Some(&operation))?;
        // Recorded only if HEAD is still what status read: a commit made meanwhile stops the
        // operation here, with nothing changed. So does a lock on the branch, which the
        // restore's last step (moving it) could not take.
        self.require_branch_unlocked(&status)?;
        RefTransaction::default()
            .verify("HEAD", status.head.oid.as_deref())
            .create(
                &store::private_ref(session, safety.checkpoint_id),
                &tag_object,
            )
            .commit(&self.repo, "checkpoint-manager: safety snapshot")?;
        open.checkpoints.push(safety.clone());
        open.operations.push(operation.clone());
        open.save()?;

        // 2. The restore itself, and 3. counting it. Whatever fails from here on, the state
        //    from before is in the safety snapshot, the entry says the operation failed (so
        //    `undo` returns to that state), and the message says how to get it back.
        let interrupted = |e: Error| Error::Interrupted {
            source: Box::new(e),
            session: session.as_string(),
            safety: safety.checkpoint_id.as_string(),
        };
        let restored = self.restore_files(
            target,
            mode,
            action,
            &assume_unchanged,
            RestoreTarget {
                worktree_commit,
                index_tree,
                base: base.clone(),
                exact: target.snapshot.is_some(),
                head,
                raw_tree,
                expected_head: status.head.clone(),
                keep: skipped_paths(target),
            },
            &safety_tree,
        );
        let removed_paths = match restored {
            Ok(paths) => paths,
            Err(e) => {
                open.set_state(operation.operation_id, OperationState::Failed);
                // The entry stays `started` if even this write fails: undo treats both alike.
                let _ = open.save();
                return Err(interrupted(e));
            }
        };
        // The log is written from memory, not re-read: if a repository tracks the sessions
        // folder, the restore may just have rewound the file on disk.
        if let Some(cp) = open
            .checkpoints
            .iter_mut()
            .find(|c| c.checkpoint_id == target.checkpoint_id)
        {
            cp.rollback_used = true;
            cp.rollback_count += 1;
        }
        open.set_state(operation.operation_id, OperationState::Done);
        operation.state = OperationState::Done;
        open.save().map_err(interrupted)?;
        Ok(RollbackOutcome {
            success: true,
            checkpoint_id: target.checkpoint_id,
            commit_sha: target.commit_sha.clone(),
            mode,
            head: base,
            safety_checkpoint_id: safety.checkpoint_id,
            removed_paths,
            operation,
            undone: step.and_then(|s| s.undone),
            branch_moved,
        })
    }

    /// Returns the branch a restore will move (short name) and its commit now: the branch
    /// checked out for a rollback, the branch re-attached for an undo or redo; none when HEAD
    /// is or will be detached.
    fn branch_to_move(
        &self,
        status: &Status,
        reattach: Option<&Option<String>>,
    ) -> Result<Option<(String, Option<String>)>> {
        let current = status.head.branch.clone();
        let branch = match reattach {
            None => current.clone(),
            Some(branch) => branch
                .as_deref()
                .map(|b| b.trim_start_matches("refs/heads/").to_owned()),
        };
        let Some(branch) = branch else {
            return Ok(None);
        };
        if current.as_deref() == Some(branch.as_str()) {
            return Ok(Some((branch, status.head.oid.clone())));
        }
        let full = format!("refs/heads/{branch}");
        let tip = store::read_refs(&self.repo, std::slice::from_ref(&full))?.remove(&full);
        Ok(Some((branch, tip)))
    }

    /// Describes a branch move, saying whether the new commit is in the old one's history.
    fn branch_move(&self, branch: String, old: Option<String>, new: &str) -> Result<BranchMove> {
        let in_history = match &old {
            Some(old) => crate::git::is_ancestor(&self.repo, new, old)?,
            None => false,
        };
        Ok(BranchMove {
            branch,
            old_commit: old,
            new_commit: new.to_owned(),
            in_history,
        })
    }

    /// Step 2 of a restore: HEAD, index and (for `Hard`) files become the target's.
    fn restore_files(
        &self,
        target: &Checkpoint,
        mode: ResetMode,
        action: &str,
        assume_unchanged: &[Vec<u8>],
        restore_target: RestoreTarget,
        safety_tree: &str,
    ) -> Result<Vec<String>> {
        let reflog = format!("checkpoint-manager: {action} to {}", target.checkpoint_id);
        match mode {
            ResetMode::Mixed => {
                restore::mixed_restore(
                    &self.repo,
                    restore_target.base.as_deref(),
                    &restore_target.expected_head,
                    &reflog,
                )?;
                Ok(Vec::new())
            }
            ResetMode::Hard => {
                // `assume-unchanged` flags would make git refuse to overwrite those files
                // halfway through; their content is in the safety snapshot now.
                if !assume_unchanged.is_empty() {
                    snapshot::clear_assume_unchanged(
                        &self.repo,
                        IndexFile::User,
                        assume_unchanged,
                    )?;
                }
                let removed =
                    restore::hard_restore(&self.repo, &restore_target, safety_tree, &reflog)?;
                // The snapshot's index had these flags; the restored index gets them back.
                if let Some(info) = &target.snapshot {
                    self.repo.mark_assume_unchanged(&info.assume_unchanged)?;
                }
                Ok(removed)
            }
        }
    }

    /// Removes a checkpoint from the log and (when `delete_tag`) its tag. Its commit and
    /// metadata stay reachable under `refs/checkpoint-trash/`, so a delete can be taken back.
    pub fn delete(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        delete_tag: bool,
    ) -> Result<DeleteOutcome> {
        let mut open = self.lock_session(session, true)?;
        let target = find(&open.checkpoints, session, checkpoint)?.clone();
        refuse_deleting_what_undo_needs(&open.operations, session, checkpoint)?;
        let tag_ref = format!("refs/tags/{}", store::tag_name(checkpoint));
        let private = store::private_ref(session, checkpoint);
        let trash = store::trash_ref(session, checkpoint);
        let current = store::read_refs(&self.repo, &[tag_ref.clone(), private.clone()])?;
        let mut refs = RefTransaction::default();
        // Whatever an earlier delete of the same id left in the trash is replaced.
        let kept_ref = match current.get(&private) {
            Some(tag_object) => {
                refs.delete(&private, tag_object);
                refs.set(&trash, tag_object);
                Some(trash)
            }
            None if store::existing_commits(
                &self.repo,
                std::slice::from_ref(&target.commit_sha),
            )?[0] =>
            {
                refs.set(&trash, &target.commit_sha);
                Some(trash)
            }
            None => None,
        };
        let removed_tag = match current.get(&tag_ref) {
            Some(oid) if delete_tag => {
                refs.delete(&tag_ref, oid);
                Some(store::tag_name(checkpoint))
            }
            _ => None,
        };
        refs.commit(
            &self.repo,
            &format!("checkpoint-manager: delete {checkpoint}"),
        )?;
        open.checkpoints.retain(|c| c.checkpoint_id != checkpoint);
        open.save()?;
        Ok(DeleteOutcome {
            deleted: true,
            checkpoint_id: checkpoint,
            commit_sha: target.commit_sha,
            removed_tag,
            kept_ref,
        })
    }

    /// Sends the sessions' checkpoints to `remote` (default: git config
    /// `checkpoint-manager.remote`, else `origin`); see [`crate::remote`].
    pub fn push(&self, remote: Option<&str>, sessions: Sessions) -> Result<PushOutcome> {
        let remote = remote::resolve_remote(&self.repo, remote)?;
        remote::push(self, &remote, sessions)
    }

    /// Fetches the sessions' checkpoints from `remote` and merges them into the local refs and
    /// logs, under the repository lock; see [`crate::remote`].
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

    pub(crate) fn repo(&self) -> &Repo {
        &self.repo
    }

    pub(crate) fn lock_timeout(&self) -> Duration {
        self.options.lock_timeout
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

    /// `repair` with both locks held: merges the log with what git holds (checkpoints, safety
    /// snapshots and the operations recorded in their metadata) and recounts the rollbacks.
    pub(crate) fn rebuild(&self, session: SessionId, log: &SessionLog) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        let mut log_existed = false;
        let LogContents {
            checkpoints: existing,
            operations,
        } = match log.read() {
            Ok(found) => {
                log_existed = found.is_some();
                found.unwrap_or_default()
            }
            Err(Error::CorruptLog { path, .. }) => {
                let aside = path.with_file_name(format!(
                    "checkpoints.json.corrupt-{}",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
                ));
                std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
                report.moved_aside = Some(aside.display().to_string());
                LogContents::default()
            }
            Err(e) => return Err(e),
        };
        let records = store::read_session_records(&self.repo, session)?;
        let operations = merge_operations(operations, &records, log_existed, &mut report);
        let from_git: Vec<Checkpoint> = records.into_iter().map(|(cp, _)| cp).collect();
        if existing.is_empty()
            && from_git.is_empty()
            && report.moved_aside.is_none()
            && !log.path().exists()
        {
            return Err(Error::SessionNotFound {
                session: session.as_string(),
                path: log.path(),
            });
        }
        let shas: Vec<String> = existing.iter().map(|c| c.commit_sha.clone()).collect();
        let alive = store::existing_commits(&self.repo, &shas)?;
        let mut merged: Vec<Checkpoint> = Vec::new();
        for (cp, alive) in existing.into_iter().zip(alive) {
            if alive {
                merged.push(cp);
            } else {
                report.dropped.push(cp.checkpoint_id);
            }
        }
        for cp in from_git {
            if !merged.iter().any(|c| c.checkpoint_id == cp.checkpoint_id) {
                report.restored.push(cp.checkpoint_id);
                merged.push(cp);
            }
        }
        // Creation order is time order (ties keep the log's order, then git's).
        let mut merged = log::into_newest_first(merged);
        merged.reverse();
        recount_rollbacks(&mut merged, &operations);
        report.total_safety_snapshots = merged.iter().filter(|c| c.is_safety_snapshot()).count();
        report.total_checkpoints = merged.len() - report.total_safety_snapshots;
        report.total_operations = operations.len();
        log.write(&merged, &operations)?;
        Ok(report)
    }

    /// The session lock lives in the git dir, so taking it never creates anything in the work
    /// tree (a refused command leaves no trace).
    pub(crate) fn session_lock_path(&self, session: SessionId) -> std::path::PathBuf {
        self.repo
            .private_dir()
            .join(format!("session-{session}.lock"))
    }

    /// Takes the repository lock, recovers from a holder that was killed, and starts the journal
    /// of this operation (see `journal`); all are released together.
    fn lock_repo(&self) -> Result<RepoLock> {
        let lock = lock::acquire(
            &lock::repo_lock_path(&self.repo.private_dir()),
            self.options.lock_timeout,
        )?;
        self.recover_from_killed_holder();
        let journal = journal::begin(
            self.repo.workdir(),
            self.repo.git_dir(),
            self.repo.common_dir(),
            &self.repo.private_dir(),
        );
        Ok(RepoLock {
            _journal: journal,
            _lock: lock,
        })
    }

    /// After a holder of the repository lock was killed: removes the lock files its git step
    /// left when the journal proves they are that step's (waiting a moment for a git child that
    /// outlived it), and the temporary indexes killed processes left behind (only lock holders
    /// make them, and we hold the lock now). What was removed becomes a notice.
    fn recover_from_killed_holder(&self) {
        let grace = INDEX_LOCK_GRACE.min(self.options.lock_timeout);
        let removed = journal::recover(&self.repo.private_dir(), grace);
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(removed);
        if let Ok(entries) = std::fs::read_dir(self.repo.private_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("index-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// Fails with [`Error::IndexLocked`] while another git holds the user's index: an operation
    /// that writes it checks before it starts, rather than failing halfway.
    /// Fails with [`Error::LockFileExists`] when the checked-out branch's lock file exists.
    fn require_branch_unlocked(&self, status: &Status) -> Result<()> {
        let Some(branch) = &status.head.branch else {
            return Ok(());
        };
        let path = self
            .repo
            .common_dir()
            .join("refs/heads")
            .join(format!("{branch}.lock"));
        if path.exists() {
            return Err(Error::LockFileExists { path });
        }
        Ok(())
    }

    fn require_index_unlocked(&self) -> Result<()> {
        let path = self.repo.index_lock_path();
        if path.exists() {
            return Err(Error::IndexLocked { path });
        }
        Ok(())
    }

    /// Returns (and forgets) what this manager's commands did on their own that the user should
    /// hear about, such as a lock file of a killed operation it removed. One line each.
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Opens a session for changes: the repository lock, then the session lock, then one read
    /// of the log (a corrupt log fails here, before anything changes). With `must_exist`, a
    /// session without a log is not found, and nothing (not even its folder) is created.
    /// A log that is missing while git holds the session's refs, or behind them, is rebuilt
    /// first (with a notice).
    fn lock_session(&self, session: SessionId, must_exist: bool) -> Result<LockedSession> {
        let log = self.session_log(session);
        // A log that would be read or written through a symlink is refused before anything.
        log.check_path()?;
        let missing = !log.path().exists();
        // Cheap refusal before waiting for any lock: no log and nothing in git.
        if missing && must_exist && !store::session_has_refs(&self.repo, session)? {
            return Err(Error::SessionNotFound {
                session: session.as_string(),
                path: log.path(),
            });
        }
        let repo_lock = self.lock_repo()?;
        let session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        let found = if missing && !must_exist && !store::session_has_refs(&self.repo, session)? {
            None
        } else {
            self.rebuild_if_needed(session, &log, missing)?
        };
        let contents = match found {
            Some(contents) => contents,
            None if must_exist => {
                return Err(Error::SessionNotFound {
                    session: session.as_string(),
                    path: log.path(),
                })
            }
            None => LogContents::default(),
        };
        Ok(LockedSession {
            log,
            checkpoints: contents.checkpoints,
            operations: contents.operations,
            _session_lock: session_lock,
            _repo_lock: repo_lock,
        })
    }

    /// Checks the target's record and takes what a restore needs from git, not from the log
    /// (which lives in the work tree): the commit must exist, and a snapshot's index tree and
    /// raw-bytes tree are its commit's second and third parents' trees. One git process.
    fn resolve_target(&self, session: SessionId, target: &Checkpoint) -> Result<ResolvedTarget> {
        let invalid = |detail: String| Error::InvalidRecord {
            session: session.as_string(),
            checkpoint: target.checkpoint_id.as_string(),
            detail,
        };
        let sha = &target.commit_sha;
        if !is_object_id(sha) {
            return Err(invalid(format!("commit_sha {sha:?} is not an object id")));
        }
        let info = target.snapshot.as_ref();
        let base = info.map_or_else(|| Some(sha.clone()), |i| i.base_commit.clone());
        if let Some(base) = base.as_deref().filter(|b| !is_object_id(b)) {
            return Err(invalid(format!("base_commit {base:?} is not an object id")));
        }
        let branch = info.and_then(|i| i.branch.clone());
        // Git's own branch-name rules: a tampered record must not make `refs/heads/HEAD`.
        if let Some(branch) = branch
            .as_deref()
            .filter(|b| !crate::git::is_valid_branch_ref(b))
        {
            return Err(invalid(format!("branch {branch:?} is not a branch")));
        }
        // W's parents: [base, I, R]; without a base (no commit yet): [I, R].
        let index_parent = if base.is_some() { 2 } else { 1 };
        let mut queries = vec![format!("{sha}^{{commit}}"), format!("{sha}^{{tree}}")];
        if let (Some(_), Some(_)) = (info, &base) {
            queries.push(format!("{sha}^1"));
        }
        if info.is_some() {
            queries.push(format!("{sha}^{index_parent}^{{tree}}"));
        }
        if info.is_some_and(|i| i.raw_tree.is_some()) {
            queries.push(format!("{sha}^{}^{{tree}}", index_parent + 1));
        }
        let found = store::resolve_objects(&self.repo, &queries)?;
        if found[0].is_none() {
            // A tree or a blob is not "missing": the record names the wrong kind of object.
            if let Some(kind) = self.repo.object_type(sha)?.filter(|k| k != "commit") {
                return Err(invalid(format!(
                    "commit_sha {sha} names a {kind}, not a commit"
                )));
            }
            return Err(Error::MissingCommit {
                session: session.as_string(),
                checkpoint: target.checkpoint_id.as_string(),
                commit: sha.clone(),
            });
        }
        let tree_at = |i: usize| {
            found
                .get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| invalid(format!("{} does not exist", queries[i])))
        };
        // Answers after the commit and its tree: [base check], index tree, [raw tree].
        let mut next = 2;
        if let (Some(_), Some(base)) = (info, &base) {
            if found[next].as_deref() != Some(base.as_str()) {
                return Err(invalid(format!(
                    "base_commit {base} is not the snapshot's parent"
                )));
            }
            next += 1;
        }
        let index_tree = if info.is_some() {
            next += 1;
            tree_at(next - 1)?
        } else {
            tree_at(1)?
        };
        let raw_tree = if info.is_some_and(|i| i.raw_tree.is_some()) {
            Some(tree_at(next)?)
        } else {
            None
        };
        Ok(ResolvedTarget {
            index_tree,
            raw_tree,
            base,
            branch,
        })
    }

    /// Undo re-attaches HEAD to the branch the safety snapshot was taken on. When that is not the
    /// branch checked out here and it is checked out in another work tree, or has moved since,
    /// re-attaching would pull it from under that work tree or orphan its new commits: refuse.
    fn refuse_moving_another_branch(
        &self,
        status: &Status,
        branch: &str,
        base: Option<&str>,
    ) -> Result<()> {
        let current = status
            .head
            .branch
            .as_ref()
            .map(|b| format!("refs/heads/{b}"));
        if current.as_deref() == Some(branch) {
            return Ok(());
        }
        if let Some(worktree) = self.repo.worktree_with_branch(branch) {
            return Err(Error::BranchCheckedOutElsewhere {
                branch: branch.trim_start_matches("refs/heads/").to_owned(),
                worktree: worktree.display().to_string(),
            });
        }
        let tip = self
            .repo
            .git()
            .args(["rev-parse", "-q", "--verify", "--end-of-options", branch])
            .output()?;
        let tip = (tip.code == Some(0)).then(|| tip.text());
        match tip {
            Some(tip) if Some(tip.as_str()) != base => Err(Error::BranchMoved {
                branch: branch.trim_start_matches("refs/heads/").to_owned(),
                tip,
            }),
            _ => Ok(()),
        }
    }
}

/// A copy of the user's index with the commit's changes staged, waiting to replace it.
#[derive(Debug)]
struct StagedIndex {
    copy: TempIndex,
    /// The version of the user's index the copy was made from.
    stamp: IndexStamp,
    /// What was staged, to stage again if another git rewrote the index meanwhile.
    paths: Vec<Vec<u8>>,
}

/// What a restore needs of its target, checked against git.
#[derive(Debug)]
struct ResolvedTarget {
    index_tree: String,
    raw_tree: Option<String>,
    base: Option<String>,
    branch: Option<String>,
}

/// Returns true for a full SHA-1 or SHA-256 object id in lowercase hex.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A session opened for changes; the locks are released on drop, session first.
#[derive(Debug)]
struct LockedSession {
    log: SessionLog,
    checkpoints: Vec<Checkpoint>,
    operations: Vec<Operation>,
    _session_lock: LockGuard,
    _repo_lock: RepoLock,
}

/// The repository lock with the journal of the operation holding it; the journal is removed
/// first, while the lock is still held.
#[derive(Debug)]
struct RepoLock {
    _journal: journal::JournalGuard,
    _lock: LockGuard,
}

impl LockedSession {
    /// Writes the log as it is in memory (atomically).
    fn save(&self) -> Result<()> {
        self.log.write(&self.checkpoints, &self.operations)
    }

    fn set_state(&mut self, operation: OperationId, state: OperationState) {
        if let Some(op) = self
            .operations
            .iter_mut()
            .find(|o| o.operation_id == operation)
        {
            op.state = state;
        }
    }
}

/// What an undo or redo takes back.
#[derive(Debug)]
struct Step {
    kind: OperationKind,
    /// The entry taken back (none for an undo of a log from before the operation history).
    undone: Option<Operation>,
}

/// Walks the history as jj does and returns the operations still in effect (what `undo` takes
/// back, newest last) and the undos still in effect (what `redo` takes back, newest last).
/// A finished undo takes its operation off the first stack; a finished redo takes its undo off
/// the second. Anything else, including an operation that failed or was killed partway, is an
/// operation in effect that `undo` can take back; a new rollback forgets what could be redone.
fn undo_stacks(operations: &[Operation]) -> (Vec<&Operation>, Vec<&Operation>) {
    let mut in_effect: Vec<&Operation> = Vec::new();
    let mut undos: Vec<&Operation> = Vec::new();
    let take = |stack: &mut Vec<&Operation>, id: Option<OperationId>| {
        if let Some(pos) = stack.iter().rposition(|o| Some(o.operation_id) == id) {
            stack.remove(pos);
        }
    };
    for op in operations {
        match (op.kind, op.state) {
            (OperationKind::Undo, OperationState::Done) => {
                take(&mut in_effect, op.undid);
                undos.push(op);
            }
            (OperationKind::Redo, OperationState::Done) => {
                take(&mut undos, op.undid);
                in_effect.push(op);
            }
            (kind, _) => {
                if kind == OperationKind::Rollback {
                    undos.clear();
                }
                in_effect.push(op);
            }
        }
    }
    (in_effect, undos)
}

/// Merges the log's operation history with the operations git records in safety snapshots'
/// metadata. When the log was lost, every operation git holds is taken as done (git keeps no
/// outcome; the state before each is in its safety snapshot either way). When the log exists,
/// an operation only git holds was killed between its safety snapshot and its entry, before
/// anything changed: it stays out of the history (its snapshot is kept), or `undo` would take
/// back a rollback that never happened.
fn merge_operations(
    mut operations: Vec<Operation>,
    records: &[(Checkpoint, Option<Operation>)],
    log_existed: bool,
    report: &mut RepairReport,
) -> Vec<Operation> {
    for op in records.iter().filter_map(|(_, op)| op.as_ref()) {
        if !log_existed && !operations.iter().any(|o| o.operation_id == op.operation_id) {
            report.restored_operations.push(op.operation_id);
            operations.push(Operation {
                state: OperationState::Done,
                ..op.clone()
            });
        }
    }
    // Time order; the log's order for equal times (sort is stable).
    operations.sort_by(|a, b| log::compare_timestamps(&a.timestamp, &b.timestamp));
    operations
}

/// Sets each checkpoint's rollback counters to at least what the history records: the finished
/// operations that restored it (a log kept by an older version may count more).
pub(crate) fn recount_rollbacks(checkpoints: &mut [Checkpoint], operations: &[Operation]) {
    for cp in checkpoints {
        let count = operations
            .iter()
            .filter(|o| {
                o.state == OperationState::Done && o.target_checkpoint_id == cp.checkpoint_id
            })
            .count() as u64;
        cp.rollback_count = cp.rollback_count.max(count);
        cp.rollback_used |= cp.rollback_count > 0;
    }
}

/// A safety snapshot the operation history names is where undo or redo returns: it stays.
fn refuse_deleting_what_undo_needs(
    operations: &[Operation],
    session: SessionId,
    checkpoint: CheckpointId,
) -> Result<()> {
    match operations
        .iter()
        .find(|op| op.safety_checkpoint_id == checkpoint)
    {
        Some(op) => Err(Error::SafetySnapshotInUse {
            session: session.as_string(),
            checkpoint: checkpoint.as_string(),
            operation: op.operation_id.to_string(),
        }),
        None => Ok(()),
    }
}

fn find(
    checkpoints: &[Checkpoint],
    session: SessionId,
    checkpoint: CheckpointId,
) -> Result<&Checkpoint> {
    checkpoints
        .iter()
        .find(|c| c.checkpoint_id == checkpoint)
        .ok_or_else(|| Error::CheckpointNotFound {
            session: session.as_string(),
            checkpoint: checkpoint.as_string(),
        })
}

fn snapshot_info(captured: Captured, safety: bool, assume_unchanged: &[Vec<u8>]) -> SnapshotInfo {
    SnapshotInfo {
        // A name that is not UTF-8 cannot be logged; its flag alone is not restored.
        assume_unchanged: assume_unchanged
            .iter()
            .filter_map(|p| String::from_utf8(p.clone()).ok())
            .collect(),
        base_commit: captured.base,
        branch: captured.branch,
        index_tree: captured.index_tree,
        index_commit: captured.index_commit,
        skipped: captured.skipped,
        safety,
        raw_tree: captured.raw_tree,
    }
}

/// What a commit-mode checkpoint says about a file it left out for its size.
fn too_large_warning(skipped: &SkippedPath, cap: Option<u64>) -> String {
    let size = skipped
        .size
        .map_or_else(String::new, |n| format!(" ({n} bytes)"));
    let cap = cap.map_or_else(String::new, |n| format!(" of {n} bytes"));
    format!(
        "{}{size} is over the size cap{cap}: it was left out of the checkpoint commit and is \
         untouched on disk; set {MAX_FILE_SIZE_ENV} to a larger size (0: no cap) to include it",
        skipped.path
    )
}

/// The files a snapshot left out (too large, nested repositories): a restore to it never
/// touches them. (A submodule with work inside is captured at its commit: it is restored.)
fn skipped_paths(target: &Checkpoint) -> Vec<Vec<u8>> {
    let skipped = target.snapshot.iter().flat_map(|s| s.skipped.iter());
    skipped
        .filter(|k| k.reason != crate::model::SkipReason::SubmoduleChanges)
        .map(|k| k.path.as_bytes().to_vec())
        .collect()
}

/// The first line of `text`, cut to 200 bytes (it goes into a reflog message, an argument).
fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    let mut end = line.len().min(200);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// The message of a commit-mode checkpoint: the description, then trailers a tool can parse.
fn commit_message(request: &CreateRequest, id: CheckpointId) -> String {
    let description = request.description.trim();
    let (subject, body) = description.split_once('\n').unwrap_or((description, ""));
    let subject = if subject.trim().is_empty() {
        "checkpoint"
    } else {
        subject.trim()
    };
    let body = body.trim();
    let body = if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n\n")
    };
    format!(
        "Checkpoint: {subject}\n\n{body}Checkpoint-Id: {id}\nCheckpoint-Phase: {}\nCheckpoint-Type: {}\n",
        request.phase, request.checkpoint_type
    )
}
