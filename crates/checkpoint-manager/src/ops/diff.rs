//! `diff`: what changed from one checkpoint to another, or to the work tree as it is now. A
//! checkpoint's content is its commit's tree (a snapshot's W: the work tree as captured, untracked
//! files included); the work tree is captured the way a snapshot would be, in a private index,
//! leaving only loose objects behind (no ref, no log entry, the user's index untouched). git's
//! own `diff-tree` compares the two trees.

use std::ffi::OsString;
use std::fs;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::git::{self, DiffText, FileChange};
use crate::ids::{CheckpointId, SessionId};
use crate::manager::{find, CheckpointManager};
use crate::model::{Checkpoint, SkippedPath};
use crate::ops::rollback::is_object_id;
use crate::paths::bytes_to_path;
use crate::snapshot;

/// What changed between two checkpoints, or from a checkpoint to the work tree (`to` absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffReport {
    pub from: CheckpointId,
    /// `None`: the work tree as it is now (tracked files and untracked ones not ignored).
    pub to: Option<CheckpointId>,
    /// One entry per changed file, in git's order.
    pub files: Vec<FileDiff>,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiff {
    pub path: String,
    /// The path before a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: FileStatus,
    /// Lines added and removed (0 for a binary file).
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
    /// The file's unified diff, when asked for (as `git diff` prints it, type changes as the
    /// old file deleted then the new one added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// A file became a symlink (or the other way round), or a submodule.
    TypeChanged,
}

impl FileStatus {
    /// Maps git's status letter; copies are never asked for (`-M` only), so anything else is
    /// a modification.
    fn from_git(letter: u8) -> FileStatus {
        match letter {
            b'A' => FileStatus::Added,
            b'D' => FileStatus::Deleted,
            b'R' => FileStatus::Renamed,
            b'T' => FileStatus::TypeChanged,
            _ => FileStatus::Modified,
        }
    }
}

/// The text git prints for people about a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// A unified diff, as `git diff` prints it.
    Patch,
    /// `git diff --stat`.
    Stat,
    /// `git diff --name-status`.
    NameStatus,
}

/// The two trees of a diff.
struct Sides {
    from: String,
    to: String,
}

impl CheckpointManager {
    /// Returns what changed from checkpoint `from` to checkpoint `to` (any mode, safety
    /// snapshots too), or to the work tree as a snapshot would capture it now when `to` is
    /// `None`; with `with_patch`, each file's unified diff too. Writes nothing the user can see.
    pub fn diff(
        &self,
        session: SessionId,
        from: CheckpointId,
        to: Option<CheckpointId>,
        with_patch: bool,
    ) -> Result<DiffReport> {
        let sides = self.diff_sides(session, from, to)?;
        let changes = git::changed_files(&self.repo, &sides.from, &sides.to)?;
        let patch = if with_patch {
            Some(git::diff_text(
                &self.repo,
                &sides.from,
                &sides.to,
                DiffText::Patch,
                false,
            )?)
        } else {
            None
        };
        let files = file_diffs(changes, patch.as_deref());
        Ok(DiffReport { from, to, files })
    }

    /// Returns the diff as git prints it for people (a unified diff, `--stat` or
    /// `--name-status`), coloured as on a terminal when `color`.
    pub fn diff_text(
        &self,
        session: SessionId,
        from: CheckpointId,
        to: Option<CheckpointId>,
        format: DiffFormat,
        color: bool,
    ) -> Result<Vec<u8>> {
        let sides = self.diff_sides(session, from, to)?;
        let text = match format {
            DiffFormat::Patch => DiffText::Patch,
            DiffFormat::Stat => DiffText::Stat,
            DiffFormat::NameStatus => DiffText::NameStatus,
        };
        git::diff_text(&self.repo, &sides.from, &sides.to, text, color)
    }

    /// Finds both checkpoints in the log before anything else, then the trees to compare.
    fn diff_sides(
        &self,
        session: SessionId,
        from: CheckpointId,
        to: Option<CheckpointId>,
    ) -> Result<Sides> {
        let contents = self.read_existing_log(session)?;
        let from = find(&contents.checkpoints, session, from)?;
        let to = to
            .map(|id| find(&contents.checkpoints, session, id))
            .transpose()?;
        let from_tree = self.content_tree(session, from)?;
        let to_tree = match to {
            Some(to) => self.content_tree(session, to)?,
            None => self.work_tree_now(&from_tree)?,
        };
        Ok(Sides {
            from: from_tree,
            to: to_tree,
        })
    }

