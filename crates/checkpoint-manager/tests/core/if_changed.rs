//! `create_if_changed` (issue 11, the agents' hooks): nothing new while the files are those of
//! the session's newest checkpoint; refs, log and branch untouched then.

use checkpoint_manager::{CheckpointMode, CheckpointType};

use crate::support::{manager, refs, repo_with_commit, request_with, sid};

#[test]
fn a_snapshot_is_made_only_when_the_files_changed_since_the_newest_checkpoint() {
    let repo = repo_with_commit();
    let m = manager(&repo);
    let snapshot = request_with("hook", CheckpointType::Manual, CheckpointMode::Snapshot);

    let first = m.create_if_changed(sid(1), &snapshot).unwrap();
    assert!(!first.unchanged);
    let refs_after_first = refs(&repo);
    let log_after_first = std::fs::read(repo.log_path(&sid(1).as_string())).unwrap();

    let same = m.create_if_changed(sid(1), &snapshot).unwrap();
    assert!(same.unchanged);
    assert_eq!(same.checkpoint, first.checkpoint);
    assert_eq!(refs(&repo), refs_after_first);
    assert_eq!(
        std::fs::read(repo.log_path(&sid(1).as_string())).unwrap(),
        log_after_first
    );

    // Another session has its own newest checkpoint.
    assert!(!m.create_if_changed(sid(2), &snapshot).unwrap().unchanged);

    repo.write("README.md", "changed\n");
    let changed = m.create_if_changed(sid(1), &snapshot).unwrap();
    assert!(!changed.unchanged);
    assert_ne!(
        changed.checkpoint.checkpoint_id,
        first.checkpoint.checkpoint_id
    );
    assert_eq!(m.list(sid(1)).unwrap().len(), 2);
}

#[test]
fn in_commit_mode_an_unchanged_tree_moves_nothing() {
    let repo = repo_with_commit();
    let m = manager(&repo);
    let commit = request_with("hook", CheckpointType::Manual, CheckpointMode::Commit);
    repo.write("README.md", "work\n");
    let first = m.create_if_changed(sid(1), &commit).unwrap();
    assert!(!first.unchanged);
    let head = repo.head();
    let same = m.create_if_changed(sid(1), &commit).unwrap();
    assert!(same.unchanged);
    assert_eq!(
        same.checkpoint.checkpoint_id,
        first.checkpoint.checkpoint_id
    );
    assert_eq!(repo.head(), head);
    assert_eq!(m.list(sid(1)).unwrap().len(), 1);
}
