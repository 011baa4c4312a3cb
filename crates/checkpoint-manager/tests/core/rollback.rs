//! `rollback`: mixed keeps files and moves HEAD and the index, hard restores files; the log
//! survives with its counters; refusals while a git operation is in progress.

use checkpoint_manager::{CheckpointId, CheckpointMode, CheckpointType, ErrorKind, ResetMode};

use crate::support::*;

/// A repository with two checkpoints: `c1` (a.txt = "1") and `c2` (a.txt = "2", b.txt), then
/// uncommitted work on top (a.txt = "3", untracked u.txt).
struct TwoCheckpoints {
    repo: TestRepo,
    c1: checkpoint_manager::Checkpoint,
    c2: checkpoint_manager::Checkpoint,
    files_at_c1: Vec<(String, testutil::FileState)>,
}

fn two_checkpoints() -> TwoCheckpoints {
    let repo = repo_with_commit();
    repo.write("a.txt", "1\n");
    let c1 = checkpoint(&repo, sid(1), "one");
    let files_at_c1 = repo.tree_state();
    repo.write("a.txt", "2\n");
    repo.write("b.txt", "b\n");
    let c2 = checkpoint(&repo, sid(1), "two");
    repo.write("a.txt", "3\n");
    repo.write("u.txt", "untracked\n");
    TwoCheckpoints {
        repo,
        c1,
        c2,
        files_at_c1,
    }
}

#[test]
fn mixed_rollback_moves_head_and_index_and_keeps_every_file() {
    let t = two_checkpoints();
    let repo = &t.repo;
    let files_before = repo.tree_state();

    let outcome = manager(repo)
        .rollback(sid(1), t.c1.checkpoint_id, ResetMode::Mixed)
        .unwrap();

    assert!(outcome.success);
    assert_eq!(outcome.checkpoint_id, t.c1.checkpoint_id);
    assert_eq!(outcome.commit_sha, t.c1.commit_sha);
    assert_eq!(outcome.mode, ResetMode::Mixed);
    assert_eq!(outcome.head.as_deref(), Some(t.c1.commit_sha.as_str()));
    assert_ne!(outcome.safety_checkpoint_id, t.c1.checkpoint_id);

    assert_eq!(repo.head(), t.c1.commit_sha);
    assert_eq!(head_branch(repo).as_deref(), Some("refs/heads/main"));
    assert_eq!(
        resolve(repo, "refs/heads/main"),
        Some(t.c1.commit_sha.to_string())
    );
    // The index is the checkpoint's tree: nothing staged relative to HEAD.
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
    // Files are exactly as they were.
    assert_eq!(repo.tree_state(), files_before);
    assert_eq!(repo.status(), " M a.txt\n?? b.txt\n?? u.txt");
}

#[test]
fn hard_rollback_restores_the_checkpoints_files() {
    let t = two_checkpoints();
    let repo = &t.repo;

    let outcome = manager(repo)
        .rollback(sid(1), t.c1.checkpoint_id, ResetMode::Hard)
        .unwrap();

    assert!(outcome.success);
    assert_eq!(outcome.mode, ResetMode::Hard);
    assert_eq!(outcome.commit_sha, t.c1.commit_sha);
    assert_eq!(repo.head(), t.c1.commit_sha);
    assert_eq!(head_branch(repo).as_deref(), Some("refs/heads/main"));
    assert_eq!(repo.read("a.txt"), b"1\n");
    assert!(!repo.exists("b.txt"), "committed after the checkpoint");
    // Like `git reset --hard`, a file git never tracked stays.
    assert_eq!(repo.read("u.txt"), b"untracked\n");
    assert_eq!(repo.status(), "?? u.txt");
    let mut expected = t.files_at_c1.clone();
    expected.push((
        "u.txt".to_owned(),
        testutil::FileState::File {
            bytes: b"untracked\n".to_vec(),
            executable: false,
        },
    ));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(repo.tree_state(), expected);
}

#[test]
fn hard_rollback_restores_unicode_names_and_modes() {
    let repo = repo_with_commit();
    repo.write("dossier é/fichier à lire.txt", "v1\n");
    repo.write("run me.sh", "#!/bin/sh\n");
    repo.make_executable("run me.sh");
    let c1 = checkpoint(&repo, sid(1), "one");
    let at_c1 = repo.tree_state();
    repo.write("dossier é/fichier à lire.txt", "v2\n");
    std::fs::remove_file(repo.join("run me.sh")).unwrap();
    repo.write("新しい/ファイル.txt", "new\n");
    checkpoint(&repo, sid(1), "two");

    manager(&repo)
        .rollback(sid(1), c1.checkpoint_id, ResetMode::Hard)
        .unwrap();

    assert_eq!(repo.tree_state(), at_c1);
    assert_eq!(repo.status(), "");
}