    /// Returns the tree a checkpoint holds: its commit's (a snapshot's W).
    fn content_tree(&self, session: SessionId, checkpoint: &Checkpoint) -> Result<String> {
        let sha = &checkpoint.commit_sha;
        let invalid = |detail: String| Error::InvalidRecord {
            session,
            checkpoint: checkpoint.checkpoint_id.as_string(),
            detail,
        };
        // A tampered record must never reach git as an option.
        if !is_object_id(sha) {
            return Err(invalid(format!("commit_sha {sha:?} is not an object id")));
        }
        match self.repo.object_type(sha)?.as_deref() {
            Some("commit") => git::tree_of(&self.repo, sha),
            Some(kind) => Err(invalid(format!(
                "commit_sha {sha} names a {kind}, not a commit"
            ))),
            None => Err(Error::MissingCommit {
                session,
                checkpoint: checkpoint.checkpoint_id,
                commit: sha.to_string(),
            }),
        }
    }

    /// Captures the work tree as a snapshot would (tracked files as they are on disk, untracked
    /// ones not ignored, the same caps) and returns its tree; files the checkpoint `from_tree`
    /// holds are captured even where a cap now skips them, or the diff would call them deleted.
    /// Under the repository lock: the private index must not be swept away as a killed
    /// process's leftover.
    fn work_tree_now(&self, from_tree: &str) -> Result<String> {
        let _repo_lock = self.lock_repo()?;
        let first = self.capture_work_tree(&[])?;
        let held = self.skipped_files_held(from_tree, &first.skipped)?;
        if held.is_empty() {
            return Ok(first.tree);
        }
        Ok(self.capture_work_tree(&held)?.tree)
    }

    /// Captures the work tree into loose objects only, `force` paths even if capped or ignored.
    fn capture_work_tree(&self, force: &[Vec<u8>]) -> Result<snapshot::Captured> {
        let state = snapshot::read_state(&self.repo, true, true)?;
        let status = state.status;
        crate::validate::require_checkpointable(&self.repo, &status)?;
        let caps = self.options.caps(&state.settings?);
        let copy = state.index_copy.ok_or(Error::WorkerPanicked {
            task: "copying the index",
        })??;
        snapshot::capture(
            &self.repo,
            &status,
            copy,
            caps,
            force,
            &[],
            "checkpoint-manager diff: the work tree",
        )
    }

    /// The files of `tree` under the `skipped` paths that are still files on disk.
    fn skipped_files_held(&self, tree: &str, skipped: &[SkippedPath]) -> Result<Vec<Vec<u8>>> {
        if skipped.is_empty() {
            return Ok(Vec::new());
        }
        let pathspecs: Vec<OsString> = skipped
            .iter()
            .map(|k| OsString::from(k.path.trim_end_matches('/')))
            .collect();
        let held = git::list_files_under(&self.repo, tree, &pathspecs)?;
        Ok(held
            .into_iter()
            .filter(|e| e.mode.as_slice() != b"160000")
            .filter(|e| {
                let on_disk = self.repo.workdir().join(bytes_to_path(&e.path));
                fs::symlink_metadata(on_disk).is_ok_and(|m| !m.is_dir())
            })
            .map(|e| e.path)
            .collect())
    }
}

/// Turns git's records into the report's entries, each with its patch sections (two for a
/// type change) when there is a patch.
fn file_diffs(changes: Vec<FileChange>, patch: Option<&[u8]>) -> Vec<FileDiff> {
    let mut sections = patch
        .map(git::patch_sections)
        .unwrap_or_default()
        .into_iter();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    changes
        .into_iter()
        .map(|change| {
            let status = FileStatus::from_git(change.status);
            let patch = patch.map(|_| {
                let count = if status == FileStatus::TypeChanged {
                    2
                } else {
                    1
                };
                let own: Vec<u8> = sections.by_ref().take(count).flatten().copied().collect();
                text(&own)
            });
            let (additions, deletions) = change.lines.unwrap_or((0, 0));
            FileDiff {
                path: text(&change.path),
                old_path: change.old_path.as_deref().map(text),
                status,
                additions,
                deletions,
                binary: change.lines.is_none(),
                patch,
            }
        })
        .collect()
}
