//! Restores that delete nothing unrecoverable. The caller first captures a safety snapshot S of
//! the current state (including every untracked or ignored file the restore would overwrite, see
//! [`overwritten_untracked`]); a restore then only overwrites or removes what S holds. Ignored
//! files, skipped large files and nested repositories are never touched. Never `git clean`.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::{Head, Repo};
use crate::paths::{behind_non_folder, bytes_to_path};

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
    /// Re-attach HEAD as it was: `Some(Some(branch))` checks out that branch, `Some(None)`
    /// detaches; `None` moves whatever HEAD is now.
    pub head: Option<Option<String>>,
    /// Exact bytes to write over the filtered checkout (see `SnapshotInfo::raw_tree`).
    pub raw_tree: Option<String>,
    /// HEAD as the operation read it: every HEAD and branch move is a compare-and-swap against
    /// it, so a commit another git made meanwhile is never moved over (the move fails instead).
    pub expected_head: Head,
}

/// Lists the paths the target's tree holds that the index does not and that exist in the work
/// tree (untracked or ignored files, or a file where the target needs a folder): a restore writes
/// over them, so the safety snapshot must capture them first.
pub fn overwritten_untracked(repo: &Repo, target_commit: &str) -> Result<Vec<Vec<u8>>> {
    let out = repo
        .git()
        .args([
            "diff-index",
            "--cached",
            "-z",
            "--name-only",
            "--no-renames",
            "--diff-filter=D",
            target_commit,
            "--",
        ])
        .run()?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    for path in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        if let Some(hit) = overwritten_at(repo.workdir(), path)? {
            if !found.contains(&hit) {
                found.push(hit);
            }
        }
    }
    Ok(found)
}

/// Returns what writing the target's file `path` would overwrite: the path itself, or the first
/// folder on its way that is a file or a symlink. A nested repository in the way is refused: it
/// cannot be captured, and it is never touched.
fn overwritten_at(workdir: &Path, path: &[u8]) -> Result<Option<Vec<u8>>> {
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
fn is_repository(dir: &Path) -> bool {
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
            repo.git().args(["reset", "-q", commit, "--", "."]).run()?;
        }
        None => {
            repo.git().args(["read-tree", "--empty"]).run()?;
        }
    }
    move_head(repo, base, None, expected, reflog)
}

/// Restores files, index and HEAD to `target`. `safety_tree` is the tree of the safety snapshot
/// just taken: only paths it holds may be removed. Returns the paths removed.
pub fn hard_restore(
    repo: &Repo,
    target: &RestoreTarget,
    safety_tree: &str,
    reflog: &str,
) -> Result<Vec<String>> {
    if !target.exact && target.worktree_commit.as_str() == target.base.as_deref().unwrap_or("") {
        // A commit checkpoint: what `git reset --hard` does (S holds what it overwrites), with
        // HEAD moved by a compare-and-swap rather than by reset.
        repo.git()
            .args(["read-tree", "-u", "--reset", &target.worktree_commit])
            .run()?;
        move_head(
            repo,
            target.base.as_deref(),
            target.head.as_ref().map(Option::as_deref),
            &target.expected_head,
            reflog,
        )?;
        return Ok(Vec::new());
    }
    // 1. Files: the target's work tree, from the current index (so unchanged files stay as they
    //    are). --reset overwrites local changes, which S holds.
    repo.git()
        .args(["read-tree", "-u", "--reset", &target.worktree_commit])
        .run()?;
    // 2. Paths S holds that the target does not: created since, safe in S.
    let removed = if target.exact {
        remove_extra_files(repo, safety_tree, &target.worktree_commit)?
    } else {
        Vec::new()
    };
    // 2b. Files git's filters would not give back byte for byte get their captured bytes.
    if let Some(raw_tree) = &target.raw_tree {
        write_raw_files(repo, raw_tree)?;
    }
    // 3. The index as captured; entries equal to the work tree keep their stat data.
    repo.git()
        .args(["read-tree", "--reset", &target.index_tree])
        .run()?;
    // 4. HEAD (the branch, if one is checked out), last: a failure above leaves HEAD alone.
    move_head(
        repo,
        target.base.as_deref(),
        target.head.as_ref().map(Option::as_deref),
        &target.expected_head,
        reflog,
    )?;
    Ok(removed)
}

/// Writes every file of `raw_tree` with its exact bytes (no filter), keeping its mode.
fn write_raw_files(repo: &Repo, raw_tree: &str) -> Result<()> {
    let listed = repo
        .git()
        .args(["ls-tree", "-r", "-z", "--full-tree", raw_tree])
        .run()?;
    let mut files: Vec<(&[u8], String)> = Vec::new();
    for record in listed.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        // "<mode> blob <oid>\t<path>"
        let Some(tab) = record.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let oid = record[..tab]
            .rsplit(|b| *b == b' ')
            .next()
            .unwrap_or_default();
        files.push((
            &record[tab + 1..],
            String::from_utf8_lossy(oid).into_owned(),
        ));
    }
    let oids: Vec<String> = files.iter().map(|(_, oid)| oid.clone()).collect();
    let contents = crate::store::cat_file_batch(repo, &oids)?;
    for ((path, _), content) in files.iter().zip(contents) {
        let Some(bytes) = content else { continue };
        // Never into the git dir or out of the work tree, whatever a tree says.
        let unsafe_name = path.split(|b| *b == b'/').any(|part| {
            part.is_empty() || part == b"." || part == b".." || part.eq_ignore_ascii_case(b".git")
        });
        if unsafe_name || behind_non_folder(repo.workdir(), path) {
            continue;
        }
        let full = repo.workdir().join(bytes_to_path(path));
        // Only over a regular file the checkout just wrote (never through a symlink).
        if fs::symlink_metadata(&full).is_ok_and(|m| m.is_file()) {
            fs::write(&full, bytes).map_err(|e| Error::io(&full, e))?;
        }
    }
    Ok(())
}

