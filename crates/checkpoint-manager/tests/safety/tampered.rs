//! The log lives in the work tree, where anything can edit it: a restore takes what it needs
//! from git, checks what it must take from the log, and refuses before changing anything.
//! And an undo never moves a branch that is not checked out and has moved since.

use std::fs;

use checkpoint_manager::{Error, ResetMode};
use serde_json::Value;

use crate::common::*;

/// Rewrites one field of the logged checkpoint `id`.
fn tamper(fx: &Fixture, id: &str, edit: impl Fn(&mut Value)) {
    let path = fx.repo.log_path(&fx.session.to_string());
    let mut log: Value = serde_json::from_slice(&fs::read(&path).expect("log")).expect("json");
    for cp in log["checkpoints"].as_array_mut().expect("array") {
        if cp["checkpoint_id"] == id {
            edit(cp);
        }
    }
    fs::write(&path, serde_json::to_vec_pretty(&log).expect("json")).expect("write");
}

#[test]
fn a_commit_sha_that_is_not_an_object_id_is_refused_before_anything_changes() {
    let fx = Fixture::new();
    let cp = fx.snapshot("target");
    fx.repo.write("tracked.txt", "work after the snapshot\n");
    tamper(&fx, &cp.checkpoint_id.to_string(), |c| {
        c["commit_sha"] = "-u".into()
    });
    let before = fx.observe();
    let err = fx
        .mgr
        .rollback(fx.session, cp.checkpoint_id, ResetMode::Hard)
        .expect_err("an option as a commit");
    assert!(matches!(err, Error::InvalidRecord { .. }), "{err}");
    assert!(err.to_string().contains("repair"), "{err}");
    assert_same_for_user(&before, &fx.observe(), "a refused rollback");
}

#[test]
fn index_and_raw_trees_come_from_the_snapshot_commit_not_from_the_log() {
    let fx = Fixture::new();
    fx.repo.write(".gitattributes", "*.txt text=auto\n");
    fx.repo.write("crlf.txt", "windows\r\nline\r\n");
    fx.repo.git(&["add", ".gitattributes"]);
    let cp = fx.snapshot("with converted bytes");
    assert!(cp
        .snapshot
        .as_ref()
        .and_then(|s| s.raw_tree.clone())
        .is_some());
    let want = fx.observe();
    // A tree that would write into .git if it were believed.
    let evil_config = fx.repo.write("evil", "[alias]\n\tpwned = !echo PWNED\n");
    let blob = fx
        .repo
        .git(&["hash-object", "-w", evil_config.to_str().expect("utf-8")]);
    fs::remove_file(evil_config).expect("rm");
    let inner = fx
        .repo
        .git_with_stdin(&["mktree"], &format!("100644 blob {blob}\tconfig\n"));
    let evil = fx
        .repo
        .git_with_stdin(&["mktree"], &format!("040000 tree {inner}\t.git\n"));
    let head_tree = fx.repo.git(&["rev-parse", "HEAD^{tree}"]);
    tamper(&fx, &cp.checkpoint_id.to_string(), |c| {
        c["snapshot"]["raw_tree"] = evil.clone().into();
        c["snapshot"]["index_tree"] = head_tree.clone().into();
    });
    let config_before = fs::read(fx.repo.join(".git/config")).expect("config");
    fx.repo.write("crlf.txt", "changed\n");
    fx.rollback_hard(&cp);
    assert_eq!(
        fs::read(fx.repo.join(".git/config")).expect("config"),
        config_before
    );
    let got = fx.observe();
    assert_eq!(
        got.files, want.files,
        "the files are the snapshot's, CRLF included"
    );
    assert_eq!(
        got.index, want.index,
        "the index is the snapshot's, not the log's"
    );
}

#[test]
fn undo_refuses_to_move_a_branch_that_is_not_checked_out_and_has_moved() {
    let fx = Fixture::new();
    let target = fx.snapshot("target");
    fx.repo.write("tracked.txt", "before the rollback\n");
    fx.rollback_hard(&target);
    // New work committed on main after the rollback, then the user switches away.
    fx.repo
        .write("keep.txt", "committed on main after the rollback\n");
    let m = fx.repo.commit_all("M");
    fx.repo.git(&["switch", "-q", "-c", "feature"]);
    let before = fx.observe();
    let err = fx
        .mgr
        .undo(fx.session)
        .expect_err("main moved and is not checked out");
    assert!(matches!(err, Error::BranchMoved { .. }), "{err}");
    assert_same_for_user(&before, &fx.observe(), "a refused undo");
    assert_eq!(
        fx.repo.git(&["rev-parse", "main"]),
        m,
        "main keeps its new commit"
    );
    // Checked out, main's new commit is HEAD's: the undo's own safety snapshot keeps it.
    fx.repo.git(&["switch", "-q", "main"]);
    fx.undo();
    assert_eq!(fx.repo.read("tracked.txt"), b"before the rollback\n");
    let kept = fx
        .repo
        .git(&["for-each-ref", "--contains", &m, "--format=%(refname)"]);
    assert!(!kept.is_empty(), "M is reachable from some ref");
}

#[test]
fn undo_refuses_to_take_a_branch_checked_out_in_another_worktree() {
    let fx = Fixture::new();
    let target = fx.snapshot("target");
    fx.repo.write("tracked.txt", "before the rollback\n");
    fx.rollback_hard(&target);
    fx.repo.git(&["switch", "-q", "-c", "other"]);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let wt = elsewhere.path().join("wt");
    fx.repo
        .git(&["worktree", "add", "-q", wt.to_str().expect("utf-8"), "main"]);
    let before = fx.observe();
    let err = fx
        .mgr
        .undo(fx.session)
        .expect_err("main is checked out in wt");
    assert!(
        matches!(err, Error::BranchCheckedOutElsewhere { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("wt"), "{err}");
    assert_same_for_user(&before, &fx.observe(), "a refused undo");
}
