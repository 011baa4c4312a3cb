//! What the user's configuration and rules files say: config values, attributes, ignore rules.

use super::Repo;
use crate::error::Result;
use crate::paths::nul_separated;

/// Tells whether `core.autocrlf` or `core.eol` is set to anything but `false`.
pub fn eol_conversion_configured(repo: &Repo) -> Result<bool> {
    let config = repo
        .git()
        .args(["config", "-z", "--get-regexp", r"^core\.(autocrlf|eol)$"])
        .output()?;
    let set = |kv: &[u8]| {
        kv.split(|b| *b == b'\n')
            .nth(1)
            .is_some_and(|v| v != b"false")
    };
    Ok(config.code == Some(0) && config.stdout.split(|b| *b == 0).any(set))
}

/// Tells whether any of `paths` has one of the `text`, `eol` or `crlf` attributes specified.
pub fn eol_attributes_set(repo: &Repo, paths: &[Vec<u8>]) -> Result<bool> {
    let out = repo
        .git()
        .args(["check-attr", "-z", "--stdin", "text", "eol", "crlf"])
        .stdin(nul_separated(paths.iter().map(|p| p.as_slice())))
        .run()?;
    // "<path>\0<attribute>\0<value>\0" per path and attribute.
    let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    Ok(fields
        .chunks(3)
        .any(|c| c.len() == 3 && c[2] != b"unspecified"))
}

/// Returns the subset of `paths` that the work tree's ignore rules ignore.
pub fn ignored_paths(repo: &Repo, paths: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
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
        return Err(super::git_error("check-ignore".to_owned(), &out));
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| p.strip_prefix(b"./").unwrap_or(p).to_vec())
        .collect())
}

/// Returns every `checkpoint-manager.*` value git config holds (git's own rules: system, global,
/// repository, worktree, `-c`, `GIT_CONFIG_*`), keys in git's lower-case spelling, the last
/// value of a key winning as in `git config --get`. One process for all of the tool's settings.
pub fn tool_values(repo: &Repo) -> Result<Vec<(String, String)>> {
    // Read with the settings that decide how objects are written: one process for both, and
    // read afresh for each operation (a long-lived process sees a key set meanwhile).
    Ok(repo.read_tool_values())
}

/// Returns the pager git itself would use (`GIT_PAGER`, `core.pager`, `PAGER`, then `less`),
/// or `None` when that is `cat` or empty (paging turned off).
pub fn pager(repo: &Repo) -> Result<Option<String>> {
    let out = repo
        .git()
        .users_pager()
        .args(["var", "GIT_PAGER"])
        .output()?;
    let pager = out.text();
    Ok((out.code == Some(0) && !pager.is_empty() && pager != "cat").then_some(pager))
}
