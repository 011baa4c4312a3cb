//! Reading back what git and the disk hold: refs, commits, trees, the index and the session log.

use std::fmt::Display;
use std::path::Path;

use crate::TestRepo;

/// Returns a repository with one commit holding `README.md`.
pub fn repo_with_commit() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo
}

/// Returns every ref as `name oid`, sorted.
pub fn refs(repo: &TestRepo) -> Vec<String> {
    let out = repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
    out.lines().map(str::to_owned).collect()
}

/// Returns the commit a ref (or revision) resolves to, if any.
pub fn resolve(repo: &TestRepo, rev: &str) -> Option<String> {
    repo.git_try(&["rev-parse", "-q", "--verify", &format!("{rev}^{{commit}}")])
}

/// Returns the branch HEAD points at (`refs/heads/...`), or `None` when detached.
pub fn head_branch(repo: &TestRepo) -> Option<String> {
    repo.git_try(&["symbolic-ref", "-q", "HEAD"])
}

/// Returns the tag names, sorted.
pub fn tags(repo: &TestRepo) -> Vec<String> {
    let out = repo.git(&["tag", "--list"]);
    out.lines().map(str::to_owned).collect()
}

/// Returns the path of every file in `commit`'s tree (NUL-separated, so any name survives).
pub fn tree_paths(repo: &TestRepo, commit: &str) -> Vec<String> {
    repo.git_bytes(&["ls-tree", "-r", "-z", "--name-only", commit])
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect()
}

/// `git ls-files -s -z`, the whole index (modes, blobs, stages), one entry a line.
pub fn index_listing(repo: &TestRepo) -> String {
    String::from_utf8_lossy(&repo.git_bytes(&["ls-files", "-s", "-z"])).replace('\0', "\n")
}

/// Lists `tree` the way [`index_listing`] lists the index (`<mode> <oid> 0\t<path>`).
pub fn tree_as_index_listing(repo: &TestRepo, tree: &str) -> String {
    String::from_utf8_lossy(&repo.git_bytes(&["ls-tree", "-r", "-z", "--full-tree", tree]))
        .split('\0')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (meta, path) = l.split_once('\t').expect("tab");
            let mut f = meta.split(' ');
            let mode = f.next().expect("mode");
            let oid = f.nth(1).expect("oid");
            format!("{mode} {oid} 0\t{path}\n")
        })
        .collect()
}

/// Returns the commit behind every `refs/checkpoints/**` and `refs/checkpoint-trash/**` ref
/// (peeling the metadata tags).
pub fn checkpoint_commits(repo: &TestRepo) -> Vec<String> {
    checkpoint_refs(repo).into_values().collect()
}

/// Returns every `refs/checkpoints/**` and `refs/checkpoint-trash/**` ref -> the commit it
/// reaches (through its metadata tag).
pub fn checkpoint_refs(repo: &TestRepo) -> std::collections::BTreeMap<String, String> {
    let out = repo.git(&[
        "for-each-ref",
        "--format=%(refname) %(objectname) %(*objectname)",
        "refs/checkpoints/",
        "refs/checkpoint-trash/",
    ]);
    out.lines()
        .map(|l| {
            let mut f = l.split(' ');
            let name = f.next().expect("name").to_owned();
            let direct = f.next().expect("oid").to_owned();
            let peeled = f.next().filter(|p| !p.is_empty()).map(str::to_owned);
            (name, peeled.unwrap_or(direct))
        })
        .collect()
}

/// Returns the raw bytes of the session's log, if it exists.
pub fn log_bytes(repo: &TestRepo, session: impl Display) -> Option<Vec<u8>> {
    std::fs::read(repo.log_path(&session.to_string())).ok()
}

/// Returns the session's log parsed as untyped JSON (for tests that inspect its raw layout).
pub fn log_json(repo: &TestRepo, session: impl Display) -> serde_json::Value {
    serde_json::from_slice(&log_bytes(repo, session).expect("the session log exists")).unwrap()
}

/// True when `ts` is ISO 8601 UTC with microseconds: `2024-01-07T13:00:00.123456Z`.
pub fn is_utc_micros(ts: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    ts.len() == shape.len()
        && ts.chars().zip(shape.chars()).all(|(c, s)| match s {
            'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

/// Commits `conflict.txt` = "base", then a branch `other` that sets it to "other", then `main`
/// setting it to "main" (checked out), and returns the base commit.
pub fn diverged(repo: &TestRepo) -> String {
    repo.write("conflict.txt", "base\n");
    let base = repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("conflict.txt", "other\n");
    repo.commit_all("other side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conflict.txt", "main\n");
    repo.commit_all("main side");
    base
}

/// Puts the repository in the middle of a conflicted merge of branch `other` into `main`
/// (`conflict.txt` unmerged, `MERGE_HEAD` present).
pub fn start_conflicted_merge(repo: &TestRepo) {
    diverged(repo);
    let out = repo.git_output(&["merge", "other"]);
    assert!(!out.status.success(), "the merge must stop on a conflict");
    assert!(repo.exists(".git/MERGE_HEAD"));
}

/// Makes a symlink (the target need not exist), creating the link's folders.
pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    let link = link.as_ref();
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::os::unix::fs::symlink(target, link).expect("symlink");
}
