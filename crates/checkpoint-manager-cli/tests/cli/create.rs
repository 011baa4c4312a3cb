//! `create` end to end: the printed checkpoint, the log, the commit and tag, every flag, and
//! where the repository is found (cwd, a subdirectory, `--repo`).

use serde_json::{json, Value};

use crate::support::*;

fn sorted_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn create_commits_everything_tags_it_prints_the_checkpoint_and_logs_it() {
    let repo = repo_with_commit();
    repo.write("README.md", "changed\n");
    repo.write("new dir/new file.txt", "new\n");
    let session = sid(1);

    let cp = ok_json(
        repo.path(),
        &[
            "create",
            "--session-id",
            &session,
            "--description",
            "Planning complete",
            "--phase",
            "plan",
            "--checkpoint-type",
            "phase_complete",
        ],
    );

    assert_eq!(
        sorted_keys(&cp),
        [
            "checkpoint_id",
            "checkpoint_type",
            "commit_message",
            "commit_sha",
            "description",
            "mode",
            "phase",
            "rollback_count",
            "rollback_used",
            "tags",
            "timestamp"
        ]
    );
    let id = s(&cp, "checkpoint_id");
    assert_eq!(id.len(), 36);
    let sha = s(&cp, "commit_sha");
    assert!(is_utc_micros(s(&cp, "timestamp")), "{cp}");
    assert_eq!(cp["description"], "Planning complete");
    assert_eq!(cp["phase"], "plan");
    assert_eq!(cp["checkpoint_type"], "phase_complete");
    assert_eq!(cp["tags"], json!([format!("checkpoint-{id}")]));
    assert_eq!(cp["rollback_used"], false);
    assert_eq!(cp["rollback_count"], 0);
    assert_eq!(cp["mode"], "commit");
    assert!(s(&cp, "commit_message").contains("Planning complete"));

    assert_eq!(repo.head(), sha);
    assert_eq!(
        resolve(&repo, &format!("refs/tags/checkpoint-{id}")).as_deref(),
        Some(sha)
    );
    assert_eq!(
        tree_paths(&repo, sha),
        ["README.md", "new dir/new file.txt"]
    );
    assert_eq!(repo.status(), "");

    let log = log_json(&repo, &session);
    assert_eq!(log["session_id"], session.as_str());
    assert!(is_utc_micros(s(&log, "generated_at")));
    assert_eq!(
        log["checkpoints"],
        json!([cp.clone()]),
        "the log holds what was printed"
    );
    assert_eq!(
        log["summary"],
        json!({
            "total_checkpoints": 1,
            "checkpoints_by_type": {"phase_complete": 1},
            "checkpoints_used_for_rollback": 0,
            "latest_checkpoint": sha,
        })
    );
}

#[test]
fn every_phase_and_type_is_accepted_and_the_type_defaults_to_manual() {
    let repo = repo_with_commit();
    for phase in ["plan", "generate_tasks", "implement", "validate", "cleanup"] {
        let cp = ok_json(
            repo.path(),
            &[
                "create",
                "--session-id",
                &sid(1),
                "--description",
                "p",
                "--phase",
                phase,
            ],
        );
        assert_eq!(cp["phase"], phase);
        assert_eq!(cp["checkpoint_type"], "manual");
    }
    for kind in [
        "phase_complete",
        "task_group_complete",
        "safe_state",
        "pre_risky_operation",
        "error_recovery",
        "manual",
    ] {
        let cp = create(&repo, &sid(2), "t", &["--checkpoint-type", kind]);
        assert_eq!(cp.checkpoint_type.as_str(), kind);
    }
    let summary: CheckpointSummary = ok_as(repo.path(), &["summary", "--session-id", &sid(2)]);
    let by_type: Vec<(&str, usize)> = summary
        .checkpoints_by_type
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n))
        .collect();
    assert_eq!(
        by_type,
        [
            ("phase_complete", 1),
            ("task_group_complete", 1),
            ("safe_state", 1),
            ("pre_risky_operation", 1),
            ("error_recovery", 1),
            ("manual", 1)
        ]
    );
}

#[test]
fn the_state_snapshot_flag_fills_missing_fields_with_zero() {
    let repo = repo_with_commit();
    let cp = create(
        &repo,
        &sid(1),
        "with state",
        &[
            "--state-snapshot",
            r#"{"tasks_completed": 15, "tests_passing": 42}"#,
        ],
    );
    let expected = json!({
        "tasks_completed": 15,
        "decisions_made": 0,
        "files_modified": 0,
        "files_created": 0,
        "tests_passing": 42,
        "tests_failing": 0
    });
    assert_eq!(serde_json::to_value(cp.state_snapshot).unwrap(), expected);
    assert_eq!(
        log_json(&repo, sid(1))["checkpoints"][0]["state_snapshot"],
        expected
    );
    let without = create(&repo, &sid(1), "without", &[]);
    assert_eq!(without.state_snapshot, None);
}

