//! [`Observed`]: everything a user (or the tool's next run) can see of a repository, read without
//! writing anything. "Nothing changed" means `observe` before and after are equal: HEAD and its
//! branch, every ref, the index (bytes and `ls-files -s`), every work-tree file (untracked and
//! ignored ones included), `git status --ignored`, and every byte the tool keeps under `.flow`
//! (the session logs).

use std::fs;
use std::path::Path;

use crate::{assert_state, head_branch, index_listing, refs, resolve, State, TestRepo};

/// Everything observable about a repository; `==` means nothing changed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `refs/heads/main`, or `None` when detached.
    pub symbolic_head: Option<String>,
    /// The commit HEAD points at (`None` when unborn).
    pub head: Option<String>,
    /// The user's index file, byte for byte.
    pub index_bytes: Vec<u8>,
    /// `git ls-files -s` (modes, blobs, stages of the index).
    pub index: String,
    /// `git status --porcelain -uall --ignored`, without the tool's session folder.
    pub status: String,
    /// Every ref as `name oid`, the tool's private ones included.
    pub refs: Vec<String>,
    /// Every file of the work tree (outside `.git` and `.flow`).
    pub files: State,
    /// Every folder (`None`) and file (its bytes) under `.flow`, or `None` when `.flow` does not
    /// exist: the session logs, byte for byte.
    pub tool_files: Option<Vec<(String, Option<Vec<u8>>)>>,
}

impl Observed {
    /// Returns the refs a user sees: all but the tool's private `refs/checkpoint*`.
    pub fn public_refs(&self) -> Vec<&str> {
        self.refs
            .iter()
            .map(String::as_str)
            .filter(|r| !r.starts_with("refs/checkpoint"))
            .collect()
    }

    /// Returns the tag refs.
    pub fn tags(&self) -> Vec<&str> {
        self.refs
            .iter()
            .map(String::as_str)
            .filter(|r| r.starts_with("refs/tags/"))
            .collect()
    }
}

/// Reads an [`Observed`].
pub fn observe(repo: &TestRepo) -> Observed {
    let flow = repo.join(".flow");
    Observed {
        symbolic_head: head_branch(repo),
        head: resolve(repo, "HEAD"),
        index_bytes: repo.index_bytes(),
        index: index_listing(repo),
        status: repo.status_with_ignored(),
        refs: refs(repo),
        files: repo.tree_state(),
        tool_files: fs::symlink_metadata(&flow).is_ok().then(|| {
            let mut out = Vec::new();
            walk_all(repo.path(), &flow, &mut out);
            out.sort();
            out
        }),
    }
}

/// Asserts that nothing a user sees differs between `want` and `got`: everything of
/// [`Observed`] but the tool's private refs and its `.flow` folder (an operation that succeeds
/// writes those).
#[track_caller]
pub fn assert_same_for_user(want: &Observed, got: &Observed, what: &str) {
    assert_eq!(want.symbolic_head, got.symbolic_head, "{what}: branch");
    assert_eq!(want.head, got.head, "{what}: HEAD");
    assert!(
        want.index_bytes == got.index_bytes,
        "{what}: the user's index file changed"
    );
    assert_eq!(want.index, got.index, "{what}: index");
    assert_eq!(want.status, got.status, "{what}: git status");
    assert_eq!(
        want.public_refs(),
        got.public_refs(),
        "{what}: branches and tags"
    );
    assert_state(&want.files, &got.files, what);
}

/// Lists `path` and, when it is a real folder, everything under it (links are not followed).
fn walk_all(root: &Path, path: &Path, out: &mut Vec<(String, Option<Vec<u8>>)>) {
    let rel = path
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let meta = fs::symlink_metadata(path).unwrap();
    if meta.is_dir() {
        out.push((rel, None));
        for entry in fs::read_dir(path).unwrap() {
            walk_all(root, &entry.unwrap().path(), out);
        }
    } else if meta.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap();
        out.push((
            rel,
            Some(target.to_string_lossy().into_owned().into_bytes()),
        ));
    } else {
        out.push((rel, Some(fs::read(path).unwrap())));
    }
}
