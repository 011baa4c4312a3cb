//! Repository states that hide work from `git status` or stop git halfway: merge conflicts,
//! another git holding `index.lock`, `assume-unchanged` files, submodules with uncommitted work,
//! linked worktrees.

use std::fs;

use checkpoint_manager::{CheckpointManager, CheckpointMode, ErrorKind, ResetMode, SessionId};
use testutil::TestRepo;

use crate::common::*;

#[test]
fn a_rollback_during_a_merge_conflict_is_refused_and_changes_nothing() {
    let fx = Fixture::new();
    let target = fx.snapshot("before the conflict");
    fx.repo.git(&["checkout", "-q", "-b", "other"]);
    fx.repo.write("tracked.txt", "other side\n");
    fx.repo.commit_all("other");
    fx.repo.git(&["checkout", "-q", "main"]);
    fx.repo.write("tracked.txt", "main side\n");
    fx.repo.commit_all("main");
    let merge = fx.repo.git_output(&["merge", "-q", "other"]);
    assert!(!merge.status.success(), "the merge must conflict");
    fx.repo.write("untracked.txt", "work in progress\n");
    let before = fx.observe();
    for mode in [ResetMode::Hard, ResetMode::Mixed] {
        let err = fx
            .mgr
            .rollback(fx.session, target.checkpoint_id, mode)
            .expect_err("refused during a merge");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
        assert_same_for_user(&before, &fx.observe(), "a refused rollback");
    }
    assert!(
        fx.repo.join(".git/MERGE_HEAD").exists(),
        "the merge is still in progress"
    );
}

#[test]
fn another_git_holding_index_lock_stops_a_rollback_before_any_file_changes() {
    let fx = Fixture::new();
    let target = fx.snapshot("target");
    make_mixed_state(&fx.repo);
    let before = fx.observe();
    // The user's own `git commit` is sitting in its editor.
    fs::write(fx.repo.join(".git/index.lock"), b"").expect("lock");
    let result = fx
        .mgr
        .rollback(fx.session, target.checkpoint_id, ResetMode::Hard);
    let now = fx.observe();
    fs::remove_file(fx.repo.join(".git/index.lock")).expect("unlock");
    match result {
        Ok(_) => panic!("a rollback cannot have written the index while it was locked"),
        Err(e) => {
            assert_state(&before.files, &now.files, &format!("failed rollback ({e})"));
            assert_eq!(before.head, now.head);
            assert_eq!(before.index, now.index);
        }
    }
    // A snapshot does not need the user's index at all.
    fs::write(fx.repo.join(".git/index.lock"), b"").expect("lock");
    let snap = fx.mgr.create(
        fx.session,
        &request(CheckpointMode::Snapshot, "while locked"),
    );
    fs::remove_file(fx.repo.join(".git/index.lock")).expect("unlock");
    snap.expect("a snapshot works while another git holds index.lock");
}

#[test]
fn local_changes_to_an_assume_unchanged_file_are_never_lost() {
    let fx = Fixture::new();
    let target = fx.snapshot("tracked.txt v1");
    fx.repo.write("tracked.txt", "v2\n");
    fx.repo.commit_all("v2");
    fx.repo
        .git(&["update-index", "--assume-unchanged", "tracked.txt"]);
    let precious = b"local settings the user keeps out of commits\n";
    fx.repo.write("tracked.txt", precious);

    let _ = fx
        .mgr
        .rollback(fx.session, target.checkpoint_id, ResetMode::Hard);
    let _ = fx.mgr.undo(fx.session);
    let in_tree = fx.repo.read("tracked.txt") == precious;
    let mut reader = TreeReader::default();
    let in_checkpoint = reader.checkpoint_states(&fx.repo).iter().any(|s| {
        file(s, "tracked.txt")
            == Some(&testutil::FileState::File {
                bytes: precious.to_vec(),
                executable: false,
            })
    });
    assert!(
        in_tree || in_checkpoint,
        "the local changes of an assume-unchanged file are lost"
    );
}

/// A repository with a submodule `sub` that has uncommitted work inside it.
fn with_dirty_submodule() -> (TestRepo, TestRepo) {
    let upstream = TestRepo::new();
    upstream.write("s.txt", "submodule\n");
    upstream.commit_all("submodule");
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let url = upstream.path().to_string_lossy().into_owned();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "sub",
    ]);
    repo.commit_all("add submodule");
    repo.write("sub/s.txt", "uncommitted work in the submodule\n");
    repo.write("sub/new.txt", "untracked in the submodule\n");
    (repo, upstream)
}

