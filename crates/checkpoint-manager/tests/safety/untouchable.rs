//! What a restore must never touch: nested repositories, untracked files over the size cap,
//! ignored files, anything behind a symlink. What a snapshot does not capture is reported as
//! skipped; what a restore overwrites is in the safety snapshot.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use checkpoint_manager::{CheckpointMode, Options, SkipReason};
use testutil::{FileState, TestRepo};

use crate::common::*;

/// Every file under `dir` (its `.git` included) with its bytes: a nested repository's whole
/// state, history and uncommitted work. A plain file at `dir` is one entry named `<file>`.
pub(crate) fn deep_state(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((rel, fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = Vec::new();
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => walk(dir, dir, &mut out),
        Ok(_) => out.push(("<file>".to_owned(), fs::read(dir).unwrap_or_default())),
        Err(_) => {}
    }
    out.sort();
    out
}

/// Asserts two [`deep_state`]s are equal, naming only the paths that differ.
#[track_caller]
pub(crate) fn assert_deep(want: &[(String, Vec<u8>)], got: &[(String, Vec<u8>)], what: &str) {
    let mut diff = Vec::new();
    for (p, b) in want {
        match got.iter().find(|(q, _)| q == p) {
            None => diff.push(format!("missing {p}")),
            Some((_, c)) if c != b => diff.push(format!("changed {p}")),
            _ => {}
        }
    }
    for (p, _) in got {
        if !want.iter().any(|(q, _)| q == p) {
            diff.push(format!("extra {p}"));
        }
    }
    let shown: Vec<&str> = diff.iter().take(6).map(String::as_str).collect();
    assert!(
        diff.is_empty(),
        "{what}: {} path(s) differ: {}",
        diff.len(),
        shown.join(", ")
    );
}

/// Makes `dir` a repository with one commit and uncommitted work (a staged file, an unstaged
/// change, an untracked file).
pub(crate) fn nested_repo(repo: &TestRepo, dir: &str) {
    repo.write(format!("{dir}/committed.txt"), "nested history\n");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(repo.join(dir))
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git");
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    run(&["init", "-q", "-b", "main"]);
    run(&["add", "committed.txt"]);
    run(&[
        "-c",
        "user.name=N",
        "-c",
        "user.email=n@example.com",
        "commit",
        "-q",
        "-m",
        "nested",
    ]);
    repo.write(format!("{dir}/committed.txt"), "nested history, edited\n");
    repo.write(format!("{dir}/staged.txt"), "nested staged\n");
    run(&["add", "staged.txt"]);
    repo.write(format!("{dir}/wip.txt"), "nested uncommitted work\n");
}

#[test]
fn a_nested_repository_is_reported_skipped_and_never_touched_by_rollback_or_undo() {
    let fx = Fixture::new();
    let target = fx.snapshot("before the nested repository existed");
    nested_repo(&fx.repo, "vendor/lib");
    let nested = deep_state(&fx.repo.join("vendor/lib"));

    let cp = fx.snapshot("with a nested repository");
    let skipped = cp.snapshot.expect("info").skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].path.trim_end_matches('/'), "vendor/lib");
    assert_eq!(skipped[0].reason, SkipReason::NestedRepository);
    assert_deep(
        &nested,
        &deep_state(&fx.repo.join("vendor/lib")),
        "snapshot",
    );

    fx.rollback_hard(&target);
    assert_deep(
        &nested,
        &deep_state(&fx.repo.join("vendor/lib")),
        "rollback --hard entered the nested repository",
    );
    fx.undo();
    assert_deep(&nested, &deep_state(&fx.repo.join("vendor/lib")), "undo");
    fx.mgr
        .rollback(
            fx.session,
            target.checkpoint_id,
            checkpoint_manager::ResetMode::Mixed,
        )
        .expect("mixed");
    assert_deep(&nested, &deep_state(&fx.repo.join("vendor/lib")), "mixed");
    // The nested repository is not renamed either, and is still a working repository.
    assert!(fx.repo.join("vendor/lib/.git/HEAD").exists());
}

