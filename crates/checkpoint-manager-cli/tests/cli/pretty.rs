//! `--output pretty` for every command, pinned with inline snapshots through insta filters for
//! what varies (ids, shas, times, the temp path; placeholders keep the width so column alignment
//! shows, and the ids a test knows read as names: `[A]`, `[A_SHA]`).
//! Also: no colour when stdout is not a terminal; colour on a terminal unless `NO_COLOR` is set.

use insta::assert_snapshot;

use crate::support::*;

fn pretty(repo: &TestRepo, args: &[&str]) -> String {
    let mut all = vec!["--output", "pretty"];
    all.extend_from_slice(args);
    let text = ok_text(repo.path(), &all);
    assert!(!text.contains('\u{1b}'), "no colour on a pipe: {text:?}");
    text
}

#[test]
fn create_get_list_and_summary() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "a\n");
    let created = pretty(
        &repo,
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
            "--state-snapshot",
            r#"{"tasks_completed": 15, "decisions_made": 8, "files_created": 2, "files_modified": 3, "tests_passing": 42, "tests_failing": 1}"#,
        ],
    );
    let first: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &session]);
    let id = first[0].checkpoint_id.to_string();
    let a_sha = first[0].commit_sha.to_string();
    let names = [(id.as_str(), "[A]"), (a_sha.as_str(), "[A_SHA]")];
    let filters = pretty_filters(repo.path(), &names).bind_to_scope();
    assert_snapshot!(created, @r#"
        checkpoint [A]---------------------------------
          description  Planning complete
          commit       [A_SHA]---------------------------------
          time         [TIME]---------------------
          phase        plan
          type         phase_complete
          mode         commit
          tags         checkpoint-[A]---------------------------------
          rollbacks    0
          state        tasks 15 decisions 8 files +2 ~3 tests 42 passing / 1 failing
    "#);
    drop(filters);
    let got = pretty(
        &repo,
        &["get", "--session-id", &session, "--checkpoint-id", &id],
    );
    assert_eq!(got, created, "get shows what create showed");

    repo.write("a.txt", "b\n");
    let b = create(
        &repo,
        &session,
        "Second line one\nline two is not in the table",
        &[],
    );
    let (b_id, b_sha) = (b.checkpoint_id.to_string(), b.commit_sha.to_string());
    let names = [
        (id.as_str(), "[A]"),
        (b_id.as_str(), "[B]"),
        (b_sha.as_str(), "[B_SHA]"),
    ];
    let _filters = pretty_filters(repo.path(), &names).bind_to_scope();
    let listed = pretty(&repo, &["list", "--session-id", &session]);
    assert_snapshot!(listed, @r#"
        ID        TIME                         PHASE           TYPE                 MODE       RB  DESCRIPTION
        [B]-----  [TIME]---------------------  implement       manual               commit      0  Second line one
        [A]-----  [TIME]---------------------  plan            phase_complete       commit      0  Planning complete
        2 checkpoint(s)
    "#);

    let summary = pretty(&repo, &["summary", "--session-id", &session]);
    assert_snapshot!(summary, @r#"
        checkpoints 2
          phase_complete       1
          manual               1
        used for rollback  0
        latest             [B_SHA]---------------------------------
    "#);
}

#[test]
fn a_session_without_checkpoints() {
    let repo = repo_with_commit();
    let session = sid(1);
    let _filters = pretty_filters(repo.path(), &[]).bind_to_scope();
    assert_snapshot!(pretty(&repo, &["list", "--session-id", &session]), @r#"
        no checkpoints
    "#);
    assert_snapshot!(pretty(&repo, &["summary", "--session-id", &session]), @r#"
        checkpoints 0
        used for rollback  0
        latest             -
    "#);
}

#[test]
fn rollback_mixed_and_hard() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "1\n");
    let cp = create(&repo, &session, "one", &[]);
    repo.write("a.txt", "2\n");
    let id = cp.checkpoint_id.to_string();
    let sha = cp.commit_sha.to_string();
    let _filters = pretty_filters(repo.path(), &[(&id, "[A]"), (&sha, "[A_SHA]")]).bind_to_scope();
    let mixed = pretty(
        &repo,
        &["rollback", "--session-id", &session, "--checkpoint-id", &id],
    );
    assert_snapshot!(mixed, @r#"
        rolled back to checkpoint [A]----- (mixed, commit [A_SHA]-----)
        safety snapshot [ID]---- holds the previous state; `checkpoint-manager undo` returns to it
    "#);
    let hard = pretty(
        &repo,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &id,
            "--hard-reset",
        ],
    );
    assert_snapshot!(hard, @r#"
        rolled back to checkpoint [A]----- (hard, commit [A_SHA]-----)
        safety snapshot [ID]---- holds the previous state; `checkpoint-manager undo` returns to it
    "#);
}

#[test]
fn delete_with_and_without_the_tag() {
    let repo = repo_with_commit();
    let session = sid(1);
    let a = create(&repo, &session, "a", &[]);
    let b = create(&repo, &session, "b", &[]);
    let (a_id, b_id) = (a.checkpoint_id.to_string(), b.checkpoint_id.to_string());
    let _filters = pretty_filters(repo.path(), &[(&a_id, "[A]"), (&b_id, "[B]")]).bind_to_scope();
    let deleted = pretty(
        &repo,
        &[
            "delete",
            "--session-id",
            &session,
            "--checkpoint-id",
            &a.checkpoint_id.to_string(),
        ],
    );
    assert_snapshot!(deleted, @r#"
        deleted checkpoint [A]-----
        removed tag checkpoint-[A]---------------------------------
        its commit stays reachable at refs/checkpoint-trash/[TEST_ID_000000000001]/[A]---------------------------------
    "#);
    let kept = pretty(
        &repo,
        &[
            "delete",
            "--session-id",
            &session,
            "--checkpoint-id",
            &b.checkpoint_id.to_string(),
            "--keep-tag",
        ],
    );
    assert_snapshot!(kept, @r#"
        deleted checkpoint [B]-----
        its commit stays reachable at refs/checkpoint-trash/[TEST_ID_000000000001]/[B]---------------------------------
    "#);
}

#[test]
fn validate_valid_dirty_and_invalid() {
    let repo = repo_with_commit();
    let filters = pretty_filters(repo.path(), &[]).bind_to_scope();
    assert_snapshot!(pretty(&repo, &["validate"]), @r#"
        valid: a checkpoint can be made
    "#);
    repo.write("README.md", "changed\n");
    repo.write("new_file.txt", "n\n");
    assert_snapshot!(pretty(&repo, &["validate", "--test-command", "true"]), @r#"
        valid: a checkpoint can be made
          warning: 2 uncommitted change(s): a checkpoint commits them (or a snapshot leaves them in place)
          tests: passing
        git status:
         M README.md
        ?? new_file.txt
    "#);

    drop(filters);
    let merging = repo_with_commit();
    let _filters = pretty_filters(merging.path(), &[]).bind_to_scope();
    start_conflicted_merge(&merging);
    let r = run(
        merging.path(),
        &["--output", "pretty", "validate", "--test-command", "exit 4"],
    );
    assert_eq!(r.code, 3);
    assert_eq!(r.stderr, "");
    assert_snapshot!(r.stdout, @r#"
        not valid
          error: a merge is in progress: finish it or abort it first
          error: unmerged paths: conflict.txt (resolve them and `git add` them first)
          error: test command `exit 4` failed: exit 4
          warning: 1 uncommitted change(s): a checkpoint commits them (or a snapshot leaves them in place)
          tests: failing
        git status:
        UU conflict.txt
    "#);
}

/// Runs the binary with stdout on a terminal (through util-linux `script`).
fn on_a_terminal(repo: &TestRepo, no_color: bool) -> String {
    let bin = env!("CARGO_BIN_EXE_checkpoint-manager");
    let mut std_cmd = std::process::Command::new("script");
    std_cmd
        .args([
            "-q",
            "-e",
            "-c",
            &format!("'{bin}' --output pretty validate"),
            "/dev/null",
        ])
        .current_dir(repo.path())
        .env_remove("NO_COLOR");
    for (k, v) in testutil::hermetic_env() {
        std_cmd.env(k, v);
    }
    if no_color {
        std_cmd.env("NO_COLOR", "1");
    }
    let out = std_cmd
        .output()
        .expect("util-linux `script` is needed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let repo = repo_with_commit();
    let coloured = on_a_terminal(&repo, false);
    assert!(coloured.contains("\u{1b}[32mvalid"), "{coloured:?}");
    let plain = on_a_terminal(&repo, true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(
        plain.contains("valid: a checkpoint can be made"),
        "{plain:?}"
    );
}
