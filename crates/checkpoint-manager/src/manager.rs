//! [`CheckpointManager`]: the spec's operations (create, list, get, rollback, summary, delete,
//! validate) plus snapshot, undo and repair. Every rule of the product lives here or in the
//! modules it calls; the CLI and the Python binding only translate.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::git::{Repo, Status};
use crate::ids::{CheckpointId, SessionId};
use crate::lock::{self, LockGuard, DEFAULT_LOCK_TIMEOUT};
use crate::log::{self, now_timestamp, SessionLog, SESSIONS_EXCLUDE};
use crate::model::{
    Checkpoint, CheckpointMode, CheckpointPhase, CheckpointSummary, CheckpointType, DeleteOutcome,
    RepairReport, ResetMode, RollbackOutcome, SkipReason, SkippedPath, SnapshotInfo, StateSnapshot,
    ValidationResult,
};
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
}

/// How long to wait for a `.git/index.lock` left by the git child of a killed process (a stale
/// one from a crashed git is then reported by git itself).
const INDEX_LOCK_GRACE: Duration = Duration::from_secs(3);

/// Environment variable that sets [`Options::max_file_size`] in bytes (`0` or `none`: no cap).
pub const MAX_FILE_SIZE_ENV: &str = "CHECKPOINT_MANAGER_MAX_FILE_SIZE";

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            max_file_size: Some(DEFAULT_MAX_FILE_SIZE),
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

    /// Returns the log of `session`.
    pub fn session_log(&self, session: SessionId) -> SessionLog {
        SessionLog::new(self.repo.workdir(), session)
    }

    /// Checks whether the repository is fit for a checkpoint (the spec's
    /// `validate_checkpoint_state`), running `test_command` to decide `tests_passing`.
    pub fn validate(&self, test_command: Option<&str>) -> Result<ValidationResult> {
        validate::validate(&self.repo, test_command)
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
                let captured = snapshot::capture(
                    &self.repo,
                    &status,
                    copy,
                    self.options.max_file_size,
                    &[],
                    &message,
                )?;
                checkpoint.commit_sha = captured.commit.clone();
                checkpoint.commit_message = Some(message);
                checkpoint.snapshot = Some(snapshot_info(captured, false));
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
        if self.repo.git_dir().join("index.lock").exists() {
            return Err(Error::IndexLocked {
                path: self.repo.git_dir().join("index.lock"),
            });
        }
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
            git.args(["-m", message])
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

    /// Returns the checkpoints of a session, newest first (an empty list for a new session).
    pub fn list(&self, session: SessionId) -> Result<Vec<Checkpoint>> {
        Ok(log::into_newest_first(
            self.session_log(session).read()?.unwrap_or_default(),
        ))
    }

    /// Returns one checkpoint.
    pub fn get(&self, session: SessionId, checkpoint: CheckpointId) -> Result<Checkpoint> {
        let checkpoints = self.session_log(session).read_existing()?;
        find(&checkpoints, session, checkpoint).cloned()
    }

    /// Returns the spec's summary statistics (zeros for a new session).
    pub fn summary(&self, session: SessionId) -> Result<CheckpointSummary> {
        Ok(log::summarize(
            &self.session_log(session).read()?.unwrap_or_default(),
        ))
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
        self.restore(&mut open, session, &target, mode, false)
    }

    /// Returns the repository to the newest safety snapshot: branch, HEAD, index and every file
    /// as they were before the last rollback or undo. Undo takes its own safety snapshot first.
    pub fn undo(&self, session: SessionId) -> Result<RollbackOutcome> {
        let mut open = self.lock_session(session, true)?;
        let target = log::newest_first(&open.checkpoints)
            .into_iter()
            .find(Checkpoint::is_safety_snapshot)
            .ok_or_else(|| Error::NothingToUndo {
                session: session.as_string(),
            })?;
        self.restore(&mut open, session, &target, ResetMode::Hard, true)
    }

    fn restore(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        reattach: bool,
    ) -> Result<RollbackOutcome> {
        let action = if reattach { "undo" } else { "roll back" };
        if let Some(op) = self.repo.operation_in_progress() {
            return Err(Error::OperationInProgress {
                action,
                operation: op.name(),
            });
        }
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        // The target's checks (its commit exists; what a hard restore would write over) read
        // nothing that status reads: they run on the other core meanwhile.
        let (state, target_checks) = std::thread::scope(|scope| {
            let checks = scope.spawn(|| -> Result<(ResolvedTarget, Vec<Vec<u8>>)> {
                let resolved = self.resolve_target(session, target)?;
                let overwritten = match mode {
                    ResetMode::Hard => {
                        restore::overwritten_untracked(&self.repo, &target.commit_sha)?
                    }
                    ResetMode::Mixed => Vec::new(),
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

        // 1. The safety snapshot, recorded before anything changes.
        let description = format!(
            "Safety snapshot before {} to checkpoint {}",
            if reattach { "undo" } else { "rollback" },
            target.checkpoint_id
        );
        let message = format!("checkpoint-manager snapshot: {description}");
        let assume_unchanged = index_copy.assume_unchanged().to_vec();
        let captured = snapshot::capture(
            &self.repo,
            &status,
            index_copy,
            self.options.max_file_size,
            &overwritten,
            &message,
        )?;
        let safety_tree = captured.tree.clone();
        let safety = Checkpoint {
            checkpoint_id: CheckpointId::new_random(),
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
            snapshot: Some(snapshot_info(captured, true)),
            skipped: Vec::new(),
        };
        let tag_object = store::write_metadata_tag(&self.repo, session, &safety)?;
        RefTransaction::default()
            .create(
                &store::private_ref(session, safety.checkpoint_id),
                &tag_object,
            )
            .commit(&self.repo, "checkpoint-manager: safety snapshot")?;
        open.checkpoints.push(safety.clone());
        open.save()?;

        // 2. The restore itself, and 3. counting it. Whatever fails from here on, the state
        //    from before is in the safety snapshot, and the message says how to get it back.
        let interrupted = |e: Error| Error::Interrupted {
            source: Box::new(e),
            session: session.as_string(),
            safety: safety.checkpoint_id.as_string(),
        };
        let removed_paths = self
            .restore_files(
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
                },
                &safety_tree,
            )
            .map_err(interrupted)?;
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
        open.save().map_err(interrupted)?;
        Ok(RollbackOutcome {
            success: true,
            checkpoint_id: target.checkpoint_id,
            commit_sha: target.commit_sha.clone(),
            mode,
            head: base,
            safety_checkpoint_id: safety.checkpoint_id,
            removed_paths,
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
                restore::mixed_reset(&self.repo, restore_target.base.as_deref(), &reflog)?;
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
                restore::hard_restore(&self.repo, &restore_target, safety_tree, &reflog)
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

    /// Rebuilds the session's log from git: a corrupt file is moved aside, every checkpoint
    /// whose private ref exists is restored, and records whose commit is gone are dropped.
    pub fn repair(&self, session: SessionId) -> Result<RepairReport> {
        let log = self.session_log(session);
        let _repo_lock = self.lock_repo()?;
        let _session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        let mut report = RepairReport::default();
        let existing = match log.read() {
            Ok(found) => found.unwrap_or_default(),
            Err(Error::CorruptLog { path, .. }) => {
                let aside = path.with_file_name(format!(
                    "checkpoints.json.corrupt-{}",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
                ));
                std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
                report.moved_aside = Some(aside.display().to_string());
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let from_git = store::read_session_metadata(&self.repo, session)?;
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
        report.total_checkpoints = merged.len();
        log.write(&merged)?;
        Ok(report)
    }

    /// The session lock lives in the git dir, so taking it never creates anything in the work
    /// tree (a refused command leaves no trace).
    fn session_lock_path(&self, session: SessionId) -> std::path::PathBuf {
        self.repo
            .private_dir()
            .join(format!("session-{session}.lock"))
    }

    fn lock_repo(&self) -> Result<LockGuard> {
        let guard = lock::acquire(
            &lock::repo_lock_path(&self.repo.private_dir()),
            self.options.lock_timeout,
        )?;
        self.recover_from_killed_holder();
        Ok(guard)
    }

    /// After a holder of the repository lock was killed, its git child may still be finishing
    /// (git does not die with its parent): give it a moment to release `index.lock`, and remove
    /// the temporary indexes killed processes left behind (only lock holders make them, and we
    /// hold the lock now).
    fn recover_from_killed_holder(&self) {
        let index_lock = self.repo.git_dir().join("index.lock");
        let deadline = std::time::Instant::now() + INDEX_LOCK_GRACE.min(self.options.lock_timeout);
        while index_lock.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Ok(entries) = std::fs::read_dir(self.repo.private_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("index-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// Opens a session for changes: the repository lock, then the session lock, then one read
    /// of the log (a corrupt log fails here, before anything changes). With `must_exist`, a
    /// session without a log is not found, and nothing (not even its folder) is created.
    fn lock_session(&self, session: SessionId, must_exist: bool) -> Result<LockedSession> {
        let log = self.session_log(session);
        if must_exist && !log.path().exists() {
            return Err(Error::SessionNotFound {
                session: session.as_string(),
                path: log.path(),
            });
        }
        let repo_lock = self.lock_repo()?;
        let session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        let checkpoints = if must_exist {
            log.read_existing()?
        } else {
            log.read()?.unwrap_or_default()
        };
        Ok(LockedSession {
            log,
            checkpoints,
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
        if let Some(branch) = branch.as_deref().filter(|b| {
            !b.starts_with("refs/heads/") || b.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
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
    _session_lock: LockGuard,
    _repo_lock: LockGuard,
}

impl LockedSession {
    /// Writes the log as it is in memory (atomically).
    fn save(&self) -> Result<()> {
        self.log.write(&self.checkpoints)
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

fn snapshot_info(captured: Captured, safety: bool) -> SnapshotInfo {
    SnapshotInfo {
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

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
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
