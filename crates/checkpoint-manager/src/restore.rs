//! Restores that delete nothing unrecoverable. The caller first captures a safety snapshot S of
//! the current state (including every untracked or ignored file the restore would overwrite, see
//! [`overwritten`]); a restore then only overwrites or removes what S holds. Ignored
//! files, skipped large files and nested repositories are never touched. Never `git clean`.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::{self, Head, IndexFile, RawDiff, Repo, Status, StatusEntry};
use crate::paths::{behind_non_folder, bytes_to_path};
use crate::snapshot::{write_tree, TempIndex, SESSIONS_PREFIX};

/// What to restore.
#[derive(Debug, Clone)]
pub struct RestoreTarget {
    /// The commit whose tree becomes the work tree.
    pub worktree_commit: String,
    /// The tree that becomes the index.
    pub index_tree: String,
    /// Where HEAD (the branch, if one is checked out) ends up; `None` makes it unborn.
    pub base: Option<String>,
    /// Remove files S holds that the target does not (an exact snapshot restore); otherwise
    /// untracked files stay, as with `git reset --hard`.
    pub exact: bool,
    /// Where HEAD ends up.
    pub head: HeadAfter,
    /// Exact bytes to write over the filtered checkout (see `SnapshotInfo::raw_tree`).
    pub raw_tree: Option<String>,
    /// HEAD as the operation read it: every HEAD and branch move is a compare-and-swap against
    /// it, so a commit another git made meanwhile is never moved over (the move fails instead).
    pub expected_head: Head,
    /// Paths the target snapshot left out (`SnapshotInfo::skipped`): never removed, whatever
    /// the size cap is now.
    pub keep: Vec<Vec<u8>>,
}

/// Where HEAD ends up after a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadAfter {
    /// Moves whatever HEAD is now: the branch checked out, or a detached HEAD (a rollback).
    Keep,
    /// Checks out this branch (`refs/heads/...`) at the target (an undo or redo of a state
    /// captured on that branch).
    Attach(String),
    /// Detaches HEAD at the target (an undo or redo of a state captured on a detached HEAD).
    Detach,
}

/// What a hard restore writes over, that its safety snapshot must capture first.
#[derive(Debug, Default)]
pub struct Overwritten {
    /// Untracked or ignored paths (files, or folders with everything inside them): force-added.
    pub untracked: Vec<Vec<u8>>,
    /// Tracked files the restore rewrites or removes, where git's end-of-line conversion may
    /// not give their bytes back (a CRLF file git calls clean under `eol=lf`): hashed again,
    /// so that the snapshot records their exact bytes.
    pub tracked: Vec<Vec<u8>>,
}

impl Overwritten {
    fn add(&mut self, hit: Option<Vec<u8>>) {
        if let Some(hit) = hit.filter(|h| !self.untracked.contains(h)) {
            self.untracked.push(hit);
        }
    }
}

/// Lists what a hard restore to `target_commit` would write over, as far as the index tells
/// (no file is read, so it runs beside `git status`): every path the target holds that the
/// index does not and that exists on disk (untracked or ignored files, or a file where the
/// target needs a folder), every gitlink the target replaces, and the tracked files it rewrites.
/// Refuses where a nested repository or a submodule would be entered or replaced (its work is
/// never captured). The sessions folder is never touched. See also [`replaced_folders`].
pub fn overwritten(repo: &Repo, target_commit: &str) -> Result<Overwritten> {
    let records = git::diff_index(repo, target_commit, true)?;
    let mut found = Overwritten::default();
    for record in &records {
        if record.path.starts_with(SESSIONS_PREFIX) {
            continue;
        }
        // First side: the target; second: the index.
        let (old_mode, new_mode) = (record.old_mode.as_slice(), record.new_mode.as_slice());
        if matches!(new_mode, b"100644" | b"100755") {
            found.tracked.push(record.path.clone());
            continue;
        }
        let absent = new_mode == b"000000" && old_mode != b"000000";
        let gitlink_replaced = new_mode == b"160000" && !matches!(old_mode, b"160000" | b"000000");
        if absent || gitlink_replaced {
            found.add(overwritten_at(repo.workdir(), &record.path)?);
        }
    }
    if !found.tracked.is_empty() && !eol_conversion_possible(repo, &found.tracked)? {
        found.tracked.clear();
    }
    Ok(found)
}

