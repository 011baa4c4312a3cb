//! Restoring chosen paths: listing a tree's files under literal pathspecs, checking files out of
//! a private index, and replacing the user's index entries at those paths.

use std::ffi::OsString;

use super::diff::parse_tree_listing;
pub use super::diff::TreeEntry;
use super::{IndexEntry, IndexFile, Repo};
use crate::error::Result;

/// Lists every file, symlink and gitlink of `tree` under `pathspecs` (literal, from the top of
/// the work tree; none: the whole tree), recursively.
pub fn list_files_under(repo: &Repo, tree: &str, pathspecs: &[OsString]) -> Result<Vec<TreeEntry>> {
    let out = repo
        .git()
        .args([
            "--literal-pathspecs",
            "ls-tree",
            "-r",
            "-z",
            "--full-tree",
            tree,
            "--",
        ])
        .args(pathspecs)
        .run()?;
    Ok(parse_tree_listing(&out.stdout))
}

/// Writes every entry of the private index `scratch` into the work tree through the user's
/// filters, overwriting what is there (`checkout-index -f -a`); the user's index is not read or
/// written.
pub fn check_out_scratch(repo: &Repo, scratch: &std::path::Path) -> Result<()> {
    IndexFile::Scratch(scratch)
        .git(repo)
        .args(["checkout-index", "-f", "-a"])
        .run()
        .map(|_| ())
}

/// Puts `entries` in the user's index, replacing any entry in their way (a file where a folder
/// goes, or the reverse: `update-index --add --replace --index-info`).
pub fn replace_entries(repo: &Repo, entries: &[IndexEntry]) -> Result<()> {
    let mut input = Vec::new();
    for entry in entries {
        input.extend_from_slice(&entry.mode);
        input.push(b' ');
        input.extend_from_slice(entry.oid.as_bytes());
        input.extend_from_slice(b" 0\t");
        input.extend_from_slice(&entry.path);
        input.push(0);
    }
    repo.git()
        .args(["update-index", "--add", "--replace", "-z", "--index-info"])
        .stdin(input)
        .run()
        .map(|_| ())
}
