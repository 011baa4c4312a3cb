//! `diff` and the `log` timeline (issue 10): a diff is git's own diff of the two checkpoints'
//! trees (names, statuses, line counts and patch bytes compared with `git diff` on the same
//! trees) for every mode, safety snapshots included; a diff to the work tree sees what a snapshot
//! would capture and changes nothing at all; a timeline lists checkpoints and operations newest
//! first with git's diffstat against the checkpoint before.

use std::fs;

use checkpoint_manager::{
    Checkpoint, CheckpointMode, DiffReport, Error, ErrorKind, FileStatus, TimelineEntry,
};

use crate::common::*;

/// One file as git's `diff -M` names it: status letter, old path (renames), path, and the line
/// counts (`None` for binary).
type GitFile = (char, Option<String>, String, Option<(u64, u64)>);

/// What `git diff -M` says from `from` to `to`: every file, and the whole patch.
fn git_says(repo: &TestRepo, from: &str, to: &str) -> (Vec<GitFile>, Vec<u8>) {
    let names = repo.git_bytes(&["diff", "-M", "-z", "--name-status", from, to]);
    let numstat = repo.git_bytes(&["diff", "-M", "-z", "--numstat", from, to]);
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let mut fields = names.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut files = Vec::new();
    while let Some(status) = fields.next() {
        let letter = status[0] as char;
        let first = text(fields.next().unwrap());
        let (old, path) = if letter == 'R' {
            (Some(first), text(fields.next().unwrap()))
        } else {
            (None, first)
        };
        files.push((letter, old, path, None));
    }
    let mut fields = numstat.split(|b| *b == 0);
    for file in &mut files {
        let record = text(fields.next().unwrap());
        let mut parts = record.splitn(3, '\t');
        let (added, deleted) = (parts.next().unwrap(), parts.next().unwrap());
        if parts.next().unwrap().is_empty() {
            fields.next();
            fields.next();
        }
        file.3 = added.parse().ok().zip(deleted.parse().ok());
    }
    let patch = repo.git_bytes(&["diff", "-M", from, to]);
    (files, patch)
}

fn letter(status: FileStatus) -> char {
    match status {
        FileStatus::Added => 'A',
        FileStatus::Modified => 'M',
        FileStatus::Deleted => 'D',
        FileStatus::Renamed => 'R',
        FileStatus::TypeChanged => 'T',
    }
}

/// Asserts that `report` is exactly what `git diff` says of the two commits' trees.
#[track_caller]
fn assert_is_git_diff(repo: &TestRepo, report: &DiffReport, from: &str, to: &str) {
    let (want, patch) = git_says(repo, from, to);
    let got: Vec<GitFile> = report
        .files
        .iter()
        .map(|f| {
            let lines = (!f.binary).then_some((f.additions, f.deletions));
            (letter(f.status), f.old_path.clone(), f.path.clone(), lines)
        })
        .collect();
    assert_eq!(got, want, "files, statuses and numstat of {from}..{to}");
    let got_patch: String = report
        .files
        .iter()
        .map(|f| f.patch.clone().expect("asked for patches"))
        .collect();
    assert_eq!(
        got_patch,
        String::from_utf8_lossy(&patch),
        "patch of {from}..{to}"
    );
}

fn file<'a>(report: &'a DiffReport, path: &str) -> &'a checkpoint_manager::FileDiff {
    report
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {report:#?}"))
}

