//! `delete` end to end: the record and the tag go, `--keep-tag` keeps the tag.

use crate::support::*;

#[test]
fn delete_removes_the_record_and_the_tag() {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let c1 = create(&repo, &sid(1), "one", &[]);
    repo.write("a.txt", "2\n");
    let c2 = create(&repo, &sid(1), "two", &[]);
    let head = repo.head();
    let id = &c1.checkpoint_id.to_string();

    let outcome: DeleteOutcome = ok_as(
        repo.path(),
        &["delete", "--session-id", &sid(1), "--checkpoint-id", id],
    );

    assert!(outcome.deleted);
    assert_eq!(outcome.checkpoint_id, c1.checkpoint_id);
    assert_eq!(outcome.commit_sha, c1.commit_sha);
    assert_eq!(outcome.removed_tag, Some(format!("checkpoint-{id}")));
    assert_eq!(
        tags(&repo),
        [format!("checkpoint-{}", &c2.checkpoint_id.to_string())]
    );
    assert_eq!(
        ok_as::<Vec<Checkpoint>>(repo.path(), &["list", "--session-id", &sid(1)]),
        std::slice::from_ref(&c2)
    );
    assert_eq!(log_json(&repo, sid(1))["summary"]["total_checkpoints"], 1);
    assert_eq!(repo.head(), head, "the branch does not move");
    fails(
        repo.path(),
        &["get", "--session-id", &sid(1), "--checkpoint-id", id],
        4,
    );
    fails(
        repo.path(),
        &["delete", "--session-id", &sid(1), "--checkpoint-id", id],
        4,
    );
}

#[test]
fn keep_tag_removes_only_the_record() {
    let repo = repo_with_commit();
    let cp = create(&repo, &sid(1), "one", &["--no-commit"]);
    let id = &cp.checkpoint_id.to_string();

    let outcome: DeleteOutcome = ok_as(
        repo.path(),
        &[
            "delete",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            id,
            "--keep-tag",
        ],
    );

    assert!(outcome.deleted);
    assert_eq!(outcome.removed_tag, None);
    assert_eq!(tags(&repo), [format!("checkpoint-{id}")]);
    assert_eq!(
        resolve(&repo, &format!("checkpoint-{id}")).as_deref(),
        Some(cp.commit_sha.as_str())
    );
    assert_eq!(
        ok_as::<Vec<Checkpoint>>(repo.path(), &["list", "--session-id", &sid(1)]),
        []
    );
}
