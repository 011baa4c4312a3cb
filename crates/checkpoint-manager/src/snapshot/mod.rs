//! Snapshots shaped like `git stash`: a commit W whose tree is the work tree as captured, with
//! parents `[HEAD, I]`, where I is a commit of the index tree. Both are built in a temporary copy
//! of the user's index (so unchanged files are not re-hashed), never in the user's index.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::{
    self, edit_tree_from_worktree, Author, EditedTrees, EntryFlag, Eol, IndexEntry, Repo, Status,
    StatusEntry,
};
pub use crate::git::{write_tree, IndexFile};
use crate::model::{SkipReason, SkippedPath};
use crate::paths::{behind_non_folder, bytes_to_path};

pub(crate) use crate::defaults::SESSIONS_PREFIX;

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

/// A temporary index file in the git dir, removed on drop.
#[derive(Debug)]
pub struct TempIndex {
    path: tempfile::TempPath,
}

impl TempIndex {
    /// Makes a copy of the user's index (or an empty one when there is none yet).
    pub fn copy_of_user_index(repo: &Repo) -> Result<TempIndex> {
        let path = Self::new_path(repo)?;
        match fs::copy(repo.index_path(), &path) {
            Ok(_) => {
                // git trusts an entry's stat data only when the file was not modified in the
                // same tick as the index was written ("racy git"), judged by the index file's
                // own mtime: the copy must keep the original's, or a file changed within that
                // tick would look unchanged and keep its old content.
                let original = fs::metadata(repo.index_path())
                    .and_then(|m| m.modified())
                    .map_err(|e| Error::io(repo.index_path(), e))?;
                fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(original))
                    .map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::remove_file(&path).map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            Err(e) => return Err(Error::io(repo.index_path(), e)),
        }
        Ok(TempIndex { path })
    }

    /// Makes a path for a new, empty index.
    pub fn empty(repo: &Repo) -> Result<TempIndex> {
        let path = Self::new_path(repo)?;
        fs::remove_file(&path).map_err(|e| Error::io(path.to_path_buf(), e))?;
        Ok(TempIndex { path })
    }

    /// Reserves a fresh name in the private folder. (git treats a missing index as empty but an
    /// empty file as corrupt: callers fill the file or remove it.)
    fn new_path(repo: &Repo) -> Result<tempfile::TempPath> {
        let dir = repo.private_dir();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(tempfile::Builder::new()
            .prefix(crate::defaults::TEMP_INDEX_PREFIX)
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .into_temp_path())
    }

    /// Returns the file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes this copy the user's index, as git installs an index: hard-linked to
    /// `index.lock` (which fails while another git holds it) and renamed over `index`. Nothing
    /// is replaced when, with the lock held, the user's index is no longer the version
    /// `original` stamped (another git wrote it: its version stays), or when `index.lock` stays
    /// held. Returns whether it replaced.
    pub fn replace_user_index(self, repo: &Repo, original: &IndexStamp) -> Result<bool> {
        let index = repo.index_path();
        let lock = repo.index_lock_path();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        // Journaled: a kill while we hold `index.lock` leaves a lock the next command can prove
        // to be ours.
        let _step =
            crate::journal::own_step(repo.workdir(), "installing the index", vec![lock.clone()]);
        loop {
            match fs::hard_link(&self.path, &lock) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if std::time::Instant::now() >= deadline {
                        return Ok(false);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => return Err(Error::io(lock, e)),
            }
        }
        // The lock is ours: no git can write the index until we rename or remove it.
        let unchanged = IndexStamp::of(repo).map(|now| now == *original);
        if !matches!(unchanged, Ok(true)) {
            let _ = fs::remove_file(&lock);
            return unchanged.map(|_| false);
        }
        if let Err(e) = fs::rename(&lock, &index) {
            let _ = fs::remove_file(&lock);
            return Err(Error::io(index, e));
        }
        Ok(true)
    }
}

/// What identifies one version of the user's index file: written again, it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStamp(Option<(u64, u64, std::time::SystemTime)>);

