//! Many processes at once: creates in one session and across sessions, in commit mode and in
//! snapshot mode, while the user keeps writing files. Every process succeeds (they queue on the
//! repository lock instead of failing on git's `index.lock`) and every checkpoint is recorded,
//! with the log and the refs in agreement.

use std::collections::HashSet;
use std::process::Child;

use testutil::TestRepo;

use crate::common::*;

fn repo_with_work() -> TestRepo {
    let repo = TestRepo::new();
    for i in 0..20 {
        repo.write(format!("src/file{i}.txt"), format!("file {i}\n"));
    }
    repo.commit_all("initial");
    repo
}

fn spawn_create(repo: &TestRepo, session: &str, description: &str, snapshot: bool) -> Child {
    let mut cmd = cm(repo);
    cmd.args([
        "create",
        "--session-id",
        session,
        "--description",
        description,
        "--phase",
        "implement",
    ]);
    if snapshot {
        cmd.arg("--snapshot");
    }
    cmd.spawn().expect("spawn")
}

/// Waits for every child; asserts each exits 0 and returns the checkpoint ids they printed.
fn collect(children: Vec<(String, Child)>) -> Vec<(String, String)> {
    children
        .into_iter()
        .map(|(session, child)| {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "a concurrent create failed ({:?}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            let cp: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            (
                session,
                cp["checkpoint_id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

fn assert_recorded(repo: &TestRepo, session: &str, ids: &[String]) {
    let logged = assert_log_matches_refs(repo, session);
    let logged: HashSet<&str> = logged
        .iter()
        .map(|c| c["checkpoint_id"].as_str().expect("id"))
        .collect();
    let want: HashSet<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(
        logged, want,
        "session {session}: log and processes disagree"
    );
}

#[test]
fn ten_commit_mode_creates_in_one_session_all_succeed_and_are_all_recorded() {
    let repo = repo_with_work();
    let s = session(1);
    let mut children = Vec::new();
    for i in 0..10 {
        // The user keeps writing while the creates run.
        repo.write(format!("work/{i}.txt"), format!("work {i}\n"));
        children.push((s.clone(), spawn_create(&repo, &s, &format!("p{i}"), false)));
    }
    let ids: Vec<String> = collect(children).into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        10,
        "ids are unique"
    );
    assert_recorded(&repo, &s, &ids);
    // Every file written before the last create started is committed, nothing is left behind.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    for i in 0..10 {
        assert_eq!(
            repo.git(&["show", &format!("HEAD:work/{i}.txt")]),
            format!("work {i}")
        );
    }
    assert!(!repo.join(".git/index.lock").exists());
    assert_eq!(repo.git(&["tag"]).lines().count(), 10, "one tag each");
    repo.git(&["fsck", "--no-progress"]);
}

#[test]
fn twelve_creates_across_four_sessions_in_both_modes_all_succeed_and_are_recorded() {
    let repo = repo_with_work();
    let sessions: Vec<String> = (10..14).map(session).collect();
    let mut children = Vec::new();
    for i in 0..12 {
        repo.write(
            format!("src/file{i}.txt"),
            format!("edited by the user, round {i}\n"),
        );
        let s = &sessions[i % sessions.len()];
        children.push((
            s.clone(),
            spawn_create(&repo, s, &format!("p{i}"), i % 2 == 0),
        ));
    }
    let results = collect(children);
    for s in &sessions {
        let ids: Vec<String> = results
            .iter()
            .filter(|(rs, _)| rs == s)
            .map(|(_, id)| id.clone())
            .collect();
        assert_eq!(ids.len(), 3);
        assert_recorded(&repo, s, &ids);
    }
    // Snapshots never tag; commits do.
    assert_eq!(repo.git(&["tag"]).lines().count(), 6);
    assert!(!repo.join(".git/index.lock").exists());
    repo.git(&["fsck", "--no-progress"]);
}

#[test]
fn snapshots_rollbacks_and_undos_from_many_processes_keep_every_log_consistent() {
    let repo = repo_with_work();
    let a = session(20);
    let b = session(21);
    let base = run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &a,
            "--description",
            "base",
            "--phase",
            "plan",
            "--snapshot",
        ],
    );
    let base_id = base["checkpoint_id"].as_str().expect("id").to_owned();
    let mut children = Vec::new();
    for i in 0..10 {
        repo.write(format!("src/file{i}.txt"), format!("round {i}\n"));
        let child = match i % 5 {
            0 => cm(&repo)
                .args(["rollback", "--session-id", &a, "--checkpoint-id", &base_id])
                .spawn(),
            1 => cm(&repo)
                .args([
                    "rollback",
                    "--session-id",
                    &a,
                    "--checkpoint-id",
                    &base_id,
                    "--hard-reset",
                ])
                .spawn(),
            2 => cm(&repo).args(["undo", "--session-id", &a]).spawn(),
            _ => Ok(spawn_create(&repo, &b, &format!("b{i}"), i % 2 == 0)),
        };
        children.push((i, child.expect("spawn")));
    }
    for (i, child) in children {
        let out = child.wait_with_output().expect("wait");
        let code = out.status.code();
        // An undo that runs before any rollback has nothing to undo (exit 4); all else succeeds.
        let ok = out.status.success() || (i % 5 == 2 && code == Some(4));
        assert!(
            ok,
            "process {i} failed ({code:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log_a = assert_log_matches_refs(&repo, &a);
    let log_b = assert_log_matches_refs(&repo, &b);
    assert_eq!(log_b.len(), 4, "rounds 3, 4, 8 and 9 create in session b");
    // base + one safety snapshot per rollback or undo that ran.
    assert!(log_a.len() >= 5, "{}", log_a.len());
    assert!(!repo.join(".git/index.lock").exists());
    repo.git(&["fsck", "--no-progress"]);
}