#[test]
fn a_submodule_with_uncommitted_work_is_never_entered_by_a_restore() {
    let (repo, _upstream) = with_dirty_submodule();
    let fx = Fixture::over(repo, Default::default());
    let target = fx.snapshot("with a dirty submodule");
    fx.repo.write("a.txt", "changed\n");
    let sub = |fx: &Fixture| {
        fx.repo
            .tree_state()
            .into_iter()
            .filter(|(p, _)| p.starts_with("sub/"))
            .collect::<Vec<_>>()
    };
    let before = sub(&fx);
    fx.rollback_hard(&target);
    assert_eq!(fx.repo.read("a.txt"), b"a\n");
    assert_state(&before, &sub(&fx), "rollback entered the submodule");
    fx.undo();
    assert_state(&before, &sub(&fx), "undo entered the submodule");
}

#[test]
fn submodule_recurse_in_the_users_config_does_not_let_a_reset_enter_a_submodule() {
    let (repo, _upstream) = with_dirty_submodule();
    repo.git(&["config", "submodule.recurse", "true"]);
    let fx = Fixture::over(repo, Default::default());
    let target = fx.create(CheckpointMode::Commit, "commit with a dirty submodule");
    fx.repo.write("a.txt", "changed after\n");
    fx.rollback_hard(&target);
    assert_eq!(
        fx.repo.read("sub/s.txt"),
        b"uncommitted work in the submodule\n",
        "the submodule's uncommitted work was reset"
    );
    assert!(fx.repo.exists("sub/new.txt"));
}

#[test]
fn a_commit_checkpoint_with_only_submodule_work_makes_no_empty_commit() {
    let (repo, _upstream) = with_dirty_submodule();
    let head = repo.head();
    let fx = Fixture::over(repo, Default::default());
    let cp = fx.create(CheckpointMode::Commit, "only the submodule is dirty");
    assert_eq!(
        cp.commit_sha, head,
        "tagged HEAD instead of an empty commit"
    );
    assert_eq!(fx.repo.head(), head);
}

#[test]
fn a_submodule_with_uncommitted_work_is_reported_as_not_captured() {
    let (repo, _upstream) = with_dirty_submodule();
    let fx = Fixture::over(repo, Default::default());
    let cp = fx.snapshot("with a dirty submodule");
    let skipped = cp.snapshot.expect("info").skipped;
    assert!(
        skipped
            .iter()
            .any(|s| s.path.trim_end_matches('/') == "sub"),
        "the dirty submodule is not reported: {skipped:?}"
    );
}

#[test]
fn a_linked_worktree_round_trips_and_leaves_the_main_worktree_alone() {
    let main = TestRepo::new();
    main.write("a.txt", "a\n");
    main.commit_all("initial");
    main.write("main-wip.txt", "main's own work\n");
    let wt_dir = tempfile::tempdir().expect("tempdir");
    let wt = wt_dir.path().join("wt");
    main.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        &wt.to_string_lossy(),
    ]);
    let mgr = CheckpointManager::open(&wt).expect("open the linked worktree");
    let session = SessionId::parse(&testutil::session_id(5)).expect("id");
    fs::write(wt.join("a.txt"), "staged in wt\n").expect("w");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&wt)
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["add", "a.txt"]);
    fs::write(wt.join("wip.txt"), "wt work\n").expect("w");
    let status_before = run(&["status", "--porcelain"]);
    let main_before = main.tree_state();
    let cp = mgr
        .create(
            session,
            &request(CheckpointMode::Snapshot, "in a linked worktree"),
        )
        .expect("snapshot");
    assert_eq!(run(&["status", "--porcelain"]), status_before);

    fs::remove_file(wt.join("wip.txt")).expect("rm");
    run(&["reset", "-q", "--hard"]);
    fs::write(wt.join("later.txt"), "later\n").expect("w");
    mgr.rollback(session, cp.checkpoint_id, ResetMode::Hard)
        .expect("rollback");
    assert_eq!(run(&["status", "--porcelain"]), status_before);
    assert_eq!(fs::read(wt.join("wip.txt")).expect("wip"), b"wt work\n");
    assert!(!wt.join("later.txt").exists());
    mgr.undo(session).expect("undo");
    assert!(wt.join("later.txt").exists());
    assert_state(&main_before, &main.tree_state(), "the main worktree");
    assert_eq!(main.git(&["rev-parse", "--abbrev-ref", "HEAD"]), "main");
}
