//! Retention (`prune`, and `create` beyond the limits set in git config): what leaves goes to the
//! trash first, the newest checkpoint and the safety snapshots undo needs stay, a dry run
//! changes nothing, aged-out trash entries are deleted and `gc` really reclaims their objects.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkpoint_manager::{
    Checkpoint, CheckpointId, CheckpointManager, Error, ErrorKind, Notice, NoticeSink, Options,
    PruneOutcome, PruneRequest, SessionId, Sessions,
};

use crate::common::*;

fn keep_last(n: u64) -> PruneRequest {
    PruneRequest::new().with_keep_last(Some(n))
}

fn prune(fx: &Fixture, request: &PruneRequest) -> PruneOutcome {
    fx.mgr
        .prune(Sessions::One(fx.session), request)
        .unwrap_or_else(|e| panic!("prune: {e}"))
}

fn ids(pruned: &[checkpoint_manager::PrunedCheckpoint]) -> BTreeSet<CheckpointId> {
    pruned.iter().map(|p| p.checkpoint_id).collect()
}

fn set(cps: &[&Checkpoint]) -> BTreeSet<CheckpointId> {
    cps.iter().map(|c| c.checkpoint_id).collect()
}

fn exists(repo: &TestRepo, name: &str) -> bool {
    repo.git_try(&["rev-parse", "-q", "--verify", name])
        .is_some()
}

fn private(fx: &Fixture, cp: &Checkpoint) -> String {
    format!("refs/checkpoints/{}/{}", fx.session, cp.checkpoint_id)
}

fn trash(fx: &Fixture, cp: &Checkpoint) -> String {
    format!("refs/checkpoint-trash/{}/{}", fx.session, cp.checkpoint_id)
}

fn assert_fsck_clean(repo: &TestRepo) {
    let out = repo.git_output(&["fsck", "--full", "--no-dangling"]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "git fsck: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three commit checkpoints, each with its own change.
fn three_commits(fx: &Fixture) -> [Checkpoint; 3] {
    [1, 2, 3].map(|n| {
        fx.repo.write("tracked.txt", format!("v{n}\n"));
        fx.create(checkpoint_manager::CheckpointMode::Commit, &format!("c{n}"))
    })
}

#[test]
fn keep_last_moves_the_older_checkpoints_to_the_trash_with_their_tags_and_records() {
    let fx = Fixture::new();
    let [c1, c2, c3] = three_commits(&fx);
    let head = fx.repo.head();

    let outcome = prune(&fx, &keep_last(1));

    assert_eq!(ids(&outcome.removed), set(&[&c1, &c2]));
    assert!(outcome.purged.is_empty());
    assert_eq!(fx.mgr.list(fx.session).unwrap(), std::slice::from_ref(&c3));
    let log = log_json(&fx.repo, fx.session);
    assert_eq!(log["checkpoints"].as_array().unwrap().len(), 1);
    for gone in [&c1, &c2] {
        assert!(!exists(&fx.repo, &private(&fx, gone)), "private ref kept");
        let tag = format!("checkpoint-{}", gone.checkpoint_id);
        assert!(!exists(&fx.repo, &format!("refs/tags/{tag}")), "tag kept");
        assert!(outcome.removed_tags.contains(&tag));
        // Recoverable: the trash ref reaches the commit, through the metadata tag.
        assert_eq!(
            resolve(&fx.repo, &format!("{}^{{commit}}", trash(&fx, gone))),
            Some(gone.commit_sha.to_string())
        );
    }
    assert!(exists(&fx.repo, &private(&fx, &c3)));
    assert!(exists(
        &fx.repo,
        &format!("refs/tags/checkpoint-{}", c3.checkpoint_id)
    ));
    assert_eq!(fx.repo.head(), head, "the branch never moves");
    assert_eq!(outcome.reclaimable_bytes, 0, "nothing left the trash yet");
    assert_fsck_clean(&fx.repo);
}

#[test]
fn the_newest_checkpoint_stays_however_old_it_is() {
    let fx = Fixture::new();
    let [_, _, c3] = three_commits(&fx);
    std::thread::sleep(Duration::from_millis(1100));

    let outcome = prune(
        &fx,
        &PruneRequest::new().with_older_than(Some(Duration::from_secs(1))),
    );

    assert_eq!(outcome.removed.len(), 2);
    assert_eq!(outcome.older_than_seconds, Some(1));
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c3]);
}

