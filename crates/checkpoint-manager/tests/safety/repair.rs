//! Crashes and repair: a corrupt log is never overwritten by a normal command (each fails,
//! naming `repair`, before it changes anything), and `repair` rebuilds a deleted or corrupt log
//! from the metadata kept in git, dropping (and reporting) records whose commit is gone.

use std::fs;

use checkpoint_manager::{
    Checkpoint, CheckpointId, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest,
    ErrorKind, ResetMode, SessionId, StateSnapshot,
};

use crate::common::*;

/// A session with one checkpoint of every mode, a rollback (so a safety snapshot) and a deleted
/// checkpoint; returns the checkpoints the log holds and the deleted one.
fn busy_session(fx: &Fixture) -> (Vec<Checkpoint>, Checkpoint) {
    fx.repo.write("a.txt", "a\n");
    let commit = fx
        .mgr
        .create(
            fx.session,
            &CreateRequest::new(
                "Plan done ✓\nsecond line with \"quotes\"",
                CheckpointPhase::Plan,
            )
            .with_type(CheckpointType::PhaseComplete)
            .with_state_snapshot(Some(StateSnapshot {
                tasks_completed: 15,
                decisions_made: 3,
                files_modified: 7,
                files_created: 2,
                tests_passing: 42,
                tests_failing: 1,
            }))
            .with_mode(CheckpointMode::Commit),
        )
        .expect("commit");
    let tag = fx
        .mgr
        .create(
            fx.session,
            &CreateRequest::new("tag only", CheckpointPhase::GenerateTasks)
                .with_type(CheckpointType::SafeState)
                .with_mode(CheckpointMode::Tag),
        )
        .expect("tag");
    fx.repo.write("b.txt", "b\n");
    let snap = fx
        .mgr
        .create(
            fx.session,
            &CreateRequest::new("snapshot", CheckpointPhase::Validate)
                .with_type(CheckpointType::TaskGroupComplete)
                .with_state_snapshot(Some(StateSnapshot {
                    tests_passing: 5,
                    ..StateSnapshot::default()
                }))
                .with_mode(CheckpointMode::Snapshot),
        )
        .expect("snapshot");
    let doomed = fx.create(CheckpointMode::Snapshot, "to be deleted");
    fx.repo.write("c.txt", "c\n");
    fx.mgr
        .rollback(fx.session, commit.checkpoint_id, ResetMode::Hard)
        .expect("rollback");
    fx.mgr
        .delete(fx.session, doomed.checkpoint_id, true)
        .expect("delete");
    let _ = (tag, snap);
    let mut logged = fx.mgr.list_all(fx.session).expect("list");
    logged.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    assert_eq!(logged.len(), 4, "commit, tag, snapshot, safety");
    (logged, doomed)
}

/// The log's checkpoints without the mutable rollback counters (git keeps only the immutable
/// metadata), oldest first.
fn frozen(mut cps: Vec<Checkpoint>) -> Vec<Checkpoint> {
    cps.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    for cp in &mut cps {
        cp.rollback_used = false;
        cp.rollback_count = 0;
    }
    cps
}

fn ids(cps: &[Checkpoint]) -> Vec<CheckpointId> {
    let mut ids: Vec<_> = cps.iter().map(|c| c.checkpoint_id).collect();
    ids.sort();
    ids
}

#[test]
fn repair_rebuilds_a_deleted_log_with_every_field_of_every_checkpoint() {
    let fx = Fixture::new();
    let (logged, doomed) = busy_session(&fx);
    fs::remove_file(fx.repo.log_path(&fx.session.to_string())).expect("rm log");

    let mut report = fx.mgr.repair(fx.session).expect("repair");
    report.restored.sort();
    assert_eq!(report.restored, ids(&logged));
    assert!(report.dropped.is_empty());
    assert_eq!(report.moved_aside, None);
    assert_eq!(
        report.total_checkpoints + report.total_safety_snapshots,
        logged.len()
    );
    assert_eq!(report.total_safety_snapshots, 1);
    assert_eq!(report.total_operations, 1, "the rollback");

    let rebuilt = fx.mgr.list_all(fx.session).expect("list");
    assert_eq!(frozen(rebuilt.clone()), frozen(logged.clone()));
    assert!(
        !rebuilt
            .iter()
            .any(|c| c.checkpoint_id == doomed.checkpoint_id),
        "a deleted checkpoint came back"
    );
    // The rebuilt log is a working log: undo finds its safety snapshot.
    let before_undo = fx.repo.tree_state();
    fx.undo();
    assert!(
        fx.repo.exists("c.txt"),
        "undo after repair restores the pre-rollback state"
    );
    fx.redo();
    assert_state(&before_undo, &fx.repo.tree_state(), "redo after repair");
}