#[test]
fn a_bad_state_snapshot_is_exit_3_and_nothing_is_committed() {
    let repo = repo_with_commit();
    repo.write("README.md", "uncommitted work\n");
    let before = observe(&repo);
    for bad in [
        "{bad json",
        "42",
        r#"{"tasks_completed": -1}"#,
        r#"{"nope": 1}"#,
        "",
    ] {
        let message = fails(
            repo.path(),
            &[
                "create",
                "--session-id",
                &sid(1),
                "--description",
                "d",
                "--phase",
                "plan",
                "--state-snapshot",
                bad,
            ],
            3,
        );
        assert!(message.contains("state snapshot"), "{bad}: {message}");
    }
    assert_eq!(observe(&repo), before);
}

#[test]
fn nothing_to_commit_tags_head_with_no_new_commit() {
    let repo = repo_with_commit();
    let head = repo.head();
    let cp = create(&repo, &sid(1), "clean", &[]);
    assert_eq!(cp.commit_sha.as_str(), head);
    assert_eq!(repo.head(), head);
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(cp.commit_message, None);
    assert_eq!(
        tags(&repo),
        [format!("checkpoint-{}", &cp.checkpoint_id.to_string())]
    );
}

#[test]
fn a_repository_with_no_commits_gets_a_root_commit() {
    let repo = TestRepo::new();
    repo.write("first.txt", "1\n");
    let cp = create(&repo, &sid(1), "root", &[]);
    let sha = cp.commit_sha.as_str();
    assert_eq!(resolve(&repo, "refs/heads/main").as_deref(), Some(sha));
    assert_eq!(
        repo.git(&["rev-list", "--parents", "HEAD"]),
        sha,
        "no parent"
    );
    assert_eq!(tree_paths(&repo, sha), ["first.txt"]);
}

#[test]
fn no_commit_tags_head_and_records_it() {
    let repo = repo_with_commit();
    let head = repo.head();
    let cp = create(&repo, &sid(1), "tag only", &["--no-commit"]);
    assert_eq!(cp.commit_sha.as_str(), head);
    assert_eq!(cp.mode, checkpoint_manager::CheckpointMode::Tag);
    assert_eq!(cp.commit_message, None);
    assert_eq!(repo.head(), head);
    let id = &cp.checkpoint_id.to_string();
    assert_eq!(
        resolve(&repo, &format!("refs/tags/checkpoint-{id}")),
        Some(head)
    );
    assert_eq!(log_json(&repo, sid(1))["checkpoints"], json!([cp.clone()]));
}

#[test]
fn no_commit_before_the_first_commit_is_exit_3_and_names_the_flag_to_drop() {
    let repo = TestRepo::new();
    let before = observe(&repo);

    let message = fails(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "d",
            "--phase",
            "plan",
            "--no-commit",
        ],
        3,
    );

    assert_eq!(
        message,
        "tag-only checkpoint refused: the repository has no commit yet to tag; \
         make a commit checkpoint instead; drop `--no-commit`"
    );
    assert_eq!(observe(&repo), before);
    assert!(!repo.log_path(&sid(1)).exists());
}

#[test]
fn no_commit_with_uncommitted_changes_is_exit_3_and_changes_nothing() {
    let repo = repo_with_commit();
    repo.write("README.md", "changed\n");
    repo.write("untracked.txt", "u\n");
    let before = observe(&repo);

    let message = fails(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "d",
            "--phase",
            "plan",
            "--no-commit",
        ],
        3,
    );

    assert!(message.contains("tag-only checkpoint refused"), "{message}");
    assert!(message.contains("uncommitted"), "{message}");
    assert!(
        message.ends_with("; drop `--no-commit` to commit them, or pass `--snapshot`"),
        "the CLI adds the flags: {message}"
    );
    assert_eq!(observe(&repo), before);
    assert!(!repo.log_path(&sid(1)).exists());
    assert!(tags(&repo).is_empty());
}

#[test]
fn without_a_git_identity_the_commit_gets_the_tools_identity() {
    let repo = TestRepo::without_identity();
    repo.write("work.txt", "work\n");
    let cp = create(&repo, &sid(1), "no identity", &[]);
    let sha = cp.commit_sha.as_str();
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>", sha]),
        "checkpoint-manager <checkpoint-manager@localhost>"
    );
    assert_eq!(tree_paths(&repo, sha), ["work.txt"]);
}

#[test]
fn unicode_and_spaces_in_names_and_description() {
    let repo = repo_with_commit();
    repo.write("répertoire avec espaces/naïve ✓.txt", "é\n");
    repo.write("日本語 ファイル.md", "こんにちは\n");
    let description = "Étape «un» — 完成 ✓";
    let cp = create(&repo, &sid(1), description, &[]);
    assert_eq!(cp.description, description);
    let mut paths = tree_paths(&repo, cp.commit_sha.as_str());
    paths.sort();
    assert_eq!(
        paths,
        [
            "README.md",
            "répertoire avec espaces/naïve ✓.txt",
            "日本語 ファイル.md"
        ]
    );
    let got = ok_json(
        repo.path(),
        &[
            "get",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            &cp.checkpoint_id.to_string(),
        ],
    );
    assert_eq!(got["description"], description);
}

