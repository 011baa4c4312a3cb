//! `delete`: the record goes from the log, the tag goes unless kept, nothing else moves.

use checkpoint_manager::{CheckpointId, ErrorKind};

use crate::support::*;

#[test]
fn delete_removes_the_record_and_the_tag_and_nothing_else() {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let c1 = checkpoint(&repo, sid(1), "one");
    repo.write("a.txt", "2\n");
    let c2 = checkpoint(&repo, sid(1), "two");
    repo.write("wip.txt", "uncommitted\n");
    let head = repo.head();
    let files = repo.tree_state();

    let outcome = manager(&repo)
        .delete(sid(1), c1.checkpoint_id, true)
        .unwrap();

    assert!(outcome.deleted);
    assert_eq!(outcome.checkpoint_id, c1.checkpoint_id);
    assert_eq!(outcome.commit_sha, c1.commit_sha);
    let tag = format!("checkpoint-{}", c1.checkpoint_id);
    assert_eq!(outcome.removed_tag.as_deref(), Some(tag.as_str()));
    assert_eq!(tags(&repo), [format!("checkpoint-{}", c2.checkpoint_id)]);
    assert_eq!(
        manager(&repo).list(sid(1)).unwrap(),
        std::slice::from_ref(&c2)
    );
    let summary = manager(&repo).summary(sid(1)).unwrap();
    assert_eq!(summary.total_checkpoints, 1);
    assert_eq!(summary.latest_checkpoint, Some(c2.commit_sha.to_string()));
    let log = log_json(&repo, sid(1));
    assert_eq!(log["checkpoints"].as_array().unwrap().len(), 1);
    assert_eq!(log["summary"]["total_checkpoints"], 1);
    // The branch, the files and the commit itself are untouched.
    assert_eq!(repo.head(), head);
    assert_eq!(repo.tree_state(), files);
    assert!(resolve(&repo, &c1.commit_sha).is_some());

    let err = manager(&repo).get(sid(1), c1.checkpoint_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = manager(&repo)
        .delete(sid(1), c1.checkpoint_id, true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "a second delete: {err}");
}

#[test]
fn delete_keeping_the_tag_removes_only_the_record() {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let c1 = checkpoint(&repo, sid(1), "one");
    let tag = format!("checkpoint-{}", c1.checkpoint_id);

    let outcome = manager(&repo)
        .delete(sid(1), c1.checkpoint_id, false)
        .unwrap();

    assert!(outcome.deleted);
    assert_eq!(outcome.removed_tag, None);
    assert_eq!(tags(&repo), std::slice::from_ref(&tag));
    assert_eq!(
        resolve(&repo, &format!("refs/tags/{tag}")),
        Some(c1.commit_sha.to_string())
    );
    assert!(manager(&repo).list(sid(1)).unwrap().is_empty());
    assert_eq!(manager(&repo).summary(sid(1)).unwrap().total_checkpoints, 0);
}

#[test]
fn delete_of_an_unknown_checkpoint_or_session_is_not_found_and_changes_nothing() {
    let repo = repo_with_commit();
    let c1 = checkpoint(&repo, sid(1), "one");
    let before = observe(&repo);
    let log_before = log_bytes(&repo, sid(1));
    let unknown = CheckpointId::parse("00000000-0000-4000-8000-0000000000ff").unwrap();

    for (session, cp) in [(sid(1), unknown), (sid(2), c1.checkpoint_id)] {
        for delete_tag in [true, false] {
            let err = manager(&repo).delete(session, cp, delete_tag).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        }
    }

    assert_eq!(observe(&repo), before);
    assert_eq!(log_bytes(&repo, sid(1)), log_before);
}

#[test]
fn deleting_a_rolled_back_checkpoint_updates_the_rollback_count_in_the_summary() {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let c1 = checkpoint(&repo, sid(1), "one");
    repo.write("a.txt", "2\n");
    checkpoint(&repo, sid(1), "two");
    let m = manager(&repo);
    m.rollback(
        sid(1),
        c1.checkpoint_id,
        checkpoint_manager::ResetMode::Hard,
    )
    .unwrap();
    assert_eq!(m.summary(sid(1)).unwrap().checkpoints_used_for_rollback, 1);

    m.delete(sid(1), c1.checkpoint_id, true).unwrap();

    assert_eq!(m.summary(sid(1)).unwrap().checkpoints_used_for_rollback, 0);
}

#[test]
fn delete_after_the_user_removed_the_tag_still_removes_the_record() {
    let repo = repo_with_commit();
    let cp = checkpoint(&repo, sid(1), "one");
    repo.git(&["tag", "-d", &format!("checkpoint-{}", cp.checkpoint_id)]);

    let outcome = manager(&repo)
        .delete(sid(1), cp.checkpoint_id, true)
        .unwrap();

    assert!(outcome.deleted);
    assert_eq!(outcome.removed_tag, None, "there was no tag to remove");
    assert!(manager(&repo).list(sid(1)).unwrap().is_empty());
}
