//! The rollback / undo / redo flow: the target resolved against git, a safety snapshot taken
//! and recorded, the restore, the branch moved back, the operation entry finished.

use crate::error::{Error, Result};
use crate::git::Head;
use crate::git::RefTransaction;
use crate::git::Status;
use crate::ids::{CheckpointId, ObjectId, OperationId, SessionId};
use crate::log;
use crate::log::{now_timestamp, SESSIONS_EXCLUDE};
use crate::manager::{find, CheckpointManager};
use crate::model::{
    BranchMove, Checkpoint, CheckpointMode, CheckpointType, Operation, OperationKind,
    OperationState, ResetMode, RollbackOutcome, SnapshotInfo,
};
use crate::ops::create::snapshot_info;
use crate::progress::Stage;
use crate::restore::{self, HeadAfter, RestoreTarget};
use crate::session::LockedSession;
use crate::snapshot::{self, IndexFile};
use crate::store;
use crate::validate;

impl CheckpointManager {
    /// Returns what `undo` restores: the safety snapshot of the newest operation still in
    /// effect (for a log from before the operation history, its newest safety snapshot).
    pub(crate) fn undo_target(
        open: &LockedSession,
        session: SessionId,
    ) -> Result<(Checkpoint, Step)> {
        let nothing = || Error::NothingToUndo { session };
        let (in_effect, _) = undo_stacks(&open.operations);
        let (target, undone) = match in_effect.last() {
            Some(op) => (op.safety_checkpoint_id, Some((*op).clone())),
            None if open.operations.is_empty() => {
                let newest = log::newest_first(&open.checkpoints)
                    .into_iter()
                    .find(Checkpoint::is_safety_snapshot)
                    .ok_or_else(nothing)?;
                (newest.checkpoint_id, None)
            }
            None => return Err(nothing()),
        };
        let target = find(&open.checkpoints, session, target)?.clone();
        let step = Step {
            kind: OperationKind::Undo,
            undone,
        };
        Ok((target, step))
    }

    /// Returns what `redo` restores: the safety snapshot of the newest undo still in effect.
    pub(crate) fn redo_target(
        open: &LockedSession,
        session: SessionId,
    ) -> Result<(Checkpoint, Step)> {
        let (_, undos) = undo_stacks(&open.operations);
        let undo = undos.last().ok_or(Error::NothingToRedo { session })?;
        let step = Step {
            kind: OperationKind::Redo,
            undone: Some((*undo).clone()),
        };
        let target = find(&open.checkpoints, session, undo.safety_checkpoint_id)?.clone();
        Ok((target, step))
    }

    /// Restores `target`: a rollback when `step` is `None`, else an undo or redo (which
    /// re-attach HEAD to the branch the snapshot was taken on).
    pub(crate) fn restore(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        step: Option<Step>,
    ) -> Result<RollbackOutcome> {
        let kind = step.as_ref().map_or(OperationKind::Rollback, |s| s.kind);
        let action = match kind {
            OperationKind::Rollback => "roll back",
            OperationKind::Undo => "undo",
            OperationKind::Redo => "redo",
            OperationKind::Restore => "restore",
        };
        if let Some(op) = self.repo.operation_in_progress() {
            return Err(Error::OperationInProgress {
                action,
                operation: op.name(),
            });
        }
        self.require_index_unlocked()?;
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        let prepared = self.prepare_restore(session, target, mode, step.is_some())?;
        let branch_moved = prepared.branch_moved.clone();
        let head = prepared.restore_target.base.clone();
        let safety = self.record_safety_snapshot(open, session, target, mode, &step, prepared)?;
        let (safety_id, mut operation) =
            (safety.checkpoint.checkpoint_id, safety.operation.clone());
        let removed_paths = self.restore_recorded(open, session, target, mode, action, safety)?;
        operation.state = OperationState::Done;
        Ok(RollbackOutcome {
            success: true,
            checkpoint_id: target.checkpoint_id,
            commit_sha: target.commit_sha.clone(),
            mode,
            head: head.map(ObjectId::new),
            safety_checkpoint_id: safety_id,
            removed_paths,
            operation,
            undone: step.and_then(|s| s.undone),
            branch_moved,
        })
    }

