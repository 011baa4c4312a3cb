//! Finding the repository: any folder inside a work tree works; anything else is a clear
//! "not a git repository" error naming the path.

use checkpoint_manager::{CheckpointManager, Error, ErrorKind};

use crate::support::*;

fn not_a_repository(path: &std::path::Path) {
    let err = CheckpointManager::open(path).unwrap_err();
    assert!(matches!(err, Error::NotARepository { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn a_plain_folder_is_not_a_repository() {
    let outside = tempfile::tempdir().unwrap();
    not_a_repository(outside.path());
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing created"
    );
}

#[test]
fn a_missing_folder_is_not_a_repository() {
    let outside = tempfile::tempdir().unwrap();
    not_a_repository(&outside.path().join("does not exist"));
}

#[test]
fn a_bare_repository_has_no_work_tree() {
    let outside = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(outside.path())
        .status()
        .unwrap();
    assert!(status.success());
    not_a_repository(outside.path());
}

#[test]
fn any_folder_inside_the_work_tree_finds_the_top() {
    let repo = repo_with_commit();
    repo.write("a/b/c/file.txt", "x\n");
    for sub in ["", "a", "a/b", "a/b/c"] {
        let m = CheckpointManager::open(repo.join(sub)).unwrap();
        assert_eq!(canonical(m.workdir()), canonical(repo.path()), "{sub}");
    }
}

#[test]
fn a_folder_inside_the_git_dir_is_not_a_work_tree() {
    let repo = repo_with_commit();
    not_a_repository(&repo.join(".git/refs"));
}

#[test]
fn a_nested_repository_is_its_own_repository() {
    let outer = repo_with_commit();
    outer.write("inner/.keep", "");
    let status = std::process::Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(outer.join("inner"))
        .status()
        .unwrap();
    assert!(status.success());
    let m = CheckpointManager::open(outer.join("inner")).unwrap();
    assert_eq!(canonical(m.workdir()), canonical(&outer.join("inner")));
}

#[test]
fn a_path_reached_through_a_symlink_finds_the_same_repository() {
    let repo = repo_with_commit();
    repo.write("real/dir/file.txt", "x\n");
    let outside = tempfile::tempdir().unwrap();
    let link = outside.path().join("link");
    std::os::unix::fs::symlink(repo.join("real/dir"), &link).unwrap();
    let m = CheckpointManager::open(&link).unwrap();
    assert_eq!(canonical(m.workdir()), canonical(repo.path()));
    repo.write("real/dir/file.txt", "changed\n");
    let cp = m.create(sid(1), &request("through a link")).unwrap();
    assert_eq!(
        blob(&repo, &cp.commit_sha, "real/dir/file.txt"),
        b"changed\n"
    );
    assert!(repo.log_path(&sid(1).to_string()).exists());
}
