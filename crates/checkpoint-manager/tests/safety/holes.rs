//! Issue 8, restore-safety holes: whatever a restore deletes or overwrites is first in the safety
//! snapshot (ignored or not), or the restore refuses with nothing changed; what a snapshot never
//! captured (nested repositories, submodule insides, skipped large files, the sessions folder)
//! a restore never touches; and a restore writes only the paths that differ from its target.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, ErrorKind, Options, ResetMode, SessionId,
};
use testutil::{FileState, TestRepo};

use crate::common::*;
use crate::untouchable::{assert_deep, deep_state, nested_repo};

/// Rolls back with `--hard` and expects a refusal (an `Invalid` error naming `path`) that
/// changed nothing observable, the log included.
fn assert_hard_rollback_refused(fx: &Fixture, target: &Checkpoint, path: &str) {
    let before = fx.observe();
    let log_before = fs::read(fx.repo.log_path(&fx.session.as_string())).expect("log");
    let err = fx
        .mgr
        .rollback(fx.session, target.checkpoint_id, ResetMode::Hard)
        .expect_err("the rollback must refuse");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    let message = err.to_string();
    assert!(message.contains(path), "names the path: {message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_same_for_user(&before, &fx.observe(), "a refused rollback");
    assert_eq!(
        fs::read(fx.repo.log_path(&fx.session.as_string())).expect("log"),
        log_before,
        "a refused rollback logs nothing"
    );
}

// Item 1: a nested repository the index records as a gitlink.

#[test]
fn a_nested_repository_recorded_as_a_gitlink_is_never_replaced_by_a_file() {
    let fx = Fixture::new();
    fx.repo.write("plugin", "a plain file in the checkpoints\n");
    let snapshot = fx.snapshot("plugin is a file (snapshot)");
    let commit = fx.create(CheckpointMode::Commit, "plugin is a file (commit)");
    fs::remove_file(fx.repo.join("plugin")).expect("rm");
    nested_repo(&fx.repo, "plugin");
    // Our own commit mode records the cloned repository as a gitlink.
    fx.repo.git(&["add", "plugin"]);
    fx.repo
        .git(&["commit", "-q", "-m", "plugin is a repository"]);
    assert!(index_listing(&fx.repo).contains("160000"), "a gitlink");
    let nested = deep_state(&fx.repo.join("plugin"));

    for target in [&snapshot, &commit] {
        assert_hard_rollback_refused(&fx, target, "plugin");
        assert_deep(&nested, &deep_state(&fx.repo.join("plugin")), "refused");
    }
}

// Item 2: a submodule with work inside it.

#[test]
fn a_submodule_with_work_inside_is_never_replaced_by_a_file_or_a_symlink() {
    let upstream = TestRepo::new();
    upstream.write("lib.txt", "library\n");
    upstream.commit_all("library");
    let fx = Fixture::new();
    fx.repo.write("sub", "a plain file in the checkpoint\n");
    let as_file = fx.snapshot("sub is a file");
    fs::remove_file(fx.repo.join("sub")).expect("rm");
    symlink("keep.txt", fx.repo.join("sub"));
    let as_symlink = fx.snapshot("sub is a symlink");
    fs::remove_file(fx.repo.join("sub")).expect("rm");
    let url = upstream.path().to_str().expect("utf-8");
    fx.repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        url,
        "sub",
    ]);
    fx.repo.git(&["commit", "-q", "-m", "add a submodule"]);
    fx.repo
        .write("sub/lib.txt", "library, edited inside the submodule\n");
    fx.repo
        .write("sub/new.txt", "untracked inside the submodule\n");
    let inside = deep_state(&fx.repo.join("sub"));

    for target in [&as_file, &as_symlink] {
        assert_hard_rollback_refused(&fx, target, "sub");
        assert_deep(&inside, &deep_state(&fx.repo.join("sub")), "refused");
    }
}

// Item 3: ignored files inside a folder that replaced a tracked file.

