//! Helpers shared by the library tests: opening a manager on a [`TestRepo`], creating
//! checkpoints in one line, and reading back what git and the disk hold (refs, trees, the log).

use std::path::Path;

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest,
    SessionId,
};
pub use testutil::TestRepo;

/// Returns the `n`th test session id.
pub fn sid(n: u32) -> SessionId {
    SessionId::parse(&testutil::session_id(n)).unwrap()
}

/// Returns a repository with one commit holding `README.md`.
pub fn repo_with_commit() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo
}

/// Opens a manager on the repository.
pub fn manager(repo: &TestRepo) -> CheckpointManager {
    CheckpointManager::open(repo.path()).unwrap()
}

/// A manual commit-mode request in the implement phase.
pub fn request(description: &str) -> CreateRequest {
    CreateRequest::new(description, CheckpointPhase::Implement)
}

/// A request with a type and mode.
pub fn request_with(
    description: &str,
    checkpoint_type: CheckpointType,
    mode: CheckpointMode,
) -> CreateRequest {
    CreateRequest {
        checkpoint_type,
        mode,
        ..request(description)
    }
}

/// Creates a default (commit-mode) checkpoint and returns it.
pub fn checkpoint(repo: &TestRepo, session: SessionId, description: &str) -> Checkpoint {
    manager(repo)
        .create(session, &request(description))
        .unwrap()
}

/// Returns every ref as `name oid`, sorted.
pub fn refs(repo: &TestRepo) -> Vec<String> {
    let out = repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
    out.lines().map(str::to_owned).collect()
}

/// Returns the commit a ref (or revision) resolves to, if any.
pub fn resolve(repo: &TestRepo, rev: &str) -> Option<String> {
    let out = repo.git_output(&["rev-parse", "-q", "--verify", &format!("{rev}^{{commit}}")]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Returns the tag names, sorted.
pub fn tags(repo: &TestRepo) -> Vec<String> {
    let out = repo.git(&["tag", "--list"]);
    out.lines().map(str::to_owned).collect()
}

/// Returns the path of every file in `commit`'s tree (NUL-separated, so any name survives).
pub fn tree_paths(repo: &TestRepo, commit: &str) -> Vec<String> {
    let out = repo.git_output(&["ls-tree", "-r", "-z", "--name-only", commit]);
    assert!(out.status.success(), "ls-tree {commit}");
    out.stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect()
}

/// Returns the bytes of `path` in `commit`.
pub fn blob(repo: &TestRepo, commit: &str, path: &str) -> Vec<u8> {
    let out = repo.git_output(&["cat-file", "blob", &format!("{commit}:{path}")]);
    assert!(out.status.success(), "{commit}:{path} is not in the tree");
    out.stdout
}

/// Returns the mode of `path` in `commit` (`100644`, `100755`, ...).
pub fn mode_of(repo: &TestRepo, commit: &str, path: &str) -> String {
    let out = repo.git(&["ls-tree", commit, "--", path]);
    out.split_whitespace().next().unwrap_or_default().to_owned()
}

/// Returns the parents of `commit`.
pub fn parents(repo: &TestRepo, commit: &str) -> Vec<String> {
    let out = repo.git(&["rev-list", "--parents", "-n", "1", commit]);
    out.split_whitespace().skip(1).map(str::to_owned).collect()
}

/// Returns the number of commits reachable from HEAD (0 when HEAD is unborn).
pub fn commit_count(repo: &TestRepo) -> usize {
    let out = repo.git_output(&["rev-list", "--count", "HEAD"]);
    if !out.status.success() {
        return 0;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Returns the branch HEAD points at (`refs/heads/...`), or `None` when detached.
pub fn head_branch(repo: &TestRepo) -> Option<String> {
    let out = repo.git_output(&["symbolic-ref", "-q", "HEAD"]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Returns the session's log parsed as JSON.
pub fn log_json(repo: &TestRepo, session: SessionId) -> serde_json::Value {
    let bytes = std::fs::read(repo.log_path(&session.to_string())).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Returns the raw bytes of the session's log, if it exists.
pub fn log_bytes(repo: &TestRepo, session: SessionId) -> Option<Vec<u8>> {
    std::fs::read(repo.log_path(&session.to_string())).ok()
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

/// Returns `git status --porcelain=v1 -uall` without letting git refresh the index file (so
/// reading the status never changes the index bytes a test compares).
pub fn status(repo: &TestRepo) -> String {
    repo.git(&["--no-optional-locks", "status", "--porcelain=v1", "-uall"])
}

/// Everything a refused operation must leave exactly as it was.
#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    head: Option<String>,
    branch: Option<String>,
    refs: Vec<String>,
    index: Vec<u8>,
    files: Vec<(String, testutil::FileState)>,
    status: String,
    sessions_dir: bool,
}

/// Captures HEAD, refs, the index bytes, every file, `git status` and whether the tool's
/// sessions folder exists.
pub fn observe(repo: &TestRepo) -> Observed {
    Observed {
        head: resolve(repo, "HEAD"),
        branch: head_branch(repo),
        refs: refs(repo),
        index: repo.index_bytes(),
        files: repo.tree_state(),
        status: status(repo),
        sessions_dir: repo.exists(".flow/maestro/sessions"),
    }
}

/// Puts the repository in the middle of a conflicted merge of branch `other` into `main`
/// (`conflict.txt` unmerged, `MERGE_HEAD` present).
pub fn start_conflicted_merge(repo: &TestRepo) {
    repo.write("conflict.txt", "base\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("conflict.txt", "other\n");
    repo.commit_all("other side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conflict.txt", "main\n");
    repo.commit_all("main side");
    let out = repo.git_output(&["merge", "other"]);
    assert!(!out.status.success(), "the merge must stop on a conflict");
    assert!(repo.exists(".git/MERGE_HEAD"));
}

/// Canonical form of a path, for comparing with what git reports.
pub fn canonical(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap()
}
