//! Writing the work tree: checking a tree out over it, and resetting the index to a commit.

use super::Repo;
use crate::error::Result;

/// Makes the work tree and the index `tree`'s (`read-tree -u --reset`): local changes to
/// tracked files are overwritten, untracked files the tree does not have are left alone.
pub fn checkout_tree(repo: &Repo, tree: &str) -> Result<()> {
    repo.git()
        .args(["read-tree", "-u", "--reset", tree])
        .run()
        .map(|_| ())
}

/// Makes the user's index `commit`'s, leaving the work tree as it is (`reset -q <commit> -- .`).
pub fn reset_index_to_commit(repo: &Repo, commit: &str) -> Result<()> {
    repo.git()
        .args(["reset", "-q", commit, "--", "."])
        .run()
        .map(|_| ())
}
