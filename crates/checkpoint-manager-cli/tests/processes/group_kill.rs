//! Killed together with its git child (issue 8, item 7): a harness kills the whole process group
//! of a `rollback --hard-reset` or an `undo` at a random moment, git child included, which can
//! leave git's `index.lock` (or a ref lock) behind. The next `undo` must recover on its own (the
//! journal of the killed operation proves the lock is its leftover; it says on stderr what it
//! removed) and bring back every byte of the state from before the killed command.

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

    let (mut killed_mid_way, mut recovered) = (0, 0);
    let began = Instant::now();
    for round in 0..24 {
        repo.write(
            format!("work/r{round}.txt"),
            format!("uncommitted {round}\n"),
        );
        let before = repo.tree_state();
        let args: Vec<&str> = if round % 2 == 0 {
            vec![
                "rollback",
                "--session-id",
                &s,
                "--checkpoint-id",
                &v1,
                "--hard-reset",
            ]
        } else {
            vec!["undo", "--session-id", &s]
        };
        let mut child = cm(&repo)
            .args(&args)
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        std::thread::sleep(Duration::from_micros(rng.below(150_000)));
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
        let now = repo.tree_state();

        // No manual step: the next undo works, and says what it removed.
        let out = run(&repo, &["undo", "--session-id", &s]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{what}: undo after the kill failed: {stderr}"
        );
        if stderr.contains("removed") {
            assert!(
                stderr.contains(".lock: left by checkpoint-manager process"),
                "{what}: {stderr}"
            );
            recovered += 1;
        }
        let after = repo.tree_state();
        assert!(
            now == before || after == before,
            "{what}: neither the state after the kill nor the undo is the state from before"
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