/// Rolls back with `--hard`; a refusal must be an `Invalid` error that changed nothing.
fn rollback_refused_or_harmless(fx: &Fixture, target: &checkpoint_manager::Checkpoint) {
    let before = fx.observe();
    if let Err(e) = fx.mgr.rollback(
        fx.session,
        target.checkpoint_id,
        checkpoint_manager::ResetMode::Hard,
    ) {
        assert_eq!(e.kind(), checkpoint_manager::ErrorKind::Invalid, "{e}");
        assert_same_for_user(&before, &fx.observe(), "a refused rollback");
    }
}

#[test]
fn a_nested_repository_where_the_target_has_a_file_is_not_deleted() {
    let fx = Fixture::new();
    fx.repo.write("plugin", "a plain file in the checkpoint\n");
    let target = fx.snapshot("plugin is a file");
    fs::remove_file(fx.repo.join("plugin")).expect("rm");
    nested_repo(&fx.repo, "plugin");
    let nested = deep_state(&fx.repo.join("plugin"));

    // Refusing is fine; deleting the nested repository is not (it once was: the folder was
    // captured as a gitlink, with no content, then removed by the checkout).
    rollback_refused_or_harmless(&fx, &target);
    assert_deep(
        &nested,
        &deep_state(&fx.repo.join("plugin")),
        "the nested repository (history and uncommitted work) is gone",
    );
}

#[test]
fn a_nested_repository_where_a_commit_checkpoint_has_a_file_is_not_deleted() {
    let fx = Fixture::new();
    fx.repo.write("plugin", "a plain file in the checkpoint\n");
    let target = fx.create(CheckpointMode::Commit, "plugin is a file");
    fx.repo.git(&["rm", "-q", "plugin"]);
    fx.repo
        .git(&["commit", "-q", "-m", "plugin becomes a repository"]);
    nested_repo(&fx.repo, "plugin");
    let nested = deep_state(&fx.repo.join("plugin"));

    rollback_refused_or_harmless(&fx, &target);
    assert_deep(
        &nested,
        &deep_state(&fx.repo.join("plugin")),
        "the nested repository (history and uncommitted work) is gone",
    );
}

#[test]
fn a_nested_repository_where_the_target_tracks_files_inside_it_is_not_entered() {
    let fx = Fixture::new();
    fx.repo.write("sub/wip.txt", "the checkpoint's version\n");
    let target = fx.snapshot("sub is a plain folder");
    fx.repo
        .git(&["rm", "-q", "--cached", "-r", "--ignore-unmatch", "sub"]);
    fs::remove_dir_all(fx.repo.join("sub")).expect("rm -r");
    nested_repo(&fx.repo, "sub"); // sub/wip.txt now holds uncommitted work of the nested repo
    let nested = deep_state(&fx.repo.join("sub"));

    rollback_refused_or_harmless(&fx, &target);
    assert_deep(
        &nested,
        &deep_state(&fx.repo.join("sub")),
        "files inside the nested repository were overwritten",
    );
}

