//! Restoring chosen paths from a checkpoint (`restore`): the named files and folders become the
//! checkpoint's (content, mode, symlinks, a snapshot's raw bytes), after a safety snapshot and
//! an entry in the operation history, so `undo` takes the restore back. HEAD, the branch and
//! every other path stay as they are; the index too, unless `staged`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{self, IndexEntry, IndexFile, TreeEntry};
use crate::ids::{CheckpointId, SessionId};
use crate::log::SESSIONS_EXCLUDE;
use crate::manager::{find, CheckpointManager};
use crate::model::{
    Checkpoint, Operation, OperationKind, OperationState, PathRestoreOutcome, ResetMode,
};
use crate::ops::rollback::{skipped_paths, PreparedRestore, RecordedSafety, Step};
use crate::paths::{behind_non_folder, bytes_to_path};
use crate::progress::Stage;
use crate::restore::{self, Overwritten};
use crate::session::LockedSession;
use crate::snapshot::{self, TempIndex, SESSIONS_PREFIX};
use crate::store;
use crate::validate;

impl CheckpointManager {
    /// The flow of [`CheckpointManager::restore_paths`]: paths checked before any lock, then
    /// under the locks the plan, the safety snapshot and its entry, the files, the entry done.
    pub(crate) fn restore_chosen_paths(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        paths: &[PathBuf],
        staged: bool,
    ) -> Result<PathRestoreOutcome> {
        let named = named_paths(self.repo.workdir(), paths)?;
        let mut open = self.lock_session(session, true)?;
        let target = find(&open.checkpoints, session, checkpoint)?.clone();
        if let Some(op) = self.repo.operation_in_progress() {
            return Err(Error::OperationInProgress {
                action: "restore",
                operation: op.name(),
            });
        }
        if staged {
            self.require_index_unlocked()?;
        }
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        let (prepared, plan) = self.plan_path_restore(session, &target, &named, staged)?;
        let step = Some(Step {
            kind: OperationKind::Restore,
            undone: None,
        });
        let safety = self.record_safety_snapshot(
            &mut open,
            session,
            &target,
            ResetMode::Hard,
            &step,
            prepared,
        )?;
        let safety_id = safety.checkpoint.checkpoint_id;
        let (applied, operation) = self.apply_recorded(&mut open, session, &plan, safety)?;
        let recorded = !applied.changed_nothing();
        if !recorded {
            self.forget_unused_safety(&mut open, session, safety_id, &operation)?;
        }
        Ok(PathRestoreOutcome {
            success: true,
            checkpoint_id: target.checkpoint_id,
            restored_paths: applied.restored,
            removed_paths: applied.removed,
            staged,
            safety_checkpoint_id: recorded.then_some(safety_id),
            operation: recorded.then_some(operation),
        })
    }

    /// A restore that changed nothing leaves no trace: its safety snapshot (the state as it
    /// still is) and its entry are dropped, so `undo` still takes back the operation before.
    fn forget_unused_safety(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        safety: CheckpointId,
        operation: &Operation,
    ) -> Result<()> {
        open.operations
            .retain(|o| o.operation_id != operation.operation_id);
        open.checkpoints.retain(|c| c.checkpoint_id != safety);
        open.save()?;
        let name = store::private_ref(session, safety);
        if let Some(old) = git::resolve(&self.repo, &name)? {
            git::delete_ref(
                &self.repo,
                &name,
                &old,
                "checkpoint-manager: unused safety snapshot",
            )?;
        }
        Ok(())
    }

    /// Changes the files once the safety snapshot and the entry are recorded, and marks the
    /// entry done (or failed: then `undo` returns to the safety snapshot, and the message says
    /// so). Returns the paths written, the paths removed and the finished entry.
    fn apply_recorded(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        plan: &PathPlan,
        safety: RecordedSafety,
    ) -> Result<(Applied, Operation)> {
        let RecordedSafety {
            checkpoint: safety,
            mut operation,
            tree: safety_tree,
            ..
        } = safety;
        let interrupted = |e: Error| Error::Interrupted {
            source: Box::new(e),
            session,
            safety: safety.checkpoint_id,
        };
        let applied = match plan.apply(self, &safety_tree) {
            Ok(done) => done,
            Err(e) => {
                open.set_state(operation.operation_id, OperationState::Failed);
                // The entry stays `started` if even this write fails: undo treats both alike.
                let _ = open.save();
                return Err(interrupted(e));
            }
        };
        open.set_state(operation.operation_id, OperationState::Done);
        open.save().map_err(interrupted)?;
        operation.state = OperationState::Done;
        Ok((applied, operation))
    }

