//! Snapshots shaped like `git stash`: a commit W whose tree is the work tree as captured, with
//! parents `[HEAD, I]`, where I is a commit of the index tree. Both are built in a temporary copy
//! of the user's index (so unchanged files are not re-hashed), never in the user's index.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{ObjectKind, Repo, Status, StatusEntry};
use crate::model::{SkipReason, SkippedPath};
use crate::paths::bytes_to_path;
use crate::store::{TOOL_EMAIL, TOOL_NAME};

/// Paths under the sessions folder, as git spells them.
const SESSIONS_PREFIX: &[u8] = b".flow/maestro/sessions/";

/// Untracked files larger than this are not captured by default (they are listed as skipped).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

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
}

/// A temporary index file in the git dir, removed on drop.
#[derive(Debug)]
pub struct TempIndex {
    path: tempfile::TempPath,
}

impl TempIndex {
    /// Makes a copy of the user's index (or an empty one when there is none yet).
    pub fn copy_of_user_index(repo: &Repo) -> Result<TempIndex> {
        let dir = repo.private_dir();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = tempfile::Builder::new()
            .prefix("index-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .into_temp_path();
        match fs::copy(repo.index_path(), &path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // git treats a missing index as empty, but an empty file as corrupt.
                fs::remove_file(&path).map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            Err(e) => return Err(Error::io(repo.index_path(), e)),
        }
        Ok(TempIndex { path })
    }

    /// Returns the file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Returns the environment that gives internal commits a fixed identity and no surprises.
pub fn tool_identity() -> [(&'static str, &'static str); 4] {
    [
        ("GIT_AUTHOR_NAME", TOOL_NAME),
        ("GIT_AUTHOR_EMAIL", TOOL_EMAIL),
        ("GIT_COMMITTER_NAME", TOOL_NAME),
        ("GIT_COMMITTER_EMAIL", TOOL_EMAIL),
    ]
}

/// Reads the status of the user's work: the tool's own logs are never part of it, even where a
/// repository tracks them (then `info/exclude` cannot hide them).
pub fn read_user_status(repo: &Repo, all_untracked: bool) -> Result<Status> {
    let mut status = Status::read(repo.git(), all_untracked)?;
    status.drop_paths_under(SESSIONS_PREFIX);
    Ok(status)
}

/// Lists the work-tree paths `status` says differ from the index, leaving out (and reporting)
/// nested repositories and untracked files over `max_file_size`.
pub fn paths_to_capture(
    repo: &Repo,
    status: &Status,
    max_file_size: Option<u64>,
) -> (Vec<Vec<u8>>, Vec<SkippedPath>) {
    let mut paths = Vec::new();
    let mut skipped = Vec::new();
    for entry in &status.entries {
        match entry {
            StatusEntry::Changed { y, path, .. } if *y != '.' => paths.push(path.clone()),
            StatusEntry::Untracked { path } if path.ends_with(b"/") => {
                skipped.push(SkippedPath {
                    path: String::from_utf8_lossy(path).into_owned(),
                    reason: SkipReason::NestedRepository,
                    size: None,
                });
            }
            StatusEntry::Untracked { path } => {
                let size = fs::symlink_metadata(repo.workdir().join(bytes_to_path(path)))
                    .map(|m| m.len())
                    .unwrap_or(0);
                match max_file_size {
                    Some(cap) if size > cap => skipped.push(SkippedPath {
                        path: String::from_utf8_lossy(path).into_owned(),
                        reason: SkipReason::TooLarge,
                        size: Some(size),
                    }),
                    _ => paths.push(path.clone()),
                }
            }
            _ => {}
        }
    }
    (paths, skipped)
}

/// Stages `paths` (work-tree content, deletions included) into `index`, like `git add -A` would.
pub fn stage_paths(repo: &Repo, index: Option<&Path>, paths: &[Vec<u8>]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(path);
        input.push(0);
    }
    let mut git = repo.git();
    if let Some(index) = index {
        git = git.index_file(index);
    }
    git.args([
        "update-index",
        "--add",
        "--remove",
        "--replace",
        "-z",
        "--stdin",
    ])
    .stdin(input)
    .run()
    .map(|_| ())
}

/// Force-stages `paths` even when ignored (used for files a restore would overwrite).
fn force_stage(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(path);
        input.push(0);
    }
    repo.git()
        .index_file(index)
        .args([
            "--literal-pathspecs",
            "add",
            "--force",
            "--all",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
        ])
        .stdin(input)
        .run()
        .map(|_| ())
}