/// Adds to `found` the folders that replaced a tracked file (`git status` calls the file
/// deleted) where the target has a file: the checkout removes such a folder with everything in
/// it, ignored files included, so all of it is captured first (or, holding a repository, the
/// restore refuses).
pub fn replaced_folders(
    repo: &Repo,
    status: &Status,
    target_commit: &str,
    found: &mut Overwritten,
) -> Result<()> {
    let folders: Vec<&[u8]> = status
        .entries
        .iter()
        .filter_map(|e| match e {
            StatusEntry::Changed { y: 'D', path, .. } => Some(path.as_slice()),
            _ => None,
        })
        .filter(|p| {
            !behind_non_folder(repo.workdir(), p)
                && fs::symlink_metadata(repo.workdir().join(bytes_to_path(p)))
                    .is_ok_and(|m| m.is_dir())
        })
        .collect();
    if folders.is_empty() {
        return Ok(());
    }
    let pathspecs: Vec<std::ffi::OsString> = folders
        .iter()
        .map(|p| bytes_to_path(p).as_os_str().to_owned())
        .collect();
    for entry in git::list_tree_at(repo, target_commit, &pathspecs)? {
        if entry.kind == b"blob" {
            found.add(overwritten_at(repo.workdir(), &entry.path)?);
        }
    }
    Ok(())
}

/// Tells whether git may convert line endings of any of `paths` (`core.autocrlf` or
/// `core.eol` set, or a `text`, `eol` or `crlf` attribute on one of them). Two cheap processes
/// that read no file content.
pub(crate) fn eol_conversion_possible(repo: &Repo, paths: &[Vec<u8>]) -> Result<bool> {
    if git::eol_conversion_configured(repo)? {
        return Ok(true);
    }
    git::eol_attributes_set(repo, paths)
}

/// Returns what writing the target's file `path` would overwrite: the path itself, or the first
/// folder on its way that is a file or a symlink. A nested repository in the way is refused: it
/// cannot be captured, and it is never touched.
pub(crate) fn overwritten_at(workdir: &Path, path: &[u8]) -> Result<Option<Vec<u8>>> {
    let nested = |at: &[u8]| Error::NestedRepositoryInTheWay {
        path: String::from_utf8_lossy(at).into_owned(),
    };
    let slashes = path.iter().enumerate().filter(|(_, b)| **b == b'/');
    for (i, _) in slashes {
        let prefix = &path[..i];
        match fs::symlink_metadata(workdir.join(bytes_to_path(prefix))) {
            Ok(meta) if meta.is_dir() => {
                if is_repository(&workdir.join(bytes_to_path(prefix))) {
                    return Err(nested(prefix));
                }
            }
            Ok(_) => return Ok(Some(prefix.to_vec())),
            Err(_) => return Ok(None),
        }
    }
    let full = workdir.join(bytes_to_path(path));
    match fs::symlink_metadata(&full) {
        Ok(meta) if meta.is_dir() => {
            if contains_repository(&full) {
                Err(nested(path))
            } else {
                Ok(Some(path.to_vec()))
            }
        }
        Ok(_) => Ok(Some(path.to_vec())),
        Err(_) => Ok(None),
    }
}

