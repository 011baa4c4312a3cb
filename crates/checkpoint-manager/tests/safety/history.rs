//! The operation history (issue 8 items 12 and 17, issue 9 items 1 and 3): every rollback, undo
//! and redo is an entry recorded with its safety snapshot before anything changes; `undo` walks
//! back, `redo` forward; a failed or killed operation is undone like any other; the history and
//! the rollback counts are rebuilt from git when the log is lost; safety snapshots stay out of
//! the spec's views; a rollback names the branch it moved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkpoint_manager::{
    CheckpointMode, Error, Notice, NoticeSink, OperationKind, OperationState, Options, ResetMode,
};
use serde_json::Value;
use testutil::TestRepo;

use crate::common::*;

fn log_json(fx: &Fixture) -> Value {
    let path = fx.repo.log_path(&fx.session.to_string());
    serde_json::from_slice(&std::fs::read(path).expect("log")).expect("json")
}

fn write_log_json(fx: &Fixture, log: &Value) {
    let path = fx.repo.log_path(&fx.session.to_string());
    std::fs::write(path, serde_json::to_vec_pretty(log).expect("json")).expect("write log");
}

/// Three states A, B, C of `notes.txt` (plus an untracked file in C); snapshots of A and B.
fn three_states(fx: &Fixture) -> (State, State, State, [checkpoint_manager::Checkpoint; 2]) {
    fx.repo.write("notes.txt", "A\n");
    let a = fx.repo.tree_state();
    let cp_a = fx.snapshot("A");
    fx.repo.write("notes.txt", "B\n");
    let b = fx.repo.tree_state();
    let cp_b = fx.snapshot("B");
    fx.repo.write("notes.txt", "C\n");
    fx.repo.write("new-in-c.txt", "only in C\n");
    let c = fx.repo.tree_state();
    (a, b, c, [cp_a, cp_b])
}

#[test]
fn repeated_undo_walks_back_through_the_history_and_redo_walks_forward() {
    let fx = Fixture::new();
    let (a, b, c, [cp_a, cp_b]) = three_states(&fx);
    let first = fx.rollback_hard(&cp_a);
    assert_state(&a, &fx.repo.tree_state(), "rollback to A");
    let second = fx.rollback_hard(&cp_b);
    assert_state(&b, &fx.repo.tree_state(), "rollback to B");

    let u1 = fx.undo();
    assert_state(
        &a,
        &fx.repo.tree_state(),
        "first undo: before the second rollback",
    );
    assert_eq!(
        u1.undone.as_ref().map(|o| o.operation_id),
        Some(second.operation.operation_id)
    );
    let u2 = fx.undo();
    assert_state(
        &c,
        &fx.repo.tree_state(),
        "second undo: before the first rollback",
    );
    assert_eq!(
        u2.undone.as_ref().map(|o| o.operation_id),
        Some(first.operation.operation_id)
    );
    let before = fx.observe();
    let err = fx.mgr.undo(fx.session).expect_err("nothing left to undo");
    assert!(matches!(err, Error::NothingToUndo { .. }), "{err}");
    assert_same_for_user(&before, &fx.observe(), "a refused undo");

    let r1 = fx.mgr.redo(fx.session).expect("redo");
    assert_state(
        &a,
        &fx.repo.tree_state(),
        "first redo: before the second undo",
    );
    assert_eq!(
        r1.undone.as_ref().map(|o| o.operation_id),
        Some(u2.operation.operation_id)
    );
    fx.mgr.redo(fx.session).expect("redo");
    assert_state(
        &b,
        &fx.repo.tree_state(),
        "second redo: before the first undo",
    );
    let err = fx.mgr.redo(fx.session).expect_err("nothing left to redo");
    assert!(matches!(err, Error::NothingToRedo { .. }), "{err}");

    // Undo after a redo takes the redo back.
    fx.undo();
    assert_state(&a, &fx.repo.tree_state(), "undo of the redo");

    let ops = fx.mgr.operations(fx.session).expect("history");
    let kinds: Vec<_> = ops.iter().map(|o| o.kind).collect();
    use OperationKind::*;
    assert_eq!(kinds, [Rollback, Rollback, Undo, Undo, Redo, Redo, Undo]);
    assert!(ops.iter().all(|o| o.state == OperationState::Done));
    // Each entry's safety snapshot is in the log (and in git) and holds the state before it.
    let mut reader = TreeReader::default();
    let safety_of = |i: usize| {
        fx.mgr
            .get(fx.session, ops[i].safety_checkpoint_id)
            .expect("safety snapshot")
    };
    assert_state(
        &c,
        &reader.state(&fx.repo, &safety_of(0).commit_sha),
        "op 0",
    );
    assert_state(
        &a,
        &reader.state(&fx.repo, &safety_of(1).commit_sha),
        "op 1",
    );
    assert_state(
        &b,
        &reader.state(&fx.repo, &safety_of(2).commit_sha),
        "op 2",
    );
}