/// A, B, then a rollback to A (safety snapshot S of the state at B), then C.
fn with_a_rollback(fx: &Fixture) -> (Checkpoint, Checkpoint, Checkpoint) {
    fx.repo.write("notes.txt", "at A\n");
    let a = fx.snapshot("A");
    fx.repo.write("notes.txt", "at B\n");
    fx.snapshot("B");
    let safety = fx.rollback_hard(&a).safety_checkpoint_id;
    let s = fx.mgr.get(fx.session, safety).unwrap();
    let c = fx.snapshot("C");
    (a, s, c)
}

#[test]
fn a_safety_snapshot_undo_needs_stays_and_undo_still_works() {
    let fx = Fixture::new();
    let (a, s, c) = with_a_rollback(&fx);

    let outcome = prune(&fx, &keep_last(1));

    assert!(ids(&outcome.removed).contains(&a.checkpoint_id));
    assert!(!ids(&outcome.removed).contains(&s.checkpoint_id));
    assert!(exists(&fx.repo, &private(&fx, &s)));
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c]);
    // Undo returns to the state before the rollback: notes.txt as it was at B.
    let undone = fx.undo();
    assert_eq!(undone.checkpoint_id, s.checkpoint_id);
    assert_eq!(fx.repo.read("notes.txt"), b"at B\n");
}

#[test]
fn include_safety_removes_the_safety_snapshots_beyond_the_limits_too() {
    let fx = Fixture::new();
    let (_, s, _) = with_a_rollback(&fx);

    let outcome = prune(&fx, &keep_last(1).with_include_safety(true));

    let removed_safety: Vec<_> = outcome.removed.iter().filter(|p| p.safety).collect();
    assert_eq!(removed_safety.len(), 1);
    assert_eq!(removed_safety[0].checkpoint_id, s.checkpoint_id);
    assert!(!exists(&fx.repo, &private(&fx, &s)));
    assert!(exists(&fx.repo, &trash(&fx, &s)));
    assert!(fx.mgr.get(fx.session, s.checkpoint_id).is_err());
}

#[test]
fn a_dry_run_reports_the_same_and_changes_nothing() {
    let fx = Fixture::new();
    let [c1, c2, _] = three_commits(&fx);
    fx.mgr.delete(fx.session, c1.checkpoint_id, true).unwrap();
    let before = fx.observe();
    let log_before = log_bytes(&fx.repo, fx.session);

    let dry = prune(&fx, &keep_last(1).with_dry_run(true).with_gc(true));

    assert!(dry.dry_run);
    assert!(!dry.gc, "no gc in a dry run");
    assert_eq!(ids(&dry.removed), set(&[&c2]));
    assert_eq!(ids(&dry.purged), set(&[&c1]));
    assert_eq!(fx.observe(), before);
    assert_eq!(log_bytes(&fx.repo, fx.session), log_before);

    let real = prune(&fx, &keep_last(1));
    assert_eq!(
        (
            ids(&real.removed),
            ids(&real.purged),
            real.reclaimable_bytes
        ),
        (ids(&dry.removed), ids(&dry.purged), dry.reclaimable_bytes)
    );
}

#[test]
fn trash_entries_age_out_and_gc_reclaims_their_objects() {
    let fx = Fixture::new();
    fx.repo
        .write("secret.txt", "only snapshot A holds these bytes\n");
    let blob = fx.repo.git(&["hash-object", "secret.txt"]);
    let a = fx.snapshot("A");
    std::fs::remove_file(fx.repo.join("secret.txt")).unwrap();
    let b = fx.snapshot("B");

    let first = prune(&fx, &keep_last(1).with_gc(true));
    assert_eq!(ids(&first.removed), set(&[&a]));
    assert!(exists(&fx.repo, &trash(&fx, &a)));
    assert!(exists(&fx.repo, &blob), "the trash keeps it recoverable");

    // The next prune finds A in the trash, beyond the same limit: its ref goes, gc reclaims.
    let second = prune(&fx, &keep_last(1).with_gc(true));
    assert!(second.removed.is_empty());
    assert_eq!(ids(&second.purged), set(&[&a]));
    assert!(second.gc);
    assert!(second.reclaimable_bytes > 0);
    assert!(!exists(&fx.repo, &trash(&fx, &a)));
    let out = fx.repo.git_output(&["cat-file", "-e", &blob]);
    assert!(
        !out.status.success(),
        "the pruned snapshot's blob survived gc"
    );
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [b]);
    assert_fsck_clean(&fx.repo);
}