/// Returns true when `dir` holds a repository as git sees one: a `.git` file (`gitdir: ...`) or
/// a `.git` folder with a `HEAD` (an empty `.git` folder is just a folder to git).
pub(crate) fn is_repository(dir: &Path) -> bool {
    let dot_git = dir.join(".git");
    match fs::symlink_metadata(&dot_git) {
        Ok(meta) if meta.is_dir() => dot_git.join("HEAD").exists(),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Returns true when `dir` or any real folder below it is a repository.
fn contains_repository(dir: &Path) -> bool {
    if is_repository(dir) {
        return true;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_type().is_ok_and(|t| t.is_dir()) && contains_repository(&entry.path())
    })
}

/// `git reset --mixed`: the index moves to `base` (refreshed, as `git reset` does), then HEAD,
/// compare-and-swap against `expected` (a pathspec keeps `git reset` from moving HEAD itself,
/// which it would do whatever HEAD had become meanwhile).
pub fn mixed_reset(repo: &Repo, base: Option<&str>, expected: &Head, reflog: &str) -> Result<()> {
    match base {
        Some(commit) => {
            git::reset_index_to_commit(repo, commit)?;
        }
        None => {
            git::empty_user_index(repo)?;
        }
    }
    move_head(repo, base, &HeadAfter::Keep, expected, reflog)
}

/// Restores files, index and HEAD to `target`. `safety_tree` is the tree of the safety snapshot
/// just taken: only paths it holds may be removed. Returns the paths removed.
pub fn hard_restore(
    repo: &Repo,
    target: &RestoreTarget,
    safety_tree: &str,
    reflog: &str,
) -> Result<Vec<String>> {
    let raw = raw_entries(repo, target.raw_tree.as_deref())?;
    let trees = [target.worktree_commit.as_str(), target.index_tree.as_str()];
    let sessions = TrackedSessions::read(repo, &trees, &target.keep)?;
    // Files that already hold the target's content are not written again.
    adopt_files_already_restored(repo, target, safety_tree, &raw)?;
    let is_commit = target.worktree_commit.as_str() == target.base.as_deref().unwrap_or("");
    if !target.exact && is_commit && sessions.is_none() {
        // A commit checkpoint: what `git reset --hard` does (S holds what it overwrites), with
        // HEAD moved by a compare-and-swap rather than by reset.
        git::checkout_tree(repo, &target.worktree_commit)?;
        move_head_to_target(repo, target, reflog)?;
        return Ok(Vec::new());
    }
    let removed = restore_around_sessions(repo, target, safety_tree, sessions.as_ref(), &raw)?;
    // 4. HEAD (the branch, if one is checked out), last: a failure above leaves HEAD alone.
    move_head_to_target(repo, target, reflog)?;
    Ok(removed)
}

/// Moves HEAD (and the branch it names) to the target's base, as the target says, only if
/// HEAD is still what the restore read.
fn move_head_to_target(repo: &Repo, target: &RestoreTarget, reflog: &str) -> Result<()> {
    move_head(
        repo,
        target.base.as_deref(),
        &target.head,
        &target.expected_head,
        reflog,
    )
}

/// Steps 1-3 of a hard restore, with the tracked sessions folder (if any) kept as it is on disk.
/// The sessions folder is never captured, so never restored: the target gets the index's
/// version of it, and skip-worktree keeps the checkout off the files on disk.
fn restore_around_sessions(
    repo: &Repo,
    target: &RestoreTarget,
    safety_tree: &str,
    sessions: Option<&TrackedSessions>,
    raw: &[(Vec<u8>, String)],
) -> Result<Vec<String>> {
    let (worktree, index_tree) = match sessions {
        Some(s) => (
            s.graft(repo, &target.worktree_commit)?,
            s.graft(repo, &target.index_tree)?,
        ),
        None => (target.worktree_commit.clone(), target.index_tree.clone()),
    };
    if let Some(s) = sessions {
        s.set_skip_worktree(repo, true)?;
    }
    let files = restore_files_and_index(repo, target, safety_tree, &worktree, &index_tree, raw);
    if let Some(s) = sessions {
        // Cleared whether or not the restore went through: the flag was ours.
        s.set_skip_worktree(repo, false)?;
    }
    files
}

/// Steps 1-3 of a hard restore: the work tree becomes `worktree` (the target's, grafted), the
/// files S holds that the target does not are removed (an exact restore), raw bytes go back,
/// and the index becomes `index_tree`. Returns the paths removed.
fn restore_files_and_index(
    repo: &Repo,
    target: &RestoreTarget,
    safety_tree: &str,
    worktree: &str,
    index_tree: &str,
    raw: &[(Vec<u8>, String)],
) -> Result<Vec<String>> {
    // 1. Files: the target's work tree, from the current index (so unchanged files stay as they
    //    are). --reset overwrites local changes, which S holds.
    git::checkout_tree(repo, worktree)?;
    // 2. Paths S holds that the target does not: created since, safe in S.
    let removed = if target.exact {
        remove_extra_files(repo, safety_tree, worktree, &target.keep)?
    } else {
        Vec::new()
    };
    // 2b. Files git's filters would not give back byte for byte get their captured bytes.
    write_raw_files(repo, raw)?;
    // 3. The index as captured; entries equal to the work tree keep their stat data.
    git::reset_index_to(repo, index_tree)?;
    Ok(removed)
}

/// A mixed restore ([`mixed_reset`]) that leaves the index entries under the sessions folder
/// as they are, where a repository tracks it.
pub fn mixed_restore(repo: &Repo, base: Option<&str>, expected: &Head, reflog: &str) -> Result<()> {
    let sessions = TrackedSessions::read(repo, &[], &[])?;
    mixed_reset(repo, base, expected, reflog)?;
    match sessions {
        Some(s) => s.put_back(repo, IndexFile::User),
        None => Ok(()),
    }
}

/// The index entries under the sessions folder (and at the paths the target skipped, where the
/// user has tracked them since), where the index or a target tree has some.
struct TrackedSessions {
    /// The entries as they were (mode, blob id, stage, path).
    entries: Vec<git::IndexEntry>,
    paths: Vec<Vec<u8>>,
    /// The folder and the skipped paths, as literal pathspecs.
    pathspecs: Vec<std::ffi::OsString>,
}

impl TrackedSessions {
    const FOLDER: &'static str = crate::defaults::SESSIONS_DIR;

    /// Reads the user's index; `None` when neither it nor any of `trees` has the folder and
    /// the index has none of the `skipped` paths.
    fn read(repo: &Repo, trees: &[&str], skipped: &[Vec<u8>]) -> Result<Option<TrackedSessions>> {
        let mut pathspecs = vec![std::ffi::OsString::from(Self::FOLDER)];
        pathspecs.extend(skipped.iter().map(|k| {
            let k = k.strip_suffix(b"/").unwrap_or(k);
            bytes_to_path(k).as_os_str().to_owned()
        }));
        let entries = git::staged_entries(repo, IndexFile::User, &pathspecs)?;
        let queries: Vec<String> = trees
            .iter()
            .map(|t| format!("{t}:{}", Self::FOLDER))
            .collect();
        let in_trees = git::resolve_objects(repo, &queries)?;
        if entries.is_empty() && in_trees.iter().all(Option::is_none) {
            return Ok(None);
        }
        let paths = entries.iter().map(|e| e.path.clone()).collect();
        Ok(Some(TrackedSessions {
            entries,
            paths,
            pathspecs,
        }))
    }

    /// Replaces whatever `index` holds at the pathspecs with the entries read.
    fn put_back(&self, repo: &Repo, index: IndexFile<'_>) -> Result<()> {
        let there = git::list_paths(repo, index, &self.pathspecs)?;
        let there: Vec<&[u8]> = there.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
        if !there.is_empty() {
            git::remove_entries(repo, index, &there)?;
        }
        if !self.entries.is_empty() {
            git::add_entries(repo, index, &self.entries)?;
        }
        Ok(())
    }

    /// Returns `tree` with the folder replaced by the entries read.
    fn graft(&self, repo: &Repo, tree: &str) -> Result<String> {
        let scratch = TempIndex::empty(repo)?;
        git::read_tree(repo, IndexFile::Scratch(scratch.path()), tree)?;
        self.put_back(repo, IndexFile::Scratch(scratch.path()))?;
        write_tree(repo, IndexFile::Scratch(scratch.path()))
    }

    /// Sets or clears skip-worktree on the entries read, in the user's index.
    fn set_skip_worktree(&self, repo: &Repo, on: bool) -> Result<()> {
        if self.paths.is_empty() {
            return Ok(());
        }
        git::set_flag(
            repo,
            IndexFile::User,
            git::EntryFlag::SkipWorktree,
            on,
            &self.paths,
        )
    }
}

/// Points the index entry of every path whose work-tree file already holds the target's
/// content at the target's entry, with fresh stat data, so the checkout leaves it alone (no new
/// mtime for file watchers). A file qualifies when S captured it as the target has it (git
/// calls it unchanged, as `git reset --hard` does for a clean file) and, where the target has
/// raw bytes for it, its bytes on disk are exactly those.
fn adopt_files_already_restored(
    repo: &Repo,
    target: &RestoreTarget,
    safety_tree: &str,
    raw: &[(Vec<u8>, String)],
) -> Result<()> {
    // Without --cached: also the files that only look changed (stat data) and untracked files.
    let records = git::diff_index(repo, &target.worktree_commit, false)?;
    if records.is_empty() {
        return Ok(());
    }
    let since = git::changed_paths(repo, safety_tree, &target.worktree_commit)?;
    let changed: HashSet<&[u8]> = since.iter().map(Vec::as_slice).collect();
    let (mut adopt, raw_files) = adoption_candidates(repo, &records, &changed, raw);
    adopt.extend(raw_bytes_unchanged(repo, &raw_files)?);
    if adopt.is_empty() {
        return Ok(());
    }
    git::refresh_entries(repo, &adopt)
}

/// A path and the raw blob id the target holds for it.
type RawFile<'a> = (&'a [u8], &'a str);

/// Of the paths git lists as differing from the target, those S captured as the target has
/// them (not in `changed`) whose file on disk is of the target's kind: returned as paths to
/// adopt, or, where the target has raw bytes, as (path, raw blob id) to compare first.
fn adoption_candidates<'a>(
    repo: &Repo,
    records: &'a [RawDiff],
    changed: &HashSet<&[u8]>,
    raw: &'a [(Vec<u8>, String)],
) -> (Vec<&'a [u8]>, Vec<RawFile<'a>>) {
    let mut adopt = Vec::new();
    let mut raw_files = Vec::new();
    for RawDiff { old_mode, path, .. } in records {
        let path = path.as_slice();
        let wanted_symlink = match old_mode.as_slice() {
            b"120000" => true,
            b"100644" | b"100755" => false,
            _ => continue,
        };
        if changed.contains(path)
            || path.starts_with(SESSIONS_PREFIX)
            || behind_non_folder(repo.workdir(), path)
            || !kind_on_disk_is(repo, path, wanted_symlink)
        {
            continue;
        }
        match raw.iter().find(|(p, _)| p == path) {
            Some((_, oid)) => raw_files.push((path, oid.as_str())),
            None => adopt.push(path),
        }
    }
    (adopt, raw_files)
}

