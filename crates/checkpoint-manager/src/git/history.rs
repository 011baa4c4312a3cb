//! Questions about commit history.

use super::Repo;
use crate::error::Result;

/// Returns true when `ancestor` is in the history of `descendant` (or is it).
pub fn is_ancestor(repo: &Repo, ancestor: &str, descendant: &str) -> Result<bool> {
    let out = repo
        .git()
        .args(["merge-base", "--is-ancestor", ancestor, descendant])
        .output()?;
    match out.code {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(super::git_error(
            "merge-base --is-ancestor".to_owned(),
            &out,
        )),
    }
}
