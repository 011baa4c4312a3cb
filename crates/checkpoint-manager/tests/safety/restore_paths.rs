//! Issue 10: `restore_paths` brings back chosen files and folders from a checkpoint of any mode,
//! after a safety snapshot `undo` returns to; nothing else (other files, HEAD, the index unless
//! staged) changes, and a refused path changes nothing at all.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use checkpoint_manager::{
    Checkpoint, CheckpointMode, ErrorKind, OperationKind, PathRestoreOutcome, ResetMode,
};

use crate::common::*;

impl Fixture {
    fn restore(&self, cp: &Checkpoint, paths: &[&str], staged: bool) -> PathRestoreOutcome {
        self.mgr
            .restore_paths(self.session, cp.checkpoint_id, paths, staged)
            .unwrap_or_else(|e| panic!("restore {paths:?} from {}: {e}", cp.description))
    }

    /// The checkpoint's files (its work tree), as a state.
    fn files_of(&self, cp: &Checkpoint) -> State {
        TreeReader::default().state(&self.repo, &cp.commit_sha)
    }
}

/// The entries of `state` at `path` or under it.
fn under(state: &State, path: &str) -> State {
    let prefix = format!("{path}/");
    state
        .iter()
        .filter(|(p, _)| p == path || p.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Sets every file's mtime an hour back, and returns the mtimes, so a rewrite shows.
fn age_all(repo: &TestRepo) -> Vec<(String, SystemTime)> {
    let past = SystemTime::now() - Duration::from_secs(3600);
    repo.tree_state()
        .into_iter()
        .filter(|(_, s)| matches!(s, FileState::File { .. }))
        .map(|(path, _)| {
            let file = fs::File::options()
                .write(true)
                .open(repo.join(&path))
                .unwrap();
            file.set_modified(past).unwrap();
            (path, past)
        })
        .collect()
}

fn mtime(repo: &TestRepo, path: &str) -> SystemTime {
    fs::symlink_metadata(repo.join(path))
        .unwrap()
        .modified()
        .unwrap()
}

/// A fixture with a checkpoint in `mode` of `tracked.txt` v1, `bin/run.sh` executable, `link`
/// to `keep.txt`, then the work tree changed (committed too, so HEAD moved since).
fn changed_after(mode: CheckpointMode) -> (Fixture, Checkpoint) {
    let fx = Fixture::new();
    fx.repo.write("notes/a.txt", "a v1\n");
    fx.repo.write("notes/b.txt", "b v1\n");
    if mode == CheckpointMode::Tag {
        fx.repo.commit_all("notes");
    }
    let cp = fx.create(mode, "before the changes");
    fx.repo.write("tracked.txt", "tracked v2\n");
    fx.repo.write("notes/a.txt", "a v2\n");
    fs::remove_file(fx.repo.join("notes/b.txt")).unwrap();
    fx.repo.write("notes/c.txt", "c created since\n");
    fx.repo.commit_all("changes");
    fx.repo.write("tracked.txt", "tracked v3, not committed\n");
    fs::set_permissions(
        fx.repo.join("bin/run.sh"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    fs::remove_file(fx.repo.join("link")).unwrap();
    symlink("tracked.txt", fx.repo.join("link"));
    fx.repo.write("other.txt", "other, untracked\n");
    (fx, cp)
}

#[test]
fn named_files_come_back_with_bytes_mode_and_symlinks_and_nothing_else_changes() {
    for mode in [
        CheckpointMode::Commit,
        CheckpointMode::Tag,
        CheckpointMode::Snapshot,
    ] {
        let (fx, cp) = changed_after(mode);
        let aged = age_all(&fx.repo);
        let before = fx.observe();
        let named = ["tracked.txt", "bin/run.sh", "link"];
        let out = fx.restore(&cp, &named, false);

        let after = fx.observe();
        let want = fx.files_of(&cp);
        for path in named {
            assert_eq!(
                under(&after.files, path),
                under(&want, path),
                "{mode}: {path}"
            );
        }
        assert_eq!(
            out.restored_paths,
            ["bin/run.sh", "link", "tracked.txt"],
            "{mode}"
        );
        assert!(out.removed_paths.is_empty(), "{mode}");
        // Everything else: bytes, mtimes, HEAD, branch, the index file byte for byte.
        let others = |s: &State| -> State {
            s.iter()
                .filter(|(p, _)| !named.contains(&p.as_str()))
                .cloned()
                .collect()
        };
        assert_eq!(others(&after.files), others(&before.files), "{mode}");
        for (path, when) in aged.iter().filter(|(p, _)| !named.contains(&p.as_str())) {
            assert_eq!(mtime(&fx.repo, path), *when, "{mode}: {path} was rewritten");
        }
        assert_eq!(after.head, before.head, "{mode}");
        assert_eq!(after.symbolic_head, before.symbolic_head, "{mode}");
        assert!(
            after.index_bytes == before.index_bytes,
            "{mode}: index changed"
        );
        assert_eq!(after.public_refs(), before.public_refs(), "{mode}");
        assert_eq!(out.operation.unwrap().kind, OperationKind::Restore);
    }
}

#[test]
fn a_folder_comes_back_whole_and_files_the_checkpoint_lacks_are_removed() {
    for mode in [CheckpointMode::Commit, CheckpointMode::Snapshot] {
        let (fx, cp) = changed_after(mode);
        fx.repo.write("notes/deep/new.txt", "new, untracked\n");
        let out = fx.restore(&cp, &["notes"], false);
        let after = fx.repo.tree_state();
        assert_eq!(
            under(&after, "notes"),
            under(&fx.files_of(&cp), "notes"),
            "{mode}"
        );
        assert_eq!(
            out.removed_paths,
            ["notes/c.txt", "notes/deep/new.txt"],
            "{mode}"
        );
        assert!(
            !fx.repo.exists("notes/deep"),
            "{mode}: the emptied folder stays"
        );
        assert_eq!(out.restored_paths, ["notes/a.txt", "notes/b.txt"], "{mode}");
    }
}

#[test]
fn undo_brings_back_exactly_the_state_before_the_restore_and_redo_reapplies_it() {
    let (fx, cp) = changed_after(CheckpointMode::Snapshot);
    fx.repo.write("notes/staged.txt", "staged\n");
    fx.repo.git(&["add", "notes/staged.txt"]);
    fx.repo
        .write("notes/skip.log", "ignored, named, not in the checkpoint\n");
    let before = fx.observe();
    let out = fx.restore(&cp, &["notes", "notes/skip.log", "tracked.txt"], true);
    assert!(out.removed_paths.contains(&"notes/skip.log".to_owned()));
    assert!(!fx.repo.exists("notes/skip.log"));
    let restored = fx.observe();

    let undone = fx.undo();
    assert_eq!(undone.undone.as_ref().unwrap().kind, OperationKind::Restore);
    assert_eq!(Some(undone.checkpoint_id), out.safety_checkpoint_id);
    // The index file's stat data of rewritten files differs; its entries do not.
    let undone_state = fx.observe();
    assert_eq!(undone_state.files, before.files, "undo: files");
    assert_eq!(undone_state.index, before.index, "undo: index");
    assert_eq!(undone_state.status, before.status, "undo: status");
    assert_eq!(undone_state.head, before.head, "undo: HEAD");
    assert_eq!(
        undone_state.symbolic_head, before.symbolic_head,
        "undo: branch"
    );
    assert_eq!(
        fx.repo.read("notes/skip.log"),
        b"ignored, named, not in the checkpoint\n"
    );

    fx.redo();
    let redone = fx.observe();
    // Redo returns to the undo's safety snapshot, which (like every snapshot) holds no ignored
    // file: the ignored file the restore removed stays, as every restore leaves ignored files.
    let but_ignored = without(&redone.files, &["notes/skip.log"]);
    assert_eq!(but_ignored, restored.files, "redo");
    assert!(fx.repo.exists("notes/skip.log"));
    assert_eq!(redone.index, restored.index, "redo: index");
    assert_eq!(redone.head, restored.head, "redo: HEAD");
}

#[test]
fn staged_sets_the_named_index_entries_to_the_checkpoints_and_no_other() {
    let (fx, cp) = changed_after(CheckpointMode::Commit);
    fx.repo.write("keep.txt", "keep, staged since\n");
    fx.repo.git(&["add", "keep.txt"]);
    let before = index_listing(&fx.repo);
    fx.restore(&cp, &["tracked.txt", "notes"], true);

    let want = tree_as_index_listing(&fx.repo, &cp.commit_sha);
    let pick = |listing: &str, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        listing
            .lines()
            .filter(|l| keep(l.split('\t').nth(1).unwrap_or("")))
            .map(str::to_owned)
            .collect()
    };
    let named = |p: &str| p == "tracked.txt" || p.starts_with("notes/");
    let now = index_listing(&fx.repo);
    assert_eq!(pick(&now, &named), pick(&want, &named));
    assert_eq!(pick(&now, &|p| !named(p)), pick(&before, &|p| !named(p)));
    assert!(
        now.contains("notes/b.txt") && !now.contains("notes/c.txt"),
        "{now}"
    );
    // git agrees: the work tree of the named paths equals the index; keep.txt is still staged.
    let status = fx.repo.status();
    for line in status.lines().filter(|l| named(&l[3..])) {
        assert_eq!(&line[1..2], " ", "{status}");
    }
    assert!(status.contains("M  keep.txt"), "{status}");
}

#[test]
fn a_snapshot_gives_back_its_untracked_files_and_a_safety_snapshot_works_as_a_source() {
    let fx = Fixture::new();
    fx.repo
        .write("scratch/untracked.txt", "untracked in the snapshot\n");
    let snap = fx.snapshot("with an untracked file");
    fs::remove_file(fx.repo.join("scratch/untracked.txt")).unwrap();
    let out = fx.restore(&snap, &["scratch/untracked.txt"], false);
    assert_eq!(out.restored_paths, ["scratch/untracked.txt"]);
    assert_eq!(
        fx.repo.read("scratch/untracked.txt"),
        b"untracked in the snapshot\n"
    );
    assert!(fx.repo.status().contains("?? scratch/untracked.txt"));

    // A rollback's safety snapshot is a source like any other checkpoint.
    fx.repo.write("tracked.txt", "work before a rollback\n");
    let rolled = fx.rollback_hard(&snap);
    assert_eq!(fx.repo.read("tracked.txt"), b"tracked v1\n");
    let safety = fx.mgr.get(fx.session, rolled.safety_checkpoint_id).unwrap();
    fx.restore(&safety, &["tracked.txt"], false);
    assert_eq!(fx.repo.read("tracked.txt"), b"work before a rollback\n");
}

#[test]
fn a_crlf_file_from_a_snapshot_comes_back_byte_exact() {
    let repo = TestRepo::new();
    repo.write(".gitattributes", "*.txt text=auto\n");
    repo.write("keep.txt", "keep\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, checkpoint_manager::Options::default());
    let crlf = b"windows\r\nline endings\r\n";
    fx.repo.write("windows.txt", crlf);
    let snap = fx.snapshot("a CRLF file git would convert");
    assert!(
        snap.snapshot.as_ref().unwrap().raw_tree.is_some(),
        "raw bytes kept"
    );
    fx.repo.write("windows.txt", "changed\n");
    let out = fx.restore(&snap, &["windows.txt"], false);
    assert_eq!(fx.repo.read("windows.txt"), crlf);
    assert_eq!(out.restored_paths, ["windows.txt"]);
    fx.undo();
    assert_eq!(fx.repo.read("windows.txt"), b"changed\n");
}

#[test]
fn paths_are_taken_from_the_top_of_the_work_tree_or_absolute_inside_it() {
    let (fx, cp) = changed_after(CheckpointMode::Commit);
    let absolute = fx.repo.join("notes/a.txt");
    let dotted = PathBuf::from("notes/../tracked.txt");
    let out = fx
        .mgr
        .restore_paths(
            fx.session,
            cp.checkpoint_id,
            &[absolute.as_path(), &dotted],
            false,
        )
        .unwrap();
    assert_eq!(out.restored_paths, ["notes/a.txt", "tracked.txt"]);
    assert_eq!(fx.repo.read("tracked.txt"), b"tracked v1\n");
}

#[test]
fn refused_paths_change_nothing() {
    let (fx, cp) = changed_after(CheckpointMode::Snapshot);
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "outside\n").unwrap();
    symlink(outside.path(), fx.repo.join("out"));
    fx.repo.git(&["init", "-q", "nested"]);
    fx.repo.write("nested/inner.txt", "inner\n");
    let outside_file = outside.path().join("secret.txt");
    let cases: Vec<(PathBuf, &str)> = vec![
        (outside_file.clone(), "outside the work tree"),
        (PathBuf::from("../escape.txt"), "outside the work tree"),
        (PathBuf::from("out/secret.txt"), "symlink"),
        (PathBuf::from(".git/config"), "git folder"),
        (PathBuf::from(".flow/maestro/sessions"), "logs' folder"),
        (PathBuf::from("nested/inner.txt"), "nested repository"),
        (PathBuf::from("no/such/file.txt"), "does not have it"),
    ];
    let before = fx.observe();
    for (path, says) in cases {
        let err = fx
            .mgr
            .restore_paths(
                fx.session,
                cp.checkpoint_id,
                &[Path::new("tracked.txt"), &path],
                false,
            )
            .expect_err(&format!("{} must be refused", path.display()));
        assert_eq!(err.kind(), ErrorKind::Invalid, "{}: {err}", path.display());
        let message = err.to_string();
        assert!(message.contains(says), "{}: {message}", path.display());
        assert!(!message.contains('\n'), "one line: {message}");
        let after = fx.observe();
        assert_eq!(after, before, "{} changed something", path.display());
    }
    assert_eq!(fs::read(&outside_file).unwrap(), b"outside\n");
    let err = fx
        .mgr
        .restore_paths(fx.session, cp.checkpoint_id, &[] as &[&str], false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
}

#[test]
fn a_restore_is_not_counted_as_a_rollback_and_a_rollback_after_it_can_be_undone() {
    let (fx, cp) = changed_after(CheckpointMode::Commit);
    fx.restore(&cp, &["tracked.txt"], false);
    let listed = fx.mgr.get(fx.session, cp.checkpoint_id).unwrap();
    assert_eq!(listed.rollback_count, 0);
    let rolled = fx
        .mgr
        .rollback(fx.session, cp.checkpoint_id, ResetMode::Hard)
        .unwrap();
    assert_eq!(rolled.operation.kind, OperationKind::Rollback);
    let undone = fx.undo();
    assert_eq!(undone.undone.unwrap().kind, OperationKind::Rollback);
    assert_eq!(
        fx.repo.read("tracked.txt"),
        b"tracked v1\n",
        "state after the restore"
    );
}

#[test]
fn ignored_files_and_nested_repositories_inside_a_named_folder_stay() {
    let (fx, cp) = changed_after(CheckpointMode::Snapshot);
    fx.repo
        .write("notes/build.log", "ignored, inside the named folder\n");
    fx.repo.git(&["init", "-q", "notes/vendor"]);
    fx.repo
        .write("notes/vendor/lib.txt", "a nested repository's file\n");
    let out = fx.restore(&cp, &["notes"], false);
    assert_eq!(out.removed_paths, ["notes/c.txt"]);
    assert_eq!(
        fx.repo.read("notes/build.log"),
        b"ignored, inside the named folder\n"
    );
    assert_eq!(
        fx.repo.read("notes/vendor/lib.txt"),
        b"a nested repository's file\n"
    );
    assert_eq!(fx.repo.read("notes/a.txt"), b"a v1\n");
}

#[test]
fn an_ignored_file_where_the_checkpoint_has_a_file_is_captured_before_it_is_overwritten() {
    let fx = Fixture::new();
    fx.repo.write("out/report.txt", "from the checkpoint\n");
    let cp = fx.snapshot("report present");
    fs::remove_file(fx.repo.join("out/report.txt")).unwrap();
    fx.repo.write(".gitignore", "*.log\nignored/\nout/\n");
    fx.repo.write("out/report.txt", "ignored now, the user's\n");
    fx.restore(&cp, &["out/report.txt"], false);
    assert_eq!(fx.repo.read("out/report.txt"), b"from the checkpoint\n");
    fx.undo();
    assert_eq!(fx.repo.read("out/report.txt"), b"ignored now, the user's\n");
}

#[test]
fn a_restore_that_changes_nothing_records_nothing_and_undo_still_takes_back_the_rollback() {
    let (fx, cp) = changed_after(CheckpointMode::Snapshot);
    fx.rollback_hard(&cp);
    let before = fx.observe();
    let operations = fx.mgr.operations(fx.session).unwrap();
    let checkpoints = fx.mgr.list_all(fx.session).unwrap();
    let out = fx.restore(&cp, &["notes", "tracked.txt"], true);
    assert!(out.restored_paths.is_empty() && out.removed_paths.is_empty());
    assert_eq!((out.safety_checkpoint_id, out.operation), (None, None));
    let after = fx.observe();
    assert_same_for_user(&before, &after, "a restore that changes nothing");
    assert_eq!(after.refs, before.refs, "its safety snapshot's ref is gone");
    assert_eq!(fx.mgr.operations(fx.session).unwrap(), operations);
    assert_eq!(fx.mgr.list_all(fx.session).unwrap(), checkpoints);
    let undone = fx.undo();
    assert_eq!(undone.undone.unwrap().kind, OperationKind::Rollback);
    assert_eq!(fx.repo.read("notes/c.txt"), b"c created since\n");
}
