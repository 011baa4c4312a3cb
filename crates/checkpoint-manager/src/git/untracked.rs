//! `git ls-files --others --directory`: untracked folders folded into one entry each, as
//! `git status` shows them by default.

use crate::error::Result;

use super::Repo;

/// Lists the untracked, not ignored paths with every wholly untracked folder folded into one
/// entry ending in `/` (its top-most untracked folder); nested repositories end in `/` too.
pub fn untracked_top_folders(repo: &Repo) -> Result<Vec<Vec<u8>>> {
    let out = repo
        .git()
        .args([
            "ls-files",
            "-z",
            "--others",
            "--directory",
            "--no-empty-directory",
            "--exclude-standard",
        ])
        .run()?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| p.ends_with(b"/"))
        .map(<[u8]>::to_vec)
        .collect())
}
