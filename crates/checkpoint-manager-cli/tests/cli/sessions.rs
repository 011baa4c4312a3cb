//! Issue 10: `sessions` lists every session of the repository, newest first, from the sessions
//! folder and from the private refs (a session whose log is gone, or whose refs came with a
//! plain `git fetch`, is listed too, its log rebuilt).

use checkpoint_manager::{CheckpointPhase, SessionInfo};
use insta::assert_snapshot;

use crate::support::*;

/// A snapshot checkpoint in `phase`.
fn snapshot(repo: &TestRepo, session: &str, description: &str, phase: &str) -> Checkpoint {
    ok_as(
        repo.path(),
        &[
            "create",
            "--session-id",
            session,
            "--description",
            description,
            "--phase",
            phase,
            "--snapshot",
        ],
    )
}

fn sessions(repo: &TestRepo) -> Vec<SessionInfo> {
    ok_as(repo.path(), &["sessions"])
}

#[test]
fn every_session_newest_first_with_its_counts() {
    let repo = repo_with_commit();
    assert_eq!(sessions(&repo), []);
    let (older, newer) = (sid(1), sid(2));
    repo.write("a.txt", "1\n");
    let first = snapshot(&repo, &older, "first", "plan");
    repo.write("a.txt", "2\n");
    snapshot(&repo, &older, "second", "implement");
    ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &older,
            "--checkpoint-id",
            &first.checkpoint_id.to_string(),
        ],
    );
    let last_of_older = snapshot(&repo, &older, "third", "validate");
    let only = snapshot(&repo, &newer, "only", "cleanup");

    let listed = sessions(&repo);
    assert_eq!(
        listed,
        [
            SessionInfo {
                session_id: newer.parse().unwrap(),
                checkpoints: 1,
                first: Some(only.timestamp.clone()),
                last: Some(only.timestamp.clone()),
                latest_phase: Some(CheckpointPhase::Cleanup),
                rollbacks: 0,
            },
            SessionInfo {
                session_id: older.parse().unwrap(),
                // The rollback's safety snapshot is not one of the session's checkpoints.
                checkpoints: 3,
                first: Some(first.timestamp.clone()),
                last: Some(last_of_older.timestamp.clone()),
                latest_phase: Some(CheckpointPhase::Validate),
                rollbacks: 1,
            },
        ]
    );

    let _filters = pretty_filters(repo.path(), &[]).bind_to_scope();
    let text = ok_text(repo.path(), &["--output", "pretty", "sessions"]);
    assert_snapshot!(text, @r#"
        SESSION                               CHECKPOINTS  FIRST                        LAST                         LATEST PHASE     RB
        [TEST_ID_000000000002]            1  [TIME]---------------------  [TIME]---------------------  cleanup           0
        [TEST_ID_000000000001]            3  [TIME]---------------------  [TIME]---------------------  validate          1
        2 session(s)
    "#);
}

#[test]
fn a_session_known_only_from_its_refs_is_listed_and_its_log_rebuilt() {
    let here = repo_with_commit();
    let gone = sid(1);
    here.write("a.txt", "1\n");
    let cp = create(&here, &gone, "log deleted", &["--snapshot"]);
    std::fs::remove_dir_all(here.join(format!(".flow/maestro/sessions/{gone}"))).unwrap();

    // Another machine fetched the refs with git alone: no log at all there.
    let there = repo_with_commit();
    there.git(&[
        "fetch",
        "-q",
        &here.path().display().to_string(),
        "refs/checkpoints/*:refs/checkpoints/*",
    ]);

    for repo in [&here, &there] {
        let r = run(repo.path(), &["sessions"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("note:"),
            "the rebuild is said: {}",
            r.stderr
        );
        let listed: Vec<SessionInfo> = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].session_id.to_string(), gone);
        assert_eq!(listed[0].checkpoints, 1);
        assert_eq!(listed[0].last.as_deref(), Some(cp.timestamp.as_str()));
        assert!(repo.log_path(&gone).is_file(), "the log is back");
    }
}
