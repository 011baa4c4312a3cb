//! The index: staging (`update-index`, `add`), listing (`ls-files`), loading a tree into an
//! index (`read-tree`) and writing its tree (`write-tree`), on the user's index or a private one.

use std::ffi::OsString;
use std::path::Path;

use super::{GitCommand, Repo};
use crate::error::Result;
use crate::paths::nul_separated;

/// Which index a git call works on.
#[derive(Debug, Clone, Copy)]
pub enum IndexFile<'a> {
    /// The user's own index.
    User,
    /// A copy of the user's index that will replace it: written in the user's format.
    Replacement(&'a Path),
    /// A private index only this tool reads: written in the cheapest format.
    Scratch(&'a Path),
}

impl IndexFile<'_> {
    pub(super) fn git(self, repo: &Repo) -> GitCommand {
        let git = repo.git();
        match self {
            IndexFile::User => git,
            IndexFile::Replacement(path) => git.index_file(path),
            IndexFile::Scratch(path) => git.scratch_index(path),
        }
    }
}

/// How [`add_paths`] treats a file whose bytes git's end-of-line conversion would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    /// Convert, as `git add` does.
    Convert,
    /// Refuse (`core.safecrlf=true`): the call fails with git's "would be replaced by".
    Refuse,
}

fn paths_on_stdin(paths: &[impl AsRef<[u8]>]) -> Vec<u8> {
    nul_separated(paths.iter().map(AsRef::as_ref))
}

/// Removes the entries of `paths` outright (`update-index --force-remove`).
pub fn remove_entries(repo: &Repo, index: IndexFile<'_>, paths: &[impl AsRef<[u8]>]) -> Result<()> {
    index
        .git(repo)
        .args(["update-index", "--force-remove", "-z", "--stdin"])
        .stdin(paths_on_stdin(paths))
        .run()
        .map(|_| ())
}

/// Stages the work-tree content of `paths`, deletions included (`update-index --add --remove`).
pub fn add_paths(
    repo: &Repo,
    index: IndexFile<'_>,
    paths: &[impl AsRef<[u8]>],
    eol: Eol,
) -> Result<()> {
    let mut git = index.git(repo);
    if eol == Eol::Refuse {
        git = git.args(["-c", "core.safecrlf=true"]);
    }
    git.args([
        "update-index",
        "--add",
        "--remove",
        "--replace",
        "-z",
        "--stdin",
    ])
    .stdin(paths_on_stdin(paths))
    .run()
    .map(|_| ())
}

/// Points the entries of `paths` at their work-tree files with fresh stat data (`update-index
/// --add --replace`), for files known to hold what the entry should.
pub fn refresh_entries(repo: &Repo, paths: &[impl AsRef<[u8]>]) -> Result<()> {
    repo.git()
        .args(["update-index", "--add", "--replace", "-z", "--stdin"])
        .stdin(paths_on_stdin(paths))
        .run()
        .map(|_| ())
}

/// Force-stages `paths` even when ignored (`add --force --all`).
pub fn force_add(repo: &Repo, index: IndexFile<'_>, paths: &[impl AsRef<[u8]>]) -> Result<()> {
    index
        .git(repo)
        .args([
            "--literal-pathspecs",
            "add",
            "--force",
            "--all",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
        ])
        .stdin(paths_on_stdin(paths))
        .run()
        .map(|_| ())
}

/// One index entry: mode, blob id, stage (0 unless unmerged), path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub mode: Vec<u8>,
    pub oid: String,
    pub stage: u8,
    pub path: Vec<u8>,
}

/// Puts `entries` in `index` as they are (`update-index --add --index-info`).
pub fn add_entries(repo: &Repo, index: IndexFile<'_>, entries: &[IndexEntry]) -> Result<()> {
    let mut input = Vec::new();
    for entry in entries {
        input.extend_from_slice(&entry.mode);
        input.push(b' ');
        input.extend_from_slice(entry.oid.as_bytes());
        input.extend_from_slice(format!(" {}\t", entry.stage).as_bytes());
        input.extend_from_slice(&entry.path);
        input.push(0);
    }
    index
        .git(repo)
        .args(["update-index", "--add", "-z", "--index-info"])
        .stdin(input)
        .run()
        .map(|_| ())
}

/// A flag git keeps on an index entry.
#[derive(Debug, Clone, Copy)]
pub enum EntryFlag {
    AssumeUnchanged,
    SkipWorktree,
}