#[test]
fn a_rollback_after_an_undo_starts_a_new_history() {
    let fx = Fixture::new();
    let (a, _, _, [cp_a, cp_b]) = three_states(&fx);
    fx.rollback_hard(&cp_b);
    fx.undo();
    fx.rollback_hard(&cp_a);
    let err = fx
        .mgr
        .redo(fx.session)
        .expect_err("the undo is behind a new rollback");
    assert!(matches!(err, Error::NothingToRedo { .. }), "{err}");
    assert_state(&a, &fx.repo.tree_state(), "still at A");
}

#[test]
fn undo_after_a_failed_undo_returns_to_the_state_before_it() {
    let repo = TestRepo::new();
    repo.write("tracked.txt", "v1\n");
    repo.commit_all("initial");
    let options = Options::default().with_lock_timeout(Duration::from_millis(200));
    let fx = Fixture::over(repo, options);
    let (_, b, c, [_, cp_b]) = three_states(&fx);
    let rollback = fx.rollback_hard(&cp_b);
    assert_state(&b, &fx.repo.tree_state(), "rollback to B");
    // The user switches to another branch; the undo must re-attach `main`, whose lock a
    // crashed git left: it fails after its safety snapshot, when the files were restored.
    fx.repo.git(&["checkout", "-q", "-b", "other"]);
    let lock = fx.repo.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, b"").expect("main.lock");
    let err = fx.mgr.undo(fx.session).expect_err("undo under main.lock");
    std::fs::remove_file(&lock).expect("unlock");
    let ops = fx.mgr.operations(fx.session).expect("history");
    assert_eq!(ops.len(), 2, "the failed undo is an entry: {err}");
    assert_eq!(ops[1].kind, OperationKind::Undo);
    assert_eq!(ops[1].state, OperationState::Failed);
    assert_eq!(ops[1].undid, Some(rollback.operation.operation_id));

    // Undo returns to the state before the failed undo, then keeps going back.
    let back = fx.undo();
    assert_eq!(
        back.undone.map(|o| o.operation_id),
        Some(ops[1].operation_id)
    );
    assert_state(&b, &fx.repo.tree_state(), "undo of the failed undo");
    fx.undo();
    assert_state(&c, &fx.repo.tree_state(), "then the rollback is undone");
}

#[test]
fn undo_after_a_killed_undo_returns_to_the_state_before_it() {
    let fx = Fixture::new();
    let (_, b, c, [_, cp_b]) = three_states(&fx);
    fx.rollback_hard(&cp_b);
    fx.undo();
    // What a kill after the restore but before the entry was marked done leaves: the files
    // of C and an entry still `started`.
    let mut log = log_json(&fx);
    let ops = log["operations"].as_array_mut().expect("operations");
    assert_eq!(ops[1]["state"], "done");
    ops[1]["state"] = "started".into();
    write_log_json(&fx, &log);

    fx.undo();
    assert_state(&b, &fx.repo.tree_state(), "undo of the killed undo");
    fx.undo();
    assert_state(&c, &fx.repo.tree_state(), "then the rollback is undone");
}