/// Returns true when `path` is on disk as a symlink (`symlink`) or as a regular file (not).
fn kind_on_disk_is(repo: &Repo, path: &[u8], symlink: bool) -> bool {
    let on_disk = fs::symlink_metadata(repo.workdir().join(bytes_to_path(path)));
    on_disk.is_ok_and(|m| if symlink { m.is_symlink() } else { m.is_file() })
}

/// Returns the paths whose bytes on disk are exactly the raw blob given (hashed, not stored).
fn raw_bytes_unchanged<'a>(repo: &Repo, raw_files: &[RawFile<'a>]) -> Result<Vec<&'a [u8]>> {
    let names: Vec<&[u8]> = raw_files.iter().map(|(p, _)| *p).collect();
    let on_disk = git::hash_files_unstored(repo, &names)?;
    Ok(raw_files
        .iter()
        .zip(on_disk)
        .filter(|((_, expected), found)| found == expected)
        .map(|((path, _), _)| *path)
        .collect())
}

/// Lists `raw_tree`'s files: (path, raw blob id).
pub(crate) fn raw_entries(repo: &Repo, raw_tree: Option<&str>) -> Result<Vec<(Vec<u8>, String)>> {
    let Some(raw_tree) = raw_tree else {
        return Ok(Vec::new());
    };
    Ok(git::list_tree_files(repo, raw_tree)?
        .into_iter()
        .map(|e| (e.path, e.oid))
        .collect())
}

