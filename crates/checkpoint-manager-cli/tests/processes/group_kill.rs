//! Killed together with its git child (issue 8, item 7): a harness kills the whole process group
//! of a `rollback --hard-reset` or an `undo` at a random moment, git child included, which can
//! leave git's `index.lock` (or a ref lock) behind. The next command must recover on its own (the
//! journal of the killed operation proves the lock is its leftover; it says on stderr what it
//! removed), and `undo` (or `redo`, for an undo that finished) brings back every byte of the
//! state from before the killed command.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use testutil::TestRepo;

use crate::common::*;

/// Waits until no live process is left in group `pgid` (zombies count as gone).
fn wait_for_group(pgid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                    return false;
                };
                let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                    return false;
                };
                let f: Vec<&str> = after.split_whitespace().collect();
                f.len() > 2 && f[2] == pgid.to_string() && f[0] != "Z"
            })
    };
    while alive() {
        assert!(Instant::now() < deadline, "group {pgid} did not exit");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until git's `index.lock` appears (or the command ends, or 5 s pass).
fn wait_for_index_lock(repo: &TestRepo, child: &mut std::process::Child) {
    let lock = repo.join(".git/index.lock");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !lock.exists() && Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::hint::spin_loop();
    }
}

/// The session's operation history, newest first.
fn operations(repo: &TestRepo, session: &str) -> Vec<serde_json::Value> {
    let listed = run_json(repo, &["op-log", "--session-id", session]);
    listed.as_array().cloned().unwrap_or_default()
}

#[test]
fn undo_recovers_after_the_whole_process_group_was_killed() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    // Many files that differ between the two states: the restores' `git read-tree -u` (which
    // holds index.lock) is most of each command's time.
    for i in 0..600 {
        repo.write(
            format!("src/m{}/f{i}.txt", i % 8),
            format!("v1 {i}\n").repeat(20),
        );
    }
    repo.commit_all("v1");
    let s = session(41);
    let v1 = run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "v1",
            "--phase",
            "plan",
        ],
    );
    let v1 = v1["checkpoint_id"].as_str().expect("id").to_owned();
    for i in 0..600 {
        repo.write(
            format!("src/m{}/f{i}.txt", i % 8),
            format!("v2 {i}\n").repeat(20),
        );
    }
    repo.commit_all("v2");
    // A safety snapshot exists before the first kill, so every undo has one to return to.
    run_json(
        &repo,
        &[
            "rollback",
            "--session-id",
            &s,
            "--checkpoint-id",
            &v1,
            "--hard-reset",
        ],
    );
    run_json(&repo, &["undo", "--session-id", &s]);

    let rollback: Vec<&str> = vec![
        "rollback",
        "--session-id",
        &s,
        "--checkpoint-id",
        &v1,
        "--hard-reset",
    ];
    let (mut killed_mid_way, mut recovered) = (0, 0);
    let began = Instant::now();
    for round in 0..24 {
        repo.write(
            format!("work/r{round}.txt"),
            format!("uncommitted {round}\n"),
        );
        // Even rounds kill a rollback; odd rounds kill the undo of a rollback that went through.
        let args: Vec<&str> = if round % 2 == 0 {
            rollback.clone()
        } else {
            run_json(&repo, &rollback);
            vec!["undo", "--session-id", &s]
        };
        let before = repo.tree_state();
        let entries_before = operations(&repo, &s).len();
        let mut child = cm(&repo)
            .args(&args)
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        if round % 4 < 2 {
            // Half the rounds kill at a random moment; the others as soon as git holds the
            // index lock, so that a leftover lock is certain to be met, whatever the load.
            std::thread::sleep(Duration::from_micros(rng.below(150_000)));
        } else {
            wait_for_index_lock(&repo, &mut child);
        }
        let killed = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status()
            .expect("kill");
        let status = child.wait().expect("wait");
        wait_for_group(pgid);
        let what = format!("round {round}: {args:?} ({status:?})");
        if killed.success() && status.code().is_none() {
            killed_mid_way += 1;
        }

        // No manual step: the next command works, says what it removed, and the state from
        // before the killed command comes back. The killed command's entry (recorded with its
        // safety snapshot before anything changed) says how: a finished undo is taken back by
        // redo; a finished rollback, or any operation that was cut short, by undo. Without an
        // entry nothing changed, and a snapshot (which takes the repository lock) must work.
        let ops = operations(&repo, &s);
        let back = match ops.first().filter(|_| ops.len() > entries_before) {
            Some(op) if op["kind"] == "undo" && op["state"] == "done" => "redo",
            Some(_) => "undo",
            None => {
                assert_eq!(
                    repo.tree_state(),
                    before,
                    "{what}: no entry, yet files changed"
                );
                "create"
            }
        };
        let next: Vec<&str> = match back {
            "create" => vec![
                "create",
                "--session-id",
                &s,
                "--description",
                "after the kill",
                "--phase",
                "implement",
                "--snapshot",
            ],
            other => vec![other, "--session-id", &s],
        };
        let out = run(&repo, &next);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{what}: {back} after the kill failed: {stderr}"
        );
        if stderr.contains("removed") {
            assert!(
                stderr.contains(".lock: left by checkpoint-manager process")
                    && stderr.contains("checkpoint-manager: note: removed "),
                "{what}: {stderr}"
            );
            recovered += 1;
        }
        assert_eq!(
            repo.tree_state(),
            before,
            "{what}: {back} did not bring back every byte"
        );
        assert!(!repo.join(".git/index.lock").exists(), "{what}");
        assert!(
            repo.git_try(&["status", "--porcelain"]).is_some(),
            "{what}: git status"
        );
    }
    eprintln!(
        "{killed_mid_way} of 24 commands killed mid-way, {recovered} leftover locks removed, in {:?}",
        began.elapsed()
    );
    assert!(killed_mid_way >= 6, "the kills rarely landed mid-command");
    assert!(
        recovered >= 1,
        "no kill left a lock behind: the test proves nothing"
    );
}