#[test]
fn rollbacks_are_counted_on_the_checkpoint_and_in_the_summary() {
    let t = two_checkpoints();
    let repo = &t.repo;
    repo.write("c.txt", "c\n");
    let c3 = checkpoint(repo, sid(1), "three");
    let m = manager(repo);

    m.rollback(sid(1), t.c1.checkpoint_id, ResetMode::Mixed)
        .unwrap();
    m.rollback(sid(1), t.c1.checkpoint_id, ResetMode::Hard)
        .unwrap();
    m.rollback(sid(1), t.c2.checkpoint_id, ResetMode::Hard)
        .unwrap();

    let c1 = m.get(sid(1), t.c1.checkpoint_id).unwrap();
    assert!(c1.rollback_used);
    assert_eq!(c1.rollback_count, 2);
    let c2 = m.get(sid(1), t.c2.checkpoint_id).unwrap();
    assert!(c2.rollback_used);
    assert_eq!(c2.rollback_count, 1);
    let c3 = m.get(sid(1), c3.checkpoint_id).unwrap();
    assert!(!c3.rollback_used);
    assert_eq!(c3.rollback_count, 0);
    assert_eq!(m.summary(sid(1)).unwrap().checkpoints_used_for_rollback, 2);

    // The log on disk says the same.
    let log = log_json(repo, sid(1));
    let entry = log["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checkpoint_id"] == t.c1.checkpoint_id.to_string())
        .unwrap()
        .clone();
    assert_eq!(entry["rollback_used"], true);
    assert_eq!(entry["rollback_count"], 2);
    assert_eq!(log["summary"]["checkpoints_used_for_rollback"], 2);
}

#[test]
fn the_log_survives_rollbacks_with_every_checkpoint_created_before() {
    let t = two_checkpoints();
    let repo = &t.repo;
    repo.write("c.txt", "c\n");
    let c3 = checkpoint(repo, sid(1), "three");
    let m = manager(repo);

    m.rollback(sid(1), t.c1.checkpoint_id, ResetMode::Hard)
        .unwrap();

    let listed = m.list(sid(1)).unwrap();
    for cp in [&t.c1, &t.c2, &c3] {
        let found = listed
            .iter()
            .find(|c| c.checkpoint_id == cp.checkpoint_id)
            .unwrap_or_else(|| panic!("{} lost after the rollback", cp.description));
        assert_eq!(found.commit_sha, cp.commit_sha);
        assert_eq!(found.description, cp.description);
    }
    // Work goes on from the checkpoint; the log keeps growing.
    repo.write("d.txt", "d\n");
    let c4 = checkpoint(repo, sid(1), "four");
    assert_eq!(
        parents(repo, &c4.commit_sha),
        std::slice::from_ref(&t.c1.commit_sha)
    );
    let listed = m.list(sid(1)).unwrap();
    assert_eq!(listed[0].checkpoint_id, c4.checkpoint_id);
    for cp in [&t.c1, &t.c2, &c3] {
        assert!(listed.iter().any(|c| c.checkpoint_id == cp.checkpoint_id));
    }
    // And the later checkpoints can still be returned to.
    m.rollback(sid(1), c3.checkpoint_id, ResetMode::Hard)
        .unwrap();
    assert_eq!(repo.read("c.txt"), b"c\n");
    assert_eq!(
        repo.read("a.txt"),
        b"3\n",
        "c3 committed the work on top of c2"
    );
}

