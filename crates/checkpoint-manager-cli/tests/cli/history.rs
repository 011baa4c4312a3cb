//! The operation history on the command line: `undo` walks back, `redo` forward, `op-log`
//! shows it; `list --include-safety`; a rollback across branches says which branch moved; a
//! log deleted with `.flow/` is rebuilt with one line on stderr.

use checkpoint_manager::{CheckpointType, Operation, OperationKind, OperationState};
use insta::assert_snapshot;

use crate::support::*;

fn pretty(repo: &TestRepo, args: &[&str]) -> String {
    let mut all = vec!["--output", "pretty"];
    all.extend_from_slice(args);
    ok_text(repo.path(), &all)
}

/// Filters naming every operation of the session and its safety snapshot by kind and order
/// (`[ROLLBACK_1]`, `[SAFETY_ROLLBACK_1]`, ...), plus the `named` values.
fn operation_filters(repo: &TestRepo, session: &str, named: &[(&str, &str)]) -> insta::Settings {
    let mut ops: Vec<Operation> = ok_as(repo.path(), &["op-log", "--session-id", session]);
    ops.reverse();
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let kind = op.kind.to_string().to_uppercase();
        let n = ops[..=i].iter().filter(|o| o.kind == op.kind).count();
        names.push((op.operation_id.to_string(), format!("[{kind}_{n}]")));
        names.push((
            op.safety_checkpoint_id.to_string(),
            format!("[SAFETY_{kind}_{n}]"),
        ));
    }
    let mut all: Vec<(&str, &str)> = named.to_vec();
    all.extend(names.iter().map(|(v, n)| (v.as_str(), n.as_str())));
    pretty_filters(repo.path(), &all)
}

/// Two snapshots (`a.txt` = 1, then 2), then `a.txt` = 3 uncommitted.
fn two_snapshots(repo: &TestRepo, session: &str) -> (String, String) {
    repo.write("a.txt", "1\n");
    let one = create(repo, session, "one", &["--snapshot"]);
    repo.write("a.txt", "2\n");
    let two = create(repo, session, "two", &["--snapshot"]);
    repo.write("a.txt", "3\n");
    (one.checkpoint_id.to_string(), two.checkpoint_id.to_string())
}

