//! Issue 8, item 10: `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, `GIT_COMMON_DIR` and
//! `GIT_OBJECT_DIRECTORY` are honoured exactly as git honours them, discovery included: refs, the
//! exclude line, the log and a hard rollback all act on the repository git itself would use, and
//! a second repository is untouched. Each test sets the variables on the binary under test only.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

/// Runs the binary in `dir` with `env` added; it must succeed. Returns its JSON output read
/// into a model type (`Checkpoint`, `RollbackOutcome`).
fn ok_with_env<T: serde::de::DeserializeOwned>(
    dir: &Path,
    env: &[(&str, OsString)],
    args: &[&str],
) -> T {
    let out = cm(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `create` in `dir` with `env` added (`extra`: more flags, such as `--snapshot`).
fn create_with_env(
    dir: &Path,
    env: &[(&str, OsString)],
    session: &str,
    description: &str,
    phase: &str,
    extra: &[&str],
) -> Checkpoint {
    let mut args = vec![
        "create",
        "--session-id",
        session,
        "--description",
        description,
        "--phase",
        phase,
    ];
    args.extend_from_slice(extra);
    ok_with_env(dir, env, &args)
}

/// Runs plain git in `dir` with `env` added, as a user would; it must succeed.
fn git_with_env(dir: &Path, env: &[(&str, OsString)], args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .envs(testutil::hermetic_env())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

fn os(path: impl AsRef<Path>) -> OsString {
    path.as_ref().as_os_str().to_owned()
}

/// Everything of a repository the tool could change: refs, HEAD, the index file, the exclude
/// file, its work tree (the tool's folder included) and its objects.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    refs: String,
    head: String,
    index: Vec<u8>,
    exclude: Option<String>,
    has_flow: bool,
    files: Vec<(String, testutil::FileState)>,
    objects: Vec<PathBuf>,
}

fn fingerprint(repo: &TestRepo) -> Fingerprint {
    Fingerprint {
        refs: repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        head: fs::read_to_string(repo.join(".git/HEAD")).unwrap(),
        index: repo.index_bytes(),
        exclude: fs::read_to_string(repo.join(".git/info/exclude")).ok(),
        has_flow: repo.join(".flow").exists(),
        files: repo.tree_state(),
        objects: files_under(&repo.join(".git/objects")),
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

fn excluded(common_dir: &Path) -> bool {
    fs::read_to_string(common_dir.join("info/exclude"))
        .unwrap_or_default()
        .lines()
        .any(|l| l == "/.flow/maestro/sessions/")
}

fn log_exists(workdir: &Path, session: &str) -> bool {
    workdir
        .join(format!(".flow/maestro/sessions/{session}/checkpoints.json"))
        .is_file()
}

/// Two repositories side by side: `a` (where the tool is started) and `b` (the variables' one).
fn two_repos() -> (TestRepo, TestRepo) {
    let a = repo_with_commit();
    a.write("a-work.txt", "work in a\n");
    let b = TestRepo::new();
    b.write("b.txt", "b v1\n");
    b.commit_all("b initial");
    (a, b)
}

/// Creates a commit checkpoint, rolls back to it with --hard-reset after more work, undoes,
/// all in `b` (through `env`, started in `start`), and checks that `a` never changed.
fn create_rollback_undo_act_on_b(
    a: &TestRepo,
    b: &TestRepo,
    start: &Path,
    env: &[(&str, OsString)],
) {
    let session = sid(1);
    let before_a = fingerprint(a);
    b.write("b.txt", "b v2\n");
    let cp = create_with_env(start, env, &session, "in b", "implement", &[]);
    let commit = cp.commit_sha.as_str().to_owned();
    assert_eq!(b.head(), commit, "the commit is on b's branch");
    assert_eq!(
        git_with_env(start, env, &["rev-parse", "HEAD"]),
        commit,
        "git agrees"
    );
    assert_eq!(b.git(&["show", "HEAD:b.txt"]), "b v2");
    assert!(b.git(&["tag"]).starts_with("checkpoint-"));
    assert!(!b.git(&["for-each-ref", "refs/checkpoints/"]).is_empty());
    assert!(excluded(&b.join(".git")), "the exclude line is b's");
    assert!(
        log_exists(b.path(), &session),
        "the log is in b's work tree"
    );
    assert_eq!(b.status(), "", "b's index followed the commit");

    b.write("b.txt", "b v3, after the checkpoint\n");
    let rolled: RollbackOutcome = ok_with_env(
        start,
        env,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &cp.checkpoint_id.to_string(),
            "--hard-reset",
        ],
    );
    assert!(rolled.success);
    assert_eq!(b.read("b.txt"), b"b v2\n");
    ok_with_env::<RollbackOutcome>(start, env, &["undo", "--session-id", &session]);
    assert_eq!(b.read("b.txt"), b"b v3, after the checkpoint\n");
    assert_eq!(fingerprint(a), before_a, "a was never touched");
}

#[test]
fn git_dir_and_git_work_tree_send_everything_to_that_repository() {
    let (a, b) = two_repos();
    let env = [
        ("GIT_DIR", os(b.join(".git"))),
        ("GIT_WORK_TREE", os(b.path())),
    ];
    create_rollback_undo_act_on_b(&a, &b, a.path(), &env);
}

#[test]
fn relative_git_dir_and_git_work_tree_from_a_subfolder_are_resolved_as_git_does() {
    let (a, b) = two_repos();
    fs::create_dir(a.join("sub")).unwrap();
    a.write("sub/keep.txt", "k\n");
    let up = |p: &Path| Path::new("../..").join(p.file_name().unwrap());
    assert_eq!(
        a.path().parent(),
        b.path().parent(),
        "siblings in the temp dir"
    );
    let env = [
        ("GIT_DIR", os(up(b.path()).join(".git"))),
        ("GIT_WORK_TREE", os(up(b.path()))),
    ];
    create_rollback_undo_act_on_b(&a, &b, &a.join("sub"), &env);
}

#[test]
fn git_dir_alone_makes_the_current_folder_that_repositorys_work_tree() {
    let (a, b) = two_repos();
    let before_a_git = (
        a.git(&["for-each-ref"]),
        a.index_bytes(),
        fs::read_to_string(a.join(".git/info/exclude")).ok(),
    );
    let before_b_files = b.tree_state();
    let env = [("GIT_DIR", os(b.join(".git")))];
    // What git itself says: the work tree is the current folder, the repository b's.
    assert_eq!(
        git_with_env(a.path(), &env, &["rev-parse", "--show-toplevel"]),
        a.path().canonicalize().unwrap().display().to_string()
    );
    let session = sid(2);
    let cp = create_with_env(a.path(), &env, &session, "snap", "plan", &["--snapshot"]);
    let commit = cp.commit_sha.as_str();
    // The snapshot holds a's files, in b's object store, under b's refs.
    assert_eq!(
        b.git(&["show", &format!("{commit}:a-work.txt")]),
        "work in a"
    );
    assert!(b
        .git(&["for-each-ref", "refs/checkpoints/"])
        .contains(&session));
    assert!(excluded(&b.join(".git")));
    assert!(
        log_exists(a.path(), &session),
        "the log is in the work tree git uses"
    );
    assert!(!log_exists(b.path(), &session));
    assert_eq!(
        (
            a.git(&["for-each-ref"]),
            a.index_bytes(),
            fs::read_to_string(a.join(".git/info/exclude")).ok()
        ),
        before_a_git,
        "a's own repository is untouched"
    );
    assert_eq!(
        b.tree_state(),
        before_b_files,
        "b's work tree is not the one in use"
    );
}

#[test]
fn git_index_file_is_the_users_index_for_snapshots_commits_and_rollbacks() {
    let repo = repo_with_commit();
    let other = repo_with_commit();
    let before_other = fingerprint(&other);
    let alt = repo.join(".git/alt-index");
    fs::copy(repo.join(".git/index"), &alt).unwrap();
    let env = [("GIT_INDEX_FILE", os(&alt))];
    repo.write("staged.txt", "staged in the other index only\n");
    git_with_env(repo.path(), &env, &["add", "staged.txt"]);
    let default_index = repo.index_bytes();
    let session = sid(3);
    let snap = create_with_env(repo.path(), &env, &session, "snap", "plan", &["--snapshot"]);
    let snap_commit = snap.commit_sha.as_str().to_owned();
    assert_eq!(
        repo.git(&["rev-parse", &format!("{snap_commit}^2^{{tree}}")]),
        git_with_env(repo.path(), &env, &["write-tree"]),
        "the snapshot's index is GIT_INDEX_FILE's"
    );
    assert_eq!(repo.index_bytes(), default_index, ".git/index untouched");

    repo.write("README.md", "changed\n");
    let cp = create_with_env(repo.path(), &env, &session, "commit", "plan", &[]);
    let commit = cp.commit_sha.as_str().to_owned();
    assert_eq!(repo.head(), commit);
    assert_eq!(
        git_with_env(repo.path(), &env, &["write-tree"]),
        repo.git(&["rev-parse", "HEAD^{tree}"]),
        "GIT_INDEX_FILE followed the commit"
    );
    assert_eq!(repo.index_bytes(), default_index, ".git/index untouched");

    ok_with_env::<RollbackOutcome>(
        repo.path(),
        &env,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &snap.checkpoint_id.to_string(),
            "--hard-reset",
        ],
    );
    assert_eq!(
        git_with_env(repo.path(), &env, &["write-tree"]),
        repo.git(&["rev-parse", &format!("{snap_commit}^2^{{tree}}")]),
        "the rollback restored GIT_INDEX_FILE"
    );
    assert_eq!(repo.read("README.md"), b"hello\n");
    assert_eq!(repo.index_bytes(), default_index, ".git/index untouched");
    assert_eq!(fingerprint(&other), before_other);
}

#[test]
fn git_object_directory_receives_every_new_object() {
    let repo = repo_with_commit();
    let store = tempfile::tempdir().unwrap();
    let objects = store.path().join("objects");
    fs::create_dir(&objects).unwrap();
    let env = [
        ("GIT_OBJECT_DIRECTORY", os(&objects)),
        (
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            os(repo.join(".git/objects")),
        ),
    ];
    let own_objects = files_under(&repo.join(".git/objects"));
    repo.write("new.txt", "new\n");
    let session = sid(4);
    let snap = create_with_env(repo.path(), &env, &session, "snap", "plan", &["--snapshot"]);
    repo.write("new.txt", "newer\n");
    let cp = create_with_env(repo.path(), &env, &session, "commit", "plan", &[]);
    let loose = |id: &str| PathBuf::from(&id[..2]).join(&id[2..]);
    for id in [snap.commit_sha.as_str(), cp.commit_sha.as_str()] {
        assert!(
            objects.join(loose(id)).is_file(),
            "{id} is in GIT_OBJECT_DIRECTORY"
        );
    }
    let tag_object = repo.git(&[
        "for-each-ref",
        "--format=%(objectname)",
        "refs/checkpoints/",
    ]);
    for id in tag_object.lines() {
        assert!(objects.join(loose(id)).is_file(), "metadata tag {id}");
    }
    assert_eq!(
        files_under(&repo.join(".git/objects")),
        own_objects,
        "nothing new in .git/objects"
    );
    // And the objects are found again by every git child.
    ok_with_env::<RollbackOutcome>(
        repo.path(),
        &env,
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &snap.checkpoint_id.to_string(),
            "--hard-reset",
        ],
    );
    assert_eq!(repo.read("new.txt"), b"new\n");
}

#[test]
fn git_common_dir_with_a_linked_work_tree_uses_the_main_repositorys_refs_and_exclude() {
    let main = repo_with_commit();
    let place = tempfile::tempdir().unwrap();
    let wt = place.path().join("wt");
    main.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    let other = repo_with_commit();
    let before_other = fingerprint(&other);
    let admin = main.join(".git/worktrees/wt");
    let env = [
        ("GIT_DIR", os(&admin)),
        ("GIT_COMMON_DIR", os(main.join(".git"))),
        ("GIT_WORK_TREE", os(&wt)),
    ];
    fs::write(wt.join("side.txt"), "on the side\n").unwrap();
    let session = sid(5);
    let cp = create_with_env(other.path(), &env, &session, "side", "plan", &[]);
    let commit = cp.commit_sha.as_str();
    assert_eq!(main.git(&["rev-parse", "refs/heads/side"]), commit);
    assert_eq!(
        main.git(&["rev-parse", "refs/heads/main"]),
        main.head(),
        "main unmoved"
    );
    assert!(main
        .git(&["for-each-ref", "refs/checkpoints/"])
        .contains(&session));
    assert!(excluded(&main.join(".git")), "exclude in the common dir");
    assert!(log_exists(&wt, &session));
    assert!(!log_exists(main.path(), &session));
    assert_eq!(
        fingerprint(&other),
        before_other,
        "the folder we started in is untouched"
    );
}

#[test]
fn git_work_tree_alone_makes_that_folder_the_work_tree_of_the_repository_found_here() {
    let repo = repo_with_commit();
    let elsewhere = tempfile::tempdir().unwrap();
    let work = elsewhere.path().join("work");
    fs::create_dir(&work).unwrap();
    fs::write(work.join("README.md"), "hello from the other work tree\n").unwrap();
    let env = [("GIT_WORK_TREE", os(&work))];
    assert_eq!(
        git_with_env(repo.path(), &env, &["rev-parse", "--show-toplevel"]),
        work.canonicalize().unwrap().display().to_string()
    );
    let own_files = repo.tree_state();
    let session = sid(6);
    let snap = create_with_env(repo.path(), &env, &session, "snap", "plan", &["--snapshot"]);
    let commit = snap.commit_sha.as_str();
    assert_eq!(
        repo.git(&["show", &format!("{commit}:README.md")]),
        "hello from the other work tree"
    );
    assert!(log_exists(&work, &session), "the log is in GIT_WORK_TREE");
    assert!(!log_exists(repo.path(), &session));
    assert!(excluded(&repo.join(".git")));
    assert_eq!(
        repo.tree_state(),
        own_files,
        "the folder we started in is not the work tree"
    );
}
