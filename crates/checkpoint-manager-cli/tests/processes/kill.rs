//! SIGKILL at random moments. Creates (commit and snapshot mode), rollbacks (mixed and hard),
//! undos and repairs are killed 0-40 ms after they start; after each kill the log must parse (old or new,
//! never half written), every logged checkpoint must have its ref and commit, the state the
//! user had before the killed command must still be recoverable (from a checkpoint ref, or
//! because it is still the work tree), and the next command must work.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::time::{Duration, Instant};

use testutil::TestRepo;

use crate::common::*;

/// The user's part of the work tree (the ignored file is the tool's business only in that it
/// must never change).
fn user_state(repo: &TestRepo) -> State {
    repo.tree_state()
        .into_iter()
        .filter(|(p, _)| p != "notes.log")
        .collect()
}

/// Waits until every process of the group `pgid` has exited: a killed command's git children
/// are not killed with it and finish on their own. Zombies count as exited (they are reaped by
/// init, which may take its time).
fn wait_for_group(pgid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_alive(pgid) {
        assert!(
            Instant::now() < deadline,
            "process group {pgid} did not exit"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return false;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z"
    })
}

fn logged_ids(repo: &TestRepo, s: &str) -> Vec<String> {
    read_log(repo, s)
        .expect("log parses")
        .unwrap_or_default()
        .iter()
        .map(|c| c["checkpoint_id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn sigkill_at_random_moments_never_corrupts_the_log_or_loses_a_state() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    // Enough files that a command takes a few tens of milliseconds.
    for i in 0..300 {
        repo.write(
            format!("src/m{}/f{i}.txt", i % 10),
            format!("{i}\n").repeat(50),
        );
    }
    repo.write(".gitignore", "*.log\n");
    repo.write("notes.log", "ignored, never touched\n");
    repo.commit_all("initial");
    let s = session(30);
    run_json(
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
    run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "start commit",
            "--phase",
            "plan",
        ],
    );

    let mut reader = TreeReader::default();
    let (mut interrupted, mut finished) = (0, 0);
    for round in 0..30 {
        // The user edits: changes, new files, deletions.
        for _ in 0..3 {
            let i = rng.below(300);
            repo.write(
                format!("src/m{}/f{i}.txt", i % 10),
                format!("round {round} edit\n"),
            );
        }
        repo.write(
            format!("new/r{round}.txt"),
            format!("new in round {round}\n"),
        );
        let victim = format!(
            "src/m{}/f{}.txt",
            round % 10,
            rng.below(30) * 10 + round % 10
        );
        let _ = std::fs::remove_file(repo.join(victim));

        let ids = logged_ids(&repo, &s);
        let target = ids[rng.below(ids.len() as u64) as usize].clone();
        let args: Vec<&str> = match rng.below(6) {
            0 => vec![
                "create",
                "--session-id",
                &s,
                "--description",
                "k",
                "--phase",
                "implement",
            ],
            1 => vec![
                "create",
                "--session-id",
                &s,
                "--description",
                "k",
                "--phase",
                "implement",
                "--snapshot",
            ],
            2 => vec!["rollback", "--session-id", &s, "--checkpoint-id", &target],
            3 => vec![
                "rollback",
                "--session-id",
                &s,
                "--checkpoint-id",
                &target,
                "--hard-reset",
            ],
            4 => vec!["undo", "--session-id", &s],
            _ => vec!["repair", "--session-id", &s],
        };
        let before = user_state(&repo);
        let mut child = cm(&repo)
            .args(&args)
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        let _ = child.kill(); // SIGKILL, the command only: its git children run on
        let status = child.wait().expect("wait");
        wait_for_group(pgid);
        if status.signal() == Some(9) {
            interrupted += 1;
        } else {
            finished += 1;
        }
        let what = format!("round {round}: {args:?} ({status:?})");

        // The log is old or new, never half written; logged checkpoints have refs and commits.
        let logged = assert_log_matches_refs(&repo, &s);
        assert!(
            logged.len() >= ids.len(),
            "{what}: checkpoints vanished from the log"
        );
        // The state before the command is still recoverable.
        let now = user_state(&repo);
        let held = reader.checkpoint_states(&repo);
        assert!(
            now == before || held.contains(&before),
            "{what}: the state before the killed command is lost"
        );
        assert_eq!(
            repo.read("notes.log"),
            b"ignored, never touched\n",
            "{what}"
        );
        assert!(
            !repo.join(".git/index.lock").exists(),
            "{what}: a stale index.lock"
        );
        // The next command works.
        let out = run(&repo, &["list", "--session-id", &s]);
        assert!(out.status.success(), "{what}: list after the kill: {out:?}");
    }
    eprintln!("{interrupted} commands killed mid-way, {finished} finished first");
    assert!(interrupted >= 3, "the kills never landed mid-command");

    // Finally: a normal create and a repair both work, and repair adopts every checkpoint whose
    // ref was written by a command killed before it could log it.
    run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "after",
            "--phase",
            "cleanup",
            "--snapshot",
        ],
    );
    run_json(&repo, &["repair", "--session-id", &s]);
    let logged = assert_log_matches_refs(&repo, &s);
    let refs = checkpoint_refs(&repo);
    let prefix = format!("refs/checkpoints/{s}/");
    for name in refs.keys().filter(|n| n.starts_with(&prefix)) {
        let id = &name[prefix.len()..];
        assert!(
            logged.iter().any(|c| c["checkpoint_id"] == id),
            "ref {name} is not in the repaired log"
        );
    }
    let first = logged[0]["checkpoint_id"].as_str().expect("id").to_owned();
    run_json(
        &repo,
        &[
            "rollback",
            "--session-id",
            &s,
            "--checkpoint-id",
            &first,
            "--hard-reset",
        ],
    );
    run_json(&repo, &["undo", "--session-id", &s]);
    repo.git(&["fsck", "--no-progress"]);
    let leftovers: Vec<String> = std::fs::read_dir(private_dir(&repo))
        .expect("private dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    eprintln!("left in the private folder after the kills: {leftovers:?}");
}

