//! Issue 10, adversarial review: ways a restore of chosen paths, a prune or a diff could lose a
//! byte of the user's work, show something untrue or touch what it promises not to. Each test
//! here failed before its fix, or guards a case that held and no other test covers.

use std::fs;
use std::path::Path;

use checkpoint_manager::{ErrorKind, FileStatus, PruneRequest, Sessions};

use crate::common::*;

/// A file marked skip-worktree with local bytes: git never reads it, so no snapshot holds those
/// bytes. A restore naming it (or its folder) must refuse rather than overwrite them.
#[test]
fn a_restore_never_overwrites_the_local_bytes_of_a_skip_worktree_file() {
    let fx = Fixture::new();
    fx.repo.write("d/f.txt", "old\n");
    fx.repo.commit_all("d");
    let cp = fx.snapshot("old d");
    fx.repo.write("d/f.txt", "new\n");
    fx.repo.commit_all("new d");
    fx.repo.git(&["update-index", "--skip-worktree", "d/f.txt"]);
    fx.repo.write("d/f.txt", "precious local bytes\n");
    let before = fx.observe();
    for named in ["d", "d/f.txt"] {
        let err = fx
            .mgr
            .restore_paths(fx.session, cp.checkpoint_id, &[named], false)
            .expect_err("a skip-worktree file with local bytes must be refused");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{named}: {err}");
        assert!(err.to_string().contains("skip-worktree"), "{err}");
        assert_eq!(fx.repo.read("d/f.txt"), b"precious local bytes\n");
        assert_eq!(
            fx.observe(),
            before,
            "{named}: the refusal changed something"
        );
    }
}

/// A named folder that is now a symlink to a folder outside the repository: the link itself is
/// removed (the safety snapshot holds it) and the checkpoint's files are written inside the
/// repository; nothing outside is written.
#[test]
fn a_named_folder_now_a_symlink_outside_is_replaced_not_written_through() {
    let fx = Fixture::new();
    fx.repo.write("d/f.txt", "checkpoint\n");
    fx.repo.commit_all("d");
    let cp = fx.snapshot("with d");
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("f.txt"), "outside\n").unwrap();
    fs::remove_dir_all(fx.repo.join("d")).unwrap();
    symlink(outside.path(), fx.repo.join("d"));
    let out = fx
        .mgr
        .restore_paths(fx.session, cp.checkpoint_id, &["d"], false)
        .unwrap();
    assert_eq!(out.removed_paths, ["d"]);
    assert_eq!(out.restored_paths, ["d/f.txt"]);
    assert!(!fs::symlink_metadata(fx.repo.join("d"))
        .unwrap()
        .is_symlink());
    assert_eq!(fx.repo.read("d/f.txt"), b"checkpoint\n");
    assert_eq!(
        fs::read(outside.path().join("f.txt")).unwrap(),
        b"outside\n"
    );
    fx.undo();
    let link = fs::read_link(fx.repo.join("d")).unwrap();
    assert_eq!(
        link,
        Path::new(outside.path()),
        "undo gives the symlink back"
    );
}

/// A diff to the work tree must not call a file deleted that is still on disk: files the
/// checkpoint holds in an untracked folder that has since grown past the folder cap are
/// compared as they are, and the folder's new files stay out, as a snapshot leaves them.
#[test]
fn a_diff_to_the_work_tree_never_calls_a_capped_file_deleted() {
    let fx = Fixture::new();
    fx.repo
        .git(&["config", "checkpoint-manager.maxUntrackedDirFiles", "3"]);
    fx.repo.write("u/1.txt", "one\n");
    fx.repo.write("u/2.txt", "two\n");
    let cp = fx.snapshot("two untracked files");
    fx.repo.write("u/1.txt", "one, changed\n");
    fx.repo.write("u/3.txt", "three\n");
    fx.repo.write("u/4.txt", "four\n");
    let before = fx.observe();
    let report = fx
        .mgr
        .diff(fx.session, cp.checkpoint_id, None, false)
        .unwrap();
    let files: Vec<(&str, FileStatus)> = report
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect();
    assert_eq!(files, [("u/1.txt", FileStatus::Modified)]);
    assert_eq!(fx.observe(), before, "the diff changed something");
}

/// A checkpoint made while the clock was set ahead carries a future time. The checkpoint made
/// last must still survive `keep_last = 1` (else the next prune purges it from the trash too).
#[test]
fn the_checkpoint_made_last_survives_a_prune_whatever_an_earlier_clock_said() {
    let fx = Fixture::new();
    let ahead = fx.snapshot("made while the clock was ahead");
    let log = fx.repo.log_path(&fx.session.to_string());
    let text = fs::read_to_string(&log).unwrap();
    let dated = text.replace(&ahead.timestamp, "2099-01-01T00:00:00.000000Z");
    assert_ne!(dated, text, "the test must move the timestamp");
    fs::write(&log, dated).unwrap();
    fx.repo.write("tracked.txt", "tracked v2\n");
    let last = fx.snapshot("made last");
    let request = PruneRequest::new().with_keep_last(Some(1));
    for _ in 0..2 {
        let outcome = fx.mgr.prune(Sessions::One(fx.session), &request).unwrap();
        let gone: Vec<_> = outcome.removed.iter().chain(&outcome.purged).collect();
        assert!(
            gone.iter().all(|p| p.checkpoint_id != last.checkpoint_id),
            "the checkpoint made last was pruned: {gone:?}"
        );
    }
    let kept: Vec<_> = fx.mgr.list(fx.session).unwrap();
    assert!(kept.iter().any(|c| c.checkpoint_id == last.checkpoint_id));
}

/// `gc` deletes only what nothing of the user's reaches: a stash, a commit only a reflog still
/// names (under the user's reflog expiry: the test repositories' fixed 2024 dates would
/// otherwise make git's 90 days expire it), a blob only the index holds, and the pruned
/// checkpoints' trash all survive it.
#[test]
fn prune_gc_keeps_the_stash_reflogs_the_index_and_the_trash() {
    let fx = Fixture::new();
    fx.repo.git(&["config", "gc.reflogExpire", "never"]);
    fx.repo
        .git(&["config", "gc.reflogExpireUnreachable", "never"]);
    let first = fx.snapshot("first");
    fx.snapshot("second");
    fx.repo.write("tracked.txt", "stashed work\n");
    fx.repo.git(&["stash", "-q"]);
    let stash = fx.repo.git(&["rev-parse", "refs/stash"]);
    fx.repo.write("keep.txt", "only in a reflog\n");
    let dropped = fx.repo.commit_all("dropped");
    fx.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    fx.repo.write("staged.txt", "only in the index\n");
    fx.repo.git(&["add", "staged.txt"]);
    let staged = fx.repo.git(&["rev-parse", ":staged.txt"]);
    let request = PruneRequest::new().with_keep_last(Some(1)).with_gc(true);
    let outcome = fx.mgr.prune(Sessions::One(fx.session), &request).unwrap();
    assert!(outcome.gc);
    assert_eq!(outcome.removed.len(), 1);
    for (what, oid) in [
        ("the stash", stash.trim()),
        ("a reflog's commit", dropped.trim()),
        ("the index's blob", staged.trim()),
        ("the trashed checkpoint", first.commit_sha.as_str()),
    ] {
        assert!(
            fx.repo.git_try(&["cat-file", "-e", oid]).is_some(),
            "gc deleted {what} ({oid})"
        );
    }
    assert_eq!(fx.repo.read("staged.txt"), b"only in the index\n");
    fx.repo.git(&["fsck", "--no-dangling"]);
}
