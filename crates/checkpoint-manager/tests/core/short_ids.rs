//! Issue 10: `resolve_checkpoint` and `list_sessions` through the library.

use checkpoint_manager::{Error, ResetMode, SessionInfo};

use crate::support::*;

#[test]
fn a_full_id_goes_through_without_reading_the_log_and_safety_snapshots_resolve_by_prefix() {
    let repo = repo_with_commit();
    let m = manager(&repo);
    let session = sid(1);
    // A full id needs no session at all: nothing is read.
    let unknown = "123e4567-e89b-12d3-a456-426614174000";
    assert_eq!(
        m.resolve_checkpoint(session, unknown).unwrap().to_string(),
        unknown
    );
    assert!(matches!(
        m.resolve_checkpoint(session, "123e"),
        Err(Error::SessionNotFound { .. })
    ));

    repo.write("a.txt", "1\n");
    let one = checkpoint(&repo, session, "one");
    let outcome = m
        .rollback(session, one.checkpoint_id, ResetMode::Hard)
        .unwrap();
    let safety = outcome.safety_checkpoint_id.to_string();
    let others = [one.checkpoint_id.to_string()];
    let digits = |id: &str| id.replace('-', "");
    let shared = digits(&safety)
        .bytes()
        .zip(digits(&others[0]).bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let prefix = &digits(&safety)[..(shared + 1).max(4)];
    let found = m.resolve_checkpoint(session, prefix).unwrap();
    assert_eq!(found, outcome.safety_checkpoint_id);
}

#[test]
fn a_session_whose_checkpoints_were_all_deleted_is_listed_with_none() {
    let repo = repo_with_commit();
    let m = manager(&repo);
    let session = sid(1);
    let one = checkpoint(&repo, session, "one");
    m.delete(session, one.checkpoint_id, true).unwrap();
    assert_eq!(
        m.list_sessions().unwrap(),
        [SessionInfo {
            session_id: session,
            checkpoints: 0,
            first: None,
            last: None,
            latest_phase: None,
            rollbacks: 0,
        }]
    );
}