#[test]
fn repair_moves_a_corrupt_log_aside_and_rebuilds_it() {
    let fx = Fixture::new();
    let (logged, _) = busy_session(&fx);
    let path = fx.repo.log_path(&fx.session.to_string());
    let garbage = b"{\"session_id\": \"half a log, then the power went\x00\xff".to_vec();
    fs::write(&path, &garbage).expect("corrupt");

    let report = fx.mgr.repair(fx.session).expect("repair");
    let aside = std::path::PathBuf::from(report.moved_aside.clone().expect("moved aside"));
    let name = aside
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("checkpoints.json.corrupt-")
            && name.len() > "checkpoints.json.corrupt-".len(),
        "{name}"
    );
    assert_eq!(aside.parent(), path.parent());
    assert_eq!(
        fs::read(&aside).expect("aside"),
        garbage,
        "the corrupt bytes are kept"
    );
    let mut restored = report.restored.clone();
    restored.sort();
    assert_eq!(restored, ids(&logged));
    assert_eq!(
        frozen(fx.mgr.list_all(fx.session).expect("list")),
        frozen(logged)
    );
    // A second repair of a sound log changes nothing.
    let again = fx.mgr.repair(fx.session).expect("repair again");
    assert!(again.restored.is_empty() && again.dropped.is_empty() && again.moved_aside.is_none());
}

#[test]
fn repair_drops_records_whose_commit_is_gone_and_reports_them() {
    let fx = Fixture::new();
    fx.repo.write("b.txt", "b\n");
    let kept = fx.snapshot("kept");
    fs::remove_file(fx.repo.join("b.txt")).expect("rm");
    fx.repo.write("a.txt", "a\n");
    let gone = fx.create(CheckpointMode::Commit, "its commit will be gone");
    // Someone removes the checkpoint's refs by hand, moves the branch back and prunes.
    let s = fx.session.to_string();
    fx.repo.git(&[
        "update-ref",
        "-d",
        &format!("refs/checkpoints/{s}/{}", gone.checkpoint_id),
    ]);
    fx.repo.git(&["tag", "-d", &gone.tags[0]]);
    fx.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let _ = fs::remove_file(fx.repo.join(".git/ORIG_HEAD"));
    fx.repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    fx.repo.git(&["gc", "-q", "--prune=now"]);
    assert!(
        fx.repo
            .git_try(&["cat-file", "-e", &gone.commit_sha])
            .is_none(),
        "the commit must really be gone for this test"
    );

    let report = fx.mgr.repair(fx.session).expect("repair");
    assert_eq!(report.dropped, vec![gone.checkpoint_id]);
    assert!(report.restored.is_empty());
    assert_eq!(report.total_checkpoints, 1);
    let left = fx.mgr.list_all(fx.session).expect("list");
    assert_eq!(ids(&left), vec![kept.checkpoint_id]);
}

#[test]
fn repair_takes_only_its_own_sessions_checkpoints() {
    let fx = Fixture::new();
    let other = SessionId::parse(&testutil::session_id(2)).expect("id");
    let mine = fx.snapshot("mine");
    fx.mgr
        .create(other, &request(CheckpointMode::Snapshot, "theirs"))
        .expect("other session");
    fs::remove_file(fx.repo.log_path(&fx.session.to_string())).expect("rm");
    fx.mgr.repair(fx.session).expect("repair");
    assert_eq!(
        ids(&fx.mgr.list_all(fx.session).expect("list")),
        vec![mine.checkpoint_id]
    );
    assert_eq!(fx.mgr.list(other).expect("list").len(), 1);
}