#[test]
fn descriptions_are_never_run_as_shell() {
    let repo = repo_with_commit();
    repo.write("victim/file.txt", "safe\n");
    let description = "$(touch pwned) `touch pwned2`; rm -rf victim | tee pwned3 && exit 1";
    let cp = create(&repo, &sid(1), description, &[]);
    assert_eq!(cp.description, description);
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!repo.exists(f), "{f} was created");
    }
    assert_eq!(repo.read("victim/file.txt"), b"safe\n");
}

#[test]
fn a_description_that_looks_like_a_flag_is_data() {
    let repo = repo_with_commit();
    let cp = ok_json(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description=--hard-reset",
            "--phase",
            "plan",
        ],
    );
    assert_eq!(cp["description"], "--hard-reset");
}

#[test]
fn a_subdirectory_works_as_the_current_folder() {
    let repo = repo_with_commit();
    repo.write("a/b/inside.txt", "in\n");
    repo.write("top.txt", "top\n");
    let cp = ok_json(
        &repo.join("a/b"),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "sub",
            "--phase",
            "plan",
        ],
    );
    assert_eq!(
        tree_paths(&repo, s(&cp, "commit_sha")),
        ["README.md", "a/b/inside.txt", "top.txt"]
    );
    assert!(repo.log_path(&sid(1)).exists(), "the log lives at the top");
    assert!(!repo.exists("a/b/.flow"));
    let listed = ok_json(&repo.join("a"), &["list", "--session-id", &sid(1)]);
    assert_eq!(listed, json!([cp]));
}

#[test]
fn repo_flag_points_at_the_repository_from_anywhere() {
    let repo = repo_with_commit();
    repo.write("sub/x.txt", "x\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let top = repo.path().display().to_string();
    let sub = repo.join("sub").display().to_string();

    let cp = ok_json(
        elsewhere.path(),
        &[
            "--repo",
            &sub,
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "via --repo",
            "--phase",
            "plan",
        ],
    );
    // The global flag works after the sub-command too.
    let listed = ok_json(
        elsewhere.path(),
        &["list", "--session-id", &sid(1), "--repo", &top],
    );

    assert_eq!(listed, json!([cp.clone()]));
    assert_eq!(repo.head(), s(&cp, "commit_sha"));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn a_relative_repo_flag_is_relative_to_the_current_folder() {
    let repo = repo_with_commit();
    repo.write("sub/x.txt", "x\n");
    let parent = repo.path().parent().unwrap();
    let name = repo
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let cp = ok_json(
        parent,
        &[
            "--repo",
            &format!("{name}/sub"),
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "relative",
            "--phase",
            "plan",
        ],
    );
    assert_eq!(repo.head(), s(&cp, "commit_sha"));
}

#[test]
fn create_in_the_middle_of_a_merge_is_exit_3_and_changes_nothing() {
    let repo = repo_with_commit();
    start_conflicted_merge(&repo);
    let before = observe(&repo);
    let session = sid(1);
    for extra in [&[][..], &["--no-commit"][..]] {
        let mut args = vec![
            "create",
            "--session-id",
            &session,
            "--description",
            "mid-merge",
            "--phase",
            "plan",
        ];
        args.extend_from_slice(extra);
        let message = fails(repo.path(), &args, 3);
        assert!(message.contains("merge"), "{message}");
        assert_eq!(observe(&repo), before);
    }
    assert!(repo.exists(".git/MERGE_HEAD"));
    assert!(!repo.log_path(&sid(1)).exists());
}

#[test]
fn a_git_failure_is_exit_5_with_gits_message() {
    let repo = repo_with_commit();
    repo.write("README.md", "work\n");
    // A git process that crashed earlier left the branch's lock behind: git refuses to move it.
    repo.write(".git/refs/heads/main.lock", "");
    let index_before = repo.index_bytes();
    let message = fails(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "d",
            "--phase",
            "plan",
        ],
        5,
    );
    assert!(
        message.contains("main.lock"),
        "git's stderr is in the message: {message}"
    );
    assert!(message.starts_with("git "), "{message}");
    // The work was staged in a copy: the user's index is as it was.
    assert_eq!(repo.index_bytes(), index_before);
    assert!(tags(&repo).is_empty());
    assert!(!repo.log_path(&sid(1)).exists());
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
}

#[test]
fn a_leftover_index_lock_is_exit_6_naming_it_and_changes_nothing() {
    let repo = repo_with_commit();
    repo.write("README.md", "work\n");
    repo.write(".git/index.lock", "");
    let message = fails(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "d",
            "--phase",
            "plan",
        ],
        6,
    );
    assert!(message.contains("index.lock"), "{message}");
    assert!(tags(&repo).is_empty());
    assert!(!repo.log_path(&sid(1)).exists());
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
}