/// Writes the tree of `index`.
pub fn write_tree(repo: &Repo, index: Option<&Path>) -> Result<String> {
    let mut git = repo.git();
    if let Some(index) = index {
        git = git.index_file(index);
    }
    git.arg("write-tree").run_text()
}

/// Makes a commit of `tree` with the tool's identity.
pub fn commit_tree(repo: &Repo, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    if let Some(objects) = repo.loose_objects() {
        let seconds = chrono::Utc::now().timestamp();
        let mut body = format!("tree {tree}\n");
        for parent in parents {
            body.push_str(&format!("parent {parent}\n"));
        }
        let ident = format!("{TOOL_NAME} <{TOOL_EMAIL}> {seconds} +0000");
        body.push_str(&format!("author {ident}\ncommitter {ident}\n\n{message}"));
        if !body.ends_with('\n') {
            body.push('\n');
        }
        return objects.write(ObjectKind::Commit, body.as_bytes());
    }
    let mut git = repo.git();
    for (key, value) in tool_identity() {
        git = git.env(key, value);
    }
    git = git.args(["commit-tree", "--no-gpg-sign", tree]);
    for parent in parents {
        git = git.args(["-p", parent]);
    }
    git.args(["-m", message]).run_text()
}

/// A private copy of the user's index and the tree it holds.
#[derive(Debug)]
pub struct IndexCopy {
    index: TempIndex,
    tree: String,
}

/// Reads the status of the user's work and, when `copy_index`, meanwhile copies the user's
/// index and writes its tree on the other core (the two are independent; the copy's result is
/// returned unjudged so that a status problem, such as unmerged paths, is reported first).
pub fn read_state(
    repo: &Repo,
    all_untracked: bool,
    copy_index: bool,
) -> Result<(Status, Option<Result<IndexCopy>>)> {
    if !copy_index {
        return Ok((read_user_status(repo, all_untracked)?, None));
    }
    std::thread::scope(|scope| {
        let copy = scope.spawn(|| {
            let index = TempIndex::copy_of_user_index(repo)?;
            let tree = write_tree(repo, Some(index.path()))?;
            Ok(IndexCopy { index, tree })
        });
        let status = read_user_status(repo, all_untracked);
        let copy = copy.join().unwrap_or_else(|_| {
            Err(Error::GitOutput {
                args: "write-tree".into(),
                detail: "the index copy thread panicked".into(),
            })
        });
        Ok((status?, Some(copy)))
    })
}

/// Captures the current state. `status` must have been read with every untracked file listed,
/// and `copy` made at the same time (see [`read_state`]); `force_paths` are captured even if
/// ignored (a restore is about to overwrite them).
pub fn capture(
    repo: &Repo,
    status: &Status,
    copy: IndexCopy,
    max_file_size: Option<u64>,
    force_paths: &[Vec<u8>],
    message: &str,
) -> Result<Captured> {
    let IndexCopy {
        index,
        tree: index_tree,
    } = copy;
    let (paths, skipped) = paths_to_capture(repo, status, max_file_size);
    stage_paths(repo, Some(index.path()), &paths)?;
    force_stage(repo, index.path(), force_paths)?;
    let tree = if paths.is_empty() && force_paths.is_empty() {
        index_tree.clone()
    } else {
        write_tree(repo, Some(index.path()))?
    };
    let base = status.head.oid.clone();
    let branch = status
        .head
        .branch
        .as_ref()
        .map(|b| format!("refs/heads/{b}"));
    let on = status.head.branch.as_deref().unwrap_or("(no branch)");
    let parents: Vec<&str> = base.iter().map(String::as_str).collect();
    let index_commit = commit_tree(repo, &index_tree, &parents, &format!("index on {on}"))?;
    let mut parents = parents;
    parents.push(&index_commit);
    let commit = commit_tree(repo, &tree, &parents, message)?;
    Ok(Captured {
        commit,
        tree,
        index_commit,
        index_tree,
        base,
        branch,
        skipped,
    })
}

/// Returns the work-tree path of a repository-relative path.
pub fn worktree_path(repo: &Repo, path: &[u8]) -> PathBuf {
    repo.workdir().join(bytes_to_path(path))
}
