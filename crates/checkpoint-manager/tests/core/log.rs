//! The session log `checkpoints.json`: its exact layout, timestamps, ordering, the summary, the
//! state snapshot, and reading logs written by the original tool.

use checkpoint_manager::{
    CheckpointId, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, Error, ErrorKind,
    ResetMode, StateSnapshot,
};
use serde_json::{json, Value};

use crate::support::*;

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// The spec's Checkpoint fields (state_snapshot only when given) plus `mode`, this
/// implementation's one addition for commit and tag checkpoints.
const CHECKPOINT_KEYS: &[&str] = &[
    "checkpoint_id",
    "commit_sha",
    "timestamp",
    "description",
    "phase",
    "checkpoint_type",
    "commit_message",
    "tags",
    "rollback_used",
    "rollback_count",
    "mode",
];

#[test]
fn the_log_has_exactly_the_spec_layout() {
    let repo = repo_with_commit();
    repo.write("a.txt", "a\n");
    let cp = manager(&repo)
        .create(
            sid(7),
            &CreateRequest::new("Planning phase completed", CheckpointPhase::Plan)
                .with_type(CheckpointType::PhaseComplete)
                .with_mode(CheckpointMode::Commit),
        )
        .unwrap();

    let log = log_json(&repo, sid(7));

    assert_eq!(
        keys(&log),
        sorted(&["session_id", "generated_at", "checkpoints", "summary"])
    );
    assert_eq!(log["session_id"], sid(7).to_string());
    let generated_at = log["generated_at"].as_str().unwrap();
    assert!(is_utc_micros(generated_at), "{generated_at}");

    let checkpoints = log["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 1);
    let entry = &checkpoints[0];
    assert_eq!(keys(entry), sorted(CHECKPOINT_KEYS));
    let id = cp.checkpoint_id.to_string();
    assert_eq!(entry["checkpoint_id"], id.as_str());
    assert_eq!(entry["commit_sha"], cp.commit_sha.as_str());
    assert_eq!(entry["commit_sha"].as_str().unwrap().len(), 40);
    assert!(is_utc_micros(entry["timestamp"].as_str().unwrap()));
    assert_eq!(entry["description"], "Planning phase completed");
    assert_eq!(entry["phase"], "plan");
    assert_eq!(entry["checkpoint_type"], "phase_complete");
    assert_eq!(
        entry["commit_message"],
        cp.commit_message.clone().unwrap().as_str()
    );
    assert_eq!(entry["tags"], json!([format!("checkpoint-{id}")]));
    assert_eq!(entry["rollback_used"], false);
    assert_eq!(entry["rollback_count"], 0);
    assert_eq!(entry["mode"], "commit");

    assert_eq!(
        log["summary"],
        json!({
            "total_checkpoints": 1,
            "checkpoints_by_type": {"phase_complete": 1},
            "checkpoints_used_for_rollback": 0,
            "latest_checkpoint": cp.commit_sha,
        })
    );
}

#[test]
fn every_phase_and_type_is_written_in_lowercase() {
    let repo = repo_with_commit();
    let cases = [
        (
            CheckpointPhase::Plan,
            CheckpointType::PhaseComplete,
            "plan",
            "phase_complete",
        ),
        (
            CheckpointPhase::GenerateTasks,
            CheckpointType::TaskGroupComplete,
            "generate_tasks",
            "task_group_complete",
        ),
        (
            CheckpointPhase::Implement,
            CheckpointType::SafeState,
            "implement",
            "safe_state",
        ),
        (
            CheckpointPhase::Validate,
            CheckpointType::PreRiskyOperation,
            "validate",
            "pre_risky_operation",
        ),
        (
            CheckpointPhase::Cleanup,
            CheckpointType::ErrorRecovery,
            "cleanup",
            "error_recovery",
        ),
        (
            CheckpointPhase::Plan,
            CheckpointType::Manual,
            "plan",
            "manual",
        ),
    ];
    for (phase, checkpoint_type, _, _) in cases {
        manager(&repo)
            .create(
                sid(1),
                &CreateRequest::new("x", phase).with_type(checkpoint_type),
            )
            .unwrap();
    }
    let log = log_json(&repo, sid(1));
    let written: Vec<(String, String)> = log["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["phase"].as_str().unwrap().to_owned(),
                c["checkpoint_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = cases
        .iter()
        .map(|(_, _, p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(written, expected, "creation order, lowercase spellings");
}

#[test]
fn the_state_snapshot_is_written_with_all_six_fields_only_when_given() {
    let repo = repo_with_commit();
    let given =
        StateSnapshot::from_json(r#"{"tasks_completed": 15, "tests_passing": 42}"#).unwrap();
    assert_eq!(
        given,
        StateSnapshot {
            tasks_completed: 15,
            tests_passing: 42,
            ..StateSnapshot::default()
        },
        "missing fields read as 0"
    );
    manager(&repo)
        .create(sid(1), &request("with").with_state_snapshot(Some(given)))
        .unwrap();
    manager(&repo).create(sid(1), &request("without")).unwrap();

    let log = log_json(&repo, sid(1));
    let cps = log["checkpoints"].as_array().unwrap();
    assert_eq!(
        cps[0]["state_snapshot"],
        json!({
            "tasks_completed": 15,
            "decisions_made": 0,
            "files_modified": 0,
            "files_created": 0,
            "tests_passing": 42,
            "tests_failing": 0,
        })
    );
    assert!(cps[1].get("state_snapshot").is_none(), "{}", cps[1]);
}

#[test]
fn state_snapshots_that_are_not_the_spec_object_are_invalid_input() {
    for bad in [
        "",
        "{bad",
        "null",
        "42",
        r#"{"tasks_completed": -1}"#,
        r#"{"tasks_completed": "many"}"#,
        r#"{"tasks_completed": 1.5}"#,
        r#"{"unknown_field": 1}"#,
    ] {
        let err = StateSnapshot::from_json(bad).unwrap_err();
        assert!(
            matches!(err, Error::InvalidStateSnapshot(_)),
            "{bad}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::Invalid, "{bad}");
    }
    assert_eq!(
        StateSnapshot::from_json("{}").unwrap(),
        StateSnapshot::default()
    );
}

#[test]

fn a_json_array_is_not_a_state_snapshot() {
    // `[15, 8]` would silently become tasks_completed 15, decisions_made 8.
    for bad in ["[]", "[15, 8]", "[1, 2, 3, 4, 5, 6]"] {
        let result = StateSnapshot::from_json(bad);
        assert!(
            matches!(result, Err(Error::InvalidStateSnapshot(_))),
            "{bad} was accepted as {result:?}"
        );
    }
}

#[test]
fn list_is_newest_first_and_get_returns_the_same_record() {
    let repo = repo_with_commit();
    let created: Vec<_> = (0..3)
        .map(|i| {
            repo.write("n.txt", format!("{i}\n"));
            checkpoint(&repo, sid(1), &format!("cp {i}"))
        })
        .collect();

    let listed = manager(&repo).list(sid(1)).unwrap();

    let order: Vec<&str> = listed.iter().map(|c| c.description.as_str()).collect();
    assert_eq!(order, ["cp 2", "cp 1", "cp 0"]);
    for cp in &created {
        assert_eq!(&manager(&repo).get(sid(1), cp.checkpoint_id).unwrap(), cp);
    }
    // Timestamps never go backwards in creation order.
    assert!(created[0].timestamp <= created[1].timestamp);
    assert!(created[1].timestamp <= created[2].timestamp);
}

/// Writes a log by hand, as the original tool (or an older version) would have.
fn write_log(repo: &TestRepo, session: &str, log: &Value) {
    repo.write(
        format!(".flow/maestro/sessions/{session}/checkpoints.json"),
        serde_json::to_vec_pretty(log).unwrap(),
    );
}

fn record(id: &str, sha: &str, timestamp: &str, description: &str, kind: &str) -> Value {
    json!({
        "checkpoint_id": id,
        "commit_sha": sha,
        "timestamp": timestamp,
        "description": description,
        "phase": "plan",
        "checkpoint_type": kind,
        "tags": [format!("checkpoint-{id}")],
        "rollback_used": false,
        "rollback_count": 0
    })
}

#[test]
fn equal_timestamps_list_the_later_created_first() {
    let repo = repo_with_commit();
    let head = repo.head();
    repo.write("other.txt", "o\n");
    let other = repo.commit_all("other");
    let session = sid(1).to_string();
    let same = "2024-01-07T13:00:00.000001Z";
    write_log(
        &repo,
        &session,
        &json!({
            "session_id": session,
            "generated_at": same,
            "checkpoints": [
                record("00000000-0000-4000-8000-00000000000a", &head, "2024-01-07T12:00:00.000000Z", "oldest", "manual"),
                record("00000000-0000-4000-8000-00000000000b", &head, same, "tie created first", "manual"),
                record("00000000-0000-4000-8000-00000000000c", &head, same, "tie created second", "manual"),
                record("00000000-0000-4000-8000-00000000000d", &head, "2024-01-07T11:00:00.000000Z", "added last, older", "manual"),
                // The original tool wrote naive local times; this implementation reads them as UTC.
                record("00000000-0000-4000-8000-00000000000e", &other, "2024-01-07T13:30:00", "naive, newest", "manual"),
                // Later as text, earlier as an instant (12:45 UTC).
                record("00000000-0000-4000-8000-00000000000f", &head, "2024-01-07T13:45:00+01:00", "offset", "manual"),
            ]
        }),
    );

    let order: Vec<String> = manager(&repo)
        .list(sid(1))
        .unwrap()
        .into_iter()
        .map(|c| c.description)
        .collect();

    assert_eq!(
        order,
        [
            "naive, newest",
            "tie created second",
            "tie created first",
            "offset",
            "oldest",
            "added last, older"
        ]
    );
    assert_eq!(
        manager(&repo).summary(sid(1)).unwrap().latest_checkpoint,
        Some(other)
    );
}

#[test]
fn a_log_written_by_the_original_tool_is_read_and_used() {
    // The spec's example, with a real commit: no `commit_message`, no `mode`, a timestamp
    // without microseconds.
    let repo = repo_with_commit();
    let id = "0b7d2a57-3c4e-4f5a-9b6c-7d8e9f0a1b2c";
    repo.git(&["tag", &format!("checkpoint-{id}")]);
    let sha = repo.head();
    repo.write("later.txt", "later\n");
    repo.commit_all("later work");
    let session = sid(1).to_string();
    write_log(
        &repo,
        &session,
        &json!({
            "session_id": session,
            "generated_at": "2024-01-07T13:00:00Z",
            "checkpoints": [record(id, &sha, "2024-01-07T13:00:00Z", "Planning phase completed", "phase_complete")],
            "summary": {
                "total_checkpoints": 1,
                "checkpoints_by_type": {"phase_complete": 1},
                "checkpoints_used_for_rollback": 0,
                "latest_checkpoint": sha
            }
        }),
    );
    let cp_id = CheckpointId::parse(id).unwrap();

    let got = manager(&repo).get(sid(1), cp_id).unwrap();
    assert_eq!(got.commit_sha, sha);
    assert_eq!(got.description, "Planning phase completed");
    assert_eq!(got.commit_message, None);
    assert_eq!(got.mode, CheckpointMode::Commit);
    let summary = manager(&repo).summary(sid(1)).unwrap();
    assert_eq!(summary.total_checkpoints, 1);
    assert_eq!(summary.latest_checkpoint.as_deref(), Some(sha.as_str()));

    // A new checkpoint is listed above it; a rollback to the old one works and is counted.
    repo.write("new.txt", "n\n");
    let newer = checkpoint(&repo, sid(1), "new");
    let listed = manager(&repo).list(sid(1)).unwrap();
    assert_eq!(listed[0].checkpoint_id, newer.checkpoint_id);
    assert_eq!(listed[1].checkpoint_id, cp_id);
    manager(&repo)
        .rollback(sid(1), cp_id, ResetMode::Hard)
        .unwrap();
    assert_eq!(repo.head(), sha);
    assert!(!repo.exists("later.txt"));
    let after = manager(&repo).get(sid(1), cp_id).unwrap();
    assert!(after.rollback_used);
    assert_eq!(after.rollback_count, 1);
}

#[test]
fn the_summary_counts_by_type_and_names_the_newest_commit() {
    let repo = repo_with_commit();
    let types = [
        CheckpointType::PhaseComplete,
        CheckpointType::SafeState,
        CheckpointType::PhaseComplete,
        CheckpointType::Manual,
        CheckpointType::PhaseComplete,
    ];
    let mut last = String::new();
    for (i, t) in types.into_iter().enumerate() {
        repo.write("n.txt", format!("{i}\n"));
        last = manager(&repo)
            .create(sid(1), &request_with("x", t, CheckpointMode::Commit))
            .unwrap()
            .commit_sha
            .to_string();
    }

    let summary = manager(&repo).summary(sid(1)).unwrap();

    assert_eq!(summary.total_checkpoints, 5);
    assert_eq!(summary.checkpoints_used_for_rollback, 0);
    assert_eq!(summary.latest_checkpoint, Some(last.clone()));
    assert_eq!(
        serde_json::to_value(&summary.checkpoints_by_type).unwrap(),
        json!({"phase_complete": 3, "safe_state": 1, "manual": 1})
    );
    // The log on disk carries the same summary.
    let on_disk: checkpoint_manager::CheckpointSummary =
        serde_json::from_value(log_json(&repo, sid(1))["summary"].clone()).unwrap();
    assert_eq!(on_disk, summary);
}

#[test]
fn a_session_with_no_log_lists_nothing_and_summarises_to_zeros() {
    let repo = repo_with_commit();
    assert!(manager(&repo).list(sid(9)).unwrap().is_empty());
    let summary = manager(&repo).summary(sid(9)).unwrap();
    assert_eq!(summary.total_checkpoints, 0);
    assert!(summary.checkpoints_by_type.is_empty());
    assert_eq!(summary.checkpoints_used_for_rollback, 0);
    assert_eq!(summary.latest_checkpoint, None);
    assert!(!repo.exists(".flow"), "reading creates nothing");
}

#[test]
fn get_of_an_unknown_session_or_checkpoint_is_not_found() {
    let repo = repo_with_commit();
    let cp = checkpoint(&repo, sid(1), "exists");
    let unknown = CheckpointId::parse("00000000-0000-4000-8000-0000000000ff").unwrap();

    let err = manager(&repo).get(sid(1), unknown).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(&unknown.to_string()), "{err}");

    let err = manager(&repo).get(sid(2), cp.checkpoint_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(&sid(2).to_string()), "{err}");
    assert!(!repo.exists(format!(".flow/maestro/sessions/{}", sid(2))));
}

#[test]
fn sessions_are_kept_apart() {
    let repo = repo_with_commit();
    let a = checkpoint(&repo, sid(1), "session one");
    repo.write("x.txt", "x\n");
    let b = checkpoint(&repo, sid(2), "session two");
    assert_eq!(
        manager(&repo).list(sid(1)).unwrap(),
        std::slice::from_ref(&a)
    );
    assert_eq!(
        manager(&repo).list(sid(2)).unwrap(),
        std::slice::from_ref(&b)
    );
    assert_eq!(
        manager(&repo)
            .get(sid(2), a.checkpoint_id)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn ids_that_are_not_canonical_uuids_are_refused() {
    for bad in [
        "",
        "../x",
        "..",
        "garbage",
        "../../../../etc/passwd",
        "00000000-0000-4000-8000-00000000000/",
        "00000000000040008000000000000001",
        "{00000000-0000-4000-8000-000000000001}",
        " 00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000001\n",
    ] {
        let err = checkpoint_manager::SessionId::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{bad:?}");
        let err = CheckpointId::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{bad:?}");
        assert!(err.to_string().contains("UUID"), "{err}");
    }
}

// --- Appending without a rewrite (issue 13) ---

/// `create` splices its entry into the file: every byte of the entries before it stays as it
/// was (even in the original tool's formatting), and the summary and `generated_at` are new.
#[test]
fn create_keeps_the_bytes_of_every_earlier_entry() {
    let repo = repo_with_commit();
    let sha = repo.head();
    let session = sid(1).to_string();
    let old = record(
        "00000000-0000-4000-8000-00000000000a",
        &sha,
        "2024-01-07T13:00:00Z",
        "by the original tool",
        "phase_complete",
    );
    // Compact, as no version of this tool writes it.
    let text = serde_json::to_string(&json!({
        "session_id": session,
        "generated_at": "2024-01-07T13:00:00Z",
        "checkpoints": [old],
        "summary": {"total_checkpoints": 1, "checkpoints_by_type": {"phase_complete": 1},
                    "checkpoints_used_for_rollback": 0, "latest_checkpoint": sha},
    }))
    .unwrap();
    repo.write(repo.log_path(&session), &text);
    let old_entry = serde_json::to_string(&old).unwrap();
    assert!(text.contains(&old_entry));

    repo.write("a.txt", "work\n");
    let new = checkpoint(&repo, sid(1), "new");

    let after = String::from_utf8(repo.read(repo.log_path(&session))).unwrap();
    assert!(after.contains(&old_entry), "{after}");
    let log = log_json(&repo, sid(1));
    assert_ne!(log["generated_at"], "2024-01-07T13:00:00Z");
    assert_eq!(log["summary"]["total_checkpoints"], 2);
    assert_eq!(log["summary"]["latest_checkpoint"], json!(new.commit_sha));
    assert_eq!(
        log["summary"]["checkpoints_by_type"],
        json!({"phase_complete": 1, "manual": 1})
    );
    let listed = manager(&repo).list(sid(1)).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], new);
    assert_eq!(manager(&repo).get(sid(1), new.checkpoint_id).unwrap(), new);
}

/// A log whose last entry has a phase no version knows is corrupt for `create` and `get` too, even
/// though neither reads that entry in full: nothing is committed, the file is unchanged.
#[test]
fn a_broken_entry_anywhere_refuses_create_and_get() {
    let repo = repo_with_commit();
    let first = checkpoint(&repo, sid(1), "first");
    repo.write("b.txt", "b\n");
    checkpoint(&repo, sid(1), "second");
    let path = repo.log_path(&sid(1).to_string());
    let text = String::from_utf8(repo.read(&path)).unwrap();
    let broken = text.replacen("\"phase\": \"implement\"", "\"phase\": \"nowhere\"", 2);
    let broken = broken.replacen("\"phase\": \"nowhere\"", "\"phase\": \"implement\"", 1);
    assert_ne!(broken, text);
    repo.write(&path, &broken);
    repo.write("c.txt", "c\n");
    let head = repo.head();
    let refs = repo.git(&["for-each-ref"]);

    let err = manager(&repo).create(sid(1), &request("x")).unwrap_err();
    assert!(matches!(err, Error::CorruptLog { .. }), "{err}");
    let err = manager(&repo).get(sid(1), first.checkpoint_id).unwrap_err();
    assert!(matches!(err, Error::CorruptLog { .. }), "{err}");

    assert_eq!(repo.head(), head);
    assert_eq!(repo.git(&["for-each-ref"]), refs);
    assert_eq!(repo.read(&path), broken.as_bytes());
}

/// A checkpoint whose private ref exists but whose entry the log lost is brought back before
/// the append (the log is rebuilt from git first, as before the splice).
#[test]
fn create_on_a_log_behind_git_rebuilds_it_first() {
    let repo = repo_with_commit();
    let first = checkpoint(&repo, sid(1), "first");
    let path = repo.log_path(&sid(1).to_string());
    let one = repo.read(&path);
    repo.write("b.txt", "b\n");
    let second = checkpoint(&repo, sid(1), "second");
    repo.write(&path, &one); // the log forgets `second`; its ref stays
    repo.write("c.txt", "c\n");

    let third = checkpoint(&repo, sid(1), "third");

    let ids: Vec<CheckpointId> = manager(&repo)
        .list(sid(1))
        .unwrap()
        .into_iter()
        .map(|c| c.checkpoint_id)
        .collect();
    assert_eq!(
        ids,
        [
            third.checkpoint_id,
            second.checkpoint_id,
            first.checkpoint_id
        ]
    );
    assert_eq!(
        manager(&repo)
            .get(sid(1), second.checkpoint_id)
            .unwrap()
            .description,
        "second"
    );
}