    /// Reads the state and checks the target (on two cores), and refuses what would lose work:
    /// returns everything the safety snapshot and the restore need.
    fn prepare_restore(
        &self,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        reattach: bool,
    ) -> Result<PreparedRestore> {
        let mut prepared = self.read_state_and_check_target(session, target, mode, reattach)?;
        if matches!(mode, ResetMode::Hard) {
            let (status, overwritten) = (&prepared.status, &mut prepared.overwritten);
            restore::replaced_folders(&self.repo, status, &target.commit_sha, overwritten)?;
        }
        prepared.restore_target.expected_head = prepared.status.head.clone();
        prepared.branch_moved =
            self.plan_branch_move(&prepared.status, &prepared.restore_target)?;
        Ok(prepared)
    }

    /// Reads the work tree's state while the target is checked on the other core (its commit
    /// exists; what a hard restore would write over): the checks read nothing status reads.
    /// Returns the restore prepared but for the replaced folders and the branch move.
    fn read_state_and_check_target(
        &self,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        reattach: bool,
    ) -> Result<PreparedRestore> {
        let (state, target_checks) = std::thread::scope(|scope| {
            let checks = scope.spawn(|| -> Result<(RestoreTarget, restore::Overwritten)> {
                let resolved = self.resolve_target(session, target, reattach)?;
                let overwritten = match mode {
                    ResetMode::Hard => restore::overwritten(&self.repo, &target.commit_sha)?,
                    ResetMode::Mixed => restore::Overwritten::default(),
                };
                Ok((resolved, overwritten))
            });
            let reading = self.progress(Stage::ReadingWorkTree, None);
            let state = snapshot::read_state(&self.repo, true, true);
            drop(reading);
            (state, checks.join())
        });
        let (restore_target, overwritten) =
            target_checks.unwrap_or(Err(Error::WorkerPanicked {
                task: "checking the target",
            }))?;
        let state = state?;
        validate::require_checkpointable(&self.repo, &state.status)?;
        Ok(PreparedRestore {
            index_copy: state.index_copy.expect("the index was copied")?,
            caps: self.options.caps(&state.settings?),
            status: state.status,
            restore_target,
            overwritten,
            branch_moved: None,
        })
    }

    /// Refuses to move a branch other than the one the restore re-attaches, and returns the
    /// branch move the restore's last step makes (none when the branch is already there).
    fn plan_branch_move(
        &self,
        status: &Status,
        restore_target: &RestoreTarget,
    ) -> Result<Option<BranchMove>> {
        let base = restore_target.base.as_deref();
        if let HeadAfter::Attach(branch) = &restore_target.head {
            self.refuse_moving_another_branch(status, branch, base)?;
        }
        Ok(
            match (self.branch_to_move(status, &restore_target.head)?, base) {
                (Some((branch, old)), Some(new)) if old.as_deref() != Some(new) => {
                    Some(self.branch_move(branch, old, new)?)
                }
                _ => None,
            },
        )
    }

    /// Step 1: the safety snapshot and the operation's entry, recorded before anything
    /// changes (only if HEAD is still what status read).
    pub(crate) fn record_safety_snapshot(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        step: &Option<Step>,
        prepared: PreparedRestore,
    ) -> Result<RecordedSafety> {
        let PreparedRestore {
            status,
            index_copy,
            caps,
            restore_target,
            overwritten,
            ..
        } = prepared;
        let kind = step.as_ref().map_or(OperationKind::Rollback, |s| s.kind);
        let description = format!(
            "Safety snapshot before {} to checkpoint {}",
            kind, target.checkpoint_id
        );
        let message = format!("checkpoint-manager snapshot: {description}");
        let assume_unchanged = index_copy.assume_unchanged().to_vec();
        let captured = self.capture_safety(&status, index_copy, caps, &overwritten, &message)?;
        let safety_tree = captured.tree.clone();
        let safety_id = CheckpointId::new_random();
        let operation = new_operation(kind, target, safety_id, mode, step);
        let commit = captured.commit.clone();
        let snapshot = snapshot_info(captured, true, &assume_unchanged);
        let safety = safety_record(safety_id, snapshot, commit, description, message, target);
        self.publish_safety(open, session, &status, &safety, &operation)?;
        Ok(RecordedSafety {
            checkpoint: safety,
            operation,
            tree: safety_tree,
            assume_unchanged,
            restore_target,
        })
    }

    /// Captures the work tree, the index and the files a hard restore would write over.
    fn capture_safety(
        &self,
        status: &Status,
        index_copy: snapshot::IndexCopy,
        caps: snapshot::Caps,
        overwritten: &restore::Overwritten,
        message: &str,
    ) -> Result<snapshot::Captured> {
        let _capturing = self.progress(Stage::CapturingFiles, None);
        snapshot::capture(
            &self.repo,
            status,
            index_copy,
            caps,
            &overwritten.untracked,
            &overwritten.tracked,
            message,
        )
    }

