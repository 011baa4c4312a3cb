//! The property behind the whole issue: run random sessions of edits, creates (all three
//! modes), rollbacks (mixed and hard), undos and deletes against a real repository, and after
//! every step check that every work-tree state the tool ever saw before changing something is
//! still held by some checkpoint ref, that failed operations changed nothing, that restores are
//! exact, that ignored files are never touched, and that the log and the refs agree.

use std::fs;
use std::path::Path;

use checkpoint_manager::{Checkpoint, CheckpointMode, ErrorKind, ResetMode};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use testutil::{FileState, TestRepo};

use crate::common::*;

/// Paths the random edits touch. `f` and `f/g` fight over being a file or a folder.
const PATHS: &[&str] = &[
    "a.txt",
    "b.txt",
    "dir/c.txt",
    "dir/sub/d.txt",
    "f",
    "f/g",
    "e.sh",
    "sp ace/ü n.txt",
];
/// Where symlinks go (never a folder on the way to another path).
const LINKS: &[&str] = &["l1", "dir/l2"];
/// The ignored file; nothing may ever change it.
const IGNORED_FILE: &str = "keep.log";

#[derive(Debug, Clone)]
enum Op {
    Write { path: usize, content: u8 },
    Remove { path: usize },
    Chmod { path: usize },
    Link { link: usize, to: usize },
    Stage { path: usize },
    Unstage { path: usize },
    UserCommit,
    Detach,
    Attach,
    Create { mode: u8 },
    Rollback { pick: usize, hard: bool },
    Undo,
    Delete { pick: usize, tag: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PATHS.len();
    prop_oneof![
        4 => (p.clone(), any::<u8>()).prop_map(|(path, content)| Op::Write { path, content }),
        1 => p.clone().prop_map(|path| Op::Remove { path }),
        1 => p.clone().prop_map(|path| Op::Chmod { path }),
        1 => (0..LINKS.len(), 0..PATHS.len() + 1).prop_map(|(link, to)| Op::Link { link, to }),
        2 => p.clone().prop_map(|path| Op::Stage { path }),
        1 => p.prop_map(|path| Op::Unstage { path }),
        1 => Just(Op::UserCommit),
        1 => Just(Op::Detach),
        1 => Just(Op::Attach),
        4 => (0u8..3).prop_map(|mode| Op::Create { mode }),
        5 => (any::<usize>(), any::<bool>()).prop_map(|(pick, hard)| Op::Rollback { pick, hard }),
        3 => Just(Op::Undo),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, tag)| Op::Delete { pick, tag }),
    ]
}

/// Removes whatever is in the way of writing a file at `rel` (a file where a folder must be, a
/// folder where the file must be): a user's edit, not the tool's.
fn clear_way(root: &Path, rel: &str) {
    let mut prefix = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        prefix.push(part);
        if let Ok(m) = fs::symlink_metadata(&prefix) {
            if !m.is_dir() {
                fs::remove_file(&prefix).expect("rm file in the way");
            }
        }
    }
    let full = root.join(rel);
    if let Ok(m) = fs::symlink_metadata(&full) {
        if m.is_dir() {
            fs::remove_dir_all(&full).expect("rm dir in the way");
        } else {
            fs::remove_file(&full).expect("rm");
        }
    }
}

/// The state the tool is responsible for: every file but the ignored one.
fn user_state(repo: &TestRepo) -> State {
    without(&repo.tree_state(), &[IGNORED_FILE])
}

struct Session {
    fx: Fixture,
    reader: TreeReader,
    /// States the tool saw right before it created a checkpoint, rolled back or undid.
    must_keep: Vec<State>,
    ignored: FileState,
}

impl Session {
    fn new() -> Self {
        let repo = TestRepo::new();
        repo.write("a.txt", "a0\n");
        repo.write("dir/c.txt", "c0\n");
        repo.write(".gitignore", "*.log\n");
        repo.write(IGNORED_FILE, "ignored, precious\n");
        repo.commit_all("initial");
        let fx = Fixture::over(repo, Default::default());
        // A first checkpoint, so rollbacks have a target from the first step on.
        fx.snapshot("start");
        let ignored = FileState::File {
            bytes: b"ignored, precious\n".to_vec(),
            executable: false,
        };
        let start = user_state(&fx.repo);
        Session {
            fx,
            reader: TreeReader::default(),
            must_keep: vec![start],
            ignored,
        }
    }

