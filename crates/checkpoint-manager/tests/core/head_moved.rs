//! Ref moves are compare-and-swap (issue 8, item 5): a restore moves HEAD only from the value the
//! operation read. Here the user's own `git commit` (a real git process) lands between that read
//! and the restore's HEAD move; the move must fail with `RefMoved` and leave the user's commit on
//! the branch. Deterministic: the restore functions are called with the HEAD read before the
//! commit, exactly what a rollback racing that commit would hold.

use checkpoint_manager::git::{Head, Repo};
use checkpoint_manager::restore::{self, HeadAfter, RestoreTarget};
use checkpoint_manager::{Error, ErrorKind};

use crate::support::*;

/// A repository at commit `old`, HEAD on `main` read (as a rollback reads it), then a user
/// commit made by real git. Returns (repo, the HEAD read, the user's commit, the target commit).
fn head_moves_after_the_read() -> (TestRepo, Head, String, String) {
    let repo = repo_with_commit();
    let target = repo.head();
    repo.write("a.txt", "one\n");
    repo.commit_all("second");
    let read = Head {
        oid: Some(repo.head()),
        branch: Some(repo.git(&["symbolic-ref", "--short", "HEAD"])),
    };
    repo.write("user.txt", "the user's own work\n");
    repo.git(&["add", "user.txt"]);
    repo.git(&["commit", "-q", "-m", "user commit"]);
    let user_commit = repo.head();
    (repo, read, user_commit, target)
}

fn target_of(commit: &str, expected_head: Head, exact: bool) -> RestoreTarget {
    RestoreTarget {
        worktree_commit: commit.to_owned(),
        index_tree: format!("{commit}^{{tree}}"),
        base: Some(commit.to_owned()),
        exact,
        head: HeadAfter::Keep,
        raw_tree: None,
        expected_head,
        keep: Vec::new(),
    }
}

#[track_caller]
fn assert_ref_moved(result: checkpoint_manager::Result<impl std::fmt::Debug>) {
    match result {
        Err(e @ Error::RefMoved { .. }) => {
            assert_eq!(e.kind(), ErrorKind::Invalid);
            assert!(e.to_string().contains("HEAD changed underneath"), "{e}");
        }
        other => panic!("expected RefMoved, got {other:?}"),
    }
}

#[test]
fn a_hard_restore_does_not_move_head_over_a_commit_made_since_the_read() {
    let (repo, read, user_commit, target) = head_moves_after_the_read();
    let git = Repo::discover(repo.path()).unwrap();
    let result = restore::hard_restore(&git, &target_of(&target, read, false), &target, "test");
    assert_ref_moved(result);
    assert_eq!(
        repo.head(),
        user_commit,
        "the branch keeps the user's commit"
    );
    assert_eq!(
        repo.git(&["show", &format!("{user_commit}:user.txt")]),
        "the user's own work"
    );
}

#[test]
fn an_exact_snapshot_restore_does_not_move_head_over_a_commit_made_since_the_read() {
    let (repo, read, user_commit, target) = head_moves_after_the_read();
    let git = Repo::discover(repo.path()).unwrap();
    let tree = repo.git(&["rev-parse", &format!("{target}^{{tree}}")]);
    let result = restore::hard_restore(&git, &target_of(&target, read, true), &tree, "test");
    assert_ref_moved(result);
    assert_eq!(repo.head(), user_commit);
}

#[test]
fn a_mixed_reset_does_not_move_head_over_a_commit_made_since_the_read() {
    let (repo, read, user_commit, target) = head_moves_after_the_read();
    let git = Repo::discover(repo.path()).unwrap();
    assert_ref_moved(restore::mixed_reset(&git, Some(&target), &read, "test"));
    assert_eq!(repo.head(), user_commit);
    assert_eq!(repo.read("user.txt"), b"the user's own work\n");
}

#[test]
fn with_the_head_it_read_a_restore_moves_the_branch() {
    let (repo, _, user_commit, target) = head_moves_after_the_read();
    let git = Repo::discover(repo.path()).unwrap();
    let now = Head {
        oid: Some(user_commit),
        branch: Some(repo.git(&["symbolic-ref", "--short", "HEAD"])),
    };
    restore::mixed_reset(&git, Some(&target), &now, "test").unwrap();
    assert_eq!(repo.head(), target);
    assert!(repo
        .git(&["symbolic-ref", "HEAD"])
        .starts_with("refs/heads/"));
}

#[test]
fn reattaching_a_branch_does_not_orphan_a_commit_made_on_a_detached_head() {
    let repo = repo_with_commit();
    let base = repo.head();
    let branch = repo.git(&["symbolic-ref", "HEAD"]);
    repo.git(&["checkout", "-q", "--detach"]);
    let read = Head {
        oid: Some(base.clone()),
        branch: None,
    };
    // The user commits on the detached HEAD after the read.
    repo.write("detached.txt", "only on the detached HEAD\n");
    repo.git(&["add", "detached.txt"]);
    repo.git(&["commit", "-q", "-m", "detached work"]);
    let detached_commit = repo.head();
    let git = Repo::discover(repo.path()).unwrap();
    let target = RestoreTarget {
        head: HeadAfter::Attach(branch),
        ..target_of(&base, read, false)
    };
    assert_ref_moved(restore::hard_restore(&git, &target, &base, "test"));
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), detached_commit);
    assert!(
        repo.git_output(&["symbolic-ref", "-q", "HEAD"])
            .status
            .code()
            == Some(1)
    );
    assert!(!repo.exists(".git/HEAD.lock"));
}