#[test]
fn a_deleted_checkpoint_ages_out_of_the_trash_under_the_same_limits() {
    let fx = Fixture::new();
    let [c1, c2, c3] = three_commits(&fx);
    fx.mgr.delete(fx.session, c2.checkpoint_id, true).unwrap();

    let outcome = prune(&fx, &keep_last(2));

    // c2 has one newer checkpoint (c3): within the limit, it stays in the trash.
    assert!(outcome.purged.is_empty());
    assert!(outcome.removed.is_empty(), "{outcome:?}");
    assert!(exists(&fx.repo, &trash(&fx, &c2)));
    let outcome = prune(&fx, &keep_last(1));
    assert_eq!(ids(&outcome.removed), set(&[&c1]));
    assert_eq!(ids(&outcome.purged), set(&[&c2]));
    assert!(!exists(&fx.repo, &trash(&fx, &c2)));
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c3]);
}

#[test]
fn all_sessions_are_pruned_each_keeping_its_newest() {
    let fx = Fixture::new();
    let other = SessionId::parse(&session_id(2)).unwrap();
    let mut newest = Vec::new();
    for session in [fx.session, other] {
        for n in 0..3 {
            fx.repo.write("tracked.txt", format!("{session} {n}\n"));
            let cp = fx
                .mgr
                .create(
                    session,
                    &request(checkpoint_manager::CheckpointMode::Snapshot, "s"),
                )
                .unwrap();
            if n == 2 {
                newest.push(cp);
            }
        }
    }

    let outcome = fx.mgr.prune(Sessions::All, &keep_last(1)).unwrap();

    assert_eq!(outcome.removed.len(), 4);
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [newest[0].clone()]);
    assert_eq!(fx.mgr.list(other).unwrap(), [newest[1].clone()]);
}

#[test]
fn without_limits_prune_is_refused_unless_git_config_sets_them() {
    let fx = Fixture::new();
    let [_, _, c3] = three_commits(&fx);
    let before = fx.observe();

    let err = fx
        .mgr
        .prune(Sessions::One(fx.session), &PruneRequest::new())
        .unwrap_err();
    assert!(matches!(err, Error::NoRetentionLimit { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(
        err.to_string().contains("checkpoint-manager.keepLast"),
        "{err}"
    );
    assert_eq!(fx.observe(), before);

    fx.repo.git(&["config", "checkpoint-manager.keepLast", "1"]);
    let outcome = prune(&fx, &PruneRequest::new());
    assert_eq!(outcome.keep_last, Some(1));
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c3]);
}

#[test]
fn an_unknown_session_is_not_found_and_nothing_is_created() {
    let fx = Fixture::new();
    let before = fx.observe();
    let err = fx
        .mgr
        .prune(Sessions::One(fx.session), &keep_last(1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(fx.observe(), before);
}

fn collecting_notices(repo: TestRepo) -> (Fixture, Arc<Mutex<Vec<Notice>>>) {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    let options = Options::default().with_notice_sink(NoticeSink::new(move |n| {
        sink.lock().unwrap().push(n.clone())
    }));
    (Fixture::over(repo, options), heard)
}

#[test]
fn create_prunes_beyond_the_configured_limits_and_says_so() {
    let (fx, heard) = collecting_notices(Fixture::new().repo);
    fx.repo.git(&["config", "checkpoint-manager.keepLast", "2"]);
    let [c1, c2, c3] = three_commits(&fx);

    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c3.clone(), c2.clone()]);
    assert!(!exists(&fx.repo, &private(&fx, &c1)));
    assert!(exists(&fx.repo, &trash(&fx, &c1)));
    let pruned: Vec<Notice> = heard
        .lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notice::Pruned { .. }))
        .cloned()
        .collect();
    assert_eq!(pruned.len(), 1, "{pruned:?}");
    assert!(matches!(
        pruned[0],
        Notice::Pruned {
            removed: 1,
            purged: 0,
            ..
        }
    ));
    assert!(pruned[0]
        .to_string()
        .contains("checkpoint-manager.keepLast"));

    // maxAge (read the same way): everything but the checkpoint just made is older than 1s.
    fx.repo
        .git(&["config", "--unset", "checkpoint-manager.keepLast"]);
    fx.repo.git(&["config", "checkpoint-manager.maxAge", "1s"]);
    std::thread::sleep(Duration::from_millis(1100));
    fx.repo.write("tracked.txt", "v4\n");
    let c4 = fx.create(checkpoint_manager::CheckpointMode::Commit, "c4");
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c4]);
    assert!(
        !exists(&fx.repo, &trash(&fx, &c1)),
        "c1 aged out of the trash"
    );
}