    /// Reads the state and the checkpoint's files at the named paths, refuses a path that
    /// exists on neither side or is a submodule, and lists what the safety snapshot must
    /// force-capture (untracked or ignored files the restore writes over or removes).
    fn plan_path_restore(
        &self,
        session: SessionId,
        target: &Checkpoint,
        named: &[Vec<u8>],
        staged: bool,
    ) -> Result<(PreparedRestore, PathPlan)> {
        let restore_target = self.resolve_target(session, target, false)?;
        let pathspecs = pathspecs(named);
        let target_files =
            git::list_files_under(&self.repo, &restore_target.worktree_commit, &pathspecs)?;
        let index_files = match staged {
            true => git::list_files_under(&self.repo, &restore_target.index_tree, &pathspecs)?,
            false => Vec::new(),
        };
        let state = snapshot::read_state(&self.repo, true, true)?;
        let status = state.status;
        validate::require_checkpointable(&self.repo, &status)?;
        let caps = self.options.caps(&state.settings?);
        let index_copy = state.index_copy.expect("the index was copied")?;
        let indexed = git::staged_entries(&self.repo, IndexFile::User, &pathspecs)?;
        refuse_skip_worktree_files(&self.repo, &pathspecs)?;
        let plan = PathPlan {
            named: named.to_vec(),
            pathspecs,
            target_files,
            index_files,
            indexed,
            raw_tree: restore_target.raw_tree.clone(),
            keep: skipped_paths(target),
            staged,
        };
        plan.refuse_unknown_or_submodules(self.repo.workdir(), target)?;
        let overwritten = plan.overwritten(&self.repo)?;
        let prepared = PreparedRestore {
            status,
            index_copy,
            caps,
            restore_target,
            overwritten,
            branch_moved: None,
        };
        Ok((prepared, plan))
    }
}

/// What a restore of chosen paths will do, read before anything changes.
struct PathPlan {
    /// The named paths, relative to the top of the work tree (empty: the whole tree).
    named: Vec<Vec<u8>>,
    pathspecs: Vec<OsString>,
    /// The checkpoint's files under the named paths (its work tree).
    target_files: Vec<TreeEntry>,
    /// The checkpoint's index entries under the named paths (only when `staged`).
    index_files: Vec<TreeEntry>,
    /// The user's index entries under the named paths now.
    indexed: Vec<IndexEntry>,
    raw_tree: Option<String>,
    /// What the checkpoint skipped (too large, nested repositories): never removed.
    keep: Vec<Vec<u8>>,
    staged: bool,
}

impl PathPlan {
    /// Refuses a named path that neither the checkpoint nor the work tree or index has, and one
    /// that is a submodule (its work is its own repository's).
    fn refuse_unknown_or_submodules(&self, workdir: &Path, target: &Checkpoint) -> Result<()> {
        for path in &self.named {
            let shown = String::from_utf8_lossy(path).into_owned();
            let gitlink = self
                .target_files
                .iter()
                .map(|e| (&e.mode, &e.path))
                .chain(self.indexed.iter().map(|e| (&e.mode, &e.path)))
                .any(|(mode, p)| mode.as_slice() == b"160000" && p == path);
            if gitlink {
                return Err(Error::PathNotRestorable {
                    path: shown,
                    reason: "it is a submodule, whose files are its own repository's".to_owned(),
                });
            }
            let known = path.is_empty()
                || self.target_files.iter().any(|e| covers(path, &e.path))
                || self.index_files.iter().any(|e| covers(path, &e.path))
                || self.indexed.iter().any(|e| covers(path, &e.path))
                || fs::symlink_metadata(workdir.join(bytes_to_path(path))).is_ok();
            if !known {
                return Err(Error::PathOnNeitherSide {
                    path: shown,
                    checkpoint: target.checkpoint_id.as_string(),
                });
            }
        }
        Ok(())
    }

