//! Issue 10, caps beyond single files: untracked folders over the file cap are skipped whole
//! and never touched by restores; both caps come from git config (an explicit option wins);
//! `include` forces ignored or capped paths in; progress events bracket the long steps.

use std::sync::{Arc, Mutex};

use checkpoint_manager::{
    CheckpointMode, ErrorKind, Options, Progress, ProgressSink, SkipReason, SkippedPath, Stage,
};

use crate::common::*;

/// A committed repository whose `.gitignore` ignores `*.log`, with `vendor/tracked.txt`
/// tracked, and `config` set in its own git config.
fn repo_with_config(config: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.write("vendor/tracked.txt", "tracked\n");
    repo.write(".gitignore", "*.log\n");
    repo.commit_all("initial");
    for (key, value) in config {
        repo.git(&["config", key, value]);
    }
    repo
}

/// Writes `count` untracked files under `folder` (some in sub-folders); returns their paths.
fn fill(repo: &TestRepo, folder: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let path = format!("{folder}/pkg{}/file{i}.js", i % 3);
            repo.write(&path, format!("module {i}\n"));
            path
        })
        .collect()
}

fn too_many(path: &str, files: u64) -> SkippedPath {
    SkippedPath {
        path: path.to_owned(),
        reason: SkipReason::TooManyFiles,
        size: None,
        files: Some(files),
    }
}

fn skipped_of(cp: &checkpoint_manager::Checkpoint) -> Vec<SkippedPath> {
    cp.snapshot.as_ref().expect("a snapshot").skipped.clone()
}

#[test]
fn an_untracked_folder_over_the_configured_cap_is_skipped_whole_and_restores_leave_it_alone() {
    let repo = repo_with_config(&[("checkpoint-manager.maxUntrackedDirFiles", "5")]);
    let fx = Fixture::over(repo, Options::default());
    let target = fx.snapshot("before npm install");
    let modules = fill(&fx.repo, "node_modules", 8);
    // The top-most untracked folder of a partly tracked one is what counts.
    let vendored = fill(&fx.repo, "vendor/lib", 6);
    fill(&fx.repo, "few", 5);
    fx.repo.write("src/new.rs", "// new\n");

    let cp = fx.snapshot("after npm install");
    assert_eq!(
        skipped_of(&cp),
        [too_many("node_modules/", 8), too_many("vendor/lib/", 6)]
    );
    let held = tree_paths(&fx.repo, &cp.commit_sha);
    assert!(
        !held.iter().any(|p| p.starts_with("node_modules/")),
        "{held:?}"
    );
    assert!(
        !held.iter().any(|p| p.starts_with("vendor/lib/")),
        "{held:?}"
    );
    assert!(
        held.contains(&"few/pkg0/file0.js".to_owned()),
        "at the cap: captured"
    );
    assert!(held.contains(&"src/new.rs".to_owned()));

    let before: Vec<Vec<u8>> = modules.iter().map(|p| fx.repo.read(p)).collect();
    let outcome = fx.rollback_hard(&target);
    assert!(!fx.repo.exists("src/new.rs"), "captured, so removed");
    assert!(!fx.repo.exists("few/pkg0/file0.js"), "captured, so removed");
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .unwrap();
    assert_eq!(
        skipped_of(&safety),
        skipped_of(&cp),
        "the safety snapshot skips them too"
    );
    for (path, bytes) in modules.iter().zip(&before) {
        assert_eq!(&fx.repo.read(path), bytes, "{path} after the rollback");
    }
    assert!(vendored.iter().all(|p| fx.repo.exists(p)));
    fx.undo();
    for (path, bytes) in modules.iter().zip(&before) {
        assert_eq!(&fx.repo.read(path), bytes, "{path} after the undo");
    }
    assert_eq!(fx.repo.read("src/new.rs"), b"// new\n");
    assert!(fx.repo.exists("few/pkg0/file0.js"));
}