#[test]
fn ignored_files_in_a_folder_that_replaced_a_tracked_file_are_saved_before_the_rollback() {
    let fx = Fixture::new();
    fx.repo.write("config", "tracked config\n");
    fx.repo.commit_all("config file");
    let commit = fx.create(CheckpointMode::Commit, "config is a file (commit)");
    let snapshot = fx.snapshot("config is a file (snapshot)");
    for target in [&commit, &snapshot] {
        fs::remove_file(fx.repo.join("config")).expect("rm");
        fx.repo.write("config/local.log", "SECRET\n"); // *.log is ignored
        fx.repo.write("config/plain.txt", "untracked\n");
        let outcome = fx.rollback_hard(target);
        assert_eq!(fx.repo.read("config"), b"tracked config\n");
        let safety = fx
            .mgr
            .get(fx.session, outcome.safety_checkpoint_id)
            .expect("safety");
        let saved = TreeReader::default().state(&fx.repo, &safety.commit_sha);
        assert_eq!(
            file(&saved, "config/local.log"),
            Some(&FileState::File {
                bytes: b"SECRET\n".to_vec(),
                executable: false
            }),
            "the ignored file must be in the safety snapshot ({})",
            target.description
        );
        fx.undo();
        assert_eq!(fx.repo.read("config/local.log"), b"SECRET\n");
        assert_eq!(fx.repo.read("config/plain.txt"), b"untracked\n");
        // Back to the file for the next round.
        fs::remove_dir_all(fx.repo.join("config")).expect("rm -r");
        fx.repo.write("config", "tracked config\n");
    }
}

#[test]
fn a_folder_holding_a_repository_that_replaced_a_tracked_file_is_never_removed() {
    let fx = Fixture::new();
    fx.repo.write("config", "tracked config\n");
    fx.repo.commit_all("config file");
    let snapshot = fx.snapshot("config is a file (snapshot)");
    let commit = fx.create(CheckpointMode::Commit, "config is a file (commit)");
    fs::remove_file(fx.repo.join("config")).expect("rm");
    nested_repo(&fx.repo, "config/vendored");
    let nested = deep_state(&fx.repo.join("config"));
    for target in [&snapshot, &commit] {
        assert_hard_rollback_refused(&fx, target, "config");
        assert_deep(&nested, &deep_state(&fx.repo.join("config")), "refused");
    }
}

// Item 4: files the user tracks under the sessions folder.

const NOTES: &str = ".flow/maestro/sessions/notes.md";

/// Lists the index entries under the sessions folder.
fn sessions_index(repo: &TestRepo) -> String {
    repo.git(&["ls-files", "-s", "--", ".flow/maestro/sessions"])
}

/// Every file under the sessions folder with its bytes, but the running session's own log.
fn sessions_files(repo: &TestRepo, own: SessionId) -> Vec<(String, Vec<u8>)> {
    deep_state(&repo.join(".flow/maestro/sessions"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&own.as_string()))
        .collect()
}

#[test]
fn files_tracked_under_the_sessions_folder_are_never_touched_by_a_restore() {
    let fx = Fixture::new();
    let before_tracking = fx.create(CheckpointMode::Commit, "sessions not tracked");
    // Another session, rolled back once, whose log the user commits on purpose.
    let other = SessionId::parse(&testutil::session_id(2)).expect("id");
    let first = fx
        .mgr
        .create(other, &request(CheckpointMode::Commit, "other session"))
        .expect("create");
    fx.mgr
        .rollback(other, first.checkpoint_id, ResetMode::Mixed)
        .expect("rollback");
    fx.repo.write(NOTES, "committed notes\n");
    let other_log = format!(".flow/maestro/sessions/{}", other.as_string());
    fx.repo.git(&["add", "-f", NOTES, &other_log]);
    fx.repo.git(&["commit", "-q", "-m", "track session files"]);
    let tracking = fx.snapshot("sessions tracked");
    // Edited since: on disk only, and a staged version.
    fx.repo.write(NOTES, "staged notes\n");
    fx.repo.git(&["add", "-f", NOTES]);
    fx.repo.write(NOTES, "notes being written\n");
    let files = sessions_files(&fx.repo, fx.session);
    let index = sessions_index(&fx.repo);

    let check = |what: &str| {
        assert_deep(&files, &sessions_files(&fx.repo, fx.session), what);
        assert_eq!(index, sessions_index(&fx.repo), "{what}: index");
    };
    fx.rollback_hard(&before_tracking);
    check("rollback --hard to a commit");
    fx.undo();
    check("undo");
    fx.rollback_hard(&tracking);
    check("rollback --hard to a snapshot");
    fx.undo();
    check("undo");
    fx.mgr
        .rollback(fx.session, before_tracking.checkpoint_id, ResetMode::Mixed)
        .expect("mixed");
    check("rollback --mixed");

    // The other session's counters survive a repair.
    let report = fx.mgr.repair(other).expect("repair");
    assert_eq!(
        (report.total_checkpoints, report.total_safety_snapshots),
        (1, 1),
        "the checkpoint and its safety snapshot"
    );
    let kept = fx.mgr.get(other, first.checkpoint_id).expect("get");
    assert_eq!((kept.rollback_used, kept.rollback_count), (true, 1));
}

// Item 9: what a snapshot skipped, a restore to it never touches, whatever the cap now.