impl IndexStamp {
    /// Reads the stamp of the user's index now (none when there is no index yet).
    pub fn of(repo: &Repo) -> Result<IndexStamp> {
        use std::os::unix::fs::MetadataExt;
        match fs::metadata(repo.index_path()) {
            Ok(m) => {
                let modified = m.modified().map_err(|e| Error::io(repo.index_path(), e))?;
                Ok(IndexStamp(Some((m.ino(), m.len(), modified))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IndexStamp(None)),
            Err(e) => Err(Error::io(repo.index_path(), e)),
        }
    }
}

/// Reads the status of the user's work: the tool's own logs are never part of it, even where a
/// repository tracks them (then `info/exclude` cannot hide them).
pub fn read_user_status(repo: &Repo, all_untracked: bool) -> Result<Status> {
    let mut status = Status::read(repo, all_untracked)?;
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
            StatusEntry::Changed {
                y,
                path,
                dirty_submodule,
                ..
            } if *y != '.' => {
                paths.push(path.clone());
                // The submodule's commit is captured; the work inside it is its own repository's.
                if *dirty_submodule {
                    skipped.push(SkippedPath {
                        path: String::from_utf8_lossy(path).into_owned(),
                        reason: SkipReason::SubmoduleChanges,
                        size: None,
                    });
                }
            }
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
pub fn stage_paths(repo: &Repo, index: IndexFile<'_>, paths: &[Vec<u8>]) -> Result<()> {
    stage(repo, index, paths, false).map(|_| ())
}

/// Stages like [`stage_paths`] and tells whether git's end-of-line conversion changed the bytes
/// of any file (git's `core.safecrlf` check, made in the same pass: no extra work when none did).
fn stage_paths_detecting_lossy(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<bool> {
    match stage(repo, IndexFile::Scratch(index), paths, true) {
        Ok(()) => Ok(false),
        Err(Error::Git { stderr, .. }) if stderr.contains("would be replaced by") => {
            // The failed run wrote nothing; stage again, converting as `git add` does.
            stage(repo, IndexFile::Scratch(index), paths, false)?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

fn stage(repo: &Repo, index: IndexFile<'_>, paths: &[Vec<u8>], strict_eol: bool) -> Result<()> {
    // A path behind a folder that is now a symlink or a file is gone for git, but update-index
    // refuses to look "beyond a symbolic link": such entries are removed outright.
    let (gone, present): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = paths
        .iter()
        .partition(|p| behind_non_folder(repo.workdir(), p));
    if !gone.is_empty() {
        git::remove_entries(repo, index, &gone)?;
    }
    if !present.is_empty() {
        let eol = if strict_eol {
            Eol::Refuse
        } else {
            Eol::Convert
        };
        git::add_paths(repo, index, &present, eol)?;
    }
    Ok(())
}

/// Returns a tree holding the exact bytes of every regular file among `paths` (called when git's
/// end-of-line conversion would not give some file's bytes back), or `None`.
fn raw_bytes_tree(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<Option<String>> {
    // Staged blobs of the captured paths.
    let listed = git::staged_entries(repo, IndexFile::Scratch(index), &[])?;
    let staged: std::collections::HashMap<&[u8], &IndexEntry> =
        listed.iter().map(|e| (e.path.as_slice(), e)).collect();
    let files: Vec<&IndexEntry> = paths
        .iter()
        .filter_map(|p| staged.get(p.as_slice()).copied())
        .filter(|e| matches!(e.mode.as_slice(), b"100644" | b"100755"))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    // Their bytes as they are, stored without any filter.
    let names: Vec<&[u8]> = files.iter().map(|e| e.path.as_slice()).collect();
    let raw_ids = crate::git::hash_files_raw(repo, &names)?;
    // Every file: one whose blob is its bytes (LF under `core.autocrlf=true`) can still be
    // converted on checkout, and git's check does not say which file it stopped at.
    let entries: Vec<IndexEntry> = files
        .iter()
        .zip(raw_ids)
        .map(|(e, oid)| IndexEntry {
            oid,
            stage: 0,
            ..(*e).clone()
        })
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let raw_index = TempIndex::empty(repo)?;
    git::add_entries(repo, IndexFile::Scratch(raw_index.path()), &entries)?;
    write_tree(repo, IndexFile::Scratch(raw_index.path())).map(Some)
}

/// Returns true when `path` is `folder` or lies inside it.
fn covers(folder: &[u8], path: &[u8]) -> bool {
    let path = path.strip_suffix(b"/").unwrap_or(path);
    path == folder || (path.starts_with(folder) && path.get(folder.len()) == Some(&b'/'))
}

/// Force-stages `paths` even when ignored (used for files a restore would overwrite).
fn force_stage(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    git::force_add(repo, IndexFile::Scratch(index), paths)
}

/// Makes a commit of `tree` with the tool's identity.
pub fn commit_tree(repo: &Repo, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    git::write_commit(repo, tree, parents, message, Author::Tool)
}

/// A private copy of the user's index and the tree it holds.
#[derive(Debug)]
pub struct IndexCopy {
    index: TempIndex,
    tree: String,
    /// Entries marked `assume-unchanged`: `git status` does not look at them, so their local
    /// changes would escape a snapshot unless staged explicitly.
    assume_unchanged: Vec<Vec<u8>>,
    /// A `.gitattributes` exists only in the index (skip-worktree): git applies it, hash-object
    /// would not.
    attributes_in_index_only: bool,
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

/// Reads the status of the user's work and, when `copy_index`, meanwhile copies the user's
/// index and writes its tree on the other core (the two are independent; the copy's result is
/// returned unjudged so that a status problem, such as unmerged paths, is reported first).
pub fn read_state(
    repo: &Repo,
    all_untracked: bool,
    copy_index: bool,
) -> Result<(Status, Option<Result<IndexCopy>>)> {
    std::thread::scope(|scope| {
        let copy = scope.spawn(|| {
            // The settings are needed later (object writing); read them off the critical path.
            repo.settings();
            if !copy_index {
                return Ok(None);
            }
            let index = TempIndex::copy_of_user_index(repo)?;
            let tree = write_tree(repo, IndexFile::Scratch(index.path()))?;
            let (assume_unchanged, attributes_in_index_only) = hidden_entries(repo, index.path())?;
            Ok(Some(IndexCopy {
                index,
                tree,
                assume_unchanged,
                attributes_in_index_only,
            }))
        });
        let status = read_user_status(repo, all_untracked);
        let copy = copy.join().unwrap_or_else(|_| {
            Err(Error::WorkerPanicked {
                task: "copying the index",
            })
        });
        Ok((status?, copy.transpose()))
    })
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
    max_file_size: Option<u64>,
    force_paths: &[Vec<u8>],
    rehash_paths: &[Vec<u8>],
    message: &str,
) -> Result<Captured> {
    let IndexCopy {
        index,
        tree: index_tree,
        assume_unchanged,
        attributes_in_index_only,
    } = copy;
    let (mut paths, mut skipped) = paths_to_capture(repo, status, max_file_size);
    // What is force-captured is captured, not skipped.
    skipped.retain(|k| !force_paths.iter().any(|f| covers(f, k.path.as_bytes())));
    if !assume_unchanged.is_empty() || !rehash_paths.is_empty() {
        let listed: std::collections::HashSet<Vec<u8>> = paths.iter().cloned().collect();
        let extra = assume_unchanged.iter().chain(rehash_paths);
        let extra: std::collections::BTreeSet<&Vec<u8>> =
            extra.filter(|p| !listed.contains(*p)).collect();
        paths.extend(extra.into_iter().cloned());
    }
    let edited = if paths.is_empty() || !force_paths.is_empty() || attributes_in_index_only {
        None
    } else {
        // The index's tree edited at the changed paths: work proportional to the change.
        edit_tree_from_worktree(repo, &index_tree, &paths)?
    };
    let (tree, raw_tree) = match edited {
        Some(EditedTrees { tree, raw_tree }) => (tree, raw_tree),
        None if paths.is_empty() && force_paths.is_empty() => (index_tree.clone(), None),
        None => {
            // git's own staging, in the copy of the index.
            if !assume_unchanged.is_empty() {
                // In our copy only: drop the flag so that update-index looks at the file again.
                clear_assume_unchanged(repo, IndexFile::Scratch(index.path()), &assume_unchanged)?;
            }
            let lossy = stage_paths_detecting_lossy(repo, index.path(), &paths)?;
            let raw_tree = if lossy {
                raw_bytes_tree(repo, index.path(), &paths)?
            } else {
                None
            };
            force_stage(repo, index.path(), force_paths)?;
            (
                write_tree(repo, IndexFile::Scratch(index.path()))?,
                raw_tree,
            )
        }
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
    // Like `git stash -u`'s third parent: keeps the raw bytes reachable.
    let raw_commit = match &raw_tree {
        Some(tree) => Some(commit_tree(repo, tree, &[], &format!("raw bytes on {on}"))?),
        None => None,
    };
    parents.extend(raw_commit.as_deref());
    let commit = commit_tree(repo, &tree, &parents, message)?;
    Ok(Captured {
        commit,
        tree,
        index_commit,
        index_tree,
        base,
        branch,
        skipped,
        raw_tree,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_another_git_rewrote_meanwhile_is_not_replaced() {
        let user = testutil::TestRepo::new();
        user.write("a.txt", "a\n");
        user.commit_all("base");
        let repo = Repo::discover(user.path()).expect("repo");
        let stamp = IndexStamp::of(&repo).expect("stamp");
        let copy = TempIndex::copy_of_user_index(&repo).expect("copy");
        // Another git stages something meanwhile.
        user.write("theirs.txt", "theirs\n");
        user.git(&["add", "theirs.txt"]);
        let replaced = copy.replace_user_index(&repo, &stamp).expect("replace");
        assert!(!replaced);
        assert!(
            user.git(&["ls-files"]).contains("theirs.txt"),
            "their staging stays"
        );
        assert!(!user.exists(".git/index.lock"));
    }

    #[test]
    fn an_unchanged_index_is_replaced_and_no_lock_is_left() {
        let user = testutil::TestRepo::new();
        user.write("a.txt", "a\n");
        user.commit_all("base");
        let repo = Repo::discover(user.path()).expect("repo");
        let stamp = IndexStamp::of(&repo).expect("stamp");
        let copy = TempIndex::copy_of_user_index(&repo).expect("copy");
        user.write("ours.txt", "ours\n");
        stage_paths(
            &repo,
            IndexFile::Replacement(copy.path()),
            &[b"ours.txt".to_vec()],
        )
        .expect("stage");
        assert!(copy.replace_user_index(&repo, &stamp).expect("replace"));
        assert!(user.git(&["ls-files"]).contains("ours.txt"));
        assert!(!user.exists(".git/index.lock"));
    }
}
