//! A leftover `index.lock` (issue 8, item 16) gets the same answer from every command that would
//! write the index: exit 6 and one line naming the file and the safe fix, before anything
//! changes. `delete` does not touch the index and works; a snapshot `create` does not either.

use crate::support::*;

/// A session with a commit checkpoint and a safety snapshot (one rollback), then work on top
/// and another git's `index.lock`.
fn locked_repo() -> (testutil::TestRepo, String, String) {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "one\n");
    let cp = create(&repo, &session, "one", &[]);
    let id = s(&cp, "checkpoint_id").to_owned();
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
    let lock = repo.join(".git/index.lock");
    assert!(
        message.starts_with(&format!("{}: ", lock.display())),
        "{args:?}: {message}"
    );
    assert!(
        message.contains("remove the file if no git is running"),
        "{message}"
    );
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
    assert_eq!(s(&snap, "mode"), "snapshot");
    ok_json(
        repo.path(),
        &["delete", "--session-id", &session, "--checkpoint-id", &id],
    );
    assert!(repo.exists(".git/index.lock"));
}