#[test]
fn a_maxage_that_does_not_parse_refuses_create_with_nothing_changed() {
    let fx = Fixture::new();
    fx.repo
        .git(&["config", "checkpoint-manager.maxAge", "soon"]);
    fx.repo.write("tracked.txt", "changed\n");
    let before = fx.observe();
    let err = fx
        .mgr
        .create(
            fx.session,
            &request(checkpoint_manager::CheckpointMode::Commit, "x"),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("soon"), "{err}");
    assert_eq!(fx.observe(), before);
}

fn bare_remote(fx: &Fixture) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fx.repo
        .git(&["init", "-q", "--bare", dir.path().to_str().unwrap()]);
    dir
}

fn remote_refs(fx: &Fixture, remote: &str) -> Vec<String> {
    fx.repo
        .git(&["ls-remote", "--refs", remote])
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn prune_with_a_remote_deletes_the_pruned_refs_there_too() {
    let fx = Fixture::new();
    let [c1, c2, c3] = three_commits(&fx);
    let remote = bare_remote(&fx);
    let url = remote.path().to_str().unwrap().to_owned();
    fx.mgr.push(Some(&url), Sessions::One(fx.session)).unwrap();
    assert_eq!(remote_refs(&fx, &url).len(), 6);

    let outcome = prune(&fx, &keep_last(1).with_remote(Some(url.clone())));

    assert_eq!(outcome.remote.as_deref(), Some(url.as_str()));
    assert_eq!(outcome.remote_removed.len(), 4, "{outcome:?}");
    let left: BTreeSet<String> = remote_refs(&fx, &url).into_iter().collect();
    let want: BTreeSet<String> = [
        private(&fx, &c3),
        format!("refs/tags/checkpoint-{}", c3.checkpoint_id),
    ]
    .into();
    assert_eq!(left, want);
    assert_eq!(ids(&outcome.removed), set(&[&c1, &c2]));
}

#[test]
fn an_unreachable_remote_is_a_git_failure_that_reports_the_local_prune() {
    let fx = Fixture::new();
    let [_, _, c3] = three_commits(&fx);
    let missing = fx.repo.join("no-such-remote.git");

    let err = fx
        .mgr
        .prune(
            Sessions::One(fx.session),
            &keep_last(1).with_remote(Some(missing.to_str().unwrap().to_owned())),
        )
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Git, "{err}");
    let Error::PruneRemoteFailed {
        outcome, removed, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*removed, outcome.removed.len()), (2, 2));
    assert!(err.to_string().contains("no-such-remote.git"), "{err}");
    assert_eq!(fx.mgr.list(fx.session).unwrap(), [c3], "pruned here");
}

#[test]
fn manager_without_notices_still_prunes_on_create() {
    let repo = Fixture::new().repo;
    repo.git(&["config", "checkpoint-manager.keepLast", "1"]);
    let mgr = CheckpointManager::with_options(repo.path(), Options::default()).unwrap();
    let session = SessionId::parse(&session_id(1)).unwrap();
    for n in 0..2 {
        repo.write("tracked.txt", format!("{n}\n"));
        mgr.create(
            session,
            &request(checkpoint_manager::CheckpointMode::Snapshot, "s"),
        )
        .unwrap();
    }
    assert_eq!(mgr.list(session).unwrap().len(), 1);
}