/// Sets (`on`) or clears `flag` on the entries of `paths`.
pub fn set_flag(
    repo: &Repo,
    index: IndexFile<'_>,
    flag: EntryFlag,
    on: bool,
    paths: &[impl AsRef<[u8]>],
) -> Result<()> {
    let option = match (flag, on) {
        (EntryFlag::AssumeUnchanged, true) => "--assume-unchanged",
        (EntryFlag::AssumeUnchanged, false) => "--no-assume-unchanged",
        (EntryFlag::SkipWorktree, true) => "--skip-worktree",
        (EntryFlag::SkipWorktree, false) => "--no-skip-worktree",
    };
    index
        .git(repo)
        .args(["update-index", option, "-z", "--stdin"])
        .stdin(paths_on_stdin(paths))
        .run()
        .map(|_| ())
}

/// Lists the paths of `index` under `pathspecs` (literal), NUL-separated as git prints them.
pub fn list_paths(repo: &Repo, index: IndexFile<'_>, pathspecs: &[OsString]) -> Result<Vec<u8>> {
    Ok(index
        .git(repo)
        .args(["--literal-pathspecs", "ls-files", "-z", "--"])
        .args(pathspecs)
        .run()?
        .stdout)
}

/// Lists the entries (mode, blob id, path) of `index`, limited to `pathspecs` (literal) when
/// some are given.
pub fn staged_entries(
    repo: &Repo,
    index: IndexFile<'_>,
    pathspecs: &[OsString],
) -> Result<Vec<IndexEntry>> {
    let out = index
        .git(repo)
        .args(["--literal-pathspecs", "ls-files", "-s", "-z", "--"])
        .args(pathspecs)
        .run()?;
    // "<mode> <oid> <stage>\t<path>"
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter_map(|record| {
            let tab = record.iter().position(|b| *b == b'\t')?;
            let mut fields = record[..tab].split(|b| *b == b' ');
            Some(IndexEntry {
                mode: fields.next()?.to_vec(),
                oid: String::from_utf8_lossy(fields.next()?).into_owned(),
                stage: std::str::from_utf8(fields.next()?).ok()?.parse().ok()?,
                path: record[tab + 1..].to_vec(),
            })
        })
        .collect())
}

/// Lists the entries of `index` with `ls-files -v`'s one-letter tag (lowercase: assume-unchanged,
/// `S`: skip-worktree).
pub fn tagged_entries(repo: &Repo, index: IndexFile<'_>) -> Result<Vec<(u8, Vec<u8>)>> {
    let out = index.git(repo).args(["ls-files", "-v", "-z"]).run()?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|r| r.len() > 2 && r[1] == b' ')
        .map(|r| (r[0], r[2..].to_vec()))
        .collect())
}

/// Lists the paths under `pathspecs` (literal; none: all) marked skip-worktree in the user's
/// index: git neither reads nor writes their files, so a snapshot never holds their bytes.
pub fn skip_worktree_paths(repo: &Repo, pathspecs: &[OsString]) -> Result<Vec<Vec<u8>>> {
    let out = repo
        .git()
        .args(["--literal-pathspecs", "ls-files", "-t", "-z", "--"])
        .args(pathspecs)
        .run()?;
    // "<tag> <path>": `S` marks skip-worktree.
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|r| r.len() > 2 && r[0] == b'S' && r[1] == b' ')
        .map(|r| r[2..].to_vec())
        .collect())
}

/// Writes the tree of `index`.
pub fn write_tree(repo: &Repo, index: IndexFile<'_>) -> Result<String> {
    index.git(repo).arg("write-tree").run_text()
}

/// Loads `tree` into `index`, replacing what it held (`read-tree`).
pub fn read_tree(repo: &Repo, index: IndexFile<'_>, tree: &str) -> Result<()> {
    index.git(repo).args(["read-tree", tree]).run().map(|_| ())
}

/// Loads `tree` into the user's index, keeping the stat data of entries equal to the work tree
/// (`read-tree --reset`).
pub fn reset_index_to(repo: &Repo, tree: &str) -> Result<()> {
    repo.git()
        .args(["read-tree", "--reset", tree])
        .run()
        .map(|_| ())
}

/// Empties the user's index (`read-tree --empty`).
pub fn empty_user_index(repo: &Repo) -> Result<()> {
    repo.git().args(["read-tree", "--empty"]).run().map(|_| ())
}
