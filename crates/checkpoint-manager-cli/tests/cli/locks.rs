//! Lock files other processes left. A leftover `index.lock` (issue 8, item 16) gets the same
//! answer from every command that would write the index: exit 6 and one line naming the file and
//! the safe fix, before anything changes. `delete` does not touch the index and works; a
//! snapshot `create` does not either. A branch lock that stops a restore halfway gets the
//! message that says how to get everything back.

use insta::assert_snapshot;

use crate::support::*;

/// A session with a commit checkpoint and a safety snapshot (one rollback), then work on top
/// and another git's `index.lock`.
fn locked_repo() -> (testutil::TestRepo, String, String) {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "one\n");
    let cp = create(&repo, &session, "one", &[]);
    let id = cp.checkpoint_id.to_string();
    ok_json(
        repo.path(),
        &["rollback", "--session-id", &session, "--checkpoint-id", &id],
    );
    repo.write("a.txt", "work in progress\n");
    repo.write(".git/index.lock", "");
    (repo, session, id)
}

#[track_caller]
fn refused_with_nothing_changed(repo: &testutil::TestRepo, session: &str, args: &[&str]) {
    let before = observe(repo);
    let log_before = log_json(repo, session);
    let message = fails(repo.path(), args, 6);
    // One snapshot for every command: they all give the same answer.
    let _filters = filters(repo.path()).bind_to_scope();
    insta::allow_duplicates! {
        assert_snapshot!(message, @r"
            [REPO]/.git/index.lock: another git process is writing the index; retry when it is done (remove the file if no git is running)
            ");
    }
    assert_eq!(observe(repo), before, "{args:?} changed something");
    assert_eq!(
        log_json(repo, session),
        log_before,
        "{args:?} changed the log"
    );
    assert!(
        repo.exists(".git/index.lock"),
        "{args:?} removed another git's lock"
    );
}

#[test]
fn rollback_mixed_and_hard_refuse_a_locked_index_like_create() {
    let (repo, session, id) = locked_repo();
    let rollback = ["rollback", "--session-id", &session, "--checkpoint-id", &id];
    refused_with_nothing_changed(&repo, &session, &rollback);
    let hard = [&rollback[..], &["--hard-reset"]].concat();
    refused_with_nothing_changed(&repo, &session, &hard);
    let create = [
        "create",
        "--session-id",
        &session,
        "--description",
        "d",
        "--phase",
        "plan",
    ];
    refused_with_nothing_changed(&repo, &session, &create);
}

#[test]
fn undo_refuses_a_locked_index_like_create() {
    let (repo, session, _) = locked_repo();
    refused_with_nothing_changed(&repo, &session, &["undo", "--session-id", &session]);
}

#[test]
fn delete_and_a_snapshot_do_not_need_the_index() {
    let (repo, session, id) = locked_repo();
    let snap = create(&repo, &session, "snap", &["--snapshot"]);
    assert_eq!(snap.mode, checkpoint_manager::CheckpointMode::Snapshot);
    ok_json(
        repo.path(),
        &["delete", "--session-id", &session, "--checkpoint-id", &id],
    );
    assert!(repo.exists(".git/index.lock"));
}

#[test]
fn an_undo_stopped_halfway_by_a_branch_lock_says_how_to_get_everything_back() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "snapshot\n");
    let snap = create(&repo, &session, "snap", &["--snapshot"]);
    repo.write("a.txt", "before the rollback\n");
    let id = snap.checkpoint_id.to_string();
    ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &id,
            "--hard-reset",
        ],
    );
    // The user moves to another branch and works there; undo will re-attach `main`, whose
    // lock a crashed git left: only that last move fails, after the files were restored.
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("precious.txt", "precious\n");
    let files_before = repo.tree_state();
    repo.write(".git/refs/heads/main.lock", "");
    let message = fails(repo.path(), &["undo", "--session-id", &session], 5);
    assert!(message.contains("main.lock"), "{message}");
    {
        // git's own words (which vary with its version) are not ours to pin.
        let mut settings = filters(repo.path());
        settings.add_filter(
            r"failed \(exit 128\): .*; nothing is lost",
            "failed (exit 128): [GIT'S MESSAGE]; nothing is lost",
        );
        let _filters = settings.bind_to_scope();
        assert_snapshot!(message, @r"
            git update-ref -m checkpoint-manager: undo to [ID] failed (exit 128): [GIT'S MESSAGE]; nothing is lost: safety snapshot [ID] holds the state from before, and undoing the last operation of session [TEST_ID_000000000001] (undo) returns to it; run `checkpoint-manager undo --session-id [TEST_ID_000000000001]`
            ");
    }
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), "refs/heads/other");
    std::fs::remove_file(repo.join(".git/refs/heads/main.lock")).unwrap();
    ok_json(repo.path(), &["undo", "--session-id", &session]);
    assert_eq!(repo.tree_state(), files_before);
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), "refs/heads/other");
}