#[test]
fn repair_rebuilds_the_history_and_the_rollback_counts_from_git() {
    let fx = Fixture::new();
    let (a, _, _, [cp_a, cp_b]) = three_states(&fx);
    fx.rollback_hard(&cp_a);
    fx.rollback_hard(&cp_b);
    fx.rollback_hard(&cp_a);
    fx.undo();
    let ops = fx.mgr.operations(fx.session).expect("history");
    let all = fx.mgr.list_all(fx.session).expect("list");
    std::fs::remove_file(fx.repo.log_path(&fx.session.to_string())).expect("rm log");

    let report = fx.mgr.repair(fx.session).expect("repair");
    assert_eq!(report.total_checkpoints, 2);
    assert_eq!(report.total_safety_snapshots, 4);
    assert_eq!(report.total_operations, 4);
    let rebuilt = fx.mgr.operations(fx.session).expect("history");
    assert_eq!(rebuilt, ops, "every entry, in order, with what it undid");
    let count = |id| {
        let cp = fx.mgr.get(fx.session, id).expect("get");
        (cp.rollback_used, cp.rollback_count)
    };
    assert_eq!(count(cp_a.checkpoint_id), (true, 2));
    assert_eq!(count(cp_b.checkpoint_id), (true, 1));
    assert_eq!(fx.mgr.list_all(fx.session).expect("list").len(), all.len());
    // The rebuilt history works: the last rollback to A was undone, so the newest entry in
    // effect is the rollback to B, and undo returns to the state before it (A).
    fx.undo();
    assert_state(&a, &fx.repo.tree_state(), "undo of the rollback to B");
}

fn collecting_fixture() -> (Fixture, Arc<Mutex<Vec<Notice>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let fx = Fixture::new();
    let mgr = checkpoint_manager::CheckpointManager::with_options(
        fx.repo.path(),
        Options::default().with_notice_sink(NoticeSink::new(move |n| {
            sink.lock().expect("notices").push(n.clone())
        })),
    )
    .expect("open");
    (Fixture { mgr, ..fx }, seen)
}