    /// Writes the safety snapshot's metadata tag, creates its private ref and saves the log with
    /// it and the operation's entry.
    fn publish_safety(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        status: &Status,
        safety: &Checkpoint,
        operation: &Operation,
    ) -> Result<()> {
        let tag_object =
            store::write_metadata_tag_with(&self.repo, session, safety, Some(operation))?;
        // Recorded only if HEAD is still what status read: a commit made meanwhile stops the
        // operation here, with nothing changed. So does a lock on the branch, which the
        // restore's last step (moving it) could not take.
        self.require_branch_unlocked(status)?;
        RefTransaction::default()
            .verify("HEAD", status.head.oid.as_deref())
            .create(
                &store::private_ref(session, safety.checkpoint_id),
                &tag_object,
            )
            .commit(&self.repo, "checkpoint-manager: safety snapshot")?;
        open.checkpoints.push(safety.clone());
        open.operations.push(operation.clone());
        open.save()
    }

    /// Steps 2 and 3: the restore itself, and counting it. Whatever fails from here on, the
    /// state from before is in the safety snapshot, the entry says the operation failed (so
    /// `undo` returns to that state), and the message says how to get it back.
    fn restore_recorded(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        target: &Checkpoint,
        mode: ResetMode,
        action: &str,
        safety: RecordedSafety,
    ) -> Result<Vec<String>> {
        let operation_id = safety.operation.operation_id;
        let interrupted = |e: Error| Error::Interrupted {
            source: Box::new(e),
            session,
            safety: safety.checkpoint.checkpoint_id,
        };
        let restoring = self.progress(Stage::RestoringFiles, None);
        let restored = self.restore_files(
            target,
            mode,
            action,
            &safety.assume_unchanged,
            safety.restore_target,
            &safety.tree,
        );
        drop(restoring);
        let removed_paths = match restored {
            Ok(paths) => paths,
            Err(e) => {
                open.set_state(operation_id, OperationState::Failed);
                // The entry stays `started` if even this write fails: undo treats both alike.
                let _ = open.save();
                return Err(interrupted(e));
            }
        };
        // The log is written from memory, not re-read: if a repository tracks the sessions
        // folder, the restore may just have rewound the file on disk.
        count_rollback(open, target.checkpoint_id);
        open.set_state(operation_id, OperationState::Done);
        open.save().map_err(interrupted)?;
        Ok(removed_paths)
    }

    /// Returns the branch a restore will move (short name) and its commit now: the branch
    /// checked out for a rollback, the branch re-attached for an undo or redo; none when HEAD
    /// is or will be detached.
    pub(crate) fn branch_to_move(
        &self,
        status: &Status,
        head: &HeadAfter,
    ) -> Result<Option<(String, Option<String>)>> {
        let current = status.head.branch.clone();
        let branch = match head {
            HeadAfter::Keep => current.clone(),
            HeadAfter::Attach(branch) => Some(branch.trim_start_matches("refs/heads/").to_owned()),
            HeadAfter::Detach => None,
        };
        let Some(branch) = branch else {
            return Ok(None);
        };
        if current.as_deref() == Some(branch.as_str()) {
            return Ok(Some((branch, status.head.oid.clone())));
        }
        let full = format!("refs/heads/{branch}");
        let tip = crate::git::read_refs(&self.repo, std::slice::from_ref(&full))?.remove(&full);
        Ok(Some((branch, tip)))
    }

    /// Describes a branch move, saying whether the new commit is in the old one's history.
    pub(crate) fn branch_move(
        &self,
        branch: String,
        old: Option<String>,
        new: &str,
    ) -> Result<BranchMove> {
        let in_history = match &old {
            Some(old) => crate::git::is_ancestor(&self.repo, new, old)?,
            None => false,
        };
        Ok(BranchMove {
            branch,
            old_commit: old.map(ObjectId::new),
            new_commit: ObjectId::new(new),
            in_history,
        })
    }

