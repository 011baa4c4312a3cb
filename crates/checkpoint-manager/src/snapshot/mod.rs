//! Snapshots shaped like `git stash`: a commit W whose tree is the work tree as captured, with
//! parents `[HEAD, I]`, where I is a commit of the index tree. Both are built in a temporary copy
//! of the user's index (so unchanged files are not re-hashed), never in the user's index.
//!
//! `temp_index` owns that copy's lifecycle, `state` reads the status and makes the copy, `paths`
//! selects what is captured, `staging` stages with git's filters; `capture` here puts them together.

mod paths;
mod staging;
mod stat_cache;
mod state;
mod temp_index;

use std::collections::{BTreeSet, HashSet};

use crate::error::Result;
use crate::git::{self, edit_tree_from_worktree, Author, EditedTrees, Repo, Status};
use crate::model::SkippedPath;

pub(crate) use crate::defaults::SESSIONS_PREFIX;
pub use crate::git::{write_tree, IndexFile};
pub use paths::{paths_to_capture, Caps};
pub use staging::stage_paths;
pub use state::{clear_assume_unchanged, read_state, read_user_status, IndexCopy};
pub use temp_index::{IndexStamp, TempIndex};

/// A captured state.
#[derive(Debug, Clone)]
pub struct Captured {
    /// W: the snapshot commit.
    pub commit: String,
    /// W's tree: the work tree as captured.
    pub tree: String,
    /// I: the commit of the index tree.
    pub index_commit: String,
    pub index_tree: String,
    /// HEAD when captured.
    pub base: Option<String>,
    /// The branch checked out when captured, as `refs/heads/<name>`.
    pub branch: Option<String>,
    pub skipped: Vec<SkippedPath>,
    /// The exact bytes of files git's filters converted (see [`SnapshotInfo::raw_tree`]).
    pub raw_tree: Option<String>,
}

/// Makes a commit of `tree` with the tool's identity.
pub fn commit_tree(repo: &Repo, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    git::write_commit(repo, tree, parents, message, Author::Tool)
}

/// Captures the current state. `status` must have been read with every untracked file listed,
/// and `copy` made at the same time (see [`read_state`]); `force_paths` are captured even if
/// ignored (a restore is about to overwrite them), and `rehash_paths` (tracked files a restore
/// rewrites) are hashed again even if git calls them clean, so that bytes git's end-of-line
/// conversion would not give back land in the raw-bytes tree.
pub fn capture(
    repo: &Repo,
    status: &Status,
    copy: IndexCopy,
    caps: Caps,
    force_paths: &[Vec<u8>],
    rehash_paths: &[Vec<u8>],
    message: &str,
) -> Result<Captured> {
    let (mut paths, mut skipped) = paths_to_capture(repo, status, caps)?;
    // What is force-captured is captured, not skipped.
    skipped.retain(|k| {
        !force_paths
            .iter()
            .any(|f| paths::covers(f, k.path.as_bytes()))
    });
    add_unlisted(&mut paths, copy.assume_unchanged.iter().chain(rehash_paths));
    let (tree, raw_tree) = work_tree(repo, &copy, &paths, force_paths)?;
    let commits = write_commits(
        repo,
        status,
        &copy.tree,
        &tree,
        raw_tree.as_deref(),
        message,
    )?;
    Ok(Captured {
        commit: commits.commit,
        tree,
        index_commit: commits.index_commit,
        index_tree: copy.tree,
        base: status.head.oid.clone(),
        branch: status
            .head
            .branch
            .as_ref()
            .map(|b| format!("refs/heads/{b}")),
        skipped,
        raw_tree,
    })
}

/// Appends, sorted, the `extra` paths `paths` does not list yet (status does not list
/// assume-unchanged entries, nor files it calls clean).
fn add_unlisted<'a>(paths: &mut Vec<Vec<u8>>, extra: impl Iterator<Item = &'a Vec<u8>>) {
    let listed: HashSet<&Vec<u8>> = paths.iter().collect();
    let extra: BTreeSet<&Vec<u8>> = extra.filter(|p| !listed.contains(*p)).collect();
    let extra: Vec<Vec<u8>> = extra.into_iter().cloned().collect();
    paths.extend(extra);
}

/// Returns W's tree and the raw-bytes tree: the index's tree itself when nothing changed, else
/// the index's tree edited in memory (work proportional to the change) when that applies, else
/// git's own staging in the private copy.
fn work_tree(
    repo: &Repo,
    copy: &IndexCopy,
    paths: &[Vec<u8>],
    force_paths: &[Vec<u8>],
) -> Result<(String, Option<String>)> {
    // Forced (ignored) paths and a `.gitattributes` living only in the index need git's staging.
    let can_edit = !paths.is_empty() && force_paths.is_empty() && !copy.attributes_in_index_only;
    if can_edit {
        // Files hashed by an earlier snapshot and unchanged since are not hashed again.
        let mut cache = stat_cache::StatCache::open(repo, &copy.tree, paths);
        if let Some(EditedTrees { tree, raw_tree }) =
            edit_tree_from_worktree(repo, &copy.tree, paths, &mut cache)?
        {
            cache.save();
            return Ok((tree, raw_tree));
        }
    }
    if paths.is_empty() && force_paths.is_empty() {
        return Ok((copy.tree.clone(), None));
    }
    staging::stage_in_copy(
        repo,
        copy.index.path(),
        paths,
        force_paths,
        &copy.assume_unchanged,
    )
}

/// The commits of one snapshot.
struct Commits {
    /// W.
    commit: String,
    /// I.
    index_commit: String,
}

/// Writes I (the index tree on HEAD), the raw-bytes commit when there is one, and W on
/// `[HEAD, I, raw]`.
fn write_commits(
    repo: &Repo,
    status: &Status,
    index_tree: &str,
    tree: &str,
    raw_tree: Option<&str>,
    message: &str,
) -> Result<Commits> {
    let on = status.head.branch.as_deref().unwrap_or("(no branch)");
    let mut parents: Vec<&str> = status.head.oid.iter().map(String::as_str).collect();
    let index_commit = commit_tree(repo, index_tree, &parents, &format!("index on {on}"))?;
    parents.push(&index_commit);
    // Like `git stash -u`'s third parent: keeps the raw bytes reachable.
    let raw_commit = match raw_tree {
        Some(tree) => Some(commit_tree(repo, tree, &[], &format!("raw bytes on {on}"))?),
        None => None,
    };
    parents.extend(raw_commit.as_deref());
    let commit = commit_tree(repo, tree, &parents, message)?;
    Ok(Commits {
        commit,
        index_commit,
    })
}