#[test]
fn an_untracked_file_over_the_cap_is_reported_and_never_touched() {
    let repo = TestRepo::new();
    repo.write("small.txt", "small\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, Options::default().with_max_file_size(Some(1024)));
    let target = fx.snapshot("before the big file");
    let big: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    fx.repo.write("data/big.bin", &big);
    fx.repo.write("data/small.bin", "fits\n");
    fx.repo.write("exactly-cap.bin", vec![7u8; 1024]);

    let cp = fx.snapshot("with a big file");
    let info = cp.snapshot.clone().expect("info");
    assert_eq!(info.skipped.len(), 1, "{:?}", info.skipped);
    assert_eq!(info.skipped[0].path, "data/big.bin");
    assert_eq!(info.skipped[0].reason, SkipReason::TooLarge);
    assert_eq!(info.skipped[0].size, Some(4096));
    let mut reader = TreeReader::default();
    let held = reader.state(&fx.repo, &cp.commit_sha);
    assert!(file(&held, "data/big.bin").is_none());
    assert!(file(&held, "data/small.bin").is_some());
    assert!(
        file(&held, "exactly-cap.bin").is_some(),
        "the cap is inclusive"
    );

    let inode = fs::metadata(fx.repo.join("data/big.bin")).expect("m").ino();
    let outcome = fx.rollback_hard(&target);
    assert_eq!(fx.repo.read("data/big.bin"), big, "rollback");
    assert!(!outcome.removed_paths.contains(&"data/big.bin".to_owned()));
    assert!(!fx.repo.exists("data/small.bin"), "captured, so removed");
    // The safety snapshot reports it as skipped too.
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .expect("safety");
    assert_eq!(safety.snapshot.expect("info").skipped, info.skipped);
    fx.undo();
    assert_eq!(fx.repo.read("data/big.bin"), big, "undo");
    assert_eq!(
        fs::metadata(fx.repo.join("data/big.bin")).expect("m").ino(),
        inode
    );
    assert_eq!(fx.repo.read("data/small.bin"), b"fits\n");
}

#[test]
fn a_big_untracked_file_where_the_target_has_a_file_is_saved_before_it_is_overwritten() {
    let repo = TestRepo::new();
    repo.write("small.txt", "small\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, Options::default().with_max_file_size(Some(100)));
    fx.repo
        .write("model.bin", "the checkpoint's small version\n");
    let target = fx.snapshot("small model");
    let big = vec![42u8; 1000];
    fx.repo.write("model.bin", &big);
    let outcome = fx.rollback_hard(&target);
    assert_eq!(
        fx.repo.read("model.bin"),
        b"the checkpoint's small version\n"
    );
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .expect("safety");
    let mut reader = TreeReader::default();
    assert_eq!(
        file(&reader.state(&fx.repo, &safety.commit_sha), "model.bin"),
        Some(&FileState::File {
            bytes: big.clone(),
            executable: false
        }),
        "the overwritten big file must be in the safety snapshot, cap or not"
    );
    fx.undo();
    assert_eq!(fx.repo.read("model.bin"), big);
}

#[test]
fn a_101_mib_untracked_file_is_skipped_under_the_default_cap_and_left_alone() {
    let fx = Fixture::new();
    let target = fx.snapshot("before");
    let size = 101 * 1024 * 1024;
    let path = fx.repo.join("dataset.bin");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::File::create(&path).expect("create");
        f.write_all(b"head of a big file").expect("write");
        f.set_len(size).expect("sparse");
        f.seek(SeekFrom::End(-4)).expect("seek");
        f.write_all(b"tail").expect("write");
    }
    let stamp = |p: &Path| {
        let m = fs::metadata(p).expect("meta");
        (m.len(), m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before = stamp(&path);
    let started = Instant::now();

    let cp = fx.snapshot("with a 101 MiB file");
    let skipped = cp.snapshot.expect("info").skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].path, "dataset.bin");
    assert_eq!(skipped[0].reason, SkipReason::TooLarge);
    assert_eq!(skipped[0].size, Some(size));
    fx.rollback_hard(&target);
    assert_eq!(stamp(&path), before, "rollback touched the big file");
    fx.undo();
    assert_eq!(stamp(&path), before, "undo touched the big file");
    assert!(
        started.elapsed().as_secs() < 20,
        "a skipped file must not be read: {:?}",
        started.elapsed()
    );
    let bytes = fs::read(&path).expect("read");
    assert!(bytes.starts_with(b"head of a big file") && bytes.ends_with(b"tail"));
}

#[test]
fn ignored_files_are_never_touched_by_any_restore() {
    let fx = Fixture::new();
    fx.repo.write("build.log", "log at snapshot time\n");
    fx.repo
        .write("ignored/deep/cache.bin", "cache at snapshot time\n");
    let snap = fx.snapshot("snapshot");
    fx.repo.write("x.txt", "x\n");
    let commit = fx.create(CheckpointMode::Commit, "commit");
    fx.repo.write("build.log", "log now\n");
    fx.repo.write("ignored/deep/cache.bin", "cache now\n");
    fx.repo.write("ignored/new.bin", "new ignored file\n");
    let ignored_now = |fx: &Fixture| {
        let files = fx.repo.tree_state();
        let kept = without(&files, IGNORED);
        files
            .into_iter()
            .filter(|e| !kept.contains(e))
            .collect::<Vec<_>>()
    };
    let want = ignored_now(&fx);
    assert_eq!(want.len(), 3);
    fx.rollback_hard(&snap);
    assert_state(&want, &ignored_now(&fx), "rollback --hard to a snapshot");
    fx.rollback_hard(&commit);
    assert_state(&want, &ignored_now(&fx), "rollback --hard to a commit");
    fx.undo();
    assert_state(&want, &ignored_now(&fx), "undo");
    fx.undo();
    assert_state(&want, &ignored_now(&fx), "undo of undo");
}

#[test]
fn an_ignored_file_at_a_path_the_target_tracks_is_recoverable_from_the_safety_snapshot() {
    let fx = Fixture::new();
    fx.repo.write("settings.local", "checkpoint's settings\n");
    let snap = fx.snapshot("settings tracked");
    fx.repo.write("settings.local", "x\n");
    let commit = fx.create(CheckpointMode::Commit, "settings committed");
    // Later the file is untracked and ignored, holding the user's private settings.
    fx.repo
        .write(".gitignore", "*.log\nignored/\nsettings.local\n");
    fx.repo.git(&["rm", "-q", "--cached", "settings.local"]);
    fx.repo.git(&["commit", "-q", "-am", "ignore settings"]);
    fx.repo
        .write("settings.local", "PRIVATE: the user's own settings\n");
    assert!(fx.repo.status_with_ignored().contains("!! settings.local"));

    for (target, want) in [(&snap, "checkpoint's settings\n"), (&commit, "x\n")] {
        let outcome = fx.rollback_hard(target);
        assert_eq!(fx.repo.read("settings.local"), want.as_bytes());
        let safety = fx
            .mgr
            .get(fx.session, outcome.safety_checkpoint_id)
            .expect("safety");
        let mut reader = TreeReader::default();
        assert_eq!(
            file(
                &reader.state(&fx.repo, &safety.commit_sha),
                "settings.local"
            ),
            Some(&FileState::File {
                bytes: b"PRIVATE: the user's own settings\n".to_vec(),
                executable: false
            }),
            "the overwritten ignored file is in the safety snapshot ({})",
            target.description
        );
        fx.undo();
        assert_eq!(
            fx.repo.read("settings.local"),
            b"PRIVATE: the user's own settings\n",
            "undo brings the ignored file back ({})",
            target.description
        );
    }
}

#[test]
fn an_ignored_folder_where_the_target_has_a_file_is_saved_first() {
    let fx = Fixture::new();
    fx.repo
        .write("ignored", "a file named like the ignored folder\n");
    fx.repo.git(&["add", "-f", "ignored"]);
    let target = fx.snapshot("ignored is a tracked file");
    fx.repo.git(&["rm", "-q", "--cached", "ignored"]);
    fs::remove_file(fx.repo.join("ignored")).expect("rm");
    fx.repo.write("ignored/artifact.bin", "build output\n");
    fx.rollback_hard(&target);
    assert_eq!(
        fx.repo.read("ignored"),
        b"a file named like the ignored folder\n"
    );
    fx.undo();
    assert_eq!(fx.repo.read("ignored/artifact.bin"), b"build output\n");
}

/// A folder outside the repository with two files, and a fixture whose snapshot `target` has
/// `dir/file.txt` in a real folder, where `dir` and `out` are now symlinks to the outside folder.
fn symlinked_folders() -> (tempfile::TempDir, Fixture, checkpoint_manager::Checkpoint) {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("file.txt"), "outside the repository\n").expect("write");
    fs::write(outside.path().join("other.txt"), "also outside\n").expect("write");
    let fx = Fixture::new();
    fx.repo.write("dir/file.txt", "inside, as captured\n");
    let target = fx.snapshot("dir is a folder");
    fs::remove_dir_all(fx.repo.join("dir")).expect("rm");
    symlink(outside.path(), fx.repo.join("dir"));
    symlink(outside.path(), fx.repo.join("out"));
    (outside, fx, target)
}

