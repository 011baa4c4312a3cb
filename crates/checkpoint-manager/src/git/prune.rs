//! What retention needs from git: refs with their dates, the disk bytes of the objects only some
//! refs reach (what `git gc --prune=now` would reclaim once those refs are gone), and that gc.

use super::Repo;
use crate::error::{Error, Result};

/// A ref with what it points at and when that object was made (the tagger date of a tag
/// object, the committer date of a commit), as `for-each-ref` reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedRef {
    pub name: String,
    pub oid: String,
    /// `tag`, `commit`, ...
    pub kind: String,
    /// ISO 8601 (`2026-12-04T17:00:00+00:00`); empty when git knows no date.
    pub date: String,
}

/// Returns the refs under `prefix` (such as `refs/checkpoint-trash/<session>/`) with their dates.
pub fn dated_refs(repo: &Repo, prefix: &str) -> Result<Vec<DatedRef>> {
    let out = repo
        .git()
        .args([
            "for-each-ref",
            "--format=%(refname) %(objectname) %(objecttype) %(creatordate:iso-strict)",
            prefix,
        ])
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.splitn(4, ' ');
            Some(DatedRef {
                name: words.next()?.to_owned(),
                oid: words.next()?.to_owned(),
                kind: words.next()?.to_owned(),
                date: words.next().unwrap_or("").to_owned(),
            })
        })
        .collect())
}

/// Returns the disk bytes (`%(objectsize:disk)`: compressed, or the delta in a pack) of the
/// objects reachable from `tips` and from no ref outside `leaving`, nor from HEAD, a reflog or
/// the index: exactly what `git gc --prune=now` can delete once the refs in `leaving` are gone.
pub fn bytes_only_reachable_from(repo: &Repo, tips: &[String], leaving: &[String]) -> Result<u64> {
    if tips.is_empty() {
        return Ok(0);
    }
    let objects = objects_only_reachable(repo, tips_and_exclusions(repo, tips, leaving)?)?;
    if objects.is_empty() {
        return Ok(0);
    }
    disk_bytes(repo, objects)
}

/// `rev-list --stdin`'s input: the tips, then `^oid` for every ref not in `leaving` and HEAD.
fn tips_and_exclusions(repo: &Repo, tips: &[String], leaving: &[String]) -> Result<String> {
    let mut input = String::new();
    for tip in tips {
        input.push_str(&format!("{tip}\n"));
    }
    for (name, oid, _) in super::local_refs(repo, "refs/")? {
        if !leaving.contains(&name) {
            input.push_str(&format!("^{oid}\n"));
        }
    }
    if let Some(head) = super::resolve(repo, "HEAD")? {
        input.push_str(&format!("^{head}\n"));
    }
    Ok(input)
}

/// Lists (one id a line) the objects `input` reaches that no reflog nor the index reaches.
fn objects_only_reachable(repo: &Repo, input: String) -> Result<String> {
    // `--stdin` first: its revisions are read where it stands, before `--not` flips the rest.
    let listed = repo
        .git()
        .args([
            "rev-list",
            "--objects",
            "--stdin",
            "--not",
            "--reflog",
            "--indexed-objects",
        ])
        .stdin(input.into_bytes())
        .run()?;
    Ok(String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split(' ').next())
        .map(|oid| format!("{oid}\n"))
        .collect())
}

/// Sums the disk bytes of `objects` (one id a line).
fn disk_bytes(repo: &Repo, objects: String) -> Result<u64> {
    let sizes = repo
        .git()
        .args(["cat-file", "--batch-check=%(objectsize:disk)"])
        .stdin(objects.into_bytes())
        .run()?;
    String::from_utf8_lossy(&sizes.stdout)
        .lines()
        .try_fold(0u64, |sum, line| {
            line.trim()
                .parse::<u64>()
                .map(|n| sum + n)
                .map_err(|_| Error::GitOutput {
                    args: "cat-file --batch-check=%(objectsize:disk)".into(),
                    detail: format!("not a size: {line:?}"),
                })
        })
}

/// Runs `git gc --prune=now`: unreachable objects are deleted at once, not after two weeks.
/// Its reflog expiry follows the user's config, as a plain `git gc` would.
pub fn gc_prune_now(repo: &Repo) -> Result<()> {
    repo.git()
        .args(["gc", "--prune=now", "--quiet"])
        .run()
        .map(|_| ())
}
