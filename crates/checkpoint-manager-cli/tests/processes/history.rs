//! The operation history under SIGKILL: a rollback killed at a random moment leaves either no
//! entry (and nothing changed) or an entry whose safety snapshot holds the state before it, so
//! one `undo` brings back every byte, with no manual step.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use serde_json::Value;
use testutil::TestRepo;

use crate::common::*;

fn operations(repo: &TestRepo, session: &str) -> Vec<Value> {
    let log: Value =
        serde_json::from_slice(&std::fs::read(repo.log_path(session)).expect("log")).expect("json");
    log["operations"].as_array().cloned().unwrap_or_default()
}

/// Waits until no process of the group `pgid` runs: the killed command's git children finish
/// on their own.
fn wait_for_group(pgid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        std::fs::read_dir("/proc").is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
                let fields: Vec<&str> = after.split_whitespace().collect();
                fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z"
            })
        })
    };
    while alive() {
        assert!(
            Instant::now() < deadline,
            "process group {pgid} did not exit"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn undo_after_a_killed_rollback_brings_back_the_state_before_it() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    for i in 0..300 {
        repo.write(
            format!("src/m{}/f{i}.txt", i % 10),
            format!("{i}\n").repeat(50),
        );
    }
    repo.commit_all("initial");
    let s = session(40);
    let snap = run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "start",
            "--phase",
            "plan",
            "--snapshot",
        ],
    );
    let target = snap["checkpoint_id"].as_str().expect("id").to_owned();
    let rollback = [
        "rollback",
        "--session-id",
        &s,
        "--checkpoint-id",
        &target,
        "--hard-reset",
    ];
    // Kills land anywhere within the time a whole rollback takes on this machine now.
    repo.write("calibrate.txt", "c\n");
    let started = Instant::now();
    run_json(&repo, &rollback);
    let window = started.elapsed().as_micros() as u64 * 3 / 2;
    run_json(&repo, &["undo", "--session-id", &s]);
    let (mut undone, mut untouched) = (0, 0);
    // 20 rounds at least, more until enough kills landed after the entry (timing varies).
    for round in 0..60 {
        if round >= 20 && undone >= 5 {
            break;
        }
        for _ in 0..3 {
            let i = rng.below(300);
            repo.write(
                format!("src/m{}/f{i}.txt", i % 10),
                format!("round {round}\n"),
            );
        }
        repo.write(format!("new/r{round}.txt"), "new\n");
        let before = repo.tree_state();
        let entries = operations(&repo, &s).len();
        let mut child = cm(&repo)
            .args(rollback)
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        std::thread::sleep(Duration::from_micros(rng.below(window)));
        let _ = child.kill();
        let _ = child.wait();
        wait_for_group(pgid);

        let ops = operations(&repo, &s);
        if ops.len() == entries {
            // Killed before its entry was written: nothing changed.
            assert_eq!(
                repo.tree_state(),
                before,
                "round {round}: no entry, yet files changed"
            );
            untouched += 1;
            continue;
        }
        let killed = ops.last().expect("entry");
        assert_eq!(killed["kind"], "rollback", "round {round}");
        let out = run_json(&repo, &["undo", "--session-id", &s]);
        assert_eq!(
            out["undone"]["operation_id"], killed["operation_id"],
            "round {round}"
        );
        let now = repo.tree_state();
        let differ: Vec<&String> = before
            .iter()
            .chain(&now)
            .map(|(path, _)| path)
            .filter(|path| {
                before.iter().find(|(p, _)| p == *path) != now.iter().find(|(p, _)| p == *path)
            })
            .collect();
        assert!(
            differ.is_empty(),
            "round {round}: undo after a killed rollback differs at {differ:?}"
        );
        undone += 1;
    }
    eprintln!("{undone} rollbacks undone, {untouched} killed before their entry ({window} µs)");
    assert!(
        undone >= 5,
        "the kills never landed after the entry was written"
    );
}
