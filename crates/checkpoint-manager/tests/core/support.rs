//! Helpers shared by the library tests: opening a manager on a [`TestRepo`], creating
//! checkpoints in one line, and reading back what git and the disk hold (refs, trees, the log).

use std::path::Path;

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest,
    SessionId,
};
pub use testutil::*;

/// Returns the `n`th test session id.
pub fn sid(n: u32) -> SessionId {
    SessionId::parse(&testutil::session_id(n)).unwrap()
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
    request(description)
        .with_type(checkpoint_type)
        .with_mode(mode)
}

/// Creates a default (commit-mode) checkpoint and returns it.
pub fn checkpoint(repo: &TestRepo, session: SessionId, description: &str) -> Checkpoint {
    manager(repo)
        .create(session, &request(description))
        .unwrap()
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

/// Canonical form of a path, for comparing with what git reports.
pub fn canonical(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap()
}
