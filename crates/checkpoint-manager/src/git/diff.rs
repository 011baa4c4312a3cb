//! Comparing trees, the index and the work tree (`diff-index`, `diff-tree`), and listing trees
//! (`ls-tree`).

use std::ffi::OsString;

use super::Repo;
use crate::error::Result;

/// One record of a raw diff: the modes on both sides (`000000`: absent) and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDiff {
    pub old_mode: Vec<u8>,
    pub new_mode: Vec<u8>,
    pub path: Vec<u8>,
}

/// Parses `-z` raw diff output: `:<old mode> <new mode> <old> <new> <status>\0<path>\0`.
fn parse_raw_diff(out: &[u8]) -> Vec<RawDiff> {
    let mut records = out.split(|b| *b == 0).filter(|r| !r.is_empty());
    let mut parsed = Vec::new();
    while let (Some(meta), Some(path)) = (records.next(), records.next()) {
        let mut fields = meta
            .strip_prefix(b":")
            .unwrap_or(meta)
            .split(|b| *b == b' ');
        if let (Some(old_mode), Some(new_mode)) = (fields.next(), fields.next()) {
            parsed.push(RawDiff {
                old_mode: old_mode.to_vec(),
                new_mode: new_mode.to_vec(),
                path: path.to_vec(),
            });
        }
    }
    parsed
}

/// Compares `commit` (the old side) with the index (`cached`) or with the work tree as the index
/// sees it (also files that only look changed by their stat data).
pub fn diff_index(repo: &Repo, commit: &str, cached: bool) -> Result<Vec<RawDiff>> {
    let mut git = repo.git().arg("diff-index");
    if cached {
        git = git.arg("--cached");
    }
    let out = git.args(["-z", "--no-renames", commit, "--"]).run()?;
    Ok(parse_raw_diff(&out.stdout))
}

/// Lists the paths whose content differs between the trees `from` and `to`.
pub fn changed_paths(repo: &Repo, from: &str, to: &str) -> Result<Vec<Vec<u8>>> {
    let out = repo
        .git()
        .args([
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--name-only",
            from,
            to,
            "--",
        ])
        .run()?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// Lists what `from` has and `to` does not (`diff-tree --diff-filter=D`).
pub fn deleted_between(repo: &Repo, from: &str, to: &str) -> Result<Vec<RawDiff>> {
    let out = repo
        .git()
        .args([
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--diff-filter=D",
            from,
            to,
            "--",
        ])
        .run()?;
    Ok(parse_raw_diff(&out.stdout))
}

/// One entry of a tree listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub mode: Vec<u8>,
    /// `blob`, `tree` or `commit`.
    pub kind: Vec<u8>,
    pub oid: String,
    pub path: Vec<u8>,
}

/// Parses `ls-tree -z` output: `<mode> <type> <oid>\t<path>\0`.
pub(super) fn parse_tree_listing(out: &[u8]) -> Vec<TreeEntry> {
    out.split(|b| *b == 0)
        .filter_map(|record| {
            let tab = record.iter().position(|b| *b == b'\t')?;
            let mut fields = record[..tab].split(|b| *b == b' ');
            Some(TreeEntry {
                mode: fields.next()?.to_vec(),
                kind: fields.next()?.to_vec(),
                oid: String::from_utf8_lossy(fields.next()?).into_owned(),
                path: record[tab + 1..].to_vec(),
            })
        })
        .collect()
}

/// Lists the entries of `tree_ish` at `pathspecs` (literal), not recursing.
pub fn list_tree_at(repo: &Repo, tree_ish: &str, pathspecs: &[OsString]) -> Result<Vec<TreeEntry>> {
    let out = repo
        .git()
        .args(["--literal-pathspecs", "ls-tree", "-z", tree_ish, "--"])
        .args(pathspecs)
        .run()?;
    Ok(parse_tree_listing(&out.stdout))
}

/// Lists every file of `tree`, recursively.
pub fn list_tree_files(repo: &Repo, tree: &str) -> Result<Vec<TreeEntry>> {
    let out = repo
        .git()
        .args(["ls-tree", "-r", "-z", "--full-tree", tree])
        .run()?;
    Ok(parse_tree_listing(&out.stdout))
}
