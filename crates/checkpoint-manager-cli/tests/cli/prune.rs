//! `prune` end to end: JSON and pretty output, the trash, dry runs, limits from git config (and
//! `create` pruning beyond them, said on stderr unless `--quiet`), bad input, `--remote`.

use checkpoint_manager::PruneOutcome;
use insta::assert_snapshot;

use crate::support::*;

/// Three commit checkpoints in session 1, each with its own change.
fn three(repo: &TestRepo) -> Vec<Checkpoint> {
    (1..=3)
        .map(|n| {
            repo.write("a.txt", format!("{n}\n"));
            create(repo, &sid(1), &format!("c{n}"), &[])
        })
        .collect()
}

fn private_ref(cp: &Checkpoint) -> String {
    format!("refs/checkpoints/{}/{}", sid(1), cp.checkpoint_id)
}

fn trash_ref(cp: &Checkpoint) -> String {
    format!("refs/checkpoint-trash/{}/{}", sid(1), cp.checkpoint_id)
}

fn has_ref(repo: &TestRepo, name: &str) -> bool {
    resolve(repo, name).is_some()
}

#[test]
fn prune_moves_older_checkpoints_to_the_trash_and_prints_them() {
    let repo = repo_with_commit();
    let cps = three(&repo);

    let outcome: PruneOutcome = ok_as(
        repo.path(),
        &["prune", "--session-id", &sid(1), "--keep-last", "1"],
    );

    let removed: Vec<_> = outcome.removed.iter().map(|p| p.checkpoint_id).collect();
    assert_eq!(removed, [cps[1].checkpoint_id, cps[0].checkpoint_id]);
    assert_eq!(outcome.removed_tags.len(), 2);
    assert_eq!(
        tags(&repo),
        [format!("checkpoint-{}", cps[2].checkpoint_id)]
    );
    for cp in &cps[..2] {
        assert!(!has_ref(&repo, &private_ref(cp)));
        assert!(has_ref(&repo, &trash_ref(cp)));
    }
    assert_eq!(
        ok_as::<Vec<Checkpoint>>(repo.path(), &["list", "--session-id", &sid(1)]),
        [cps[2].clone()]
    );
    let fsck = repo.git_output(&["fsck", "--full", "--no-dangling"]);
    assert!(fsck.status.success() && fsck.stderr.is_empty());
}

