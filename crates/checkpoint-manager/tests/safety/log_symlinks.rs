//! Issue 8, item 6: a symlink anywhere on the way to the log (`.flow`, `.flow/maestro`,
//! `.flow/maestro/sessions`, the session folder) is refused before anything changes, whether it
//! points outside the repository or inside it: no log is written through it, nothing is
//! committed or snapshotted, and the folder it points at is left as it was.

use std::fs;
use std::path::{Path, PathBuf};

use checkpoint_manager::{CheckpointMode, Error, ErrorKind, ResetMode};

use crate::common::*;

/// The folders on the way to the session's log, top first.
fn folders_on_the_way(fx: &Fixture) -> [String; 4] {
    [
        ".flow".to_owned(),
        ".flow/maestro".to_owned(),
        ".flow/maestro/sessions".to_owned(),
        format!(".flow/maestro/sessions/{}", fx.session),
    ]
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if entry.file_type().expect("type").is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn checkpoint_refs(fx: &Fixture) -> String {
    fx.repo
        .git(&["for-each-ref", "--format=%(refname) %(objectname)"])
}

#[track_caller]
fn assert_refused(err: Error, link: &str) {
    assert!(
        matches!(err, Error::LogPathNotPlain { .. }),
        "{link}: {err}"
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let text = err.to_string();
    assert!(text.contains(link) && text.contains("symlink"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
}

/// A new session whose log would go through a symlink is refused in every mode.
#[test]
fn create_through_a_symlinked_folder_is_refused_and_writes_nothing() {
    for inside in [false, true] {
        for index in 0..4 {
            let fx = Fixture::new();
            let link = folders_on_the_way(&fx)[index].clone();
            let outside = tempfile::tempdir().expect("tempdir");
            let target = if inside {
                fs::create_dir(fx.repo.join("elsewhere")).expect("mkdir");
                fx.repo.join("elsewhere")
            } else {
                outside.path().to_path_buf()
            };
            symlink(&target, fx.repo.join(&link));
            fx.repo.write("tracked.txt", "work in progress\n");
            let before = fx.observe();
            let refs = checkpoint_refs(&fx);
            for mode in [
                CheckpointMode::Commit,
                CheckpointMode::Snapshot,
                CheckpointMode::Tag,
            ] {
                let err = fx
                    .mgr
                    .create(fx.session, &request(mode, "through a symlink"))
                    .expect_err("refused");
                assert_refused(err, &link);
            }
            assert_same_for_user(&before, &fx.observe(), &link);
            assert_eq!(checkpoint_refs(&fx), refs, "{link}: no ref was made");
            assert!(files_under(&target).is_empty(), "{link}: wrote through it");
            // Listing reads through nothing either.
            assert_refused(fx.mgr.list(fx.session).expect_err("refused"), &link);
            // The symlink itself was never committed.
            assert_eq!(
                fx.repo
                    .git(&["ls-tree", "-r", "--name-only", "HEAD", ".flow"]),
                ""
            );
        }
    }
}

/// An existing log moved behind a symlink: rollback and undo refuse before the safety
/// snapshot, so no snapshot ever holds `checkpoints.json`, and the log is not rewritten.
#[test]
fn rollback_and_undo_through_a_symlinked_folder_are_refused() {
    for inside in [false, true] {
        for index in 0..4 {
            let fx = Fixture::new();
            let cp = fx.snapshot("target");
            fx.repo.write("tracked.txt", "after the snapshot\n");
            fx.rollback_hard(&cp);
            let link = folders_on_the_way(&fx)[index].clone();
            let outside = tempfile::tempdir().expect("tempdir");
            let moved = if inside {
                fx.repo.join("moved-here")
            } else {
                outside.path().join("moved-here")
            };
            fs::rename(fx.repo.join(&link), &moved).expect("move the folder away");
            symlink(&moved, fx.repo.join(&link));
            let before = fx.observe();
            let refs = checkpoint_refs(&fx);
            let logged = files_under(&moved);
            let err = fx
                .mgr
                .rollback(fx.session, cp.checkpoint_id, ResetMode::Hard)
                .expect_err("refused");
            assert_refused(err, &link);
            assert_refused(fx.mgr.undo(fx.session).expect_err("refused"), &link);
            assert_refused(
                fx.mgr
                    .get(fx.session, cp.checkpoint_id)
                    .expect_err("refused"),
                &link,
            );
            assert_same_for_user(&before, &fx.observe(), &link);
            assert_eq!(checkpoint_refs(&fx), refs, "{link}: no safety snapshot");
            assert_eq!(files_under(&moved), logged, "{link}: the log was rewritten");
        }
    }
}

/// The log file itself as a symlink is refused too.
#[test]
fn a_symlinked_log_file_is_refused() {
    let fx = Fixture::new();
    fx.snapshot("first");
    let log = fx.repo.log_path(&fx.session.to_string());
    let outside = tempfile::tempdir().expect("tempdir");
    let moved = outside.path().join("checkpoints.json");
    fs::rename(&log, &moved).expect("move");
    symlink(&moved, &log);
    let bytes = fs::read(&moved).expect("read");
    let err = fx
        .mgr
        .create(fx.session, &request(CheckpointMode::Snapshot, "second"))
        .expect_err("refused");
    assert!(matches!(err, Error::LogPathNotPlain { .. }), "{err}");
    assert_eq!(fs::read(&moved).expect("read"), bytes);
}

/// A plain `.flow` folder (the normal case) still works after a refused attempt is fixed.
#[test]
fn replacing_the_symlink_with_a_plain_folder_makes_it_work() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().expect("tempdir");
    symlink(outside.path(), fx.repo.join(".flow"));
    assert!(fx
        .mgr
        .create(fx.session, &request(CheckpointMode::Snapshot, "refused"))
        .is_err());
    fs::remove_file(fx.repo.join(".flow")).expect("rm");
    fs::create_dir(fx.repo.join(".flow")).expect("mkdir");
    let cp = fx.snapshot("now it works");
    assert_eq!(
        fx.mgr.list(fx.session).expect("list")[0].checkpoint_id,
        cp.checkpoint_id
    );
}
