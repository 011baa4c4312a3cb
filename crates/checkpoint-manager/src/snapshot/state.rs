//! Reading the state to capture: the user's status and, on the other core, a private copy of the
//! user's index with the tree it holds.

use std::path::Path;

use crate::error::{Error, Result};
use crate::git::{self, EntryFlag, IndexFile, Repo, Status};
use crate::settings::Settings;

use super::{write_tree, TempIndex, SESSIONS_PREFIX};

/// Reads the status of the user's work: the tool's own logs are never part of it, even where a
/// repository tracks them (then `info/exclude` cannot hide them).
pub fn read_user_status(repo: &Repo, all_untracked: bool) -> Result<Status> {
    let mut status = Status::read(repo, all_untracked)?;
    status.drop_paths_under(SESSIONS_PREFIX);
    Ok(status)
}

/// A private copy of the user's index and the tree it holds.
#[derive(Debug)]
pub struct IndexCopy {
    pub(super) index: TempIndex,
    pub(super) tree: String,
    /// Entries marked `assume-unchanged`: `git status` does not look at them, so their local
    /// changes would escape a snapshot unless staged explicitly.
    pub(super) assume_unchanged: Vec<Vec<u8>>,
    /// A `.gitattributes` exists only in the index (skip-worktree): git applies it, hash-object
    /// would not.
    pub(super) attributes_in_index_only: bool,
}

impl IndexCopy {
    /// Returns the paths marked `assume-unchanged` in the user's index.
    pub fn assume_unchanged(&self) -> &[Vec<u8>] {
        &self.assume_unchanged
    }
}

/// Clears the `assume-unchanged` flag of `paths` in `index` (the user's when `None`).
pub fn clear_assume_unchanged(repo: &Repo, index: IndexFile<'_>, paths: &[Vec<u8>]) -> Result<()> {
    git::set_flag(repo, index, EntryFlag::AssumeUnchanged, false, paths)
}

/// Lists the entries of `index` marked `assume-unchanged` (lowercase tags of `ls-files -v`),
/// and tells whether a `.gitattributes` is skip-worktree (tag `S`), living in the index only.
fn hidden_entries(repo: &Repo, index: &Path) -> Result<(Vec<Vec<u8>>, bool)> {
    let mut assume_unchanged = Vec::new();
    let mut attributes_in_index_only = false;
    for (tag, path) in git::tagged_entries(repo, IndexFile::Scratch(index))? {
        if tag.eq_ignore_ascii_case(&b'S') && crate::git::is_attributes_file(&path) {
            attributes_in_index_only = true;
        }
        if tag.is_ascii_lowercase() {
            assume_unchanged.push(path);
        }
    }
    Ok((assume_unchanged, attributes_in_index_only))
}

/// What [`read_state`] read.
#[derive(Debug)]
pub struct State {
    pub status: Status,
    /// The index copy when asked for, unjudged (see [`read_state`]).
    pub index_copy: Option<Result<IndexCopy>>,
    /// The tool's settings in git config, read beside the status (it costs one process on the
    /// other core, off the critical path); unjudged, as only snapshots need them.
    pub settings: Result<Settings>,
}

/// Reads the status of the user's work and, when `copy_index`, meanwhile copies the user's
/// index and writes its tree on the other core (the two are independent; the copy's result is
/// returned unjudged so that a status problem, such as unmerged paths, is reported first).
pub fn read_state(repo: &Repo, all_untracked: bool, copy_index: bool) -> Result<State> {
    std::thread::scope(|scope| {
        let copy = scope.spawn(|| {
            // The settings are needed later (object writing, caps): read them off the critical
            // path, in one process (it also fills `repo.settings()` for this process).
            let settings = Settings::read(repo);
            if !copy_index {
                return (Ok(None), settings);
            }
            let copy = (|| {
                let index = TempIndex::copy_of_user_index(repo)?;
                let tree = write_tree(repo, IndexFile::Scratch(index.path()))?;
                let (assume_unchanged, attributes_in_index_only) =
                    hidden_entries(repo, index.path())?;
                Ok(Some(IndexCopy {
                    index,
                    tree,
                    assume_unchanged,
                    attributes_in_index_only,
                }))
            })();
            (copy, settings)
        });
        let status = read_user_status(repo, all_untracked);
        let panicked = || Error::WorkerPanicked {
            task: "copying the index",
        };
        let (copy, settings) = copy
            .join()
            .unwrap_or_else(|_| (Err(panicked()), Err(panicked())));
        Ok(State {
            status: status?,
            index_copy: copy.transpose(),
            settings,
        })
    })
}