#[test]
fn a_diff_between_checkpoints_of_every_mode_is_git_diff_of_their_trees() {
    let fx = Fixture::new();
    let c1 = fx.create(CheckpointMode::Commit, "c1");
    fx.repo.write("tracked.txt", "tracked v2\nsecond line\n");
    fs::remove_file(fx.repo.join("gone.txt")).unwrap();
    fs::rename(fx.repo.join("keep.txt"), fx.repo.join("kept.txt")).unwrap();
    fs::remove_file(fx.repo.join("bin/run.sh")).unwrap();
    symlink("../tracked.txt", fx.repo.join("bin/run.sh"));
    fs::remove_file(fx.repo.join("link")).unwrap();
    fx.repo.write("link", "a file now\n");
    fx.repo.write("image.bin", [0u8, 1, 2, 255, 0]);
    let c2 = fx.create(CheckpointMode::Commit, "c2");
    let t3 = fx.create(CheckpointMode::Tag, "t3");
    fx.repo.write("tracked.txt", "tracked v3\n");
    fx.repo.write("image.bin", [0u8, 9, 9, 255, 0, 7]);
    fx.repo.write("notes/new.txt", "untracked\n");
    fx.repo.write("debug.log", "ignored\n");
    let s4 = fx.snapshot("s4");
    let safety_id = fx.rollback_hard(&c1).safety_checkpoint_id;
    let safety = fx.mgr.get(fx.session, safety_id).unwrap();
    assert!(safety.is_safety_snapshot());

    let pairs: [(&Checkpoint, &Checkpoint); 7] = [
        (&c1, &c2),
        (&c2, &t3),
        (&t3, &s4),
        (&c1, &s4),
        (&s4, &c1),
        (&s4, &safety),
        (&safety, &c1),
    ];
    for (from, to) in pairs {
        let report = fx
            .mgr
            .diff(fx.session, from.checkpoint_id, Some(to.checkpoint_id), true)
            .unwrap();
        assert_eq!(
            (report.from, report.to),
            (from.checkpoint_id, Some(to.checkpoint_id))
        );
        assert_is_git_diff(&fx.repo, &report, &from.commit_sha, &to.commit_sha);
    }

    let c1_c2 = fx
        .mgr
        .diff(fx.session, c1.checkpoint_id, Some(c2.checkpoint_id), false)
        .unwrap();
    let kept = file(&c1_c2, "kept.txt");
    assert_eq!(kept.status, FileStatus::Renamed);
    assert_eq!(kept.old_path.as_deref(), Some("keep.txt"));
    assert_eq!(file(&c1_c2, "bin/run.sh").status, FileStatus::TypeChanged);
    assert_eq!(file(&c1_c2, "link").status, FileStatus::TypeChanged);
    assert_eq!(file(&c1_c2, "gone.txt").status, FileStatus::Deleted);
    let image = file(&c1_c2, "image.bin");
    assert!(image.binary && image.additions == 0 && image.deletions == 0);
    assert!(
        c1_c2.files.iter().all(|f| f.patch.is_none()),
        "no patch unless asked"
    );
    assert!(fx
        .mgr
        .diff(fx.session, c2.checkpoint_id, Some(t3.checkpoint_id), true)
        .unwrap()
        .files
        .is_empty());

    let t3_s4 = fx
        .mgr
        .diff(fx.session, t3.checkpoint_id, Some(s4.checkpoint_id), false)
        .unwrap();
    assert_eq!(
        file(&t3_s4, "notes/new.txt").status,
        FileStatus::Added,
        "untracked files are in a snapshot"
    );
    assert!(
        t3_s4.files.iter().all(|f| f.path != "debug.log"),
        "ignored files are not"
    );
}

