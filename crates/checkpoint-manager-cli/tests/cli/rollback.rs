//! `rollback` end to end: the printed outcome, mixed vs `--hard-reset`, the counters in `get`,
//! `list` and `summary`, the log surviving, and the refusals.

use crate::support::*;

/// Two checkpoints (`a.txt` = 1, then 2 with `b.txt`), then uncommitted `a.txt` = 3.
fn two_checkpoints(repo: &TestRepo) -> (Checkpoint, Checkpoint) {
    repo.write("a.txt", "1\n");
    let c1 = create(repo, &sid(1), "one", &[]);
    repo.write("a.txt", "2\n");
    repo.write("b.txt", "b\n");
    let c2 = create(repo, &sid(1), "two", &[]);
    repo.write("a.txt", "3\n");
    (c1, c2)
}

fn rollback(repo: &TestRepo, cp: &Checkpoint, extra: &[&str]) -> RollbackOutcome {
    let session = sid(1);
    let id = cp.checkpoint_id.to_string();
    let mut args = vec!["rollback", "--session-id", &session, "--checkpoint-id", &id];
    args.extend_from_slice(extra);
    ok_as(repo.path(), &args)
}

fn assert_outcome(outcome: &RollbackOutcome, cp: &Checkpoint, mode: ResetMode) {
    assert!(outcome.success);
    assert_eq!(outcome.checkpoint_id, cp.checkpoint_id);
    assert_eq!(outcome.commit_sha, cp.commit_sha);
    assert_eq!(outcome.mode, mode);
    assert_ne!(outcome.safety_checkpoint_id, cp.checkpoint_id);
}

#[test]
fn rollback_defaults_to_mixed_keeping_files_and_moving_head_and_index() {
    let repo = repo_with_commit();
    let (c1, _) = two_checkpoints(&repo);
    let files = repo.tree_state();

    let outcome = rollback(&repo, &c1, &[]);

    assert_outcome(&outcome, &c1, ResetMode::Mixed);
    assert_eq!(repo.head(), c1.commit_sha);
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "",
        "index = HEAD"
    );
    assert_eq!(repo.tree_state(), files, "files are kept");
    assert_eq!(repo.status(), " M a.txt\n?? b.txt");
}

#[test]
fn hard_reset_restores_the_files() {
    let repo = repo_with_commit();
    let (c1, _) = two_checkpoints(&repo);

    let outcome = rollback(&repo, &c1, &["--hard-reset"]);

    assert_outcome(&outcome, &c1, ResetMode::Hard);
    assert_eq!(repo.head(), c1.commit_sha);
    assert_eq!(repo.read("a.txt"), b"1\n");
    assert!(!repo.exists("b.txt"));
    assert_eq!(repo.status(), "");
}

#[test]
fn rollbacks_are_counted_and_every_checkpoint_survives_in_the_log() {
    let repo = repo_with_commit();
    let (c1, c2) = two_checkpoints(&repo);
    rollback(&repo, &c1, &["--hard-reset"]);
    rollback(&repo, &c2, &["--hard-reset"]);
    rollback(&repo, &c1, &[]);

    let get = |cp: &Checkpoint| -> Checkpoint {
        let id = cp.checkpoint_id.to_string();
        ok_as(
            repo.path(),
            &["get", "--session-id", &sid(1), "--checkpoint-id", &id],
        )
    };
    let got = get(&c1);
    assert!(got.rollback_used);
    assert_eq!(got.rollback_count, 2);
    let got2 = get(&c2);
    assert!(got2.rollback_used);
    assert_eq!(got2.rollback_count, 1);

    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &sid(1)]);
    for cp in [&c1, &c2] {
        let found = listed
            .iter()
            .find(|c| c.checkpoint_id == cp.checkpoint_id)
            .unwrap_or_else(|| panic!("{} lost: {listed:?}", cp.description));
        assert_eq!(found.commit_sha, cp.commit_sha);
    }
    let summary: CheckpointSummary = ok_as(repo.path(), &["summary", "--session-id", &sid(1)]);
    assert_eq!(summary.checkpoints_used_for_rollback, 2);
    // The log's own summary section, read raw: the same numbers.
    let logged: CheckpointSummary =
        serde_json::from_value(log_json(&repo, sid(1))["summary"].clone()).unwrap();
    assert_eq!(logged, summary);
}

