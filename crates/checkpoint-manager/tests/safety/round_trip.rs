//! Round trips: staged + unstaged + untracked + deleted + ignored work through a snapshot, a
//! hard rollback, an undo and an undo of the undo, byte for byte, index included; mixed
//! rollbacks; `git gc --prune=now` in between; detached and unborn HEADs; type changes.

use checkpoint_manager::{CheckpointMode, CheckpointType, ResetMode};
use testutil::TestRepo;

use crate::common::*;

/// `want`'s files with the ignored paths taken from `ignored_from` (a restore never touches
/// ignored files, so they keep whatever content they have now).
fn with_ignored_from(want: &State, ignored_from: &State) -> State {
    let mut out = without(want, IGNORED);
    let not_ignored = without(ignored_from, IGNORED);
    out.extend(
        ignored_from
            .iter()
            .filter(|e| !not_ignored.contains(e))
            .cloned(),
    );
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Asserts that the repository is exactly `want` (files, index, HEAD, branch, status).
#[track_caller]
fn assert_exactly(repo: &TestRepo, want: &Observed, want_staged: &str, what: &str) {
    let got = observe(repo);
    assert_state(&want.files, &got.files, what);
    assert_eq!(want.index, got.index, "{what}: index (git ls-files -s)");
    assert_eq!(want_staged, staged_diff(repo), "{what}: git diff --cached");
    assert_eq!(want.head, got.head, "{what}: HEAD");
    assert_eq!(want.symbolic_head, got.symbolic_head, "{what}: branch");
    assert_eq!(want.status, got.status, "{what}: git status");
}

#[test]
fn hard_rollback_undo_and_undo_of_undo_restore_every_byte_and_the_index() {
    let fx = Fixture::new();
    make_mixed_state(&fx.repo);
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("state A");

    mess_up(&fx.repo);
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);
    assert_ne!(a.files, b.files);

    let outcome = fx.rollback_hard(&cp);
    let a_now = Observed {
        files: with_ignored_from(&a.files, &b.files),
        ..a.clone()
    };
    assert_exactly(&fx.repo, &a_now, &a_staged, "after rollback --hard");
    // Ignored files kept the content they had just before the rollback.
    assert_eq!(
        file(&fx.observe().files, "build.log"),
        file(&b.files, "build.log")
    );
    // Untracked files created since were removed (tracked ones went with the index).
    assert!(
        outcome
            .removed_paths
            .contains(&"later-untracked.txt".to_owned()),
        "{:?}",
        outcome.removed_paths
    );

    // The safety snapshot is a logged pre_risky_operation checkpoint holding B.
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .expect("safety checkpoint logged");
    assert_eq!(safety.checkpoint_type, CheckpointType::PreRiskyOperation);
    assert_eq!(safety.mode, CheckpointMode::Snapshot);
    let mut reader = TreeReader::default();
    let held = reader.state(&fx.repo, &safety.commit_sha);
    assert_state(&without(&b.files, IGNORED), &held, "the safety snapshot");
    for path in &outcome.removed_paths {
        assert!(file(&held, path).is_some(), "{path} removed but not held");
    }

    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "after undo");

    fx.redo();
    assert_exactly(
        &fx.repo,
        &a_now,
        &a_staged,
        "after redo (the undo taken back)",
    );

    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "after undo of the redo");
    fx.repo.git(&["fsck", "--no-progress"]);
}

#[test]
fn mixed_rollback_to_a_snapshot_moves_head_only_and_undo_brings_the_index_back() {
    let fx = Fixture::new();
    make_mixed_state(&fx.repo);
    let a = fx.observe();
    let cp = fx.snapshot("state A");
    mess_up(&fx.repo); // includes a commit, so HEAD moves away from A's base
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    let outcome = fx
        .mgr
        .rollback(fx.session, cp.checkpoint_id, ResetMode::Mixed)
        .expect("mixed rollback");
    let now = fx.observe();
    assert_state(&b.files, &now.files, "a mixed rollback leaves files alone");
    assert_eq!(now.head, a.head, "HEAD moves to the snapshot's base");
    assert_eq!(outcome.head.map(String::from), a.head);
    assert_eq!(now.symbolic_head.as_deref(), Some("refs/heads/main"));
    assert_eq!(staged_diff(&fx.repo), "", "mixed: the index is HEAD's");
    assert!(outcome.removed_paths.is_empty());

    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo of a mixed rollback");
}