/// Moves HEAD to `base` (`None`: unborn), compare-and-swap against `expected`, the HEAD the
/// operation read. `attach`: `None` moves whatever HEAD is (the branch, if one is checked out);
/// `Some(Some(branch))` checks out `branch` (`refs/heads/...`) at `base`; `Some(None)` detaches.
/// A HEAD that moved meanwhile fails with [`Error::RefMoved`] and is left where it is.
fn move_head(
    repo: &Repo,
    base: Option<&str>,
    attach: Option<Option<&str>>,
    expected: &Head,
    reflog: &str,
) -> Result<()> {
    let current = expected.branch.as_ref().map(|b| format!("refs/heads/{b}"));
    match attach {
        Some(Some(branch)) if current.as_deref() != Some(branch) => {
            move_other_branch(repo, branch, base, reflog)?;
            switch_head_to(repo, branch, expected)
        }
        Some(None) if current.is_some() => match base {
            Some(base) => update_ref(repo, reflog, &["--no-deref", "HEAD", base], expected),
            None => Ok(()),
        },
        _ => match base {
            Some(base) => update_ref(repo, reflog, &["HEAD", base], expected),
            None => make_head_unborn(repo, expected, reflog),
        },
    }
}

/// Runs `git update-ref -m <reflog> <args> <old>`, with `old` the HEAD commit the operation
/// read (all zeros, "must not exist", for an unborn HEAD).
fn update_ref(repo: &Repo, reflog: &str, args: &[&str], expected: &Head) -> Result<()> {
    let new = args.last().copied().unwrap_or_default();
    let old = expected
        .oid
        .clone()
        .unwrap_or_else(|| "0".repeat(new.len()));
    repo.git()
        .args(["update-ref", "-m", reflog])
        .args(args)
        .arg(old)
        .run()
        .map(|_| ())
}

/// Points `branch`, which is not checked out here, at `base`: only when it is at `base` already
/// or does not exist (the caller refused any other case; a move since fails the swap).
fn move_other_branch(repo: &Repo, branch: &str, base: Option<&str>, reflog: &str) -> Result<()> {
    let Some(base) = base else { return Ok(()) };
    let tip = repo
        .git()
        .args(["rev-parse", "-q", "--verify", "--end-of-options", branch])
        .output()?;
    let old = if tip.code == Some(0) {
        tip.text()
    } else {
        "0".repeat(base.len())
    };
    if tip.code == Some(0) && old != base {
        return Err(Error::RefMoved {
            name: branch.to_owned(),
            detail: format!("is at {old} but expected {base}"),
        });
    }
    repo.git()
        .args(["update-ref", "-m", reflog, branch, base, &old])
        .run()
        .map(|_| ())
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
        return repo
            .git()
            .args(["symbolic-ref", "HEAD", branch])
            .run()
            .map(|_| ());
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
    repo.git()
        .args(["update-ref", "-m", reflog, "-d", "HEAD", old])
        .run()
        .map(|_| ())
}

/// Removes the files and symlinks that `from_tree` holds and `to_commit` does not. Folders,
/// submodules and anything behind a symlinked folder are left alone.
fn remove_extra_files(repo: &Repo, from_tree: &str, to_commit: &str) -> Result<Vec<String>> {
    let out = repo
        .git()
        .args([
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--diff-filter=D",
            from_tree,
            to_commit,
            "--",
        ])
        .run()?;
    let mut candidates: Vec<&[u8]> = Vec::new();
    let mut records = out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty());
    while let (Some(meta), Some(path)) = (records.next(), records.next()) {
        // ":100644 000000 <old> <new> D"
        let old_mode = meta.get(1..7).unwrap_or_default();
        if matches!(old_mode, b"100644" | b"100755" | b"120000") {
            candidates.push(path);
        }
    }
    // Reported as removed: every file S holds that the target does not and that is gone now,
    // whether we remove it or the checkout already did (e.g. its folder became a symlink).
    let mut removed = Vec::new();
    let mut present: Vec<&[u8]> = Vec::new();
    for path in candidates {
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
    // A file the restored ignore rules ignore was ignored when the target was captured too (that
    // is why the target lacks it): it was not created since, and ignored files are never touched.
    let ignored = ignored_paths(repo, &present)?;
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
    removed.sort();
    Ok(removed)
}

/// Returns the subset of `paths` that the work tree's ignore rules ignore.
fn ignored_paths(repo: &Repo, paths: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    // check-ignore takes no `--literal-pathspecs`; a leading "./" keeps a name such as ":!x"
    // from being read as pathspec magic.
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(b"./");
        input.extend_from_slice(path);
        input.push(0);
    }
    // Exit 1 means "none is ignored".
    let out = repo
        .git()
        .args(["check-ignore", "-z", "--stdin"])
        .stdin(input)
        .output()?;
    if !matches!(out.code, Some(0) | Some(1)) {
        return Err(crate::git::git_error("check-ignore".to_owned(), &out));
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| p.strip_prefix(b"./").unwrap_or(p).to_vec())
        .collect())
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