#[test]
fn repair_of_a_session_that_never_existed_is_not_found() {
    let fx = Fixture::new();
    let err = fx.mgr.repair(fx.session).expect_err("nothing to repair");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

/// Every ref (private ones included), HEAD, the index, status, files, the log's bytes, the
/// object count and the session folder's listing: nothing may change.
fn everything(fx: &Fixture) -> (Observed, String, Vec<u8>, String, Vec<String>) {
    let log = fx.repo.log_path(&fx.session.to_string());
    let mut listing: Vec<String> = fs::read_dir(log.parent().expect("dir"))
        .expect("session dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    (
        fx.observe(),
        fx.repo
            .git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        fs::read(&log).expect("log"),
        fx.repo.git(&["count-objects", "-v"]),
        listing,
    )
}

#[test]
fn a_corrupt_log_makes_every_command_fail_naming_repair_and_change_nothing() {
    let fx = Fixture::new();
    let (logged, _) = busy_session(&fx);
    let target = logged[0].clone();
    make_mixed_state(&fx.repo);
    let path = fx.repo.log_path(&fx.session.to_string());
    let valid = fs::read(&path).expect("log");
    let other_session =
        String::from_utf8_lossy(&valid).replace(&fx.session.to_string(), &testutil::session_id(9));
    let corruptions: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("binary garbage", b"\x00\xff\xfe not json".to_vec()),
        ("wrong shape", b"{\"checkpoints\": 5}".to_vec()),
        (
            "a checkpoint missing fields",
            b"{\"session_id\":\"x\",\"checkpoints\":[{}]}".to_vec(),
        ),
        ("another session's log", other_session.into_bytes()),
        ("json null", b"null".to_vec()),
    ];
    for (what, bytes) in corruptions {
        fs::write(&path, &bytes).expect("corrupt");
        let before = everything(&fx);
        let s = fx.session;
        let id = target.checkpoint_id;
        let attempts: Vec<(&str, Result<(), checkpoint_manager::Error>)> = vec![
            (
                "create commit",
                fx.mgr
                    .create(s, &request(CheckpointMode::Commit, "x"))
                    .map(drop),
            ),
            (
                "create tag",
                fx.mgr
                    .create(s, &request(CheckpointMode::Tag, "x"))
                    .map(drop),
            ),
            (
                "create snapshot",
                fx.mgr
                    .create(s, &request(CheckpointMode::Snapshot, "x"))
                    .map(drop),
            ),
            (
                "rollback mixed",
                fx.mgr.rollback(s, id, ResetMode::Mixed).map(drop),
            ),
            (
                "rollback hard",
                fx.mgr.rollback(s, id, ResetMode::Hard).map(drop),
            ),
            ("undo", fx.mgr.undo(s).map(drop)),
            ("delete", fx.mgr.delete(s, id, true).map(drop)),
            ("list", fx.mgr.list(s).map(drop)),
            ("get", fx.mgr.get(s, id).map(drop)),
            ("summary", fx.mgr.summary(s).map(drop)),
        ];
        for (op, result) in attempts {
            let err = result.expect_err(&format!("{op} must fail on a {what} log"));
            assert_eq!(
                err.kind(),
                ErrorKind::Invalid,
                "{op} on a {what} log: {err}"
            );
            let message = err.to_string();
            assert!(
                message.contains("repair the log of session")
                    && message.contains(&fx.session.to_string())
                    && !message.contains("--session-id"),
                "{op} on a {what} log must name repair and the session, not a CLI flag: {message}"
            );
        }
        let after = everything(&fx);
        assert_same_for_user(&before.0, &after.0, what);
        assert_eq!(before.1, after.1, "{what}: refs changed");
        assert_eq!(before.2, after.2, "{what}: the corrupt log was rewritten");
        assert_eq!(before.3, after.3, "{what}: objects were written");
        assert_eq!(
            before.4, after.4,
            "{what}: files appeared in the session folder"
        );
    }
    // And repair brings it all back.
    fx.mgr.repair(fx.session).expect("repair");
    assert_eq!(
        frozen(fx.mgr.list_all(fx.session).expect("list")),
        frozen(logged)
    );
}