fn with_cap(repo: &TestRepo, cap: Option<u64>) -> CheckpointManager {
    CheckpointManager::with_options(repo.path(), Options::default().with_max_file_size(cap))
        .expect("manager")
}

/// Inode, size and modification time: what a file watcher sees.
fn stamp(path: &Path) -> (u64, u64, i64, i64) {
    let m = fs::symlink_metadata(path).expect("meta");
    (m.ino(), m.len(), m.mtime(), m.mtime_nsec())
}

#[test]
fn a_file_the_target_skipped_survives_a_restore_under_another_cap() {
    let fx = Fixture::new();
    let capped = with_cap(&fx.repo, Some(100));
    fx.repo.write("big.bin", vec![7u8; 1000]);
    let target = capped
        .create(
            fx.session,
            &request(CheckpointMode::Snapshot, "big skipped"),
        )
        .expect("snapshot");
    let skipped = &target.snapshot.as_ref().expect("info").skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let before = stamp(&fx.repo.join("big.bin"));

    for cap in [None, Some(10_000)] {
        let uncapped = with_cap(&fx.repo, cap);
        uncapped
            .rollback(fx.session, target.checkpoint_id, ResetMode::Hard)
            .expect("rollback");
        assert_eq!(fx.repo.read("big.bin"), vec![7u8; 1000], "cap {cap:?}");
        assert_eq!(stamp(&fx.repo.join("big.bin")), before, "cap {cap:?}");
    }
}

#[test]
fn a_file_the_target_skipped_and_the_user_tracked_since_is_left_alone() {
    let fx = Fixture::new();
    let capped = with_cap(&fx.repo, Some(100));
    fx.repo.write("big.bin", vec![7u8; 1000]);
    let target = capped
        .create(
            fx.session,
            &request(CheckpointMode::Snapshot, "big skipped"),
        )
        .expect("snapshot");
    fx.repo.git(&["add", "big.bin"]);
    let entry = fx.repo.git(&["ls-files", "-s", "big.bin"]);
    let before = stamp(&fx.repo.join("big.bin"));
    capped
        .rollback(fx.session, target.checkpoint_id, ResetMode::Hard)
        .expect("rollback");
    assert_eq!(stamp(&fx.repo.join("big.bin")), before);
    assert_eq!(fx.repo.git(&["ls-files", "-s", "big.bin"]), entry);
}

#[test]
fn a_safety_snapshot_does_not_list_a_file_it_force_captured_as_skipped() {
    let fx = Fixture::over(
        {
            let repo = TestRepo::new();
            repo.write("small.txt", "small\n");
            repo.commit_all("initial");
            repo
        },
        Options::default().with_max_file_size(Some(100)),
    );
    fx.repo.write("model.bin", "small version\n");
    let target = fx.snapshot("small model");
    fx.repo.write("model.bin", vec![42u8; 1000]);
    let outcome = fx.rollback_hard(&target);
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .expect("safety");
    let skipped = &safety.snapshot.as_ref().expect("info").skipped;
    assert!(skipped.is_empty(), "captured, so not skipped: {skipped:?}");
    fx.undo();
    assert_eq!(fx.repo.read("model.bin"), vec![42u8; 1000]);
}

// Item 11: a restore writes only the paths that differ from its target.

/// Sets the file's modification time far in the past, so a rewrite cannot go unseen.
fn age(repo: &TestRepo, path: &str) {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800);
    fs::File::options()
        .write(true)
        .open(repo.join(path))
        .and_then(|f| f.set_modified(old))
        .expect("set mtime");
}