#[test]
fn a_restore_to_a_snapshot_that_skipped_a_folder_never_removes_its_files() {
    let repo = repo_with_config(&[]);
    let fx = Fixture::over(
        repo,
        Options::default().with_max_untracked_dir_files(Some(3)),
    );
    let modules = fill(&fx.repo, "node_modules", 4);
    let target = fx.snapshot("with node_modules skipped");
    assert_eq!(skipped_of(&target), [too_many("node_modules/", 4)]);
    // The folder shrinks to the cap: the safety snapshot captures it, the target lacks it, and
    // only the target's own record keeps the restore from removing it.
    std::fs::remove_file(fx.repo.join(&modules[0])).unwrap();
    std::fs::remove_file(fx.repo.join(&modules[1])).unwrap();
    fx.repo.write("node_modules/pkg0/late.js", "late\n");
    let outcome = fx.rollback_hard(&target);
    let safety = fx
        .mgr
        .get(fx.session, outcome.safety_checkpoint_id)
        .unwrap();
    assert_eq!(
        skipped_of(&safety),
        [],
        "the safety snapshot holds the folder"
    );
    assert!(
        outcome.removed_paths.is_empty(),
        "{:?}",
        outcome.removed_paths
    );
    assert_eq!(fx.repo.read("node_modules/pkg0/late.js"), b"late\n");
    assert!(modules[2..].iter().all(|p| fx.repo.exists(p)));
}

#[test]
fn a_folder_cap_of_0_is_no_cap_and_the_default_is_10000() {
    let repo = repo_with_config(&[("checkpoint-manager.maxUntrackedDirFiles", "0")]);
    let fx = Fixture::over(repo, Options::default());
    fill(&fx.repo, "node_modules", 12);
    let cp = fx.snapshot("no cap");
    assert_eq!(skipped_of(&cp), []);
    assert_eq!(
        tree_paths(&fx.repo, &cp.commit_sha)
            .iter()
            .filter(|p| p.starts_with("node_modules/"))
            .count(),
        12
    );
    assert_eq!(checkpoint_manager::DEFAULT_MAX_UNTRACKED_DIR_FILES, 10_000);
    let fx = Fixture::over(repo_with_config(&[]), Options::default());
    fill(&fx.repo, "node_modules", 12);
    assert_eq!(skipped_of(&fx.snapshot("default cap")), []);
}

#[test]
fn an_explicit_option_wins_over_git_config_for_both_caps() {
    let repo = repo_with_config(&[
        ("checkpoint-manager.maxUntrackedDirFiles", "100"),
        ("checkpoint-manager.maxFileSize", "0"),
    ]);
    repo.write("big.bin", vec![1u8; 300]);
    fill(&repo, "node_modules", 4);
    let options = Options::default()
        .with_max_untracked_dir_files(Some(3))
        .with_max_file_size(Some(200));
    let fx = Fixture::over(repo, options);
    let skipped = skipped_of(&fx.snapshot("explicit caps"));
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0], too_many("node_modules/", 4));
    assert_eq!(
        (skipped[1].path.as_str(), skipped[1].size),
        ("big.bin", Some(300))
    );
}

#[test]
fn the_file_size_cap_is_read_from_git_config_with_its_suffixes() {
    let repo = repo_with_config(&[("checkpoint-manager.maxFileSize", "1k")]);
    repo.write("big.bin", vec![1u8; 1025]);
    repo.write("fits.bin", vec![2u8; 1024]);
    let fx = Fixture::over(repo, Options::default());
    let cp = fx.snapshot("1k cap");
    let skipped = skipped_of(&cp);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(
        (skipped[0].path.as_str(), skipped[0].reason, skipped[0].size),
        ("big.bin", SkipReason::TooLarge, Some(1025))
    );
    assert!(tree_paths(&fx.repo, &cp.commit_sha).contains(&"fits.bin".to_owned()));
    // Commit mode leaves it out of the commit too, and so does a folder over the cap.
    fx.repo
        .git(&["config", "checkpoint-manager.maxUntrackedDirFiles", "2"]);
    fill(&fx.repo, "node_modules", 3);
    let commit = fx.create(CheckpointMode::Commit, "commit with caps");
    let held = tree_paths(&fx.repo, &commit.commit_sha);
    assert!(!held.contains(&"big.bin".to_owned()) && held.contains(&"fits.bin".to_owned()));
    assert!(
        !held.iter().any(|p| p.starts_with("node_modules/")),
        "{held:?}"
    );
    assert!(
        commit.skipped.contains(&too_many("node_modules/", 3)),
        "{:?}",
        commit.skipped
    );
    assert!(
        fx.repo.status().contains("?? node_modules/"),
        "still untracked"
    );
}