#[test]
fn gc_prune_now_between_snapshot_rollback_and_undo_loses_nothing() {
    let fx = Fixture::new();
    make_mixed_state(&fx.repo);
    // A blob that only the index holds (staged, then overwritten in the work tree and later
    // replaced in the index): after the user moves on, only the snapshot's index commit has it.
    fx.repo
        .write("only-in-index.txt", "staged and nowhere else\n");
    fx.repo.git(&["add", "only-in-index.txt"]);
    fx.repo.write("only-in-index.txt", "work tree version\n");
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("state A");

    mess_up(&fx.repo);
    fx.repo.git(&["add", "-A"]);
    fx.repo.git(&["commit", "-q", "-m", "user commit U"]);
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);
    let prune = |repo: &TestRepo| {
        repo.git(&["reflog", "expire", "--expire=now", "--all"]);
        repo.git(&["gc", "-q", "--prune=now"]);
        repo.git(&["prune", "--expire=now"]);
    };
    prune(&fx.repo);

    fx.rollback_hard(&cp);
    let a_now = Observed {
        files: with_ignored_from(&a.files, &b.files),
        ..a.clone()
    };
    assert_exactly(&fx.repo, &a_now, &a_staged, "rollback after gc");

    // The branch moved away from U; only the safety snapshot reaches it now.
    prune(&fx.repo);
    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo after gc");
    fx.repo.git(&["fsck", "--no-progress", "--strict"]);
}

#[test]
fn hard_rollback_to_a_commit_checkpoint_and_undo_keep_uncommitted_work() {
    let fx = Fixture::new();
    fx.repo.write("feature.txt", "feature\n");
    let cp = fx.create(CheckpointMode::Commit, "committed");
    let c = fx.observe();
    make_mixed_state(&fx.repo);
    fx.repo
        .write("feature.txt", "feature, changed and staged\n");
    fx.repo.git(&["add", "feature.txt"]);
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    fx.rollback_hard(&cp);
    let now = fx.observe();
    assert_eq!(now.head.as_deref(), Some(cp.commit_sha.as_str()));
    assert_eq!(now.index, c.index, "the index is the checkpoint's");
    // Tracked files are the checkpoint's; untracked and ignored files stay (git reset --hard).
    let mut reader = TreeReader::default();
    let committed = reader.state(&fx.repo, &cp.commit_sha);
    for (path, state) in &committed {
        assert_eq!(file(&now.files, path), Some(state), "{path}");
    }
    for path in [
        "untracked.txt",
        "newdir/deep/file.bin",
        "build.log",
        "ignored/cache.bin",
    ] {
        assert_eq!(file(&now.files, path), file(&b.files, path), "{path}");
    }

    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo of a rollback to a commit");
}

#[test]
fn undo_reattaches_a_detached_head_where_it_was() {
    let fx = Fixture::new();
    let cp = fx.snapshot("on main at the first commit");
    fx.repo.write("x.txt", "x\n");
    let x = fx.repo.commit_all("second");
    fx.repo.git(&["checkout", "-q", "--detach", &x]);
    make_mixed_state(&fx.repo);
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    fx.rollback_hard(&cp);
    assert_eq!(
        fx.repo.git(&["rev-parse", "main"]),
        x,
        "rolling back on a detached HEAD must not move main"
    );
    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo on a detached HEAD");
    assert_eq!(fx.repo.git(&["rev-parse", "main"]), x);
}

#[test]
fn rollback_to_a_snapshot_taken_before_the_first_commit_and_back() {
    let repo = TestRepo::new();
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "staged, then changed\n");
    repo.write("b.txt", "untracked\n");
    let fx = Fixture::over(repo, Default::default());
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("unborn");
    fx.repo.write("c.txt", "more\n");
    fx.repo.commit_all("first commit");
    fx.repo.write("d.txt", "after\n");
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    fx.rollback_hard(&cp);
    assert_exactly(&fx.repo, &a, &a_staged, "back to before the first commit");
    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo to after the first commit");
}