/// Writes every file of the raw-bytes tree (`raw`, from [`raw_entries`]) with its exact bytes
/// (no filter), keeping its mode; a file that already holds them is not written.
pub(crate) fn write_raw_files(repo: &Repo, raw: &[(Vec<u8>, String)]) -> Result<()> {
    if raw.is_empty() {
        return Ok(());
    }
    let oids: Vec<String> = raw.iter().map(|(_, oid)| oid.clone()).collect();
    let contents = git::read_objects(repo, &oids)?;
    for ((path, _), content) in raw.iter().zip(contents) {
        let Some(bytes) = content else { continue };
        // Never into the git dir or out of the work tree, whatever a tree says.
        let unsafe_name = path.split(|b| *b == b'/').any(|part| {
            part.is_empty() || part == b"." || part == b".." || part.eq_ignore_ascii_case(b".git")
        });
        if unsafe_name
            || path.starts_with(SESSIONS_PREFIX)
            || behind_non_folder(repo.workdir(), path)
        {
            continue;
        }
        let full = repo.workdir().join(bytes_to_path(path));
        // Only over a regular file the checkout just wrote (never through a symlink).
        if fs::symlink_metadata(&full).is_ok_and(|m| m.is_file())
            && fs::read(&full).map_or(true, |now| now != bytes)
        {
            fs::write(&full, bytes).map_err(|e| Error::io(&full, e))?;
        }
    }
    Ok(())
}