    /// Lists what the safety snapshot must force-capture: untracked or ignored files (or
    /// folders) the checkpoint's files would be written over, and named files not in the index
    /// that the checkpoint lacks (they are removed). Tracked files are hashed again where git's
    /// end-of-line conversion may not give their bytes back. Refuses where a nested repository
    /// is in the way.
    fn overwritten(&self, repo: &git::Repo) -> Result<Overwritten> {
        let workdir = repo.workdir();
        let indexed: HashSet<&[u8]> = self.indexed.iter().map(|e| e.path.as_slice()).collect();
        let mut found = Overwritten::default();
        let written = self
            .target_files
            .iter()
            .filter(|e| e.mode.as_slice() != b"160000")
            .map(|e| e.path.as_slice());
        // A named file (not a folder: ignored files inside a named folder stay) is removed when
        // the checkpoint lacks it, so an ignored one is captured first.
        let named_files = self.named.iter().map(Vec::as_slice).filter(|p| {
            fs::symlink_metadata(workdir.join(bytes_to_path(p))).is_ok_and(|m| !m.is_dir())
        });
        for path in written.chain(named_files) {
            if path.is_empty() || path.starts_with(SESSIONS_PREFIX) {
                continue;
            }
            let Some(hit) = restore::overwritten_at(workdir, path)? else {
                continue;
            };
            let is_dir =
                fs::symlink_metadata(workdir.join(bytes_to_path(&hit))).is_ok_and(|m| m.is_dir());
            if (is_dir || !indexed.contains(hit.as_slice())) && !found.untracked.contains(&hit) {
                found.untracked.push(hit);
            }
        }
        let tracked: Vec<Vec<u8>> = self
            .indexed
            .iter()
            .filter(|e| e.mode.as_slice() != b"160000" && !e.path.starts_with(SESSIONS_PREFIX))
            .map(|e| e.path.clone())
            .collect();
        if !tracked.is_empty() && restore::eol_conversion_possible(repo, &tracked)? {
            found.tracked = tracked;
        }
        Ok(found)
    }

    /// Changes the files (and, when `staged`, the index entries) of the named paths; the safety
    /// snapshot (`safety_tree`) holds everything this removes or overwrites. Returns the paths
    /// written and the paths removed.
    fn apply(&self, manager: &CheckpointManager, safety_tree: &str) -> Result<Applied> {
        let repo = &manager.repo;
        let _restoring = manager.progress(Stage::RestoringFiles, None);
        let now = git::list_files_under(repo, safety_tree, &self.pathspecs)?;
        let removed = self.remove_files_the_checkpoint_lacks(repo.workdir(), &now)?;
        let raw = self.raw_entries(repo)?;
        let mut written = self.write_differing_files(repo, &now)?;
        written.extend(self.write_raw_bytes(repo, &raw)?);
        let index_changed = self.staged && self.set_index_entries(repo)?;
        written.sort();
        written.dedup();
        Ok(Applied {
            restored: shown(written),
            removed: shown(removed),
            index_changed,
        })
    }