fn assert_outside_untouched(outside: &Path) {
    assert_deep(
        &[
            ("file.txt".to_owned(), b"outside the repository\n".to_vec()),
            ("other.txt".to_owned(), b"also outside\n".to_vec()),
        ],
        &deep_state(outside),
        "a file outside the repository was written or removed",
    );
}

#[test]
fn a_restore_never_writes_or_deletes_outside_the_repository_through_a_symlink() {
    let (outside, fx, target) = symlinked_folders();
    // Whether or not the rollback succeeds (see the ignored test below), nothing outside the
    // repository is written or removed, and what fails changes nothing.
    let before = fx.observe();
    match fx.mgr.rollback(
        fx.session,
        target.checkpoint_id,
        checkpoint_manager::ResetMode::Hard,
    ) {
        Ok(_) => {
            assert_outside_untouched(outside.path());
            fx.undo();
        }
        Err(_) => assert_same_for_user(&before, &fx.observe(), "a refused rollback"),
    }
    assert_outside_untouched(outside.path());
    // A snapshot of the symlinks, a restore that removes them, and an undo.
    let links = fx.snapshot("dir and out are symlinks");
    fs::remove_file(fx.repo.join("out")).expect("rm");
    fx.rollback_hard(&links);
    fx.mgr.undo(fx.session).expect("undo");
    assert_outside_untouched(outside.path());
}