/// Moves HEAD to `base` (`None`: unborn), compare-and-swap against `expected`, the HEAD the
/// operation read, and attaches or detaches it as `head` says. A HEAD that moved meanwhile
/// fails with [`Error::RefMoved`] and is left where it is.
fn move_head(
    repo: &Repo,
    base: Option<&str>,
    head: &HeadAfter,
    expected: &Head,
    reflog: &str,
) -> Result<()> {
    let current = expected.branch.as_ref().map(|b| format!("refs/heads/{b}"));
    match head {
        HeadAfter::Attach(branch) if current.as_deref() != Some(branch.as_str()) => {
            move_other_branch(repo, branch, base, reflog)?;
            switch_head_to(repo, branch, expected)
        }
        HeadAfter::Detach if current.is_some() => match base {
            Some(base) => update_head(repo, reflog, base, true, expected),
            None => Ok(()),
        },
        _ => match base {
            Some(base) => update_head(repo, reflog, base, false, expected),
            None => make_head_unborn(repo, expected, reflog),
        },
    }
}

/// Moves HEAD (`detach`: HEAD itself, else the branch it points at) to `new` only if it still
/// holds the commit the operation read (must not exist, for an unborn HEAD).
fn update_head(repo: &Repo, reflog: &str, new: &str, detach: bool, expected: &Head) -> Result<()> {
    git::move_ref(repo, "HEAD", new, expected.oid.as_deref(), detach, reflog)
}

/// Points `branch`, which is not checked out here, at `base`: only when it is at `base` already
/// or does not exist (the caller refused any other case; a move since fails the swap).
fn move_other_branch(repo: &Repo, branch: &str, base: Option<&str>, reflog: &str) -> Result<()> {
    let Some(base) = base else { return Ok(()) };
    let tip = git::resolve(repo, branch)?;
    if let Some(old) = tip.as_deref().filter(|old| *old != base) {
        return Err(Error::RefMoved {
            name: branch.to_owned(),
            detail: format!("is at {old} but expected {base}"),
        });
    }
    git::move_ref(repo, branch, base, tip.as_deref(), false, reflog)
}