#[test]
fn a_restore_leaves_files_that_already_hold_the_target_bytes_alone() {
    let repo = TestRepo::new();
    repo.write(".gitattributes", "*.txt text=auto\n");
    repo.write("tracked.txt", "tracked v1\n");
    repo.write("staged.txt", "staged v1\n");
    repo.write("keep.txt", "keep\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, Options::default());
    let commit = fx.create(CheckpointMode::Tag, "the commit");
    fx.repo.write("tracked.txt", "tracked v2\n");
    fx.repo.write("untracked.txt", "untracked\n");
    fx.repo.write("windows.txt", b"crlf\r\nbytes\r\n");
    let target = fx.snapshot("modified, untracked and raw-bytes files");
    fx.repo.write("keep.txt", "keep, changed since\n");
    let same = ["tracked.txt", "untracked.txt", "windows.txt"];
    for path in same {
        age(&fx.repo, path);
    }
    let stamps = |fx: &Fixture| same.map(|p| stamp(&fx.repo.join(p)));
    let before = stamps(&fx);

    fx.rollback_hard(&target);
    assert_eq!(fx.repo.read("keep.txt"), b"keep\n");
    assert_eq!(stamps(&fx), before, "rollback rewrote unchanged files");
    fx.undo();
    assert_eq!(fx.repo.read("keep.txt"), b"keep, changed since\n");
    assert_eq!(stamps(&fx), before, "undo rewrote unchanged files");

    // A commit checkpoint: a file whose index entry differs but whose bytes are the target's.
    fx.repo.write("staged.txt", "staged v2\n");
    fx.repo.git(&["add", "staged.txt"]);
    fx.repo.write("staged.txt", "staged v1\n");
    age(&fx.repo, "staged.txt");
    let staged = stamp(&fx.repo.join("staged.txt"));
    fx.rollback_hard(&commit);
    assert_eq!(
        stamp(&fx.repo.join("staged.txt")),
        staged,
        "reset rewrote it"
    );
    assert_eq!(fx.repo.read("tracked.txt"), b"tracked v1\n");
    assert!(
        !fx.repo.status_with_ignored().contains("staged.txt"),
        "{}",
        fx.repo.status_with_ignored()
    );
}

// Item 8: line endings come back exactly as captured, whatever the attributes and config.

const LF_TRACKED: &[u8] = b"tracked\nwith lf\n";
const LF_UNTRACKED: &[u8] = b"untracked\nwith lf\n";

/// A repository set up by `setup`, a target snapshot holding an edited tracked file and an
/// untracked file both written with LF, then a rollback away and back, and undos.
fn lf_files_round_trip(setup: impl Fn(&TestRepo)) {
    let repo = TestRepo::new();
    setup(&repo);
    repo.write("a.txt", "first\n");
    repo.commit_all("initial");
    let fx = Fixture::over(repo, Options::default());
    let before = fx.create(CheckpointMode::Tag, "before");
    fx.repo.write("a.txt", LF_TRACKED);
    fx.repo.write("u.txt", LF_UNTRACKED);
    let target = fx.snapshot("lf files");
    let check = |what: &str| {
        assert_eq!(fx.repo.read("a.txt"), LF_TRACKED, "{what}: tracked file");
        assert_eq!(
            fx.repo.read("u.txt"),
            LF_UNTRACKED,
            "{what}: untracked file"
        );
    };
    fx.rollback_hard(&before);
    fx.undo();
    check("undo");
    fx.rollback_hard(&before);
    fx.rollback_hard(&target);
    check("rollback to the snapshot");
    fx.rollback_hard(&before);
    fx.undo();
    check("undo after rollback to a commit");
}

#[test]
fn lf_files_come_back_as_lf_under_core_autocrlf() {
    lf_files_round_trip(|repo| {
        repo.git(&["config", "core.autocrlf", "true"]);
    });
}

#[test]
fn lf_files_come_back_as_lf_under_an_eol_crlf_attribute() {
    lf_files_round_trip(|repo| {
        repo.write(".gitattributes", "*.txt text eol=crlf\n");
    });
}

#[test]
fn crlf_bytes_git_calls_clean_under_eol_lf_come_back_as_crlf() {
    let repo = TestRepo::new();
    let crlf = b"one\r\ntwo\r\n".to_vec();
    repo.write("crlf.txt", &crlf);
    repo.write("other.txt", "other\n");
    repo.commit_all("crlf committed before the attribute");
    repo.write(".gitattributes", "*.txt text eol=lf\n");
    // The index holds the LF version; the file on disk keeps its CRLF bytes, stat-clean.
    repo.git(&["add", "--renormalize", "."]);
    repo.commit_all("eol=lf");
    let fx = Fixture::over(repo, Options::default());
    assert!(
        !fx.repo.status_with_ignored().contains("crlf.txt"),
        "git calls it clean"
    );
    let commit = fx.create(CheckpointMode::Tag, "the commit");
    let target = fx.snapshot("clean state");
    fx.repo.write("crlf.txt", "changed\n");
    let changed = fx.snapshot("crlf.txt changed");
    fx.repo.write("crlf.txt", &crlf);
    fx.repo.git(&["update-index", "--refresh"]);
    assert!(
        !fx.repo.status_with_ignored().contains("crlf.txt"),
        "git calls it clean"
    );
    fx.repo.write("other.txt", "other, edited\n");
    for cp in [&changed, &commit, &target] {
        fx.rollback_hard(cp);
        if cp.checkpoint_id != changed.checkpoint_id {
            assert_eq!(
                fx.repo.read("crlf.txt"),
                crlf,
                "rollback to {}",
                cp.description
            );
        }
        fx.undo();
        assert_eq!(
            fx.repo.read("crlf.txt"),
            crlf,
            "undo after {}",
            cp.description
        );
        assert_eq!(fx.repo.read("other.txt"), b"other, edited\n");
    }
}