#[test]
fn undo_walks_back_redo_forward_and_op_log_shows_the_history() {
    let repo = repo_with_commit();
    let session = sid(1);
    let (one, two) = two_snapshots(&repo, &session);
    let roll = |id: &str| -> RollbackOutcome {
        ok_as(
            repo.path(),
            &[
                "rollback",
                "--session-id",
                &session,
                "--checkpoint-id",
                id,
                "--hard-reset",
            ],
        )
    };
    let first = roll(&one);
    assert_eq!(first.operation.kind, OperationKind::Rollback);
    assert_eq!(first.operation.state, OperationState::Done);
    assert_eq!(first.operation.target_checkpoint_id.to_string(), one);
    roll(&two);
    assert_eq!(repo.read("a.txt"), b"2\n");

    let undo = pretty(&repo, &["undo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"1\n");
    let filters = operation_filters(&repo, &session, &[(&one, "[ONE]"), (&two, "[TWO]")]);
    let guard = filters.bind_to_scope();
    assert_snapshot!(undo, @r#"
        undid the rollback to checkpoint [TWO]--- (operation [ROLLBACK_2]------------------------): branch, HEAD, index and files are as they were before it
        safety snapshot [SAFETY_UNDO_1] holds the previous state; `checkpoint-manager redo` returns to it
    "#);
    drop(guard);
    let undo: RollbackOutcome = ok_as(repo.path(), &["undo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"3\n");
    assert_eq!(undo.operation.kind, OperationKind::Undo);
    assert_eq!(
        undo.undone.map(|op| op.operation_id),
        Some(first.operation.operation_id)
    );
    assert_eq!(undo.checkpoint_id, first.safety_checkpoint_id);
    let refused = fails(repo.path(), &["undo", "--session-id", &session], 4);
    assert!(refused.contains("nothing to undo"), "{refused}");

    let redo = pretty(&repo, &["redo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"1\n");
    let _filters =
        operation_filters(&repo, &session, &[(&one, "[ONE]"), (&two, "[TWO]")]).bind_to_scope();
    assert_snapshot!(redo, @r#"
        took back the undo [UNDO_2]----------------------------: branch, HEAD, index and files are as they were before it
        safety snapshot [SAFETY_REDO_1] holds the previous state; `checkpoint-manager undo` returns to it
    "#);

    let ops: Vec<Operation> = ok_as(repo.path(), &["op-log", "--session-id", &session]);
    let kinds: Vec<OperationKind> = ops.iter().map(|o| o.kind).collect();
    use OperationKind::{Redo, Rollback, Undo};
    assert_eq!(
        kinds,
        [Redo, Undo, Undo, Rollback, Rollback],
        "newest first"
    );
    assert_eq!(ops[2].undid, Some(ops[3].operation_id));
    assert_eq!(ops[1].undid, Some(ops[4].operation_id));
    assert_eq!(ops[0].undid, Some(ops[1].operation_id));
    let table = pretty(&repo, &["op-log", "--session-id", &session]);
    assert_snapshot!(table, @r#"
        OPERATION  TIME                         KIND      MODE   STATE    TARGET    UNDID
        [REDO_1]   [TIME]---------------------  redo      hard   done     [SAFETY_UNDO_2]  [UNDO_2]
        [UNDO_2]   [TIME]---------------------  undo      hard   done     [SAFETY_ROLLBACK_1]  [ROLLBACK_1]
        [UNDO_1]   [TIME]---------------------  undo      hard   done     [SAFETY_ROLLBACK_2]  [ROLLBACK_2]
        [ROLLBACK_2]   [TIME]---------------------  rollback  hard   done     [TWO]---  -
        [ROLLBACK_1]   [TIME]---------------------  rollback  hard   done     [ONE]---  -
        5 operation(s)
    "#);
}

#[test]
fn list_shows_safety_snapshots_only_when_asked_and_marks_them() {
    let repo = repo_with_commit();
    let session = sid(1);
    let (one, two) = two_snapshots(&repo, &session);
    let out: RollbackOutcome = ok_as(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &one,
        ],
    );
    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &session]);
    let ids: Vec<String> = listed.iter().map(|c| c.checkpoint_id.to_string()).collect();
    assert_eq!(ids, [two.as_str(), one.as_str()]);
    let all: Vec<Checkpoint> = ok_as(
        repo.path(),
        &["list", "--session-id", &session, "--include-safety"],
    );
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].checkpoint_id, out.safety_checkpoint_id);
    assert!(all[0].is_safety_snapshot());
    let summary: CheckpointSummary = ok_as(repo.path(), &["summary", "--session-id", &session]);
    assert_eq!(summary.total_checkpoints, 2);
    assert_eq!(
        summary
            .checkpoints_by_type
            .get(&CheckpointType::PreRiskyOperation),
        None
    );
    let table = pretty(
        &repo,
        &["list", "--session-id", &session, "--include-safety"],
    );
    let _filters =
        operation_filters(&repo, &session, &[(&one, "[ONE]"), (&two, "[TWO]")]).bind_to_scope();
    assert_snapshot!(table, @r#"
        ID        TIME                         PHASE           TYPE                 MODE       RB  DESCRIPTION
        [SAFETY_ROLLBACK_1]  [TIME]---------------------  implement       pre_risky_operation  safety      0  Safety snapshot before rollback to checkpoint [ONE]-------------------------------
        [TWO]---  [TIME]---------------------  implement       manual               snapshot    0  two
        [ONE]---  [TIME]---------------------  implement       manual               snapshot    1  one
        3 checkpoint(s)
    "#);
}

#[test]
fn a_rollback_to_another_branch_says_which_branch_moved() {
    let repo = repo_with_commit();
    let session = sid(1);
    let main_tip = repo.head();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.txt", "f\n");
    repo.commit_all("feature work");
    let on_feature = create(&repo, &session, "on feature", &["--snapshot"]);
    let feature_tip = repo.head();
    repo.git(&["checkout", "-q", "main"]);

    let feature_id = on_feature.checkpoint_id.to_string();
    let out: RollbackOutcome = ok_as(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &feature_id,
        ],
    );
    let moved = out.branch_moved.expect("the rollback moved main");
    assert_eq!(moved.branch, "main");
    assert_eq!(moved.old_commit.as_deref(), Some(main_tip.as_str()));
    assert_eq!(moved.new_commit, feature_tip);
    assert!(!moved.in_history);
    assert_eq!(repo.git(&["rev-parse", "main"]), feature_tip);

    let undo = pretty(&repo, &["undo", "--session-id", &session]);
    assert_eq!(repo.git(&["rev-parse", "main"]), main_tip);
    let redo = pretty(&repo, &["redo", "--session-id", &session]);
    let named = [
        (feature_id.as_str(), "[FEATURE]"),
        (main_tip.as_str(), "[MAIN]"),
        (feature_tip.as_str(), "[FEAT]"),
    ];
    let _filters = operation_filters(&repo, &session, &named).bind_to_scope();
    assert_snapshot!(undo, @r#"
        undid the rollback to checkpoint [FEATURE] (operation [ROLLBACK_1]------------------------): branch, HEAD, index and files are as they were before it
        branch main moved back from [FEAT]------ to [MAIN]------
        safety snapshot [SAFETY_UNDO_1] holds the previous state; `checkpoint-manager redo` returns to it
    "#);
    assert_snapshot!(redo, @r#"
        took back the undo [UNDO_1]----------------------------: branch, HEAD, index and files are as they were before it
        branch main moved from [MAIN]------ to [FEAT]------, which is not in its history (the checkpoint was taken on another branch or a detached HEAD); [MAIN]------ stays in the safety snapshot
        safety snapshot [SAFETY_REDO_1] holds the previous state; `checkpoint-manager undo` returns to it
    "#);
}

#[test]
fn a_deleted_flow_folder_is_rebuilt_with_one_line_on_stderr() {
    let repo = repo_with_commit();
    let session = sid(1);
    let (one, _) = two_snapshots(&repo, &session);
    ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &one,
        ],
    );
    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &session]);
    let summary: CheckpointSummary = ok_as(repo.path(), &["summary", "--session-id", &session]);
    std::fs::remove_dir_all(repo.join(".flow")).unwrap();

    let r = run(repo.path(), &["list", "--session-id", &session]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        serde_json::from_str::<Vec<Checkpoint>>(&r.stdout).unwrap(),
        listed
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("checkpoint-manager: note: "),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("was missing: rebuilt it from git"),
        "{}",
        r.stderr
    );
    assert_eq!(
        ok_as::<CheckpointSummary>(repo.path(), &["summary", "--session-id", &session]),
        summary
    );
    assert_eq!(summary.checkpoints_used_for_rollback, 1);
    // Rebuilt once: the next command says nothing.
    let again = run(repo.path(), &["list", "--session-id", &session]);
    assert_eq!(again.stderr, "");
}

#[test]
fn a_rollback_to_a_detached_head_checkpoint_says_it_in_words() {
    let repo = repo_with_commit();
    let session = sid(1);
    let main_tip = repo.head();
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("detached.txt", "d\n");
    repo.commit_all("on a detached HEAD");
    let detached = create(&repo, &session, "detached", &["--no-commit"]);
    let detached_id = detached.checkpoint_id.to_string();
    repo.git(&["checkout", "-q", "main"]);

    let text = pretty(
        &repo,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &detached.checkpoint_id.to_string(),
        ],
    );
    assert_eq!(
        repo.git(&["rev-parse", "main"]),
        detached.commit_sha.as_str()
    );
    assert_ne!(main_tip, detached.commit_sha.as_str());
    let named = [
        (detached_id.as_str(), "[DETACHED]"),
        (detached.commit_sha.as_str(), "[DET_SHA]"),
        (main_tip.as_str(), "[MAIN]"),
    ];
    let filters = operation_filters(&repo, &session, &named).bind_to_scope();
    assert_snapshot!(text, @r#"
        rolled back to checkpoint [DETACHED] (mixed, commit [DET_SHA]---)
        branch main moved from [MAIN]------ to [DET_SHA]---, which is not in its history (the checkpoint was taken on another branch or a detached HEAD); [MAIN]------ stays in the safety snapshot
        safety snapshot [SAFETY_ROLLBACK_1] holds the previous state; `checkpoint-manager undo` returns to it
    "#);
    drop(filters);
    // Back on the same line of history, a rollback says the branch moved back.
    let first = create(&repo, &session, "first", &[]);
    repo.write("later.txt", "l\n");
    let later = create(&repo, &session, "later", &[]);
    let first_id = first.checkpoint_id.to_string();
    let text = pretty(
        &repo,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &first_id,
        ],
    );
    let named = [
        (first_id.as_str(), "[FIRST]"),
        (first.commit_sha.as_str(), "[FIRST_SHA]"),
        (later.commit_sha.as_str(), "[LATER_SHA]"),
    ];
    let _filters = operation_filters(&repo, &session, &named).bind_to_scope();
    assert_snapshot!(text, @r#"
        rolled back to checkpoint [FIRST]- (mixed, commit [FIRST_SHA]-)
        branch main moved back from [LATER_SHA]- to [FIRST_SHA]-
        safety snapshot [SAFETY_ROLLBACK_2] holds the previous state; `checkpoint-manager undo` returns to it
    "#);
}

/// With the log in place, `list`, `get` and `summary` start no git process: they work with no
/// git on the PATH (the check that the log is not behind the refs reads one folder).
#[test]
fn reads_of_a_healthy_log_start_no_git_process() {
    let repo = repo_with_commit();
    let session = sid(1);
    let (one, _) = two_snapshots(&repo, &session);
    ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &one,
        ],
    );
    let empty = tempfile::tempdir().unwrap();
    for args in [
        vec!["list", "--session-id", &session],
        vec!["list", "--session-id", &session, "--include-safety"],
        vec!["summary", "--session-id", &session],
        vec!["get", "--session-id", &session, "--checkpoint-id", &one],
    ] {
        let out = cm(repo.path())
            .env("PATH", empty.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?} needed git: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Without the log, the same command needs git to see what git holds.
    std::fs::remove_dir_all(repo.join(".flow")).unwrap();
    let out = cm(repo.path())
        .env("PATH", empty.path())
        .args(["list", "--session-id", &session])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