    /// Removes the files and symlinks the safety snapshot holds under the named paths that the
    /// checkpoint does not have (except what it skipped, and the sessions folder), then the
    /// folders this leaves empty inside the named paths.
    fn remove_files_the_checkpoint_lacks(
        &self,
        workdir: &Path,
        now: &[TreeEntry],
    ) -> Result<Vec<Vec<u8>>> {
        let wanted: HashSet<&[u8]> = self
            .target_files
            .iter()
            .map(|e| e.path.as_slice())
            .collect();
        let mut removed = Vec::new();
        for entry in now {
            let path = entry.path.as_slice();
            let removable = matches!(entry.mode.as_slice(), b"100644" | b"100755" | b"120000")
                && !wanted.contains(path)
                && !path.starts_with(SESSIONS_PREFIX)
                && !self
                    .keep
                    .iter()
                    .any(|k| covers(k.strip_suffix(b"/").unwrap_or(k), path))
                && !behind_non_folder(workdir, path);
            if !removable {
                continue;
            }
            let full = workdir.join(bytes_to_path(path));
            if fs::symlink_metadata(&full).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&full).map_err(|e| Error::io(&full, e))?;
                removed.push(path.to_vec());
                self.remove_empty_folders_above(workdir, path);
            }
        }
        Ok(removed)
    }

    /// Removes the folders above `path` that are empty now, as long as they are inside a named
    /// path (a folder the user did not name is never removed).
    fn remove_empty_folders_above(&self, workdir: &Path, path: &[u8]) {
        let mut end = path.len();
        while let Some(slash) = path[..end].iter().rposition(|b| *b == b'/') {
            let folder = &path[..slash];
            let named = self.named.iter().any(|n| covers(n, folder));
            if !named || fs::remove_dir(workdir.join(bytes_to_path(folder))).is_err() {
                break;
            }
            end = slash;
        }
    }

    /// The checkpoint's raw-bytes entries under the named paths (path, blob id).
    fn raw_entries(&self, repo: &git::Repo) -> Result<Vec<(Vec<u8>, String)>> {
        let raw = restore::raw_entries(repo, self.raw_tree.as_deref())?;
        Ok(raw
            .into_iter()
            .filter(|(p, _)| self.named.iter().any(|n| covers(n, p)))
            .collect())
    }

    /// Checks out, through the user's filters, the checkpoint's files whose content or mode
    /// differs from what the safety snapshot recorded (or that are missing), from a private
    /// index: the user's index is not touched. Returns the paths written.
    fn write_differing_files(&self, repo: &git::Repo, now: &[TreeEntry]) -> Result<Vec<Vec<u8>>> {
        let current: HashMap<&[u8], (&[u8], &str)> = now
            .iter()
            .map(|e| (e.path.as_slice(), (e.mode.as_slice(), e.oid.as_str())))
            .collect();
        let entries: Vec<IndexEntry> = self
            .target_files
            .iter()
            .filter(|e| e.mode.as_slice() != b"160000" && !e.path.starts_with(SESSIONS_PREFIX))
            // Raw bytes, where the snapshot has them, are written afterwards over the checkout.
            .filter(|e| {
                current.get(e.path.as_slice()) != Some(&(e.mode.as_slice(), e.oid.as_str()))
            })
            .map(|e| IndexEntry {
                mode: e.mode.clone(),
                oid: e.oid.clone(),
                stage: 0,
                path: e.path.clone(),
            })
            .collect();
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let scratch = TempIndex::empty(repo)?;
        git::add_entries(repo, IndexFile::Scratch(scratch.path()), &entries)?;
        git::check_out_scratch(repo, scratch.path())?;
        Ok(entries.into_iter().map(|e| e.path).collect())
    }

    /// Writes the snapshot's exact bytes where the file on disk differs from them (CRLF kept
    /// where git's filters would convert); the mode comes from the checkpoint's entry. Returns
    /// the paths written.
    fn write_raw_bytes(&self, repo: &git::Repo, raw: &[(Vec<u8>, String)]) -> Result<Vec<Vec<u8>>> {
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&[u8]> = raw.iter().map(|(p, _)| p.as_slice()).collect();
        let before: Vec<Option<Vec<u8>>> = names
            .iter()
            .map(|p| fs::read(repo.workdir().join(bytes_to_path(p))).ok())
            .collect();
        restore::write_raw_files(repo, raw)?;
        let mut written = Vec::new();
        for (path, old) in names.iter().zip(before) {
            let new = fs::read(repo.workdir().join(bytes_to_path(path))).ok();
            if new != old {
                written.push(path.to_vec());
            }
        }
        Ok(written)
    }

    /// Sets the user's index entries under the named paths to the checkpoint's index entries:
    /// those it lacks are removed, the others replaced (gitlinks and the sessions folder stay).
    /// Returns true when an entry changed.
    fn set_index_entries(&self, repo: &git::Repo) -> Result<bool> {
        let ours =
            |mode: &[u8], path: &[u8]| mode != b"160000" && !path.starts_with(SESSIONS_PREFIX);
        let wanted: Vec<IndexEntry> = self
            .index_files
            .iter()
            .filter(|e| ours(&e.mode, &e.path))
            .map(|e| IndexEntry {
                mode: e.mode.clone(),
                oid: e.oid.clone(),
                stage: 0,
                path: e.path.clone(),
            })
            .collect();
        let keep: HashSet<&[u8]> = wanted.iter().map(|e| e.path.as_slice()).collect();
        let gone: Vec<&[u8]> = self
            .indexed
            .iter()
            .filter(|e| ours(&e.mode, &e.path) && !keep.contains(e.path.as_slice()))
            .map(|e| e.path.as_slice())
            .collect();
        if !gone.is_empty() {
            git::remove_entries(repo, IndexFile::User, &gone)?;
        }
        // Entries already equal keep their stat data.
        let changed: Vec<IndexEntry> = wanted
            .into_iter()
            .filter(|w| {
                !self
                    .indexed
                    .iter()
                    .any(|e| e.path == w.path && e.mode == w.mode && e.oid == w.oid && e.stage == 0)
            })
            .collect();
        if !changed.is_empty() {
            git::replace_entries(repo, &changed)?;
        }
        Ok(!gone.is_empty() || !changed.is_empty())
    }
}

/// What a restore of chosen paths changed.
struct Applied {
    restored: Vec<String>,
    removed: Vec<String>,
    /// True when an index entry was set or removed (`staged`).
    index_changed: bool,
}

impl Applied {
    fn changed_nothing(&self) -> bool {
        self.restored.is_empty() && self.removed.is_empty() && !self.index_changed
    }
}

/// Returns true when `path` is `folder` or inside it (an empty `folder` is the whole tree).
fn covers(folder: &[u8], path: &[u8]) -> bool {
    folder.is_empty()
        || path == folder
        || (path.starts_with(folder) && path.get(folder.len()) == Some(&b'/'))
}