#[test]
fn a_diff_to_the_work_tree_sees_what_a_snapshot_would_and_changes_nothing() {
    let fx = Fixture::new();
    let s1 = fx.snapshot("s1");
    make_mixed_state(&fx.repo);
    fx.repo.write("debug.log", "ignored\n");
    make_stat_dirty(&fx.repo, "tracked.txt");
    let before = fx.observe();
    let index_mtime = || {
        fs::metadata(fx.repo.join(".git/index"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let mtime_before = index_mtime();

    let now = fx
        .mgr
        .diff(fx.session, s1.checkpoint_id, None, true)
        .unwrap();

    assert_eq!(
        before,
        fx.observe(),
        "refs, index, files, status and the log"
    );
    assert_eq!(
        mtime_before,
        index_mtime(),
        "the user's index was rewritten"
    );
    let private = fx.repo.join(".git/checkpoint-manager");
    let leftovers: Vec<_> = fs::read_dir(&private)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().starts_with("index-")),
        "a private index was left behind: {leftovers:?}"
    );
    assert_eq!(now.to, None);
    assert_eq!(file(&now, "untracked.txt").status, FileStatus::Added);
    assert!(
        now.files.iter().all(|f| !f.path.ends_with(".log")),
        "ignored files stay out"
    );

    // The same as the diff to a snapshot taken now, which is git's diff of the two trees.
    let s2 = fx.snapshot("s2");
    let then = fx
        .mgr
        .diff(fx.session, s1.checkpoint_id, Some(s2.checkpoint_id), true)
        .unwrap();
    assert_eq!(now.files, then.files);
    assert_is_git_diff(&fx.repo, &now, &s1.commit_sha, &s2.commit_sha);
}

#[test]
fn unknown_ids_and_a_tampered_commit_are_refused_with_nothing_changed() {
    let fx = Fixture::new();
    let cp = fx.snapshot("known");
    let stranger = checkpoint_manager::CheckpointId::new_random();
    let before = fx.observe();
    for (from, to) in [(stranger, None), (cp.checkpoint_id, Some(stranger))] {
        let err = fx.mgr.diff(fx.session, from, to, false).unwrap_err();
        assert!(matches!(err, Error::CheckpointNotFound { .. }), "{err}");
    }
    let other_session = checkpoint_manager::SessionId::new_random();
    let err = fx
        .mgr
        .diff(other_session, cp.checkpoint_id, None, false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    let path = fx.repo.log_path(&fx.session.to_string());
    let mut log: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    log["checkpoints"][0]["commit_sha"] = "--output=stolen".into();
    fs::write(&path, serde_json::to_vec_pretty(&log).unwrap()).unwrap();
    let before = Observed {
        tool_files: fx.observe().tool_files,
        ..before
    };
    let err = fx
        .mgr
        .diff(fx.session, cp.checkpoint_id, None, false)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRecord { .. }), "{err}");
    assert!(
        !fx.repo.exists("stolen"),
        "a record's value reached git as an option"
    );
    assert_eq!(before, fx.observe());

    // A blob named as the commit, and a commit git does not have.
    for (sha, kind) in [
        (
            fx.repo.git(&["rev-parse", "HEAD:keep.txt"]),
            ErrorKind::Invalid,
        ),
        ("1".repeat(40), ErrorKind::NotFound),
    ] {
        log["checkpoints"][0]["commit_sha"] = sha.clone().into();
        fs::write(&path, serde_json::to_vec_pretty(&log).unwrap()).unwrap();
        let err = fx
            .mgr
            .diff(fx.session, cp.checkpoint_id, None, false)
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{sha}: {err}");
    }
}

#[test]
fn the_timeline_lists_checkpoints_and_operations_newest_first_with_git_diffstats() {
    let fx = Fixture::new();
    let c1 = fx.create(CheckpointMode::Commit, "c1");
    fx.repo.write("tracked.txt", "one\ntwo\nthree\n");
    fx.repo.write("new.txt", "new\n");
    let c2 = fx.snapshot("c2");
    let rollback = fx.rollback_hard(&c1);
    let undo = fx.undo();

    let timeline = fx.mgr.timeline(fx.session).unwrap();
    let shape: Vec<String> = timeline
        .iter()
        .map(|e| match e {
            TimelineEntry::Checkpoint(c) => {
                format!("checkpoint {} safety={}", c.checkpoint_id, c.safety)
            }
            TimelineEntry::Operation(op) => format!("{} {}", op.kind, op.safety_checkpoint_id),
        })
        .collect();
    assert_eq!(
        shape,
        [
            format!("undo {}", undo.safety_checkpoint_id),
            format!("checkpoint {} safety=true", undo.safety_checkpoint_id),
            format!("rollback {}", rollback.safety_checkpoint_id),
            format!("checkpoint {} safety=true", rollback.safety_checkpoint_id),
            format!("checkpoint {} safety=false", c2.checkpoint_id),
            format!("checkpoint {} safety=false", c1.checkpoint_id),
        ]
    );
    let stats = |i: usize| match &timeline[i] {
        TimelineEntry::Checkpoint(c) => c.changes,
        TimelineEntry::Operation(_) => panic!("not a checkpoint"),
    };
    assert_eq!(stats(5), None, "the first checkpoint has nothing before it");
    let c2_stat = stats(4).unwrap();
    let git = fx
        .repo
        .git(&["diff", "--shortstat", &c1.commit_sha, &c2.commit_sha]);
    let git = git.trim();
    assert_eq!(
        git,
        format!(
            "{} files changed, {} insertions(+), {} deletion(-)",
            c2_stat.files_changed, c2_stat.insertions, c2_stat.deletions
        )
    );
    // The rollback's safety snapshot holds c2's files: nothing changed since c2.
    assert_eq!(stats(3).unwrap().files_changed, 0);
    // JSON round trip: the same entries.
    let json = serde_json::to_string(&timeline).unwrap();
    let back: Vec<TimelineEntry> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, timeline);
    assert!(json.contains(r#""entry":"operation""#), "{json}");
}
