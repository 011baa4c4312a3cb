//! `create --snapshot` changes nothing: HEAD, the branch, the index file (byte for byte, even
//! when its stat data is stale and any writing `git status` would refresh it), the work tree,
//! `git status`, tags and branches. What it captures is exactly the work tree and the index.

use checkpoint_manager::CheckpointMode;

use crate::common::*;

#[test]
fn a_snapshot_leaves_head_branch_index_files_status_and_tags_exactly_as_they_were() {
    let fx = Fixture::new();
    make_mixed_state(&fx.repo);
    // Stale stat data: a writing `git status` or `git add` on the user's index would rewrite it.
    make_stat_dirty(&fx.repo, "tracked.txt");
    make_stat_dirty(&fx.repo, "bin/run.sh");
    let before = fx.observe();
    let mtime_before = std::fs::metadata(fx.repo.join(".git/index"))
        .expect("index")
        .modified()
        .expect("mtime");

    let cp = fx.snapshot("touch nothing");

    let after = fx.observe();
    assert_eq!(before.symbolic_head, after.symbolic_head, "branch");
    assert_eq!(before.head, after.head, "HEAD");
    assert!(
        before.index_bytes == after.index_bytes,
        "the user's index file changed"
    );
    assert_eq!(
        mtime_before,
        std::fs::metadata(fx.repo.join(".git/index"))
            .expect("index")
            .modified()
            .expect("mtime"),
        "the user's index file was rewritten"
    );
    assert_eq!(before.status, after.status, "git status");
    assert_eq!(
        before.public_refs(),
        after.public_refs(),
        "branches and tags"
    );
    assert!(after.tags().is_empty(), "git tag must stay empty");
    assert_state(&before.files, &after.files, "after a snapshot");
    assert!(cp.tags.is_empty(), "a snapshot has no tag: {:?}", cp.tags);
    assert_eq!(cp.mode, CheckpointMode::Snapshot);
    assert!(!fx.repo.join(".git/index.lock").exists());
    assert!(!fx.repo.join(".git/refs/stash").exists(), "no stash entry");
    assert_eq!(
        fx.repo.git(&["rev-list", "--count", "main"]),
        "1",
        "no commit on the branch"
    );
}

#[test]
fn a_snapshot_holds_the_work_tree_and_the_index_as_their_own_trees() {
    let fx = Fixture::new();
    make_mixed_state(&fx.repo);
    let head = fx.repo.head();
    let cp = fx.snapshot("content");
    let info = cp.snapshot.clone().expect("snapshot info");

    // The private ref keeps the commit alive through the metadata tag.
    assert_eq!(
        private_ref_commit(&fx.repo, fx.session, &cp).as_deref(),
        Some(cp.commit_sha.as_str())
    );
    assert_eq!(info.base_commit.as_deref(), Some(head.as_str()));
    assert_eq!(info.branch.as_deref(), Some("refs/heads/main"));
    // Shaped like a stash: parents [HEAD, I], I's tree is the index tree.
    assert_eq!(
        fx.repo.git(&["rev-parse", &format!("{}^1", cp.commit_sha)]),
        head
    );
    assert_eq!(
        fx.repo.git(&["rev-parse", &format!("{}^2", cp.commit_sha)]),
        info.index_commit
    );
    assert_eq!(
        fx.repo
            .git(&["rev-parse", &format!("{}^{{tree}}", info.index_commit)]),
        info.index_tree
    );

    // W's tree is the work tree minus ignored files, byte for byte, modes and links included.
    let mut reader = TreeReader::default();
    let captured = reader.state(&fx.repo, &cp.commit_sha);
    assert_state(
        &without(&fx.repo.tree_state(), IGNORED),
        &captured,
        "the snapshot's tree",
    );

    // The index tree is the index: same entries as `git ls-files -s`.
    assert_eq!(
        tree_as_index_listing(&fx.repo, &info.index_tree),
        index_listing(&fx.repo)
    );
}

#[test]
fn a_snapshot_in_a_repository_without_commits_touches_nothing() {
    let repo = testutil::TestRepo::new();
    repo.write("a.txt", "first\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "first, changed\n");
    repo.write("b.txt", "untracked\n");
    let fx = Fixture::over(repo, Default::default());
    let before = fx.observe();
    let cp = fx.snapshot("unborn");
    assert_same_for_user(&before, &fx.observe(), "snapshot");
    let info = cp.snapshot.expect("info");
    assert_eq!(info.base_commit, None);
    assert_eq!(info.branch.as_deref(), Some("refs/heads/main"));
    // No HEAD: W's only parent is I.
    assert_eq!(
        fx.repo
            .git(&["rev-list", "--parents", "-n1", &cp.commit_sha]),
        format!("{} {}", cp.commit_sha, info.index_commit)
    );
}

#[test]
fn a_snapshot_on_a_detached_head_records_no_branch_and_touches_nothing() {
    let fx = Fixture::new();
    fx.repo.write("x.txt", "x\n");
    fx.repo.commit_all("second");
    fx.repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    fx.repo.write("wip.txt", "wip\n");
    let before = fx.observe();
    let cp = fx.snapshot("detached");
    assert_same_for_user(&before, &fx.observe(), "snapshot");
    let info = cp.snapshot.expect("info");
    assert_eq!(info.branch, None);
    assert_eq!(info.base_commit.map(String::from), before.head);
}

#[test]
fn a_snapshot_of_a_clean_tree_is_still_a_checkpoint_and_still_touches_nothing() {
    let fx = Fixture::new();
    let before = fx.observe();
    let cp = fx.snapshot("clean");
    assert_same_for_user(&before, &fx.observe(), "snapshot");
    let mut reader = TreeReader::default();
    assert_state(
        &fx.repo.tree_state(),
        &reader.state(&fx.repo, &cp.commit_sha),
        "clean snapshot",
    );
    assert!(cp.snapshot.expect("info").skipped.is_empty());
}

#[test]
fn every_mode_keeps_its_checkpoint_alive_through_gc_and_snapshots_leave_no_tag() {
    let fx = Fixture::new();
    fx.repo.write("a.txt", "a\n");
    let commit = fx.create(CheckpointMode::Commit, "commit mode");
    let tag = fx.create(CheckpointMode::Tag, "tag mode");
    fx.repo.write("b.txt", "b\n");
    let snap = fx.snapshot("snapshot mode");
    assert_eq!(commit.tags.len(), 1);
    assert_eq!(tag.tags.len(), 1);
    assert!(snap.tags.is_empty());
    let tags = fx.repo.git(&["tag"]);
    assert_eq!(
        tags.lines().count(),
        2,
        "only commit and tag modes tag: {tags}"
    );
    fx.repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    fx.repo.git(&["gc", "-q", "--prune=now"]);
    for cp in [&commit, &tag, &snap] {
        assert_eq!(
            private_ref_commit(&fx.repo, fx.session, cp).as_deref(),
            Some(cp.commit_sha.as_str()),
            "{}",
            cp.description
        );
    }
    fx.repo.git(&["fsck", "--no-progress", "--strict"]);
    // The checkpoint refs are not branches: `git branch` lists only main.
    assert_eq!(
        fx.repo.git(&["branch", "--format=%(refname)"]),
        "refs/heads/main"
    );
}