    /// Step 2 of a restore: HEAD, index and (for `Hard`) files become the target's.
    pub(crate) fn restore_files(
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

    /// Checks the target's record and takes what a restore needs from git, not from the log
    /// (which lives in the work tree): the commit must exist, and a snapshot's index tree and
    /// raw-bytes tree are its commit's second and third parents' trees. One git process.
    pub(crate) fn resolve_target(
        &self,
        session: SessionId,
        target: &Checkpoint,
        reattach: bool,
    ) -> Result<RestoreTarget> {
        let invalid = |detail: String| invalid_record(session, target, detail);
        let (base, branch) = checked_record(target, &invalid)?;
        let sha = &target.commit_sha;
        let info = target.snapshot.as_ref();
        let asked = TargetQueries::new(sha, info, base.as_deref());
        let found = crate::git::resolve_objects(&self.repo, &asked.queries)?;
        if found[0].is_none() {
            return Err(self.not_a_commit(session, target, &invalid)?);
        }
        let answer = |i: usize| {
            found
                .get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| invalid(format!("{} does not exist", asked.queries[i])))
        };
        // A tampered record must not restore a snapshot onto a base it was not taken on.
        if let (Some(i), Some(base)) = (asked.base_parent, &base) {
            if found[i].as_deref() != Some(base.as_str()) {
                return Err(invalid(format!(
                    "base_commit {base} is not the snapshot's parent"
                )));
            }
        }
        let index_tree = answer(asked.index_tree)?;
        let raw_tree = asked.raw_tree.map(answer).transpose()?;
        Ok(RestoreTarget {
            worktree_commit: sha.to_string(),
            index_tree,
            base,
            exact: info.is_some(),
            head: head_after(branch, reattach),
            raw_tree,
            // HEAD is read by the status that runs beside this check; the flow fills it in.
            expected_head: Head::default(),
            keep: skipped_paths(target),
        })
    }

    /// Returns the error for a `commit_sha` git does not resolve to a commit: a tree or a blob
    /// is not "missing", the record names the wrong kind of object.
    fn not_a_commit(
        &self,
        session: SessionId,
        target: &Checkpoint,
        invalid: &dyn Fn(String) -> Error,
    ) -> Result<Error> {
        let sha = &target.commit_sha;
        if let Some(kind) = self.repo.object_type(sha)?.filter(|k| k != "commit") {
            return Ok(invalid(format!(
                "commit_sha {sha} names a {kind}, not a commit"
            )));
        }
        Ok(Error::MissingCommit {
            session,
            checkpoint: target.checkpoint_id,
            commit: sha.to_string(),
        })
    }

    /// Undo re-attaches HEAD to the branch the safety snapshot was taken on. When that is not the
    /// branch checked out here and it is checked out in another work tree, or has moved since,
    /// re-attaching would pull it from under that work tree or orphan its new commits: refuse.
    pub(crate) fn refuse_moving_another_branch(
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
        let tip = crate::git::resolve(&self.repo, branch)?;
        match tip {
            Some(tip) if Some(tip.as_str()) != base => Err(Error::BranchMoved {
                branch: branch.trim_start_matches("refs/heads/").to_owned(),
                tip,
            }),
            _ => Ok(()),
        }
    }
}

/// The error for a record that does not hold together.
fn invalid_record(session: SessionId, target: &Checkpoint, detail: String) -> Error {
    Error::InvalidRecord {
        session,
        checkpoint: target.checkpoint_id.as_string(),
        detail,
    }
}

/// Checks the record's own fields before git is asked anything, and returns the base commit
/// the restore moves HEAD to and the branch the state was captured on.
fn checked_record(
    target: &Checkpoint,
    invalid: &dyn Fn(String) -> Error,
) -> Result<(Option<String>, Option<String>)> {
    let sha = &target.commit_sha;
    if !is_object_id(sha) {
        return Err(invalid(format!("commit_sha {sha:?} is not an object id")));
    }
    let info = target.snapshot.as_ref();
    let base = info.map_or_else(
        || Some(sha.to_string()),
        |i| i.base_commit.as_ref().map(|b| b.to_string()),
    );
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
    Ok((base, branch))
}

/// The object queries that check a target against git in one process, and which answer says
/// what: answer 0 is the commit, 1 its tree.
struct TargetQueries {
    queries: Vec<String>,
    /// A snapshot's first parent, which must be its recorded base.
    base_parent: Option<usize>,
    /// The tree that becomes the index: a snapshot's I, else the commit's own tree.
    index_tree: usize,
    /// A snapshot's raw-bytes tree, when it has one.
    raw_tree: Option<usize>,
}