#[test]
fn a_bad_cap_in_git_config_stops_the_snapshot_naming_the_key() {
    let repo = repo_with_config(&[("checkpoint-manager.maxUntrackedDirFiles", "lots")]);
    let fx = Fixture::over(repo, Options::default());
    let before = fx.observe();
    let err = fx
        .mgr
        .create(
            fx.session,
            &request(CheckpointMode::Snapshot, "bad setting"),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let message = err.to_string();
    assert!(
        message.contains("checkpoint-manager.maxUntrackedDirFiles")
            && message.contains("\"lots\"")
            && !message.contains('\n'),
        "{message}"
    );
    assert_eq!(fx.mgr.list(fx.session).unwrap(), []);
    assert_same_for_user(&before, &fx.observe(), "a refused snapshot");
}

#[test]
fn include_brings_in_an_ignored_file_a_too_large_file_and_a_capped_folder() {
    let repo = repo_with_config(&[
        ("checkpoint-manager.maxUntrackedDirFiles", "2"),
        ("checkpoint-manager.maxFileSize", "100"),
    ]);
    repo.write("debug.log", "ignored but wanted\n");
    repo.write("other.log", "ignored\n");
    repo.write("model.bin", vec![7u8; 500]);
    fill(&repo, "node_modules", 3);
    fill(&repo, "generated", 3);
    let fx = Fixture::over(repo, Options::default());
    let include = ["debug.log", "model.bin", "node_modules"]
        .map(Into::into)
        .to_vec();
    let cp = fx
        .mgr
        .create(
            fx.session,
            &request(CheckpointMode::Snapshot, "with includes").with_include(include),
        )
        .unwrap();
    assert_eq!(skipped_of(&cp), [too_many("generated/", 3)]);
    let held = tree_paths(&fx.repo, &cp.commit_sha);
    for path in ["debug.log", "model.bin", "node_modules/pkg2/file2.js"] {
        assert!(held.contains(&path.to_owned()), "{path} not in {held:?}");
    }
    assert!(!held.contains(&"other.log".to_owned()));
    let mut reader = TreeReader::default();
    let state = reader.state(&fx.repo, &cp.commit_sha);
    assert_eq!(
        file(&state, "model.bin"),
        Some(&FileState::File {
            bytes: vec![7u8; 500],
            executable: false
        })
    );
    // The user's index and status are untouched.
    assert!(fx.repo.status().contains("?? model.bin"));
}

#[test]
fn include_in_commit_mode_commits_a_too_large_file() {
    let repo = repo_with_config(&[("checkpoint-manager.maxFileSize", "100")]);
    repo.write("model.bin", vec![7u8; 500]);
    let fx = Fixture::over(repo, Options::default());
    let request = request(CheckpointMode::Commit, "commit it anyway")
        .with_include(vec![fx.repo.join("model.bin")]);
    let cp = fx.mgr.create(fx.session, &request).unwrap();
    assert_eq!(cp.skipped, []);
    assert!(tree_paths(&fx.repo, &cp.commit_sha).contains(&"model.bin".to_owned()));
    assert_eq!(fx.repo.head(), cp.commit_sha);
    // The user's index follows the commit: the file is tracked now, the tree clean.
    assert_eq!(fx.repo.git(&["ls-files", "model.bin"]), "model.bin");
    assert_eq!(fx.repo.status(), "");
}

#[test]
fn include_refuses_paths_outside_the_work_tree_and_changes_nothing() {
    let fx = Fixture::over(repo_with_config(&[]), Options::default());
    fx.repo.write(".flow/notes.txt", "mine\n");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x"), "x").unwrap();
    let before = fx.observe();
    let cases: [(std::path::PathBuf, CheckpointMode, &str); 7] = [
        (
            "../x".into(),
            CheckpointMode::Snapshot,
            "outside the work tree",
        ),
        (
            outside.path().join("x"),
            CheckpointMode::Snapshot,
            "outside the work tree",
        ),
        (
            "missing.txt".into(),
            CheckpointMode::Snapshot,
            "does not exist",
        ),
        (".git/config".into(), CheckpointMode::Snapshot, "git dir"),
        (".flow".into(), CheckpointMode::Commit, "sessions folder"),
        (".".into(), CheckpointMode::Snapshot, "whole work tree"),
        ("src/main.rs".into(), CheckpointMode::Tag, "tag checkpoint"),
    ];
    for (path, mode, problem) in cases {
        let request = request(mode, "refused").with_include(vec![path.clone()]);
        let err = fx.mgr.create(fx.session, &request).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{path:?}: {err}");
        let message = err.to_string();
        assert!(
            message.contains(problem) && !message.contains('\n'),
            "{path:?}: {message}"
        );
    }
    assert_eq!(fx.mgr.list(fx.session).unwrap(), []);
    assert_same_for_user(&before, &fx.observe(), "refused includes");
}

/// A sink that records every event.
fn recorder() -> (ProgressSink, Arc<Mutex<Vec<Progress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&events);
    let sink = ProgressSink::new(move |e| heard.lock().unwrap().push(*e));
    (sink, events)
}