#[test]
fn rollback_to_a_folder_that_is_now_a_symlink_replaces_the_symlink() {
    let (outside, fx, target) = symlinked_folders();
    fx.rollback_hard(&target);
    assert_eq!(fx.repo.read("dir/file.txt"), b"inside, as captured\n");
    assert!(!fs::symlink_metadata(fx.repo.join("dir"))
        .expect("dir")
        .file_type()
        .is_symlink());
    assert_outside_untouched(outside.path());
    fx.undo();
    assert!(fs::symlink_metadata(fx.repo.join("dir"))
        .expect("dir")
        .file_type()
        .is_symlink());
    assert_outside_untouched(outside.path());
}

#[test]
fn crlf_bytes_survive_rollback_and_undo_under_text_auto() {
    let repo = TestRepo::new();
    repo.write(".gitattributes", "* text=auto\n");
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, Options::default());
    let before = fx.snapshot("before the file existed");
    let crlf = b"line one\r\nline two\r\n".to_vec();
    fx.repo.write("windows.txt", &crlf);
    let cp = fx.snapshot("crlf file");

    // The user's CRLF file is saved in the safety snapshot, removed, and brought back by undo.
    fx.rollback_hard(&before);
    assert!(!fx.repo.exists("windows.txt"));
    fx.undo();
    assert_eq!(fx.repo.read("windows.txt"), crlf, "undo: CR bytes lost");

    fs::remove_file(fx.repo.join("windows.txt")).expect("rm");
    fx.rollback_hard(&cp);
    assert_eq!(fx.repo.read("windows.txt"), crlf, "rollback: CR bytes lost");
}