#[test]
fn a_tracked_sessions_log_from_an_older_tool_does_not_lose_the_log_on_rollback() {
    // The original Python tool committed with `git add -A`, so repositories that used it have
    // `.flow/maestro/sessions/<id>/checkpoints.json` tracked. The log must still never be part of
    // a checkpoint commit, and a hard rollback must not rewind it.
    let repo = repo_with_commit();
    let session = sid(1).to_string();
    repo.write(
        format!(".flow/maestro/sessions/{session}/checkpoints.json"),
        format!(r#"{{"session_id": "{session}", "generated_at": "", "checkpoints": []}}"#),
    );
    repo.commit_all("history from the original tool");
    repo.write("a.txt", "1\n");
    let c1 = checkpoint(&repo, sid(1), "one");
    repo.write("b.txt", "2\n");
    let c2 = checkpoint(&repo, sid(1), "two");

    let log_path = format!(".flow/maestro/sessions/{session}/checkpoints.json");
    let changed = repo.git(&["diff", "--name-only", &c1.commit_sha, &c2.commit_sha]);
    assert!(
        !changed.lines().any(|p| p == log_path),
        "the checkpoint commit carries the session log: {changed}"
    );
    manager(&repo)
        .rollback(sid(1), c1.checkpoint_id, ResetMode::Hard)
        .unwrap();
    let ids: Vec<CheckpointId> = manager(&repo)
        .list(sid(1))
        .unwrap()
        .into_iter()
        .map(|c| c.checkpoint_id)
        .collect();
    assert!(
        ids.contains(&c1.checkpoint_id) && ids.contains(&c2.checkpoint_id),
        "{ids:?}"
    );
}

#[test]
fn rollback_to_a_no_commit_checkpoint_and_to_a_root_commit() {
    let repo = TestRepo::new();
    repo.write("a.txt", "root\n");
    let root = checkpoint(&repo, sid(1), "root");
    let tagged = manager(&repo)
        .create(
            sid(1),
            &request_with("tag", CheckpointType::SafeState, CheckpointMode::Tag),
        )
        .unwrap();
    assert_eq!(tagged.commit_sha, root.commit_sha);
    repo.write("a.txt", "later\n");
    checkpoint(&repo, sid(1), "later");

    manager(&repo)
        .rollback(sid(1), tagged.checkpoint_id, ResetMode::Hard)
        .unwrap();

    assert_eq!(repo.head(), root.commit_sha);
    assert_eq!(repo.read("a.txt"), b"root\n");
    assert_eq!(
        manager(&repo)
            .get(sid(1), tagged.checkpoint_id)
            .unwrap()
            .rollback_count,
        1
    );
}

#[test]
fn rollback_to_an_unknown_checkpoint_or_session_is_not_found_and_changes_nothing() {
    let t = two_checkpoints();
    let repo = &t.repo;
    let log_before = log_bytes(repo, sid(1));
    let before = observe(repo);
    let unknown = CheckpointId::parse("00000000-0000-4000-8000-0000000000ff").unwrap();

    for (session, cp) in [(sid(1), unknown), (sid(2), t.c1.checkpoint_id)] {
        for mode in [ResetMode::Mixed, ResetMode::Hard] {
            let err = manager(repo).rollback(session, cp, mode).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        }
    }

    assert_eq!(observe(repo), before);
    assert_eq!(log_bytes(repo, sid(1)), log_before);
    assert!(!repo.exists(format!(".flow/maestro/sessions/{}", sid(2))));
}

type Setup = fn(&TestRepo) -> &'static str;

/// Ways to leave a git operation in progress, each returning the marker it leaves in `.git`.
const OPERATIONS: [(&str, Setup); 5] = [
    ("merge", |r| {
        diverged(r);
        assert!(!r.git_output(&["merge", "other"]).status.success());
        "MERGE_HEAD"
    }),
    ("rebase", |r| {
        diverged(r);
        r.git(&["checkout", "-q", "other"]);
        assert!(!r.git_output(&["rebase", "main"]).status.success());
        "rebase-merge"
    }),
    ("cherry-pick", |r| {
        diverged(r);
        assert!(!r.git_output(&["cherry-pick", "other"]).status.success());
        "CHERRY_PICK_HEAD"
    }),
    ("revert", |r| {
        diverged(r);
        r.write("conflict.txt", "after\n");
        r.commit_all("after");
        assert!(!r
            .git_output(&["revert", "--no-edit", "HEAD~1"])
            .status
            .success());
        "REVERT_HEAD"
    }),
    ("bisect", |r| {
        diverged(r);
        r.git(&["bisect", "start"]);
        "BISECT_LOG"
    }),
];

/// Rolls back (both modes) while the operation `name` is in progress: refused as invalid,
/// naming the operation, and nothing changes.
fn refused_during(name: &str) {
    let (_, setup) = OPERATIONS.iter().find(|(n, _)| *n == name).unwrap();
    let repo = repo_with_commit();
    let cp = checkpoint(&repo, sid(1), "before the operation");
    let marker = setup(&repo);
    assert!(repo.exists(format!(".git/{marker}")), "{name}: setup");
    let before = observe(&repo);
    let log_before = log_bytes(&repo, sid(1));

    for mode in [ResetMode::Mixed, ResetMode::Hard] {
        let err = manager(&repo)
            .rollback(sid(1), cp.checkpoint_id, mode)
            .unwrap_err();

        assert_eq!(err.kind(), ErrorKind::Invalid, "{name}: {err}");
        assert!(
            err.to_string().contains(name),
            "{name}: the message names the operation: {err}"
        );
        assert_eq!(observe(&repo), before, "{name} {mode}: something changed");
        assert_eq!(log_bytes(&repo, sid(1)), log_before, "{name}: log changed");
        assert!(
            repo.exists(format!(".git/{marker}")),
            "{name}: still in progress"
        );
    }
}

#[test]
fn rollback_is_refused_during_a_merge() {
    refused_during("merge");
}

#[test]
fn rollback_is_refused_during_a_rebase() {
    refused_during("rebase");
}

#[test]
fn rollback_is_refused_during_a_cherry_pick() {
    refused_during("cherry-pick");
}

#[test]
fn rollback_is_refused_during_a_revert() {
    refused_during("revert");
}

#[test]
fn rollback_is_refused_during_a_bisect() {
    refused_during("bisect");
}
