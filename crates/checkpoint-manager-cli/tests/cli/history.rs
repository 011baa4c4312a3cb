//! The operation history on the command line: `undo` walks back, `redo` forward, `op-log`
//! shows it; `list --include-safety`; a rollback across branches says which branch moved; a
//! log deleted with `.flow/` is rebuilt with one line on stderr.

use insta::assert_snapshot;
use serde_json::Value;

use crate::support::*;

fn pretty(repo: &TestRepo, args: &[&str]) -> String {
    let mut all = vec!["--output", "pretty"];
    all.extend_from_slice(args);
    redact(&ok_text(repo.path(), &all), repo.path())
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
    let roll = |id: &str| {
        ok_json(
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
    assert_eq!(first["operation"]["kind"], "rollback");
    assert_eq!(first["operation"]["state"], "done");
    assert_eq!(first["operation"]["target_checkpoint_id"], one.as_str());
    roll(&two);
    assert_eq!(repo.read("a.txt"), b"2\n");

    let undo = pretty(&repo, &["undo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"1\n");
    assert_snapshot!(undo, @r#"
        undid the rollback to checkpoint {ID1}------------------------------- (operation {ID2}-------------------------------): branch, HEAD, index and files are as they were before it
        safety snapshot {ID3}------------------------------- holds the previous state; `checkpoint-manager redo` returns to it
    "#);
    let undo = ok_json(repo.path(), &["undo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"3\n");
    assert_eq!(undo["operation"]["kind"], "undo");
    assert_eq!(
        undo["undone"]["operation_id"],
        first["operation"]["operation_id"]
    );
    assert_eq!(undo["checkpoint_id"], first["safety_checkpoint_id"]);
    let refused = fails(repo.path(), &["undo", "--session-id", &session], 4);
    assert!(refused.contains("nothing to undo"), "{refused}");

    let redo = pretty(&repo, &["redo", "--session-id", &session]);
    assert_eq!(repo.read("a.txt"), b"1\n");
    assert_snapshot!(redo, @r#"
        took back the undo {ID1}-------------------------------: branch, HEAD, index and files are as they were before it
        safety snapshot {ID2}------------------------------- holds the previous state; `checkpoint-manager undo` returns to it
    "#);

    let ops = ok_json(repo.path(), &["op-log", "--session-id", &session]);
    let kinds: Vec<&str> = ops
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["redo", "undo", "undo", "rollback", "rollback"],
        "newest first"
    );
    assert_eq!(ops[2]["undid"], ops[3]["operation_id"]);
    assert_eq!(ops[1]["undid"], ops[4]["operation_id"]);
    assert_eq!(ops[0]["undid"], ops[1]["operation_id"]);
    let table = pretty(&repo, &["op-log", "--session-id", &session]);
    assert_snapshot!(table, @r#"
        OPERATION                             TIME                         KIND      MODE   STATE    TARGET                                UNDID
        {ID1}-------------------------------  {TIME1}--------------------  redo      hard   done     {ID2}-------------------------------  {ID3}-------------------------------
        {ID3}-------------------------------  {TIME2}--------------------  undo      hard   done     {ID4}-------------------------------  {ID5}-------------------------------
        {ID6}-------------------------------  {TIME3}--------------------  undo      hard   done     {ID7}-------------------------------  {ID8}-------------------------------
        {ID8}-------------------------------  {TIME4}--------------------  rollback  hard   done     {ID9}-------------------------------  -
        {ID5}-------------------------------  {TIME5}--------------------  rollback  hard   done     {ID10}------------------------------  -
        5 operation(s)
    "#);
}

#[test]
fn list_shows_safety_snapshots_only_when_asked_and_marks_them() {
    let repo = repo_with_commit();
    let session = sid(1);
    let (one, two) = two_snapshots(&repo, &session);
    let out = ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &one,
        ],
    );
    let listed = ok_json(repo.path(), &["list", "--session-id", &session]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "checkpoint_id"))
        .collect();
    assert_eq!(ids, [two.as_str(), one.as_str()]);
    let all = ok_json(
        repo.path(),
        &["list", "--session-id", &session, "--include-safety"],
    );
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["checkpoint_id"], out["safety_checkpoint_id"]);
    assert_eq!(all[0]["snapshot"]["safety"], true);
    let summary = ok_json(repo.path(), &["summary", "--session-id", &session]);
    assert_eq!(summary["total_checkpoints"], 2);
    assert_eq!(
        summary["checkpoints_by_type"]["pre_risky_operation"],
        Value::Null
    );
    let table = pretty(
        &repo,
        &["list", "--session-id", &session, "--include-safety"],
    );
    assert_snapshot!(table, @r#"
        ID                                    TIME                         PHASE           TYPE                 MODE       RB  DESCRIPTION
        {ID1}-------------------------------  {TIME1}--------------------  implement       pre_risky_operation  safety      0  Safety snapshot before rollback to checkpoint {ID2}-------------------------------
        {ID3}-------------------------------  {TIME2}--------------------  implement       manual               snapshot    0  two
        {ID2}-------------------------------  {TIME3}--------------------  implement       manual               snapshot    1  one
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

    let out = ok_json(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &on_feature.checkpoint_id.to_string(),
        ],
    );
    let moved = &out["branch_moved"];
    assert_eq!(moved["branch"], "main");
    assert_eq!(moved["old_commit"], main_tip.as_str());
    assert_eq!(moved["new_commit"], feature_tip.as_str());
    assert_eq!(moved["in_history"], false);
    assert_eq!(repo.git(&["rev-parse", "main"]), feature_tip);

    let undo = pretty(&repo, &["undo", "--session-id", &session]);
    assert_eq!(repo.git(&["rev-parse", "main"]), main_tip);
    assert_snapshot!(undo, @r#"
        undid the rollback to checkpoint {ID1}------------------------------- (operation {ID2}-------------------------------): branch, HEAD, index and files are as they were before it
        branch main moved back from {SHORT1}---- to {SHORT2}----
        safety snapshot {ID3}------------------------------- holds the previous state; `checkpoint-manager redo` returns to it
    "#);
    let redo = pretty(&repo, &["redo", "--session-id", &session]);
    assert_snapshot!(redo, @r#"
        took back the undo {ID1}-------------------------------: branch, HEAD, index and files are as they were before it
        branch main moved from {SHORT1}---- to {SHORT2}----, which is not in its history (the checkpoint was taken on another branch or a detached HEAD); {SHORT1}---- stays in the safety snapshot
        safety snapshot {ID2}------------------------------- holds the previous state; `checkpoint-manager undo` returns to it
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
    let listed = ok_json(repo.path(), &["list", "--session-id", &session]);
    let summary = ok_json(repo.path(), &["summary", "--session-id", &session]);
    std::fs::remove_dir_all(repo.join(".flow")).unwrap();

    let r = run(repo.path(), &["list", "--session-id", &session]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap(), listed);
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
        ok_json(repo.path(), &["summary", "--session-id", &session]),
        summary
    );
    assert_eq!(summary["checkpoints_used_for_rollback"], 1);
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
    assert_snapshot!(text, @r#"
        rolled back to checkpoint {ID1}------------------------------- (mixed, commit {SHORT1}----)
        branch main moved from {SHORT2}---- to {SHORT1}----, which is not in its history (the checkpoint was taken on another branch or a detached HEAD); {SHORT2}---- stays in the safety snapshot
        safety snapshot {ID2}------------------------------- holds the previous state; `checkpoint-manager undo` returns to it
    "#);
    // Back on the same line of history, a rollback says the branch moved back.
    let first = create(&repo, &session, "first", &[]);
    repo.write("later.txt", "l\n");
    create(&repo, &session, "later", &[]);
    let text = pretty(
        &repo,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &first.checkpoint_id.to_string(),
        ],
    );
    assert_snapshot!(text, @r#"
        rolled back to checkpoint {ID1}------------------------------- (mixed, commit {SHORT1}----)
        branch main moved back from {SHORT2}---- to {SHORT1}----
        safety snapshot {ID2}------------------------------- holds the previous state; `checkpoint-manager undo` returns to it
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