    fn pick(&self, pick: usize) -> Option<Checkpoint> {
        let list = self.fx.mgr.list_all(self.fx.session).expect("list");
        (!list.is_empty()).then(|| list[pick % list.len()].clone())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let repo = &self.fx.repo;
        let root = repo.path().to_path_buf();
        match op {
            Op::Write { path, content } => {
                let rel = PATHS[*path];
                clear_way(&root, rel);
                repo.write(rel, format!("{rel} v{content}\n"));
            }
            Op::Remove { path } => {
                if fs::symlink_metadata(root.join(PATHS[*path])).is_ok() {
                    clear_way(&root, PATHS[*path]);
                }
            }
            Op::Chmod { path } => {
                let full = root.join(PATHS[*path]);
                if let Ok(m) = fs::symlink_metadata(&full) {
                    if m.is_file() {
                        let mut perms = m.permissions();
                        let mode = std::os::unix::fs::PermissionsExt::mode(&perms);
                        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, mode ^ 0o111);
                        fs::set_permissions(&full, perms).expect("chmod");
                    }
                }
            }
            Op::Link { link, to } => {
                let rel = LINKS[*link];
                clear_way(&root, rel);
                let target = PATHS.get(*to).copied().unwrap_or("missing-target");
                symlink(target, root.join(rel));
            }
            Op::Stage { path } => {
                let _ = repo.git_output(&["add", "-A", "--", PATHS[*path]]);
            }
            Op::Unstage { path } => {
                let _ = repo.git_output(&[
                    "rm",
                    "-q",
                    "-r",
                    "--cached",
                    "--ignore-unmatch",
                    "--",
                    PATHS[*path],
                ]);
            }
            Op::Detach => {
                let _ = repo.git_output(&["checkout", "-q", "--detach"]);
            }
            Op::Attach => {
                let _ = repo.git_output(&["checkout", "-q", "main"]);
            }
            Op::UserCommit => {
                repo.git(&["add", "-A"]);
                repo.git(&["commit", "-q", "--allow-empty", "-m", "user"]);
            }
            Op::Create { mode } => {
                let mode = [
                    CheckpointMode::Commit,
                    CheckpointMode::Tag,
                    CheckpointMode::Snapshot,
                ][*mode as usize];
                let before = user_state(repo);
                let observed = observe(repo);
                match self.fx.mgr.create(self.fx.session, &request(mode, "prop")) {
                    Ok(cp) => {
                        let held = self.reader.state(repo, &cp.commit_sha);
                        prop_assert!(
                            held == before,
                            "{mode} checkpoint does not hold the work tree:\n{}",
                            diff_states(&before, &held)
                        );
                        self.must_keep.push(before);
                    }
                    Err(e) => {
                        self.expect_harmless(&e, &observed, "create")?;
                    }
                }
            }
            Op::Rollback { pick, hard } => {
                let Some(target) = self.pick(*pick) else {
                    return Ok(());
                };
                let before = user_state(repo);
                let observed = observe(repo);
                let mode = if *hard {
                    ResetMode::Hard
                } else {
                    ResetMode::Mixed
                };
                match self
                    .fx
                    .mgr
                    .rollback(self.fx.session, target.checkpoint_id, mode)
                {
                    Ok(_) => {
                        self.must_keep.push(before.clone());
                        let now = user_state(repo);
                        if !hard {
                            prop_assert!(
                                now == before,
                                "a mixed rollback changed files:\n{}",
                                diff_states(&before, &now)
                            );
                        } else if let Some(info) = &target.snapshot {
                            let want = self.reader.state(repo, &target.commit_sha);
                            prop_assert!(
                                now == want,
                                "rollback --hard to a snapshot is not exact:\n{}",
                                diff_states(&want, &now)
                            );
                            prop_assert_eq!(
                                index_listing(repo),
                                tree_as_index_listing(repo, &info.index_tree),
                                "rollback --hard: the index is not the snapshot's"
                            );
                            prop_assert_eq!(
                                observe(repo).head,
                                info.base_commit.as_ref().map(|b| b.to_string())
                            );
                        } else {
                            // A commit: every tracked file is the commit's.
                            let want = self.reader.state(repo, &target.commit_sha);
                            for (path, state) in &want {
                                prop_assert_eq!(file(&now, path), Some(state), "{}", path);
                            }
                        }
                    }
                    Err(e) => self.expect_harmless(&e, &observed, "rollback")?,
                }
            }
            Op::Undo => {
                let before = user_state(repo);
                let observed = observe(repo);
                let any_safety = self
                    .fx
                    .mgr
                    .list_all(self.fx.session)
                    .expect("list")
                    .iter()
                    .any(Checkpoint::is_safety_snapshot);
                match self.fx.mgr.undo(self.fx.session) {
                    Ok(outcome) => {
                        self.must_keep.push(before);
                        // Undo returns to the safety snapshot of the operation it takes back.
                        let undone = outcome.undone.clone().expect("undo names what it undid");
                        prop_assert_eq!(outcome.checkpoint_id, undone.safety_checkpoint_id);
                        let safety = self
                            .fx
                            .mgr
                            .get(self.fx.session, outcome.checkpoint_id)
                            .expect("the safety snapshot is logged");
                        let want = self.reader.state(repo, &safety.commit_sha);
                        let now = user_state(repo);
                        prop_assert!(
                            now == want,
                            "undo is not exact:\n{}",
                            diff_states(&want, &now)
                        );
                        let info = safety.snapshot.expect("info");
                        let observed = observe(repo);
                        prop_assert_eq!(observed.head, info.base_commit.map(String::from));
                        prop_assert_eq!(observed.symbolic_head, info.branch, "undo: branch");
                        prop_assert_eq!(
                            index_listing(repo),
                            tree_as_index_listing(repo, &info.index_tree),
                            "undo: the index is not the safety snapshot's"
                        );
                    }
                    Err(e) => {
                        // Refused: nothing left to undo, or the branch to re-attach is not
                        // checked out and has moved (moving it back would orphan its commits).
                        let branch_moved =
                            matches!(e, checkpoint_manager::Error::BranchMoved { .. });
                        let nothing = matches!(e, checkpoint_manager::Error::NothingToUndo { .. });
                        prop_assert!(!any_safety || nothing || branch_moved, "undo failed: {}", e);
                        self.expect_harmless(&e, &observed, "undo")?;
                    }
                }
            }
            Op::Delete { pick, tag } => {
                let Some(target) = self.pick(*pick) else {
                    return Ok(());
                };
                let observed = observe(repo);
                match self
                    .fx
                    .mgr
                    .delete(self.fx.session, target.checkpoint_id, *tag)
                {
                    Ok(_) => {}
                    // The safety snapshot of an operation in the history: undo needs it.
                    Err(checkpoint_manager::Error::SafetySnapshotInUse { .. }) => {
                        prop_assert!(target.is_safety_snapshot());
                        prop_assert_eq!(observe(repo), observed, "a refused delete changed things");
                        return self.check();
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("delete: {e}"))),
                }
                let now = observe(repo);
                prop_assert!(now.files == observed.files, "delete changed files");
                prop_assert_eq!(now.head, observed.head, "delete moved HEAD");
            }
        }
        self.check()
    }

    /// A refused operation must be refused for a reason the user caused, and change nothing.
    fn expect_harmless(
        &self,
        e: &checkpoint_manager::Error,
        before: &Observed,
        what: &str,
    ) -> Result<(), TestCaseError> {
        prop_assert!(
            matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound),
            "{} failed unexpectedly: {}",
            what,
            e
        );
        let now = observe(&self.fx.repo);
        prop_assert!(
            now.files == before.files,
            "a refused {} changed files:\n{}",
            what,
            diff_states(&before.files, &now.files)
        );
        prop_assert_eq!(&now.head, &before.head, "a refused {} moved HEAD", what);
        prop_assert_eq!(
            &now.index,
            &before.index,
            "a refused {} changed the index",
            what
        );
        Ok(())
    }

    /// The invariants that hold after every step.
    fn check(&mut self) -> Result<(), TestCaseError> {
        let repo = &self.fx.repo;
        // The ignored file is never touched.
        let files = repo.tree_state();
        prop_assert_eq!(
            file(&files, IGNORED_FILE),
            Some(&self.ignored),
            "the ignored file changed"
        );
        // The log parses, and every logged checkpoint has its ref and commit.
        let logged = self
            .fx
            .mgr
            .list_all(self.fx.session)
            .map_err(|e| TestCaseError::fail(format!("log: {e}")))?;
        for cp in &logged {
            let peeled = private_ref_commit(repo, self.fx.session, cp);
            prop_assert_eq!(
                peeled.as_deref(),
                Some(cp.commit_sha.as_str()),
                "checkpoint {} has no ref",
                cp.checkpoint_id
            );
        }
        // Every state the tool saw before acting is held by some checkpoint ref.
        let held = self.reader.checkpoint_states(repo);
        for (i, state) in self.must_keep.iter().enumerate() {
            prop_assert!(
                held.contains(state),
                "state #{} the user had is no longer recoverable from any checkpoint: {:?}",
                i,
                state.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>()
            );
        }
        Ok(())
    }
}

/// 20 cases keep the suite fast; `SAFETY_PROPTEST_CASES=500` searches deeper.
fn cases() -> u32 {
    std::env::var("SAFETY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        max_shrink_iters: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    })]

    #[test]
    fn every_state_the_user_had_stays_recoverable(ops in prop::collection::vec(op(), 6..20)) {
        let mut session = Session::new();
        for (step, op) in ops.iter().enumerate() {
            session
                .apply(op)
                .map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e}")))?;
        }
    }
}