impl TargetQueries {
    fn new(sha: &str, info: Option<&SnapshotInfo>, base: Option<&str>) -> TargetQueries {
        let mut queries = vec![format!("{sha}^{{commit}}"), format!("{sha}^{{tree}}")];
        let mut ask = |query: String| {
            queries.push(query);
            queries.len() - 1
        };
        let Some(info) = info else {
            return TargetQueries {
                queries,
                base_parent: None,
                index_tree: 1,
                raw_tree: None,
            };
        };
        // W's parents: [base, I, R]; without a base (no commit yet): [I, R].
        let index_parent = if base.is_some() { 2 } else { 1 };
        let base_parent = base.map(|_| ask(format!("{sha}^1")));
        let index_tree = ask(format!("{sha}^{index_parent}^{{tree}}"));
        let raw_tree = info
            .raw_tree
            .as_ref()
            .map(|_| ask(format!("{sha}^{}^{{tree}}", index_parent + 1)));
        TargetQueries {
            queries,
            base_parent,
            index_tree,
            raw_tree,
        }
    }
}

/// Where HEAD ends up: a rollback keeps it; undo and redo re-attach it as it was captured.
fn head_after(branch: Option<String>, reattach: bool) -> HeadAfter {
    match branch {
        _ if !reattach => HeadAfter::Keep,
        Some(branch) => HeadAfter::Attach(branch),
        None => HeadAfter::Detach,
    }
}

/// Returns true for a full SHA-1 or SHA-256 object id in lowercase hex.
pub(crate) fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What an undo or redo takes back.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) kind: OperationKind,
    /// The entry taken back (none for an undo of a log from before the operation history).
    pub(crate) undone: Option<Operation>,
}

/// Walks the history as jj does and returns the operations still in effect (what `undo` takes
/// back, newest last) and the undos still in effect (what `redo` takes back, newest last).
/// A finished undo takes its operation off the first stack; a finished redo takes its undo off
/// the second. Anything else, including an operation that failed or was killed partway, is an
/// operation in effect that `undo` can take back; a new rollback forgets what could be redone.
pub(crate) fn undo_stacks(operations: &[Operation]) -> (Vec<&Operation>, Vec<&Operation>) {
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
                // A new rollback or restore forgets what could be redone.
                if matches!(kind, OperationKind::Rollback | OperationKind::Restore) {
                    undos.clear();
                }
                in_effect.push(op);
            }
        }
    }
    (in_effect, undos)
}

/// The files a snapshot left out (too large, nested repositories): a restore to it never
/// touches them. (A submodule with work inside is captured at its commit: it is restored.)
pub(crate) fn skipped_paths(target: &Checkpoint) -> Vec<Vec<u8>> {
    let skipped = target.snapshot.iter().flat_map(|s| s.skipped.iter());
    skipped
        .filter(|k| k.reason != crate::model::SkipReason::SubmoduleChanges)
        .map(|k| k.path.as_bytes().to_vec())
        .collect()
}

/// Counts one more rollback to `target` in the log held in memory.
fn count_rollback(open: &mut LockedSession, target: CheckpointId) {
    if let Some(cp) = open
        .checkpoints
        .iter_mut()
        .find(|c| c.checkpoint_id == target)
    {
        cp.rollback_used = true;
        cp.rollback_count += 1;
    }
}

/// What a restore has read and checked before it changes anything.
pub(crate) struct PreparedRestore {
    pub(crate) status: Status,
    pub(crate) index_copy: snapshot::IndexCopy,
    /// The caps in force, from the options and git config.
    pub(crate) caps: snapshot::Caps,
    pub(crate) restore_target: RestoreTarget,
    pub(crate) overwritten: restore::Overwritten,
    pub(crate) branch_moved: Option<BranchMove>,
}

/// The safety snapshot recorded (with the operation's entry), and what the restore needs of it.
pub(crate) struct RecordedSafety {
    pub(crate) checkpoint: Checkpoint,
    pub(crate) operation: Operation,
    /// The snapshot's tree: only paths it holds may be removed.
    pub(crate) tree: String,
    pub(crate) assume_unchanged: Vec<Vec<u8>>,
    pub(crate) restore_target: RestoreTarget,
}

/// The history entry of an operation about to start.
fn new_operation(
    kind: OperationKind,
    target: &Checkpoint,
    safety_id: CheckpointId,
    mode: ResetMode,
    step: &Option<Step>,
) -> Operation {
    Operation {
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
    }
}

/// The record of a safety snapshot taken before an operation on `target`.
fn safety_record(
    id: CheckpointId,
    snapshot: SnapshotInfo,
    commit_sha: String,
    description: String,
    message: String,
    target: &Checkpoint,
) -> Checkpoint {
    Checkpoint {
        checkpoint_id: id,
        commit_sha: commit_sha.into(),
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
        snapshot: Some(snapshot),
        skipped: Vec::new(),
    }
}
