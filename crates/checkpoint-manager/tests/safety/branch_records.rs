//! Issue 8, item 15: a branch name read from the log follows git's own rules before any ref is
//! touched, and a hard restore to a snapshot gives back the `assume-unchanged` flags its index had.

use std::fs;

use checkpoint_manager::Error;
use serde_json::Value;

use crate::common::*;

/// Rewrites the `snapshot.branch` of the logged checkpoint `id`.
fn tamper_branch(fx: &Fixture, id: &str, branch: &str) {
    let path = fx.repo.log_path(&fx.session.to_string());
    let mut log: Value = serde_json::from_slice(&fs::read(&path).expect("log")).expect("json");
    // Safety snapshots are kept in their own section of the log.
    for section in ["checkpoints", "safety_snapshots"] {
        let Some(records) = log[section].as_array_mut() else {
            continue;
        };
        for cp in records.iter_mut().filter(|cp| cp["checkpoint_id"] == id) {
            cp["snapshot"]["branch"] = branch.into();
        }
    }
    fs::write(&path, serde_json::to_vec_pretty(&log).expect("json")).expect("write");
}

#[test]
fn undo_refuses_a_branch_name_git_would_refuse() {
    for bad in [
        "refs/heads/HEAD",
        "refs/heads/-x",
        "refs/heads/a..b",
        "refs/heads/x.lock",
        "refs/heads/.hidden",
        "refs/heads/a@{1}",
        "refs/heads/a//b",
        "refs/heads/",
    ] {
        let fx = Fixture::new();
        let target = fx.snapshot("target");
        fx.repo.write("tracked.txt", "before the rollback\n");
        let outcome = fx.rollback_hard(&target);
        tamper_branch(&fx, &outcome.safety_checkpoint_id.to_string(), bad);
        let before = fx.observe();
        let err = fx.mgr.undo(fx.session).expect_err(bad);
        assert!(matches!(err, Error::InvalidRecord { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("is not a branch"), "{bad}: {err}");
        assert_same_for_user(&before, &fx.observe(), bad);
        assert_eq!(
            fx.repo
                .git(&["for-each-ref", "--format=%(refname)", "refs/heads/"]),
            "refs/heads/main",
            "{bad}: no branch was made"
        );
    }
}

#[test]
fn a_valid_branch_of_unusual_shape_is_still_re_attached() {
    let fx = Fixture::new();
    fx.repo.git(&["switch", "-q", "-c", "feature/x-1@2"]);
    let target = fx.snapshot("target");
    fx.repo.write("tracked.txt", "before the rollback\n");
    fx.rollback_hard(&target);
    fx.repo.git(&["switch", "-q", "--detach"]);
    fx.undo();
    assert_eq!(
        fx.repo.git(&["symbolic-ref", "HEAD"]),
        "refs/heads/feature/x-1@2"
    );
    assert_eq!(fx.repo.read("tracked.txt"), b"before the rollback\n");
}

/// Paths marked assume-unchanged in the index (lowercase tag of `ls-files -v`).
fn assume_unchanged(fx: &Fixture) -> Vec<String> {
    fx.repo
        .git(&["ls-files", "-v"])
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .map(|l| l[2..].to_owned())
        .collect()
}

#[test]
fn undo_gives_back_the_assume_unchanged_flags() {
    let fx = Fixture::new();
    let target = fx.snapshot("target");
    fx.repo.git(&[
        "update-index",
        "--assume-unchanged",
        "keep.txt",
        "bin/run.sh",
    ]);
    fx.repo
        .write("keep.txt", "local edit git is told to ignore\n");
    let before = assume_unchanged(&fx);
    assert_eq!(before, ["bin/run.sh", "keep.txt"]);
    fx.rollback_hard(&target);
    assert_eq!(fx.repo.read("keep.txt"), b"keep\n");
    assert!(assume_unchanged(&fx).is_empty());
    fx.undo();
    assert_eq!(assume_unchanged(&fx), before);
    assert_eq!(
        fx.repo.read("keep.txt"),
        b"local edit git is told to ignore\n"
    );
}

#[test]
fn a_rollback_to_a_snapshot_gives_back_its_flags_and_ignores_paths_it_lacks() {
    let fx = Fixture::new();
    fx.repo
        .git(&["update-index", "--assume-unchanged", "keep.txt"]);
    let target = fx.snapshot("target");
    // A tampered list: a path the snapshot's index does not have is ignored.
    let path = fx.repo.log_path(&fx.session.to_string());
    let mut log: Value = serde_json::from_slice(&fs::read(&path).expect("log")).expect("json");
    log["checkpoints"][0]["snapshot"]["assume_unchanged"] =
        serde_json::json!(["keep.txt", "not-in-the-index.txt"]);
    fs::write(&path, serde_json::to_vec_pretty(&log).expect("json")).expect("write");
    fx.repo
        .git(&["update-index", "--no-assume-unchanged", "keep.txt"]);
    fx.repo.write("tracked.txt", "later\n");
    fx.rollback_hard(&target);
    assert_eq!(assume_unchanged(&fx), ["keep.txt"]);
}