#[test]
fn type_changes_and_index_only_states_round_trip() {
    let fx = Fixture::new();
    // Added to the index, then deleted from the work tree.
    fx.repo.write("ghost.txt", "only staged\n");
    fx.repo.git(&["add", "ghost.txt"]);
    std::fs::remove_file(fx.repo.join("ghost.txt")).expect("rm");
    // A file turned into a symlink, a symlink into a file (staged), a file into a folder.
    std::fs::remove_file(fx.repo.join("keep.txt")).expect("rm");
    symlink("tracked.txt", fx.repo.join("keep.txt"));
    std::fs::remove_file(fx.repo.join("link")).expect("rm");
    fx.repo.write("link", "now a file\n");
    fx.repo.git(&["add", "link"]);
    std::fs::remove_file(fx.repo.join("gone.txt")).expect("rm");
    fx.repo.write("gone.txt/inner.txt", "a folder now\n");
    // Staged content equal to HEAD's while the work tree differs, and the reverse.
    fx.repo.write("tracked.txt", "tracked v1\n");
    fx.repo.write("bin/run.sh", "#!/bin/sh\necho changed\n");
    fx.repo.git(&["add", "bin/run.sh"]);
    fx.repo.write("bin/run.sh", "#!/bin/sh\necho run\n");
    fx.repo.write("build.log", "ignored\n");
    fx.repo.write("ignored/cache.bin", "ignored\n");
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("type changes");

    std::fs::remove_dir_all(fx.repo.join("gone.txt")).expect("rm -r");
    mess_up(&fx.repo);
    fx.repo.write("ghost.txt", "in the work tree now\n");
    std::fs::remove_file(fx.repo.join("keep.txt")).expect("rm");
    fx.repo.write("keep.txt", "a file again\n");
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    fx.rollback_hard(&cp);
    let a_now = Observed {
        files: with_ignored_from(&a.files, &b.files),
        ..a.clone()
    };
    assert_exactly(&fx.repo, &a_now, &a_staged, "rollback over type changes");
    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo over type changes");
}

/// State A has a symlink `dir` (to a file); state B has a real folder `dir` with files in it.
fn symlink_then_folder() -> (
    Fixture,
    Observed,
    String,
    checkpoint_manager::Checkpoint,
    Observed,
    String,
) {
    let fx = Fixture::new();
    symlink("keep.txt", fx.repo.join("dir"));
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("dir is a symlink");
    std::fs::remove_file(fx.repo.join("dir")).expect("rm");
    fx.repo.write("dir/sub.txt", "dir is a folder now\n");
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);
    (fx, a, a_staged, cp, b, b_staged)
}

#[test]
fn rollback_where_a_folder_of_files_becomes_a_symlink_again() {
    let (fx, a, a_staged, cp, b, b_staged) = symlink_then_folder();
    let outcome = fx
        .mgr
        .rollback(fx.session, cp.checkpoint_id, ResetMode::Hard)
        .expect("rollback --hard over a folder that was a symlink");
    assert_eq!(outcome.removed_paths, ["dir/sub.txt"]);
    assert_exactly(&fx.repo, &a, &a_staged, "rollback: folder back to symlink");
    fx.undo();
    assert_exactly(&fx.repo, &b, &b_staged, "undo: symlink back to folder");
}

#[test]
fn undos_in_two_sessions_interleaved_lose_neither_sessions_work() {
    let fx = Fixture::new();
    let other = checkpoint_manager::SessionId::parse(&testutil::session_id(2)).expect("id");
    let a_cp = fx.snapshot("session A's checkpoint");
    let b_cp = fx
        .mgr
        .create(
            other,
            &request(CheckpointMode::Snapshot, "session B's checkpoint"),
        )
        .expect("B");
    fx.repo.write("w1.txt", "work before A's rollback\n");
    let w1 = fx.repo.tree_state();
    fx.rollback_hard(&a_cp);
    fx.repo.write("w2.txt", "work before B's rollback\n");
    let w2 = fx.repo.tree_state();
    fx.mgr
        .rollback(other, b_cp.checkpoint_id, ResetMode::Hard)
        .expect("B rollback");
    // A's undo returns to A's safety snapshot; B's work is in the undo's own safety snapshot.
    fx.undo();
    assert_state(&w1, &fx.repo.tree_state(), "A's undo");
    fx.mgr.undo(other).expect("B undo");
    assert_state(&w2, &fx.repo.tree_state(), "B's undo");
    let mut reader = TreeReader::default();
    let held = reader.checkpoint_states(&fx.repo);
    assert!(held.contains(&w1) && held.contains(&w2));
}
