//! Descriptions of any size (issue 8, item 14): a commit message reaches git on stdin, never as
//! one argument (the kernel caps one argument at 128 KiB), so a 1 MB description is committed and
//! snapshotted whole.

use checkpoint_manager::CheckpointMode;

use crate::support::*;

/// A one-line description of about 1 MB (one line, so it is also the reflog's first line).
fn one_megabyte() -> String {
    "checkpoint description ".repeat(1 << 20 >> 4)[..1 << 20].to_owned()
}

#[test]
fn a_one_megabyte_description_is_committed_whole() {
    let repo = repo_with_commit();
    repo.write("new.txt", "new\n");
    let description = one_megabyte();
    let cp = checkpoint(&repo, sid(1), &description);
    let message = repo.git(&["cat-file", "commit", &cp.commit_sha]);
    assert!(message.contains(description.trim()), "message cut short");
    assert_eq!(cp.description, description);
    assert_eq!(repo.head(), cp.commit_sha);
    assert_eq!(repo.status(), "");
    let logged = manager(&repo).get(sid(1), cp.checkpoint_id).unwrap();
    assert_eq!(logged.description, description);
}

#[test]
fn a_one_megabyte_description_is_snapshotted_whole() {
    let repo = repo_with_commit();
    repo.write("new.txt", "new\n");
    let description = one_megabyte();
    let cp = manager(&repo)
        .create(
            sid(1),
            &request_with(
                &description,
                checkpoint_manager::CheckpointType::Manual,
                CheckpointMode::Snapshot,
            ),
        )
        .unwrap();
    let message = repo.git(&["cat-file", "commit", &cp.commit_sha]);
    assert!(message.ends_with(&format!(
        "checkpoint-manager snapshot: {}",
        description.trim_end()
    )));
}
