//! Talking to a git remote: typed `ls-remote`, `push` with explicit refspecs and `fetch` into a
//! private staging namespace. Git does the talking, so every transport, the user's credentials,
//! `insteadOf`, proxies and ssh config apply; we only pin what keeps the call ours (no tags
//! followed, no remote-tracking refs updated, no FETCH_HEAD written).

use crate::error::{Error, Result};

use super::Repo;

/// The git config key naming the remote `push` and `pull` use when none is given.
pub const REMOTE_CONFIG_KEY: &str = "checkpoint-manager.remote";

/// Returns the remote to use: `checkpoint-manager.remote` from git config, or `origin`.
pub fn default_remote(repo: &Repo) -> Result<String> {
    let out = repo
        .git()
        .args(["config", "--get", REMOTE_CONFIG_KEY])
        .output()?;
    let configured = out.text();
    Ok(if out.code == Some(0) && !configured.is_empty() {
        configured
    } else {
        "origin".to_owned()
    })
}

/// Refuses a remote name or URL git would read as an option (a value starting with `-`), or
/// one that is empty or holds a NUL or a newline.
pub fn check_remote(remote: &str) -> Result<()> {
    if remote.is_empty() || remote.starts_with('-') || remote.contains(['\0', '\n']) {
        return Err(Error::InvalidRemote {
            remote: remote.to_owned(),
        });
    }
    Ok(())
}

/// Returns the refs (name, object id) the remote has under each of `prefixes` (such as
/// `refs/checkpoints/`); fails when the remote cannot be reached.
pub fn ls_remote(repo: &Repo, remote: &str, prefixes: &[String]) -> Result<Vec<(String, String)>> {
    check_remote(remote)?;
    let patterns: Vec<String> = prefixes.iter().map(|p| format!("{p}*")).collect();
    let out = repo
        .git()
        .args(["ls-remote", "--refs", "--end-of-options", remote])
        .args(&patterns)
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, name)| prefixes.iter().any(|p| name.starts_with(p.as_str())))
        .map(|(oid, name)| (name.to_owned(), oid.to_owned()))
        .collect())
}

/// One ref update sent by [`push`]: `source` (a local ref, or `None` to delete) to `target` on
/// the remote, which must hold `expected` (`None`: must not exist) or the push is refused.
#[derive(Debug, Clone)]
pub struct RemoteUpdate {
    pub source: Option<String>,
    pub target: String,
    pub expected: Option<String>,
}

/// Pushes exactly `updates`, all or none (`--atomic`), each guarded by `--force-with-lease`, so
/// a ref someone else wrote meanwhile is never overwritten and nothing else is sent.
pub fn push(repo: &Repo, remote: &str, updates: &[RemoteUpdate]) -> Result<()> {
    check_remote(remote)?;
    if updates.is_empty() {
        return Ok(());
    }
    let leases = updates.iter().map(|u| {
        format!(
            "--force-with-lease={}:{}",
            u.target,
            u.expected.as_deref().unwrap_or("")
        )
    });
    let specs = updates
        .iter()
        .map(|u| format!("{}:{}", u.source.as_deref().unwrap_or(""), u.target));
    repo.git()
        .args(["push", "--atomic", "--no-verify", "--quiet"])
        .args(leases)
        .args(["--end-of-options", remote])
        .args(specs)
        .run()
        .map(|_| ())
}

/// Fetches the remote's refs matching `source_prefix` (such as `refs/checkpoints/<session>/`)
/// into `staging_prefix`, forced (the staging refs are ours alone). Only the objects those refs
/// reach are fetched, and git checks they are all there before writing any ref.
pub fn fetch_into(
    repo: &Repo,
    remote: &str,
    source_prefix: &str,
    staging_prefix: &str,
) -> Result<()> {
    check_remote(remote)?;
    repo.git()
        .args([
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            "--refmap=",
            "--quiet",
            "--end-of-options",
            remote,
        ])
        .arg(format!("+{source_prefix}*:{staging_prefix}*"))
        .run()
        .map(|_| ())
}

/// Returns the local refs (name, object id, object type) under `prefix`.
pub fn local_refs(repo: &Repo, prefix: &str) -> Result<Vec<(String, String, String)>> {
    let out = repo
        .git()
        .args([
            "for-each-ref",
            "--format=%(refname) %(objectname) %(objecttype)",
            prefix,
        ])
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.splitn(3, ' ');
            Some((
                words.next()?.to_owned(),
                words.next()?.to_owned(),
                words.next()?.to_owned(),
            ))
        })
        .collect())
}