/// Makes HEAD the symbolic ref `branch`, under git's own lock on HEAD (`HEAD.lock`, which every
/// git takes to move HEAD) and only if HEAD is still what the operation read: `git symbolic-ref`
/// has no compare-and-swap, and re-pointing a HEAD that another git just moved (a commit on a
/// detached HEAD) would orphan that commit.
fn switch_head_to(repo: &Repo, branch: &str, expected: &Head) -> Result<()> {
    let head = repo.git_dir().join("HEAD");
    let lock = repo.git_dir().join("HEAD.lock");
    if fs::read(&head).is_ok_and(|h| h.starts_with(b"ref: refs/heads/.invalid")) {
        // The reftable backend keeps HEAD elsewhere, with no lock file we can take.
        return git::set_symbolic_head(repo, branch);
    }
    // Journaled: a kill while we hold `HEAD.lock` leaves a lock the next command can prove ours.
    let _step = crate::journal::own_step(repo.workdir(), "re-attaching HEAD", vec![lock.clone()]);
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::LockFileExists { path: lock })
        }
        Err(e) => return Err(Error::io(&lock, e)),
    };
    let written = (|| {
        let now = fs::read_to_string(&head).map_err(|e| Error::io(&head, e))?;
        let now = now.trim();
        let wanted = match (&expected.branch, &expected.oid) {
            (Some(b), _) => format!("ref: refs/heads/{b}"),
            (None, Some(oid)) => oid.clone(),
            (None, None) => String::new(),
        };
        if now != wanted {
            return Err(Error::RefMoved {
                name: "HEAD".to_owned(),
                detail: format!("is {now:?} but expected {wanted:?}"),
            });
        }
        use std::io::Write;
        file.write_all(format!("ref: {branch}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&lock, e))?;
        fs::rename(&lock, &head).map_err(|e| Error::io(&head, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&lock);
    }
    written
}

/// Deletes the branch HEAD points at, if it still holds the commit the operation read (its
/// commits stay reachable from the safety snapshot).
fn make_head_unborn(repo: &Repo, expected: &Head, reflog: &str) -> Result<()> {
    let Some(old) = &expected.oid else {
        return Ok(());
    };
    git::delete_ref(repo, "HEAD", old, reflog)
}

/// Removes the files and symlinks that `from_tree` holds and `to_commit` does not. Folders,
/// submodules and anything behind a symlinked folder are left alone.
fn remove_extra_files(
    repo: &Repo,
    from_tree: &str,
    to_commit: &str,
    keep: &[Vec<u8>],
) -> Result<Vec<String>> {
    let deleted = git::deleted_between(repo, from_tree, to_commit)?;
    // Reported as removed: every file S holds that the target does not and that is gone now,
    // whether we remove it or the checkout already did (e.g. its folder became a symlink).
    let mut removed = Vec::new();
    let mut present: Vec<&[u8]> = Vec::new();
    for path in removal_candidates(&deleted, keep) {
        // Nothing is removed through a symlinked folder (that would reach outside the work tree);
        // behind one, the captured file is gone already.
        let gone = behind_non_folder(repo.workdir(), path)
            || fs::symlink_metadata(repo.workdir().join(bytes_to_path(path))).is_err();
        if gone {
            removed.push(String::from_utf8_lossy(path).into_owned());
        } else {
            present.push(path);
        }
    }
    removed.extend(remove_unignored(repo, &present)?);
    removed.sort();
    Ok(removed)
}

/// The files and symlinks of `deleted` the restore may remove: not kept, not in the sessions
/// folder (what the target skipped it never had to give back).
fn removal_candidates<'a>(deleted: &'a [RawDiff], keep: &[Vec<u8>]) -> Vec<&'a [u8]> {
    deleted
        .iter()
        .filter(|d| matches!(d.old_mode.as_slice(), b"100644" | b"100755" | b"120000"))
        .map(|d| d.path.as_slice())
        .filter(|path| !path.starts_with(SESSIONS_PREFIX) && !is_kept(path, keep))
        .collect()
}

/// Returns true when `path` is one of `keep` or lies inside one of them.
fn is_kept(path: &[u8], keep: &[Vec<u8>]) -> bool {
    keep.iter().any(|k| {
        let k = k.strip_suffix(b"/").unwrap_or(k);
        path == k || (path.starts_with(k) && path.get(k.len()) == Some(&b'/'))
    })
}

/// Removes those of `present` (files on disk) that git does not ignore, with the folders they
/// leave empty; returns the paths removed.
fn remove_unignored(repo: &Repo, present: &[&[u8]]) -> Result<Vec<String>> {
    // A file the restored ignore rules ignore was ignored when the target was captured too (that
    // is why the target lacks it): it was not created since, and ignored files are never touched.
    let ignored = git::ignored_paths(repo, present)?;
    let mut removed = Vec::new();
    for path in present {
        if ignored.iter().any(|i| i == path) {
            continue;
        }
        let full = repo.workdir().join(bytes_to_path(path));
        match fs::symlink_metadata(&full) {
            Ok(m) if !m.is_dir() => {
                fs::remove_file(&full).map_err(|e| Error::io(&full, e))?;
                removed.push(String::from_utf8_lossy(path).into_owned());
                remove_empty_parents(repo.workdir(), &full);
            }
            _ => {}
        }
    }
    Ok(removed)
}

fn remove_empty_parents(workdir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == workdir || !d.starts_with(workdir) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod head_moved_tests {
    // Ref moves are compare-and-swap (issue 8, item 5): a restore moves HEAD only from the value the
    // operation read. Here the user's own `git commit` (a real git process) lands between that read
    // and the restore's HEAD move; the move must fail with `RefMoved` and leave the user's commit on
    // the branch. Deterministic: the restore functions are called with the HEAD read before the
    // commit, exactly what a rollback racing that commit would hold.

    use super::{HeadAfter, RestoreTarget};
    use crate::error::{Error, ErrorKind};
    use crate::git::{Head, Repo};
    use crate::restore;
    use testutil::TestRepo;

    fn repo_with_commit() -> TestRepo {
        let repo = TestRepo::new();
        repo.write("README.md", "hello\n");
        repo.commit_all("initial");
        repo
    }

    /// A repository at commit `old`, HEAD on `main` read (as a rollback reads it), then a user
    /// commit made by real git. Returns (repo, the HEAD read, the user's commit, the target commit).
    fn head_moves_after_the_read() -> (TestRepo, Head, String, String) {
        let repo = repo_with_commit();
        let target = repo.head();
        repo.write("a.txt", "one\n");
        repo.commit_all("second");
        let read = Head {
            oid: Some(repo.head()),
            branch: Some(repo.git(&["symbolic-ref", "--short", "HEAD"])),
        };
        repo.write("user.txt", "the user's own work\n");
        repo.git(&["add", "user.txt"]);
        repo.git(&["commit", "-q", "-m", "user commit"]);
        let user_commit = repo.head();
        (repo, read, user_commit, target)
    }

    fn target_of(commit: &str, expected_head: Head, exact: bool) -> RestoreTarget {
        RestoreTarget {
            worktree_commit: commit.to_owned(),
            index_tree: format!("{commit}^{{tree}}"),
            base: Some(commit.to_owned()),
            exact,
            head: HeadAfter::Keep,
            raw_tree: None,
            expected_head,
            keep: Vec::new(),
        }
    }

    #[track_caller]
    fn assert_ref_moved(result: crate::error::Result<impl std::fmt::Debug>) {
        match result {
            Err(e @ Error::RefMoved { .. }) => {
                assert_eq!(e.kind(), ErrorKind::Invalid);
                assert!(e.to_string().contains("HEAD changed underneath"), "{e}");
            }
            other => panic!("expected RefMoved, got {other:?}"),
        }
    }

    #[test]
    fn a_hard_restore_does_not_move_head_over_a_commit_made_since_the_read() {
        let (repo, read, user_commit, target) = head_moves_after_the_read();
        let git = Repo::discover(repo.path()).expect("repo");
        let result = restore::hard_restore(&git, &target_of(&target, read, false), &target, "test");
        assert_ref_moved(result);
        assert_eq!(
            repo.head(),
            user_commit,
            "the branch keeps the user's commit"
        );
        assert_eq!(
            repo.git(&["show", &format!("{user_commit}:user.txt")]),
            "the user's own work"
        );
    }

    #[test]
    fn an_exact_snapshot_restore_does_not_move_head_over_a_commit_made_since_the_read() {
        let (repo, read, user_commit, target) = head_moves_after_the_read();
        let git = Repo::discover(repo.path()).expect("repo");
        let tree = repo.git(&["rev-parse", &format!("{target}^{{tree}}")]);
        let result = restore::hard_restore(&git, &target_of(&target, read, true), &tree, "test");
        assert_ref_moved(result);
        assert_eq!(repo.head(), user_commit);
    }

    #[test]
    fn a_mixed_reset_does_not_move_head_over_a_commit_made_since_the_read() {
        let (repo, read, user_commit, target) = head_moves_after_the_read();
        let git = Repo::discover(repo.path()).expect("repo");
        assert_ref_moved(restore::mixed_reset(&git, Some(&target), &read, "test"));
        assert_eq!(repo.head(), user_commit);
        assert_eq!(repo.read("user.txt"), b"the user's own work\n");
    }

    #[test]
    fn with_the_head_it_read_a_restore_moves_the_branch() {
        let (repo, _, user_commit, target) = head_moves_after_the_read();
        let git = Repo::discover(repo.path()).expect("repo");
        let now = Head {
            oid: Some(user_commit),
            branch: Some(repo.git(&["symbolic-ref", "--short", "HEAD"])),
        };
        restore::mixed_reset(&git, Some(&target), &now, "test").expect("reset");
        assert_eq!(repo.head(), target);
        assert!(repo
            .git(&["symbolic-ref", "HEAD"])
            .starts_with("refs/heads/"));
    }

    #[test]
    fn reattaching_a_branch_does_not_orphan_a_commit_made_on_a_detached_head() {
        let repo = repo_with_commit();
        let base = repo.head();
        let branch = repo.git(&["symbolic-ref", "HEAD"]);
        repo.git(&["checkout", "-q", "--detach"]);
        let read = Head {
            oid: Some(base.clone()),
            branch: None,
        };
        // The user commits on the detached HEAD after the read.
        repo.write("detached.txt", "only on the detached HEAD\n");
        repo.git(&["add", "detached.txt"]);
        repo.git(&["commit", "-q", "-m", "detached work"]);
        let detached_commit = repo.head();
        let git = Repo::discover(repo.path()).expect("repo");
        let target = RestoreTarget {
            head: HeadAfter::Attach(branch),
            ..target_of(&base, read, false)
        };
        assert_ref_moved(restore::hard_restore(&git, &target, &base, "test"));
        assert_eq!(repo.git(&["rev-parse", "HEAD"]), detached_commit);
        assert!(
            repo.git_output(&["symbolic-ref", "-q", "HEAD"])
                .status
                .code()
                == Some(1)
        );
        assert!(!repo.exists(".git/HEAD.lock"));
    }
}