/// The stages started, in order; checks each is finished, after its advances.
fn stages(events: &[Progress]) -> Vec<Stage> {
    let mut open: Vec<Stage> = Vec::new();
    let mut started = Vec::new();
    for event in events {
        match *event {
            Progress::Started { stage, .. } => {
                open.push(stage);
                started.push(stage);
            }
            Progress::Advanced { stage, .. } => assert!(open.contains(&stage), "{events:?}"),
            Progress::Finished { stage } => {
                assert_eq!(open.pop(), Some(stage), "{events:?}");
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "unfinished: {events:?}");
    started
}

#[test]
fn snapshots_and_rollbacks_report_their_stages_to_the_progress_sink() {
    let (sink, events) = recorder();
    let fx = Fixture::over(
        repo_with_config(&[]),
        Options::default().with_progress_sink(sink),
    );
    fx.repo.write("a.txt", "a\n");
    fx.repo.write("b.txt", "b\n");
    let cp = fx.snapshot("two files");
    let heard = std::mem::take(&mut *events.lock().unwrap());
    assert_eq!(
        stages(&heard),
        [Stage::ReadingWorkTree, Stage::CapturingFiles]
    );
    // git hashes the files in one process: the stage cannot count them, it has no total.
    assert!(heard.contains(&Progress::Started {
        stage: Stage::CapturingFiles,
        total: None
    }));
    fx.rollback_hard(&cp);
    let heard = std::mem::take(&mut *events.lock().unwrap());
    assert_eq!(
        stages(&heard),
        [
            Stage::ReadingWorkTree,
            Stage::CapturingFiles,
            Stage::RestoringFiles
        ]
    );
}

#[test]
fn a_failing_step_still_finishes_its_stage() {
    let (sink, events) = recorder();
    let repo = repo_with_config(&[("checkpoint-manager.maxFileSize", "huge")]);
    let fx = Fixture::over(repo, Options::default().with_progress_sink(sink));
    assert!(fx
        .mgr
        .create(fx.session, &request(CheckpointMode::Snapshot, "x"))
        .is_err());
    assert_eq!(stages(&events.lock().unwrap()), [Stage::ReadingWorkTree]);
}

#[test]
fn prune_with_gc_and_a_restore_of_paths_report_their_stages() {
    let (sink, events) = recorder();
    let fx = Fixture::over(
        repo_with_config(&[]),
        Options::default().with_progress_sink(sink),
    );
    fx.repo.write("a.txt", "first\n");
    let first = fx.snapshot("first");
    fx.repo.write("a.txt", "second\n");
    fx.snapshot("second");
    events.lock().unwrap().clear();
    fx.mgr
        .restore_paths(fx.session, first.checkpoint_id, &["a.txt"], false)
        .unwrap();
    assert_eq!(fx.repo.read("a.txt"), b"first\n");
    let heard = std::mem::take(&mut *events.lock().unwrap());
    assert_eq!(stages(&heard).last(), Some(&Stage::RestoringFiles));

    let request = checkpoint_manager::PruneRequest::new()
        .with_keep_last(Some(1))
        .with_gc(true);
    let outcome = fx
        .mgr
        .prune(checkpoint_manager::Sessions::One(fx.session), &request)
        .unwrap();
    assert!(outcome.gc);
    let heard = std::mem::take(&mut *events.lock().unwrap());
    assert_eq!(stages(&heard), [Stage::CollectingGarbage]);
}