/// Literal pathspecs for the named paths; none when one of them is the whole tree.
fn pathspecs(named: &[Vec<u8>]) -> Vec<OsString> {
    if named.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    named
        .iter()
        .map(|p| bytes_to_path(p).as_os_str().to_owned())
        .collect()
}

fn shown(paths: Vec<Vec<u8>>) -> Vec<String> {
    let mut shown: Vec<String> = paths
        .into_iter()
        .map(|p| String::from_utf8_lossy(&p).into_owned())
        .collect();
    shown.sort();
    shown
}

/// Refuses when a skip-worktree entry under the named paths has a file on disk: git never reads
/// it, so the safety snapshot could not hold its bytes, and the restore would overwrite them.
fn refuse_skip_worktree_files(repo: &git::Repo, pathspecs: &[OsString]) -> Result<()> {
    for path in git::skip_worktree_paths(repo, pathspecs)? {
        if fs::symlink_metadata(repo.workdir().join(bytes_to_path(&path))).is_ok() {
            return Err(Error::PathNotRestorable {
                path: String::from_utf8_lossy(&path).into_owned(),
                reason: "it is marked skip-worktree, so checkpoints never hold its bytes on disk; \
                         clear the mark (git update-index --no-skip-worktree) and try again"
                    .to_owned(),
            });
        }
    }
    Ok(())
}

/// Turns the paths given into paths relative to the top of the work tree (`/`-separated bytes;
/// empty for the top itself), as git does: a relative path is taken from the current folder
/// when it is inside the work tree, else from the top of the work tree. Refuses, before
/// anything changes, a path outside the work tree, in the git folder or the sessions folder,
/// or one reached through a symlinked folder or inside a nested repository.
pub(crate) fn named_paths(workdir: &Path, paths: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    if paths.is_empty() {
        return Err(Error::NoPathsToRestore);
    }
    let real_workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let base = std::env::current_dir()
        .ok()
        .filter(|cwd| cwd.starts_with(&real_workdir) || cwd.starts_with(workdir))
        .unwrap_or_else(|| workdir.to_path_buf());
    let mut named: Vec<Vec<u8>> = Vec::new();
    for given in paths {
        let shown = given.display().to_string();
        let absolute = normalized(&base.join(given));
        let relative = absolute
            .strip_prefix(&real_workdir)
            .or_else(|_| absolute.strip_prefix(workdir))
            .map_err(|_| Error::PathOutsideWorkTree {
                path: shown.clone(),
                workdir: workdir.display().to_string(),
            })?;
        let relative = relative.as_os_str().as_bytes().to_vec();
        refuse_unsafe_path(workdir, &relative, &shown)?;
        if !named.contains(&relative) {
            named.push(relative);
        }
    }
    Ok(named)
}

/// Resolves `.` and `..` without reading the disk, as git does with a path it is given.
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Refuses a path in the git folder or the sessions folder, one reached through a symlinked
/// folder (it could lead outside the repository), and one inside a nested repository or a
/// submodule (its files are never captured, so never touched).
fn refuse_unsafe_path(workdir: &Path, path: &[u8], shown: &str) -> Result<()> {
    let refuse = |reason: String| Error::PathNotRestorable {
        path: shown.to_owned(),
        reason,
    };
    if path
        .split(|b| *b == b'/')
        .any(|part| part.eq_ignore_ascii_case(b".git"))
    {
        return Err(refuse(
            "it is in the repository's git folder, which checkpoints never hold".to_owned(),
        ));
    }
    let sessions = SESSIONS_PREFIX
        .strip_suffix(b"/")
        .unwrap_or(SESSIONS_PREFIX);
    if covers(sessions, path) {
        return Err(refuse(format!(
            "it is in {}, the checkpoint logs' folder, which restores never touch",
            String::from_utf8_lossy(sessions)
        )));
    }
    let ends = path
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(|(i, _)| i)
        .chain((!path.is_empty()).then_some(path.len()));
    for end in ends {
        let prefix = &path[..end];
        let full = workdir.join(bytes_to_path(prefix));
        let Ok(meta) = fs::symlink_metadata(&full) else {
            break;
        };
        let at = String::from_utf8_lossy(prefix);
        if meta.file_type().is_symlink() && end < path.len() {
            return Err(refuse(format!(
                "{at} is a symlink; a restore never writes through a symlinked folder (it could reach outside the repository)"
            )));
        }
        if meta.is_dir() && restore::is_repository(&full) {
            return Err(refuse(format!(
                "{at} is a nested repository or a submodule, whose files checkpoints never hold"
            )));
        }
    }
    Ok(())
}