#[test]
fn the_next_command_right_after_a_sigkill_works() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    for i in 0..400 {
        repo.write(format!("src/f{i}.txt"), format!("{i}\n").repeat(200));
    }
    repo.commit_all("initial");
    let s = session(31);
    let mut failures = Vec::new();
    for round in 0..40 {
        // Many changed files: the create's `git update-index` holds index.lock for a while.
        for i in 0..400 {
            repo.write(format!("src/f{i}.txt"), format!("round {round} file {i}\n"));
        }
        let mut child = cm(&repo)
            .args(["create", "--session-id", &s, "--description", "killed"])
            .args(["--phase", "implement"])
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        let _ = child.kill();
        let _ = child.wait();
        // The user (or the agent) runs the next command at once.
        let out = run(
            &repo,
            &[
                "create",
                "--session-id",
                &s,
                "--description",
                "next",
                "--phase",
                "implement",
            ],
        );
        if !out.status.success() {
            failures.push(format!(
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        wait_for_group(pgid);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        failures
    );
}

#[test]
fn temporary_indexes_of_killed_commands_do_not_pile_up() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    for i in 0..300 {
        repo.write(format!("src/f{i}.txt"), format!("{i}\n"));
    }
    repo.commit_all("initial");
    let s = session(32);
    for round in 0..12 {
        repo.write(format!("src/f{round}.txt"), format!("round {round}\n"));
        let mut child = cm(&repo)
            .args(["create", "--session-id", &s, "--description", "killed"])
            .args(["--phase", "implement", "--snapshot"])
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = child.id();
        std::thread::sleep(Duration::from_micros(2_000 + rng.below(10_000)));
        let _ = child.kill();
        let _ = child.wait();
        wait_for_group(pgid);
    }
    // The next normal commands run to completion.
    run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "ok",
            "--phase",
            "plan",
            "--snapshot",
        ],
    );
    let leftovers: Vec<String> = std::fs::read_dir(private_dir(&repo))
        .expect("private dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index-"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}
