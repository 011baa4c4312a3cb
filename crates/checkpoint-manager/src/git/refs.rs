//! Refs: atomic `update-ref --stdin` transactions, compare-and-swap moves of HEAD and branches,
//! symbolic HEAD, and `for-each-ref` / `rev-parse` reads.

use std::collections::HashMap;

use super::Repo;
use crate::error::Result;

/// A set of ref updates applied atomically by one `git update-ref --stdin`.
#[derive(Debug, Default)]
pub struct RefTransaction {
    lines: String,
}

impl RefTransaction {
    /// Creates `name`, which must not exist yet.
    pub fn create(&mut self, name: &str, oid: &str) -> &mut Self {
        self.lines.push_str(&format!("create {name} {oid}\n"));
        self
    }

    /// Moves `name` (following a symbolic ref such as HEAD) to `oid`, checking its old value.
    pub fn update(&mut self, name: &str, oid: &str, old: Option<&str>) -> &mut Self {
        let old = old.map_or_else(|| zero_oid(oid), str::to_owned);
        self.lines.push_str(&format!("update {name} {oid} {old}\n"));
        self
    }

    /// Checks that `name` is still `old` (`None`: does not exist), changing nothing: the whole
    /// transaction fails if it moved.
    pub fn verify(&mut self, name: &str, old: Option<&str>) -> &mut Self {
        // `no-deref`: a plain `verify` of HEAD (or of the branch it points at) writes a bogus
        // entry (new id all zeros, no message) into HEAD's reflog; with `no-deref` git still
        // compares the value HEAD resolves to, and logs nothing.
        self.lines.push_str("option no-deref\n");
        match old {
            Some(old) => self.lines.push_str(&format!("verify {name} {old}\n")),
            None => self.lines.push_str(&format!("verify {name}\n")),
        }
        self
    }

    /// Points `name` at `oid` whatever it held before.
    pub fn set(&mut self, name: &str, oid: &str) -> &mut Self {
        self.lines.push_str(&format!("update {name} {oid}\n"));
        self
    }

    /// Deletes `name`, checking its old value.
    pub fn delete(&mut self, name: &str, old: &str) -> &mut Self {
        self.lines.push_str(&format!("delete {name} {old}\n"));
        self
    }

    /// Applies every update or none.
    pub fn commit(&self, repo: &Repo, reflog_message: &str) -> Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        repo.git()
            .args(["update-ref", "-m", reflog_message, "--stdin"])
            .stdin(self.lines.clone().into_bytes())
            .run()
            .map(|_| ())
    }
}

/// Returns the all-zero id of the same hash length as `oid` (sha1 or sha256).
pub fn zero_oid(oid: &str) -> String {
    "0".repeat(oid.len())
}

/// Moves `name` to `new` only if it still holds `old` (`None`: must not exist). `no_deref`
/// moves a symbolic ref itself (detaches HEAD) instead of what it points at.
pub fn move_ref(
    repo: &Repo,
    name: &str,
    new: &str,
    old: Option<&str>,
    no_deref: bool,
    reflog: &str,
) -> Result<()> {
    let old = old.map_or_else(|| zero_oid(new), str::to_owned);
    let mut git = repo.git().args(["update-ref", "-m", reflog]);
    if no_deref {
        git = git.arg("--no-deref");
    }
    git.args([name, new, &old]).run().map(|_| ())
}

/// Deletes `name` (following HEAD to its branch) only if it still holds `old`.
pub fn delete_ref(repo: &Repo, name: &str, old: &str, reflog: &str) -> Result<()> {
    repo.git()
        .args(["update-ref", "-m", reflog, "-d", name, old])
        .run()
        .map(|_| ())
}

/// Makes HEAD the symbolic ref `branch` with `git symbolic-ref` (no compare-and-swap: used only
/// where git keeps HEAD in a store we cannot lock ourselves).
pub fn set_symbolic_head(repo: &Repo, branch: &str) -> Result<()> {
    repo.git()
        .args(["symbolic-ref", "HEAD", branch])
        .run()
        .map(|_| ())
}

/// Returns the commit `name` resolves to, or `None` when it does not resolve.
pub fn resolve(repo: &Repo, name: &str) -> Result<Option<String>> {
    let out = repo
        .git()
        .args(["rev-parse", "-q", "--verify", "--end-of-options", name])
        .output()?;
    Ok((out.code == Some(0)).then(|| out.text()))
}

/// Returns the tree of `commit`.
pub fn tree_of(repo: &Repo, commit: &str) -> Result<String> {
    repo.git()
        .args(["rev-parse", "--verify", &format!("{commit}^{{tree}}")])
        .run_text()
}

/// Returns the current value of each ref in `names` that exists.
pub fn read_refs(repo: &Repo, names: &[String]) -> Result<HashMap<String, String>> {
    let out = repo
        .git()
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .args(names)
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .map(|(name, oid)| (name.to_owned(), oid.to_owned()))
        .collect())
}

/// Returns the ids of the annotated tag objects that refs under `prefix` point at.
pub fn tag_objects_under(repo: &Repo, prefix: &str) -> Result<Vec<String>> {
    let out = repo
        .git()
        .args([
            "for-each-ref",
            "--format=%(objectname) %(objecttype)",
            prefix,
        ])
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(" tag"))
        .map(str::to_owned)
        .collect())
}

/// Returns true when at least one ref lives under `prefix` (one git process).
pub fn any_ref_under(repo: &Repo, prefix: &str) -> Result<bool> {
    let out = repo
        .git()
        .args(["for-each-ref", "--count=1", "--format=%(refname)", prefix])
        .run()?;
    Ok(!out.stdout.is_empty())
}