#[test]
fn a_dry_run_changes_nothing_and_says_so_in_pretty_output() {
    let repo = repo_with_commit();
    let cps = three(&repo);
    let before = observe(&repo);

    let text = ok_text(
        repo.path(),
        &[
            "--output",
            "pretty",
            "prune",
            "--session-id",
            &sid(1),
            "--keep-last",
            "2",
            "--dry-run",
        ],
    );

    assert_eq!(observe(&repo), before);
    let id = cps[0].checkpoint_id.to_string();
    let _filters = pretty_filters(repo.path(), &[(id.as_str(), "[C1]")]).bind_to_scope();
    assert_snapshot!(text, @r"
    dry run: nothing was changed
    session [TEST_ID_000000000001]
    would move to the trash (1):
      [C1]----  implement        manual               [TIME]---------------------
    would remove tag checkpoint-[C1]--------------------------------
    ");
}

#[test]
fn without_a_limit_prune_is_a_usage_error_unless_git_config_sets_one() {
    let repo = repo_with_commit();
    let cps = three(&repo);
    let args = ["prune", "--session-id", &sid(1)];

    let message = fails(repo.path(), &args, 2);
    assert!(
        message.contains("--keep-last") && message.contains("--older-than"),
        "{message}"
    );
    assert_eq!(tags(&repo).len(), 3, "nothing changed");

    repo.git(&["config", "checkpoint-manager.keepLast", "1"]);
    let outcome: PruneOutcome = ok_as(repo.path(), &args);
    assert_eq!(outcome.keep_last, Some(1));
    assert_eq!(outcome.removed.len(), 2);
    assert!(has_ref(&repo, &private_ref(&cps[2])));
}

#[test]
fn a_bad_duration_is_refused_in_one_line_with_nothing_changed() {
    let repo = repo_with_commit();
    three(&repo);
    let before = observe(&repo);
    let message = fails(
        repo.path(),
        &["prune", "--all-sessions", "--older-than", "3 fortnights"],
        3,
    );
    assert_snapshot!(message, @r#"invalid value "3 fortnights" for --older-than: expected a duration such as 90s, 30m, 12h, 7d or 2w"#);
    assert_eq!(observe(&repo), before);
    let r = run(
        repo.path(),
        &["prune", "--all-sessions", "--keep-last", "-1"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn create_prunes_beyond_the_configured_limit_with_a_note_that_quiet_silences() {
    let repo = repo_with_commit();
    repo.git(&["config", "checkpoint-manager.keepLast", "1"]);
    repo.write("a.txt", "1\n");
    let first = create(&repo, &sid(1), "one", &["--snapshot"]);
    repo.write("a.txt", "2\n");
    let args = [
        "create",
        "--session-id",
        &sid(1),
        "--description",
        "two",
        "--phase",
        "plan",
        "--snapshot",
    ];

    let r = run(repo.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let _filters = filters(repo.path()).bind_to_scope();
    assert_snapshot!(r.stderr.trim_end(), @"checkpoint-manager: note: pruned session [TEST_ID_000000000001] beyond the limits set in git config (checkpoint-manager.keepLast / checkpoint-manager.maxAge): 1 checkpoint(s) moved to refs/checkpoint-trash/, 0 aged out of the trash");
    assert!(!has_ref(&repo, &private_ref(&first)));
    assert!(has_ref(&repo, &trash_ref(&first)));

    repo.write("a.txt", "3\n");
    let mut quiet = vec!["--quiet"];
    quiet.extend_from_slice(&args);
    let r = run(repo.path(), &quiet);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(!has_ref(&repo, &trash_ref(&first)), "aged out of the trash");
    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &sid(1)]);
    assert_eq!(listed.len(), 1);
}

/// A bare repository in a temporary folder; returns it and its path as text.
fn bare() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.git");
    let out = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    (dir, path.to_str().unwrap().to_owned())
}

fn remote_refs(repo: &TestRepo, remote: &str) -> Vec<String> {
    repo.git(&["ls-remote", "--refs", remote])
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn remote_prunes_the_same_refs_on_a_bare_repository() {
    let repo = repo_with_commit();
    let cps = three(&repo);
    let (_dir, url) = bare();
    ok_json(
        repo.path(),
        &["push", "--session-id", &sid(1), "--remote", &url],
    );

    let outcome: PruneOutcome = ok_as(
        repo.path(),
        &[
            "prune",
            "--all-sessions",
            "--keep-last",
            "1",
            "--remote",
            &url,
        ],
    );

    assert_eq!(outcome.remote_removed.len(), 4);
    let mut left = remote_refs(&repo, &url);
    left.sort();
    assert_eq!(
        left,
        [
            private_ref(&cps[2]),
            format!("refs/tags/checkpoint-{}", cps[2].checkpoint_id)
        ]
    );
}

#[test]
fn a_remote_failure_exits_5_in_one_line_after_printing_the_local_prune() {
    let repo = repo_with_commit();
    let cps = three(&repo);
    let missing = repo.join("no-such.git");

    let r = run(
        repo.path(),
        &[
            "prune",
            "--session-id",
            &sid(1),
            "--keep-last",
            "1",
            "--remote",
            missing.to_str().unwrap(),
        ],
    );

    assert_eq!(r.code, 5, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("no-such.git"), "{}", r.stderr);
    assert!(r.stderr.contains("2 checkpoint(s) moved"), "{}", r.stderr);
    let outcome: PruneOutcome = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(outcome.removed.len(), 2);
    assert!(!has_ref(&repo, &private_ref(&cps[0])), "pruned here");
}

#[test]
fn all_sessions_in_pretty_output_name_each_session_and_what_gc_reclaimed() {
    let repo = repo_with_commit();
    let mut made = Vec::new();
    for session in [sid(1), sid(2)] {
        for n in 0..2 {
            repo.write("a.txt", format!("{session} {n}\n"));
            made.push(create(&repo, &session, "s", &["--snapshot"]));
        }
    }
    let args = [
        "--output",
        "pretty",
        "prune",
        "--all-sessions",
        "--keep-last",
        "1",
        "--gc",
    ];
    let first = ok_text(repo.path(), &args);
    let second = ok_text(repo.path(), &args);

    let (a, b) = (
        made[0].checkpoint_id.to_string(),
        made[2].checkpoint_id.to_string(),
    );
    let mut settings = pretty_filters(repo.path(), &[(a.as_str(), "[A]"), (b.as_str(), "[B]")]);
    // Not zero: the second prune's gc reclaims what only the trash held.
    settings.add_filter(r"reclaimed [1-9][0-9.]* (bytes|KiB)", "reclaimed [SIZE]");
    let _filters = settings.bind_to_scope();
    assert_snapshot!(first, @r"
    moved to the trash (2):
      [A]-----  implement        manual               [TIME]---------------------  session [TEST_ID_000000000001]
      [B]-----  implement        manual               [TIME]---------------------  session [TEST_ID_000000000002]
    git gc --prune=now reclaimed 0 bytes
    ");
    assert_snapshot!(second, @r"
    deleted from the trash (2):
      [A]-----  implement        manual               [TIME]---------------------  session [TEST_ID_000000000001]
      [B]-----  implement        manual               [TIME]---------------------  session [TEST_ID_000000000002]
    git gc --prune=now reclaimed [SIZE]
    ");
}

#[test]
fn a_limit_given_as_git_dash_c_config_prunes_on_create_too() {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let first = create(&repo, &sid(1), "one", &["--snapshot"]);
    repo.write("a.txt", "2\n");
    // `git -c checkpoint-manager.keepLast=1` as git passes it to its children.
    let out = cm(repo.path())
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "checkpoint-manager.keepLast")
        .env("GIT_CONFIG_VALUE_0", "1")
        .args([
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "two",
            "--phase",
            "plan",
            "--snapshot",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pruned session"));
    assert!(!has_ref(&repo, &private_ref(&first)));
    assert!(has_ref(&repo, &trash_ref(&first)));
}