#[test]
fn a_log_deleted_by_git_clean_is_rebuilt_by_the_next_command_with_a_notice() {
    let (fx, seen) = collecting_fixture();
    let (_, _, c, [cp_a, _]) = three_states(&fx);
    fx.rollback_hard(&cp_a);
    let listed = fx.mgr.list(fx.session).expect("list");
    let summary = fx.mgr.summary(fx.session).expect("summary");
    assert!(
        seen.lock().unwrap().is_empty(),
        "no notice while the log is fine"
    );

    fx.repo.git(&["clean", "-fdxq"]);
    assert!(!fx.repo.log_path(&fx.session.to_string()).exists());
    assert_eq!(fx.mgr.list(fx.session).expect("list"), listed);
    assert_eq!(fx.mgr.summary(fx.session).expect("summary"), summary);
    assert_eq!(summary.checkpoints_used_for_rollback, 1);
    let notices = seen.lock().unwrap().clone();
    assert!(
        matches!(
            notices.as_slice(),
            [Notice::LogRebuilt {
                missing: true,
                restored: 3,
                ..
            }]
        ),
        "{notices:?}"
    );
    assert!(
        notices[0].to_string().contains("was missing"),
        "{}",
        notices[0]
    );

    // `git clean` again, then undo straight away: it rebuilds and undoes the rollback.
    fx.repo.git(&["clean", "-fdxq"]);
    fx.undo();
    assert_state(&c, &fx.repo.tree_state(), "undo after git clean");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_log_behind_the_refs_is_rebuilt_on_read() {
    let (fx, seen) = collecting_fixture();
    let first = fx.snapshot("first");
    let stale = std::fs::read(fx.repo.log_path(&fx.session.to_string())).expect("log");
    let second = fx.snapshot("second");
    std::fs::write(fx.repo.log_path(&fx.session.to_string()), stale).expect("old log back");
    let ids: Vec<_> = fx
        .mgr
        .list(fx.session)
        .expect("list")
        .iter()
        .map(|c| c.checkpoint_id)
        .collect();
    assert_eq!(ids, [second.checkpoint_id, first.checkpoint_id]);
    assert!(matches!(
        seen.lock().unwrap().as_slice(),
        [Notice::LogRebuilt {
            missing: false,
            restored: 1,
            ..
        }]
    ));
}

#[test]
fn safety_snapshots_stay_out_of_the_spec_views() {
    let fx = Fixture::new();
    let (_, _, _, [cp_a, cp_b]) = three_states(&fx);
    let outcome = fx.rollback_hard(&cp_a);
    let listed: Vec<_> = fx
        .mgr
        .list(fx.session)
        .expect("list")
        .iter()
        .map(|c| c.checkpoint_id)
        .collect();
    assert_eq!(listed, [cp_b.checkpoint_id, cp_a.checkpoint_id]);
    let all = fx.mgr.list_all(fx.session).expect("list all");
    assert_eq!(all.len(), 3);
    assert!(all[0].is_safety_snapshot());
    assert_eq!(all[0].checkpoint_id, outcome.safety_checkpoint_id);
    let summary = fx.mgr.summary(fx.session).expect("summary");
    assert_eq!(summary.total_checkpoints, 2);
    assert_eq!(
        summary.latest_checkpoint.as_deref(),
        Some(cp_b.commit_sha.as_str())
    );
    assert!(fx.mgr.get(fx.session, outcome.safety_checkpoint_id).is_ok());

    let log = log_json(&fx);
    let in_checkpoints: Vec<_> = log["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["checkpoint_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        in_checkpoints,
        [
            cp_a.checkpoint_id.to_string(),
            cp_b.checkpoint_id.to_string()
        ]
    );
    assert_eq!(log["summary"]["total_checkpoints"], 2);
    assert_eq!(
        log["summary"]["latest_checkpoint"],
        cp_b.commit_sha.as_str()
    );
    assert_eq!(
        log["safety_snapshots"][0]["checkpoint_id"],
        outcome.safety_checkpoint_id.to_string()
    );
    assert_eq!(log["operations"][0]["kind"], "rollback");
    assert_eq!(log["operations"][0]["state"], "done");
}

#[test]
fn a_log_with_safety_snapshots_among_the_checkpoints_keeps_working_and_migrates_on_write() {
    let fx = Fixture::new();
    let (_, b, c, [_, cp_b]) = three_states(&fx);
    let outcome = fx.rollback_hard(&cp_b);
    assert_state(&b, &fx.repo.tree_state(), "rollback");
    // The layout of earlier versions: safety snapshots inside `checkpoints`, no history.
    let mut log = log_json(&fx);
    let safety = log["safety_snapshots"].as_array().unwrap().clone();
    log["checkpoints"].as_array_mut().unwrap().extend(safety);
    let obj = log.as_object_mut().unwrap();
    obj.remove("safety_snapshots");
    obj.remove("operations");
    write_log_json(&fx, &log);

    assert_eq!(fx.mgr.list(fx.session).expect("list").len(), 2);
    assert_eq!(
        fx.mgr
            .summary(fx.session)
            .expect("summary")
            .total_checkpoints,
        2
    );
    let undone = fx.undo();
    assert_eq!(undone.checkpoint_id, outcome.safety_checkpoint_id);
    assert_state(
        &c,
        &fx.repo.tree_state(),
        "undo of a rollback logged the old way",
    );
    let log = log_json(&fx);
    assert_eq!(log["checkpoints"].as_array().unwrap().len(), 2);
    assert_eq!(log["safety_snapshots"].as_array().unwrap().len(), 2);
}

#[test]
fn a_rollback_across_branches_names_the_branch_it_moved() {
    let fx = Fixture::new();
    let main_tip = fx.repo.head();
    fx.repo.git(&["checkout", "-q", "-b", "feature"]);
    fx.repo.write("feature.txt", "feature work\n");
    fx.repo.commit_all("feature work");
    let feature_tip = fx.repo.head();
    let on_feature = fx.create(CheckpointMode::Tag, "on feature");
    fx.repo.git(&["checkout", "-q", "main"]);

    let outcome = fx
        .mgr
        .rollback(fx.session, on_feature.checkpoint_id, ResetMode::Hard)
        .expect("rollback");
    let moved = outcome.branch_moved.expect("a branch moved");
    assert_eq!(moved.branch, "main");
    assert_eq!(moved.old_commit.as_deref(), Some(main_tip.as_str()));
    assert_eq!(moved.new_commit, feature_tip);
    // main's old commit is an ancestor of feature's here: the new commit is not in main's history.
    assert!(!moved.in_history);
    assert_eq!(fx.repo.git(&["rev-parse", "refs/heads/main"]), feature_tip);

    let undone = fx.undo();
    let back = undone.branch_moved.expect("undo moves main back");
    assert_eq!(back.branch, "main");
    assert_eq!(back.old_commit.as_deref(), Some(feature_tip.as_str()));
    assert_eq!(back.new_commit, main_tip);
    assert!(back.in_history, "main's old commit is in feature's history");

    // A rollback to the commit HEAD already is moves no branch.
    let here = fx.create(CheckpointMode::Tag, "here");
    let same = fx
        .mgr
        .rollback(fx.session, here.checkpoint_id, ResetMode::Mixed)
        .expect("rollback");
    assert_eq!(same.branch_moved, None);
}

/// A rollback killed between its safety snapshot's ref and its log entry changed nothing: the
/// log rebuilt from git keeps its snapshot but not the operation, so `undo` takes back the
/// rollback before it, not one that never happened.
#[test]
fn an_operation_killed_before_its_entry_is_not_undone() {
    let fx = Fixture::new();
    let (a, _, c, [cp_a, _]) = three_states(&fx);
    let first = fx.rollback_hard(&cp_a);
    let log_path = fx.repo.log_path(&fx.session.to_string());
    let before_orphan = std::fs::read(&log_path).expect("log");
    // Rolling back to A again changes nothing; dropping its log write leaves what a kill between
    // the ref and the entry leaves.
    let orphan = fx.rollback_hard(&cp_a);
    assert_state(&a, &fx.repo.tree_state(), "still A");
    std::fs::write(&log_path, before_orphan).expect("log without the orphan");

    let undone = fx.undo();
    assert_eq!(
        undone.undone.map(|o| o.operation_id),
        Some(first.operation.operation_id)
    );
    assert_state(&c, &fx.repo.tree_state(), "undo of the first rollback");
    let ops = fx.mgr.operations(fx.session).expect("history");
    assert!(ops
        .iter()
        .all(|o| o.operation_id != orphan.operation.operation_id));
    assert!(
        fx.mgr.get(fx.session, orphan.safety_checkpoint_id).is_ok(),
        "its safety snapshot is kept"
    );
}

#[test]
fn a_safety_snapshot_the_history_needs_cannot_be_deleted_and_undo_keeps_working() {
    let fx = Fixture::new();
    let (_, b, c, [_, cp_b]) = three_states(&fx);
    let rollback = fx.rollback_hard(&cp_b);
    assert_state(&b, &fx.repo.tree_state(), "rollback to B");
    let before = fx.observe();
    let log_before = std::fs::read(fx.repo.log_path(&fx.session.to_string())).expect("log");
    let err = fx
        .mgr
        .delete(fx.session, rollback.safety_checkpoint_id, true)
        .expect_err("undo needs it");
    assert!(matches!(err, Error::SafetySnapshotInUse { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&rollback.operation.operation_id.to_string()),
        "{err}"
    );
    assert_same_for_user(&before, &fx.observe(), "a refused delete");
    assert_eq!(
        std::fs::read(fx.repo.log_path(&fx.session.to_string())).expect("log"),
        log_before,
        "the log is unchanged"
    );
    // The checkpoint the rollback went to can be deleted; undo still returns to C.
    fx.mgr
        .delete(fx.session, cp_b.checkpoint_id, true)
        .expect("delete the target");
    fx.undo();
    assert_state(
        &c,
        &fx.repo.tree_state(),
        "undo after the target was deleted",
    );
}
