//! The user's own git racing our restores (issue 8, item 5). A real `git commit` runs while a
//! `rollback --hard-reset` or an `undo` runs. Whatever the interleaving, every commit the user
//! made (its `git commit` exited 0) stays reachable from a ref (the branch, or the safety
//! snapshot whose base it is), with its file's bytes; our command either succeeds or says that
//! HEAD changed underneath it (exit 3), that the index was locked (exit 6) or that git found a
//! ref locked (exit 5); never a silent loss.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant};

use testutil::{hermetic_env, TestRepo};

use crate::common::*;

/// Runs `git commit` as the user would; returns the new commit's id when it succeeded.
fn user_commit(repo: &TestRepo, round: u32) -> Option<String> {
    let run = |args: &[&str]| {
        let mut cmd = Command::new("git");
        cmd.current_dir(repo.path()).args(args);
        for (k, v) in hermetic_env() {
            cmd.env(k, v);
        }
        cmd.output().expect("git")
    };
    let path = format!("user/r{round}.txt");
    repo.write(&path, format!("the user's work of round {round}\n"));
    if !run(&["add", "--", &path]).status.success() {
        return None;
    }
    // The full id is in the summary line: "[main <id>] message".
    let out = run(&[
        "-c",
        "core.abbrev=no",
        "commit",
        "-m",
        &format!("user round {round}"),
    ]);
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.lines().next().unwrap_or_default();
    let id = summary.split(']').next()?.rsplit(' ').next()?.to_owned();
    Some(repo.git(&["rev-parse", "--verify", &format!("{id}^{{commit}}")]))
}

#[test]
fn a_user_commit_racing_a_rollback_or_an_undo_is_never_lost() {
    let mut rng = Rng::from_env();
    let repo = TestRepo::new();
    for i in 0..300 {
        repo.write(format!("src/f{i}.txt"), format!("{i}\n").repeat(40));
    }
    repo.commit_all("initial");
    let s = session(40);
    let start = run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "start",
            "--phase",
            "plan",
        ],
    );
    let start = start["checkpoint_id"].as_str().expect("id").to_owned();
    // A safety snapshot exists from the start, so every undo has one to return to.
    let rollback = [
        "rollback",
        "--session-id",
        &s,
        "--checkpoint-id",
        &start,
        "--hard-reset",
    ];
    run_json(&repo, &rollback);

    let mut made: Vec<(u32, String)> = Vec::new();
    let mut outcomes: BTreeMap<String, u32> = BTreeMap::new();
    let began = Instant::now();
    for round in 0..24 {
        // Work for the restore to do.
        for i in 0..40 {
            let n = rng.below(300);
            repo.write(format!("src/f{n}.txt"), format!("round {round} edit {i}\n"));
        }
        let args: Vec<&str> = if round % 2 == 0 {
            rollback.to_vec()
        } else {
            vec!["undo", "--session-id", &s]
        };
        let ours = cm(&repo).args(&args).spawn().expect("spawn");
        std::thread::sleep(Duration::from_micros(rng.below(200_000)));
        let commit = user_commit(&repo, round);
        let out = ours.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().expect("exit code");
        match code {
            0 => {}
            3 => assert!(
                stderr.contains("changed underneath"),
                "round {round}: {stderr}"
            ),
            // The user's git held the index or the branch's lock when we looked.
            6 => assert!(stderr.contains(".lock"), "round {round}: {stderr}"),
            // The rollback before this undo was refused: the history has nothing in effect.
            4 if args[0] == "undo" => assert!(
                stderr.contains("nothing to undo"),
                "round {round}: {stderr}"
            ),
            // The user's git held the branch's lock longer than git waits for it.
            5 => assert!(
                stderr.contains(".lock': File exists"),
                "round {round}: {stderr}"
            ),
            _ => panic!("round {round}: {args:?} exited {code}: {stderr}"),
        }
        if code != 0 {
            eprintln!("round {round}: {stderr}");
        }
        *outcomes
            .entry(format!(
                "{} exit {code}, user commit {}",
                args[0],
                if commit.is_some() { "made" } else { "refused" }
            ))
            .or_default() += 1;
        if let Some(commit) = commit {
            made.push((round, commit));
        }

        // Every commit the user made so far is reachable from a ref, with its file's bytes.
        let reachable: HashSet<String> = repo
            .git(&["rev-list", "--all"])
            .lines()
            .map(str::to_owned)
            .collect();
        for (r, commit) in &made {
            assert!(
                reachable.contains(commit),
                "round {round}: the user's commit of round {r} ({commit}) is reachable from no ref ({args:?} exited {code}: {stderr})"
            );
            assert_eq!(
                repo.git(&["show", &format!("{commit}:user/r{r}.txt")]),
                format!("the user's work of round {r}"),
            );
        }
        assert!(!repo.join(".git/index.lock").exists(), "round {round}");
        assert!(!repo.join(".git/HEAD.lock").exists(), "round {round}");
    }
    eprintln!("{outcomes:#?} in {:?}", began.elapsed());
    assert!(
        made.len() >= 6,
        "the user's commits rarely succeeded: {outcomes:#?}"
    );
}