#[test]
fn rollback_in_the_middle_of_a_merge_is_exit_3_and_changes_nothing() {
    let repo = repo_with_commit();
    let cp = create(&repo, &sid(1), "before", &[]);
    start_conflicted_merge(&repo);
    let before = observe(&repo);
    let log_before = std::fs::read(repo.log_path(&sid(1))).unwrap();
    let id = cp.checkpoint_id.to_string();
    for extra in [&[][..], &["--hard-reset"][..]] {
        let session = sid(1);
        let mut args = vec!["rollback", "--session-id", &session, "--checkpoint-id", &id];
        args.extend_from_slice(extra);
        let message = fails(repo.path(), &args, 3);
        assert!(message.contains("merge is in progress"), "{message}");
    }
    assert_eq!(observe(&repo), before);
    assert_eq!(std::fs::read(repo.log_path(&sid(1))).unwrap(), log_before);
    assert!(repo.exists(".git/MERGE_HEAD"));
}

#[test]
fn rollback_from_a_subdirectory_and_through_repo() {
    let repo = repo_with_commit();
    repo.write("sub/keep.txt", "k\n");
    let (c1, c2) = two_checkpoints(&repo);
    let session = sid(1);
    let outcome = ok_as(
        &repo.join("sub"),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &c1.checkpoint_id.to_string(),
            "--hard-reset",
        ],
    );
    assert_outcome(&outcome, &c1, ResetMode::Hard);
    assert_eq!(repo.read("a.txt"), b"1\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let top = repo.path().display().to_string();
    let outcome = ok_as(
        elsewhere.path(),
        &[
            "--repo",
            &top,
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &c2.checkpoint_id.to_string(),
            "--hard-reset",
        ],
    );
    assert_outcome(&outcome, &c2, ResetMode::Hard);
    assert_eq!(repo.read("a.txt"), b"2\n");
}

#[test]
fn a_stale_branch_lock_stops_a_rollback_before_anything_changes() {
    let repo = repo_with_commit();
    repo.write("a.txt", "snapshot\n");
    let snap = create(&repo, &sid(1), "snap", &["--snapshot"]);
    repo.write("a.txt", "precious work\n");
    repo.write("new.txt", "also precious\n");
    // A crashed git left the branch's lock: the restore could not move the branch at its end,
    // so it stops before anything changes, naming the file (exit 6, as for index.lock).
    repo.write(".git/refs/heads/main.lock", "");
    let before = observe(&repo);
    let log_before = log_json(&repo, sid(1));
    let message = fails(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            &snap.checkpoint_id.to_string(),
            "--hard-reset",
        ],
        6,
    );
    assert!(message.contains("main.lock"), "{message}");
    assert_eq!(observe(&repo), before);
    assert_eq!(log_json(&repo, sid(1)), log_before);
    assert_eq!(repo.read("a.txt"), b"precious work\n");
    assert_eq!(repo.read("new.txt"), b"also precious\n");
}

#[test]
fn a_hard_rollback_over_a_nested_repository_is_exit_3_naming_it_and_changes_nothing() {
    let repo = repo_with_commit();
    repo.write("plugin", "a plain file in the checkpoint\n");
    let cp = create(&repo, &sid(1), "plugin is a file", &["--snapshot"]);
    std::fs::remove_file(repo.join("plugin")).unwrap();
    repo.write("plugin/work.txt", "unpushed work\n");
    let nested = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(repo.join("plugin"))
            .args(["-c", "user.name=N", "-c", "user.email=n@example.com"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    nested(&["init", "-q"]);
    nested(&["add", "work.txt"]);
    nested(&["commit", "-q", "-m", "unpushed"]);
    repo.git(&["add", "plugin"]); // a gitlink
    repo.git(&["commit", "-q", "-m", "plugin is a repository"]);
    let before = observe(&repo);
    let log_before = std::fs::read(repo.log_path(&sid(1))).unwrap();
    let session = sid(1);
    let args = [
        "rollback",
        "--session-id",
        &session,
        "--checkpoint-id",
        &cp.checkpoint_id.to_string(),
        "--hard-reset",
    ];
    let message = fails(repo.path(), &args, 3);
    assert!(message.contains("\"plugin\""), "{message}");
    assert!(message.contains("move the repository away"), "{message}");
    assert_eq!(observe(&repo), before);
    assert_eq!(std::fs::read(repo.log_path(&sid(1))).unwrap(), log_before);
    assert_eq!(repo.read("plugin/work.txt"), b"unpushed work\n");
    assert!(repo.exists("plugin/.git/HEAD"));
}
