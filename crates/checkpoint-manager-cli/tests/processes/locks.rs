//! Busy locks: a command waits for a lock another process holds, then fails with exit 6 and a
//! clear message, having changed nothing; a lock released in time lets it through.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use testutil::TestRepo;

use crate::common::*;

/// Everything a failed command must leave alone.
fn snapshot_of_everything(repo: &TestRepo, s: &str) -> (String, String, Vec<u8>, String) {
    (
        repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        repo.git(&["status", "--porcelain", "-uall"]),
        std::fs::read(repo.log_path(s)).unwrap_or_default(),
        repo.git(&["rev-parse", "HEAD"]),
    )
}

/// Opens (creating) a lock file and takes its exclusive `flock`, as the library does.
fn hold(path: &Path, write_pid: bool) -> File {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("open lock");
    file.lock().expect("lock");
    if write_pid {
        file.set_len(0).expect("truncate");
        write!(file, "{}", std::process::id()).expect("pid");
    }
    file
}

/// A repository with a session holding a snapshot and a rollback, and uncommitted work.
fn setup() -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let s = session(40);
    let cp = run_json(
        &repo,
        &[
            "create",
            "--session-id",
            &s,
            "--description",
            "x",
            "--phase",
            "plan",
            "--snapshot",
        ],
    );
    let id = cp["checkpoint_id"].as_str().expect("id").to_owned();
    run_json(
        &repo,
        &["rollback", "--session-id", &s, "--checkpoint-id", &id],
    );
    repo.write("a.txt", "uncommitted\n");
    repo.write("b.txt", "untracked\n");
    (repo, s, id)
}

#[test]
fn every_changing_command_waits_for_a_busy_repository_lock_then_fails_with_exit_6() {
    let (repo, s, id) = setup();
    let lock_path = private_dir(&repo).join("repo.lock");
    let held = hold(&lock_path, true);
    let before = snapshot_of_everything(&repo, &s);
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "create",
            "--session-id",
            &s,
            "--description",
            "y",
            "--phase",
            "plan",
        ],
        vec![
            "create",
            "--session-id",
            &s,
            "--description",
            "y",
            "--phase",
            "plan",
            "--snapshot",
        ],
        vec!["rollback", "--session-id", &s, "--checkpoint-id", &id],
        vec![
            "rollback",
            "--session-id",
            &s,
            "--checkpoint-id",
            &id,
            "--hard-reset",
        ],
        vec!["undo", "--session-id", &s],
        vec!["delete", "--session-id", &s, "--checkpoint-id", &id],
        vec!["repair", "--session-id", &s],
    ];
    for args in commands {
        let started = Instant::now();
        let out = cm(&repo)
            .arg("--lock-timeout")
            .arg("0.3")
            .args(&args)
            .output()
            .expect("run");
        let waited = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{args:?}: {stderr}");
        assert!(
            waited >= Duration::from_millis(300),
            "{args:?} gave up after {waited:?}, before its timeout"
        );
        assert!(
            waited < Duration::from_secs(10),
            "{args:?} waited {waited:?}"
        );
        assert!(stderr.contains("lock"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("repo.lock"),
            "{args:?} names the lock: {stderr}"
        );
        assert!(
            stderr.contains(&format!("process {}", std::process::id())),
            "{args:?} names the holder's pid: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
        assert_eq!(
            before,
            snapshot_of_everything(&repo, &s),
            "{args:?} changed something"
        );
    }
    drop(held);
    run_json(&repo, &["undo", "--session-id", &s]);
}

#[test]
fn a_lock_released_in_time_lets_the_waiting_command_through() {
    let (repo, s, _) = setup();
    let lock_path = private_dir(&repo).join("repo.lock");
    let held = hold(&lock_path, true);
    let started = Instant::now();
    let child = cm(&repo)
        .args(["--lock-timeout", "20", "create", "--session-id", &s])
        .args(["--description", "waited", "--phase", "plan", "--snapshot"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    drop(held);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_log_matches_refs(&repo, &s);
}

#[test]
fn a_busy_session_lock_fails_with_exit_6_before_anything_changes() {
    let (repo, s, _) = setup();
    // Wherever the session lock lives (the git dir or the session folder), hold both.
    let _a = hold(&private_dir(&repo).join(format!("session-{s}.lock")), false);
    let _b = hold(
        &repo.join(format!(".flow/maestro/sessions/{s}/.checkpoints.lock")),
        false,
    );
    let before = snapshot_of_everything(&repo, &s);
    let tags = repo.git(&["tag"]);
    let out = cm(&repo)
        .args(["--lock-timeout", "0.3", "create", "--session-id", &s])
        .args(["--description", "blocked", "--phase", "plan"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.git(&["tag"]), tags, "a tag was made");
    assert_eq!(
        before,
        snapshot_of_everything(&repo, &s),
        "a create that failed on the session lock changed the repository"
    );
}

#[test]
fn a_busy_lock_message_never_names_a_process_that_is_gone() {
    let (repo, s, _) = setup();
    // The last command that held the lock wrote its pid into the file and exited; now a holder
    // that writes no pid (another tool, `flock(1)`) holds it.
    let lock_path = private_dir(&repo).join("repo.lock");
    let stale = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let stale = stale.trim();
    let _held = hold(&lock_path, false);
    let out = cm(&repo)
        .args(["--lock-timeout", "0.2", "undo", "--session-id", &s])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stale.is_empty() && stale.parse::<u32>().is_ok() {
        let alive = Path::new(&format!("/proc/{stale}")).exists();
        assert!(
            alive || !stderr.contains(&format!("process {stale}")),
            "the message blames process {stale}, which has exited: {stderr}"
        );
    }
}
