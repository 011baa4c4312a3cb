//! Helpers shared by the safety tests: a repository with a manager and a session, and the mixes
//! of changes the round trips restore. Observing the repository and reading checkpoint trees
//! live in `testutil` (re-exported here).
#![allow(dead_code)]

use std::fs;

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, CheckpointPhase, CreateRequest, Options,
    RollbackOutcome, SessionId,
};
pub use testutil::*;

/// A repository with a first commit, a manager over it and a session.
pub struct Fixture {
    pub repo: TestRepo,
    pub mgr: CheckpointManager,
    pub session: SessionId,
}

impl Fixture {
    /// A repository with `tracked.txt`, `keep.txt`, `gone.txt`, `bin/run.sh` (executable),
    /// `link` (a symlink to `keep.txt`) and a `.gitignore` that ignores `*.log` and `ignored/`.
    pub fn new() -> Self {
        let repo = TestRepo::new();
        repo.write("tracked.txt", "tracked v1\n");
        repo.write("keep.txt", "keep\n");
        repo.write("gone.txt", "will be deleted\n");
        repo.write("bin/run.sh", "#!/bin/sh\necho run\n");
        repo.make_executable("bin/run.sh");
        symlink("keep.txt", repo.join("link"));
        repo.write(".gitignore", "*.log\nignored/\n");
        repo.commit_all("initial");
        Self::over(repo, Options::default())
    }

    /// A fixture over an existing repository.
    pub fn over(repo: TestRepo, options: Options) -> Self {
        let mgr = CheckpointManager::with_options(repo.path(), options).expect("open manager");
        Fixture {
            repo,
            mgr,
            session: SessionId::parse(&testutil::session_id(1)).expect("session id"),
        }
    }

    /// Creates a checkpoint in `mode`.
    pub fn create(&self, mode: CheckpointMode, description: &str) -> Checkpoint {
        self.mgr
            .create(self.session, &request(mode, description))
            .unwrap_or_else(|e| panic!("create {mode} {description:?}: {e}"))
    }

    /// Takes a snapshot checkpoint.
    pub fn snapshot(&self, description: &str) -> Checkpoint {
        self.create(CheckpointMode::Snapshot, description)
    }

    /// Rolls back with `--hard-reset`.
    pub fn rollback_hard(&self, cp: &Checkpoint) -> RollbackOutcome {
        self.mgr
            .rollback(
                self.session,
                cp.checkpoint_id,
                checkpoint_manager::ResetMode::Hard,
            )
            .unwrap_or_else(|e| panic!("rollback --hard to {}: {e}", cp.description))
    }

    /// Undoes the last rollback or undo.
    pub fn undo(&self) -> RollbackOutcome {
        self.mgr
            .undo(self.session)
            .unwrap_or_else(|e| panic!("undo: {e}"))
    }

    /// Takes back the last undo.
    pub fn redo(&self) -> RollbackOutcome {
        self.mgr
            .redo(self.session)
            .unwrap_or_else(|e| panic!("redo: {e}"))
    }

    /// Returns everything observable about the repository.
    pub fn observe(&self) -> Observed {
        observe(&self.repo)
    }
}

/// A create request for `mode`.
pub fn request(mode: CheckpointMode, description: &str) -> CreateRequest {
    CreateRequest::new(description, CheckpointPhase::Implement).with_mode(mode)
}

/// Returns the commit a checkpoint's private ref points at (through its metadata tag).
pub fn private_ref_commit(repo: &TestRepo, session: SessionId, cp: &Checkpoint) -> Option<String> {
    repo.git_try(&[
        "rev-parse",
        "-q",
        "--verify",
        &format!("refs/checkpoints/{session}/{}^{{commit}}", cp.checkpoint_id),
    ])
}

/// Sets a file's modification time an hour ahead, so git's stat data for it is stale (a
/// `git status` that may write would refresh the index).
pub fn make_stat_dirty(repo: &TestRepo, path: &str) {
    let file = fs::File::options()
        .write(true)
        .open(repo.join(path))
        .expect("open");
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .expect("set mtime");
}

/// Sets up the mix every round trip uses on top of [`Fixture::new`]: a staged change with a
/// different unstaged change on top, a staged new file, an unstaged deletion, a staged deletion,
/// untracked files (one in a new folder), an executable made non-executable and the reverse, a
/// retargeted symlink, and ignored files.
pub fn make_mixed_state(repo: &TestRepo) {
    repo.write("tracked.txt", "tracked v2 staged\n");
    repo.git(&["add", "tracked.txt"]);
    repo.write("tracked.txt", "tracked v3 unstaged\n");
    repo.write("staged-new.txt", "staged new\n");
    repo.git(&["add", "staged-new.txt"]);
    fs::remove_file(repo.join("gone.txt")).expect("rm");
    repo.git(&["rm", "-q", "--cached", "keep.txt"]);
    repo.write("untracked.txt", "untracked\n");
    repo.write("newdir/deep/file.bin", [0u8, 1, 2, 255, 0, 10, 13]);
    repo.write("empty.txt", "");
    let mut perms = fs::metadata(repo.join("bin/run.sh"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    fs::set_permissions(repo.join("bin/run.sh"), perms).expect("chmod");
    repo.write("tool.sh", "#!/bin/sh\n");
    repo.make_executable("tool.sh");
    fs::remove_file(repo.join("link")).expect("rm link");
    symlink("tracked.txt", repo.join("link"));
    symlink("../nowhere", repo.join("newdir/dangling"));
    repo.write("build.log", "ignored log v1\n");
    repo.write("ignored/cache.bin", "ignored cache v1\n");
}

/// Changes everything again: a user commit, edits, deletions, new files, mode changes, and
/// new contents for the ignored files.
pub fn mess_up(repo: &TestRepo) {
    repo.write("tracked.txt", "tracked after\n");
    repo.write("after.txt", "created after the snapshot\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "user commit after the snapshot"]);
    repo.write("later-untracked.txt", "later\n");
    repo.write("newdir/deep/file.bin", "replaced");
    let _ = fs::remove_file(repo.join("untracked.txt"));
    let _ = fs::remove_file(repo.join("empty.txt"));
    repo.write("gone.txt", "resurrected differently\n");
    repo.make_executable("tracked.txt");
    repo.write("build.log", "ignored log v2\n");
    repo.write("ignored/cache.bin", "ignored cache v2\n");
    repo.write("staged-new.txt", "staged new, changed and staged again\n");
    repo.git(&["add", "staged-new.txt"]);
}

/// The ignored files of [`make_mixed_state`]/[`mess_up`]: never touched by any restore.
pub const IGNORED: &[&str] = &["build.log", "ignored"];

/// `git diff --cached --binary` against HEAD (or the empty tree), the staged changes.
pub fn staged_diff(repo: &TestRepo) -> String {
    let base = repo
        .git_try(&["rev-parse", "-q", "--verify", "HEAD"])
        .unwrap_or_else(|| repo.git(&["hash-object", "-t", "tree", "/dev/null"]));
    String::from_utf8_lossy(&repo.git_bytes(&[
        "diff",
        "--cached",
        "--binary",
        "--no-renames",
        &base,
    ]))
    .into_owned()
}
