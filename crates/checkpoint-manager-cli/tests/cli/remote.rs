//! Issue 12: `push` and `pull` through a git remote. Two clones play two machines, through a
//! bare repository by path and through a `git daemon` on 127.0.0.1; failures leave the local
//! refs, log and files as they were.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use checkpoint_manager::{PullOutcome, PushOutcome, RemoteCheckpoint};

use crate::support::*;

/// A bare repository in a temporary folder, the remote both machines share.
struct Remote {
    dir: tempfile::TempDir,
}

impl Remote {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cm-remote-")
            .tempdir()
            .unwrap();
        let remote = Remote { dir };
        remote.git(&["init", "-q", "--bare", "-b", "main", "shared.git"]);
        remote
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("shared.git")
    }

    fn url(&self) -> String {
        self.path().display().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.dir.path(), args)
    }

    /// The refs of the bare repository, `<oid> <name>` per line.
    fn refs(&self) -> String {
        git_in(
            &self.path(),
            &["for-each-ref", "--format=%(objectname) %(refname)"],
        )
    }
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(args);
    for (k, v) in testutil::hermetic_env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A `git daemon` serving `base` on 127.0.0.1, killed when dropped (even on panic).
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(base: &Path) -> Self {
        // git daemon cannot report a port it chose: take a free one from the kernel.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new("git");
        cmd.args([
            "daemon",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in testutil::hermetic_env() {
            cmd.env(k, v);
        }
        let daemon = Daemon {
            child: cmd.spawn().unwrap(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A machine: a clone whose `origin` is `url`, with `main` as the remote has it.
fn machine(url: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["remote", "add", "origin", url]);
    if !repo
        .git(&["ls-remote", "origin", "refs/heads/main"])
        .is_empty()
    {
        repo.git(&["fetch", "-q", "origin", "main"]);
        repo.git(&["reset", "-q", "--hard", "FETCH_HEAD"]);
    }
    repo
}

/// What a rollback must reproduce: files, index entries and HEAD.
#[derive(Debug, PartialEq, Eq)]
struct State {
    files: Vec<(String, testutil::FileState)>,
    index: String,
    head: Option<String>,
}

fn state(repo: &TestRepo) -> State {
    State {
        files: repo.tree_state(),
        index: repo.git(&["ls-files", "-s"]),
        head: resolve(repo, "HEAD"),
    }
}

fn ids(checkpoints: &[RemoteCheckpoint]) -> Vec<String> {
    checkpoints
        .iter()
        .map(|c| c.checkpoint_id.to_string())
        .collect()
}

/// Machine A makes a commit, a tag-only and a snapshot checkpoint (untracked files, staged
/// changes, CRLF bytes under `eol=lf`), pushes; machine B pulls and rolls back to each: files,
/// index and HEAD equal A's; undo on B returns to what it had before.
fn round_trip(url: &str) {
    let session = sid(1);
    let a = machine(url);
    a.write(".gitattributes", "*.txt text eol=lf\n");
    a.write("a.txt", "one\n");
    a.commit_all("initial");
    a.git(&["push", "-q", "origin", "main"]);
    let b = machine(url);

    a.write("a.txt", "two\n");
    let commit = create(&a, &session, "commit mode", &[]);
    let at_commit = state(&a);
    let tag = create(&a, &session, "tag only", &["--no-commit"]);
    let at_tag = state(&a);
    a.write("a.txt", "staged\n");
    a.git(&["add", "a.txt"]);
    a.write("a.txt", "staged then edited\n");
    a.write("new/untracked.txt", "untracked\n");
    a.write("crlf.txt", "first\r\nsecond\r\n");
    let snap = create(&a, &session, "snapshot", &["--snapshot"]);
    let at_snapshot = state(&a);

    let pushed: PushOutcome = ok_as(a.path(), &["push", "--session-id", &session]);
    assert!(!pushed.up_to_date);
    // Three private refs and the two spec tags; never a branch.
    let sent = &pushed.pushed;
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert!(sent
        .iter()
        .all(|r| r.starts_with("refs/checkpoints/") || r.starts_with("refs/tags/checkpoint-")));
    let again: PushOutcome = ok_as(a.path(), &["push", "--session-id", &session]);
    assert!(again.pushed.is_empty());
    assert!(again.up_to_date);

    let pulled: PullOutcome = ok_as(b.path(), &["pull", "--session-id", &session]);
    assert_eq!(pulled.pulled.len(), 3, "{pulled:?}");
    assert!(ok_as::<PullOutcome>(b.path(), &["pull", "--session-id", &session]).up_to_date);
    assert_eq!(
        ok_as::<Vec<Checkpoint>>(b.path(), &["list", "--session-id", &session]).len(),
        3
    );
    assert_eq!(b.status(), "", "the pulled log stays out of git's sight");
    assert!(
        refs(&b)
            .iter()
            .all(|r| !r.starts_with("refs/checkpoint-manager/")),
        "the staging refs are removed"
    );
    let got: Checkpoint = ok_as(
        b.path(),
        &[
            "get",
            "--session-id",
            &session,
            "--checkpoint-id",
            &snap.checkpoint_id.to_string(),
        ],
    );
    assert_eq!(got.description, "snapshot");

    for (checkpoint, expected) in [
        (&commit, &at_commit),
        (&tag, &at_tag),
        (&snap, &at_snapshot),
    ] {
        let id = checkpoint.checkpoint_id.to_string();
        ok_as::<RollbackOutcome>(
            b.path(),
            &[
                "rollback",
                "--session-id",
                &session,
                "--checkpoint-id",
                &id,
                "--hard-reset",
            ],
        );
        assert_eq!(&state(&b), expected, "rollback on B to {id}");
    }
    assert_eq!(b.read("crlf.txt"), b"first\r\nsecond\r\n");
    ok_as::<RollbackOutcome>(b.path(), &["undo", "--session-id", &session]);
    assert_eq!(state(&b), at_tag, "undo on B");
}

#[test]
fn a_bare_repository_by_path_carries_checkpoints_between_machines() {
    let remote = Remote::new();
    round_trip(&remote.url());
}

#[test]
fn a_git_daemon_carries_checkpoints_between_machines() {
    let remote = Remote::new();
    let daemon = Daemon::start(remote.dir.path());
    round_trip(&daemon.url("shared.git"));
}

#[test]
fn push_sends_no_branch_and_only_the_sessions_asked() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    create(&a, &sid(1), "one", &["--snapshot"]);
    create(&a, &sid(2), "two", &["--snapshot"]);
    ok_as::<PushOutcome>(a.path(), &["push", "--session-id", &sid(1)]);
    let refs = remote.refs();
    assert!(refs.contains(&sid(1)) && !refs.contains(&sid(2)), "{refs}");
    assert!(!refs.contains("refs/heads/"), "{refs}");
    ok_as::<PushOutcome>(a.path(), &["push", "--all-sessions"]);
    assert!(remote.refs().contains(&sid(2)));
    // checkpoint-manager.remote names the default remote.
    let other = Remote::new();
    a.git(&["remote", "add", "backup", &other.url()]);
    a.git(&["config", "checkpoint-manager.remote", "backup"]);
    let pushed: PushOutcome = ok_as(a.path(), &["push", "--all-sessions"]);
    assert_eq!(pushed.remote, "backup");
    assert_eq!(pushed.pushed.len(), 2);
}

#[test]
fn concurrent_pushes_from_two_clones_both_land() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    let c = machine(&remote.url());
    let mut made = Vec::new();
    for repo in [&a, &c] {
        repo.write("f", "x\n");
        for n in 0..3 {
            made.push(
                create(repo, &sid(1), &format!("cp {n}"), &["--snapshot"])
                    .checkpoint_id
                    .to_string(),
            );
        }
    }
    let bin = env!("CARGO_BIN_EXE_checkpoint-manager");
    let spawn = |repo: &TestRepo| {
        let mut cmd = Command::new(bin);
        cmd.current_dir(repo.path())
            .args(["push", "--session-id", &sid(1)])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in testutil::hermetic_env() {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    };
    let (first, second) = (spawn(&a), spawn(&c));
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let refs = remote.refs();
    for id in &made {
        assert!(refs.contains(id.as_str()), "{id} missing from {refs}");
    }
}

/// A pull never resurrects what this repository deleted, unless asked; `delete --remote`
/// removes the refs from the remote too.
#[test]
fn deleted_checkpoints_stay_deleted() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    let one = create(&a, &sid(1), "one", &[]);
    let id = one.checkpoint_id.to_string();
    ok_as::<PushOutcome>(a.path(), &["push", "--session-id", &sid(1)]);
    ok_as::<DeleteOutcome>(
        a.path(),
        &["delete", "--session-id", &sid(1), "--checkpoint-id", &id],
    );
    let pulled: PullOutcome = ok_as(a.path(), &["pull", "--session-id", &sid(1)]);
    assert_eq!(ids(&pulled.skipped_deleted), [id.as_str()]);
    assert!(refs(&a).iter().all(|r| !r.starts_with("refs/checkpoints/")));
    let back: PullOutcome = ok_as(
        a.path(),
        &["pull", "--session-id", &sid(1), "--include-deleted"],
    );
    assert_eq!(ids(&back.pulled), [id.as_str()]);
    ok_as::<Checkpoint>(
        a.path(),
        &["get", "--session-id", &sid(1), "--checkpoint-id", &id],
    );

    let deleted = ok_json(
        a.path(),
        &[
            "delete",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            &id,
            "--remote",
            "origin",
        ],
    );
    assert_eq!(
        deleted["remote_deleted"].as_array().unwrap().len(),
        2,
        "{deleted}"
    );
    assert_eq!(
        remote.refs().trim(),
        "",
        "nothing of ours is left on the remote"
    );
}

/// Pretty pull output names checkpoints by their short ids (8 digits, as `list` and `log` do),
/// over several sessions too; session ids stay whole.
#[test]
fn pretty_pull_prints_short_checkpoint_ids() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    a.git(&["push", "-q", "origin", "main"]);
    let one = create(&a, &sid(1), "one", &[]);
    let two = create(&a, &sid(2), "two", &[]);
    ok_as::<PushOutcome>(a.path(), &["push", "--all-sessions"]);
    let b = machine(&remote.url());
    let pretty = ["--output", "pretty", "pull", "--all-sessions"];

    let pulled = ok_text(b.path(), &pretty);
    for (cp, session) in [(&one, sid(1)), (&two, sid(2))] {
        let id = cp.checkpoint_id.to_string();
        let line = format!("pulled {} (session {session})", &id[..8]);
        assert!(pulled.lines().any(|l| l == line), "{line:?} in {pulled}");
        assert!(!pulled.contains(&id), "{pulled}");
    }
    let id = one.checkpoint_id.to_string();
    ok_as::<DeleteOutcome>(
        b.path(),
        &["delete", "--session-id", &sid(1), "--checkpoint-id", &id],
    );
    let skipped = ok_text(b.path(), &pretty);
    let line = format!(
        "skipped {} (deleted here; --include-deleted brings it back)",
        &id[..8]
    );
    assert!(skipped.lines().any(|l| l == line), "{skipped}");
}

/// An id both sides hold with different metadata is reported (exit 3) and left as it is, after
/// everything else was pulled; counters pulled never go down.
#[test]
fn a_conflicting_id_is_reported_not_overwritten() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    a.git(&["push", "-q", "origin", "main"]);
    let first = create(&a, &sid(1), "first", &[]);
    let first_id = first.checkpoint_id.to_string();
    ok_as::<PushOutcome>(a.path(), &["push", "--session-id", &sid(1)]);
    let b = machine(&remote.url());
    ok_as::<PullOutcome>(b.path(), &["pull", "--session-id", &sid(1)]);

    // The remote's metadata of `first` is rewritten; A adds a checkpoint and a rollback.
    let name = format!("refs/checkpoints/{}/{first_id}", sid(1));
    let raw =
        git_in(&remote.path(), &["cat-file", "tag", &name]).replace("\"first\"", "\"forged\"");
    let forged = {
        let mut cmd = Command::new("git");
        cmd.current_dir(remote.path())
            .args(["mktag"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), raw.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    git_in(&remote.path(), &["update-ref", &name, forged.trim()]);
    a.write("f", "y\n");
    let second = create(&a, &sid(1), "second", &[]);
    ok_as::<RollbackOutcome>(
        a.path(),
        &[
            "rollback",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            &first_id,
            "--hard-reset",
        ],
    );
    let r = run(a.path(), &["push", "--session-id", &sid(1)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains(&first_id), "{}", r.stderr);

    let before = resolve(&b, &name);
    let r = run(b.path(), &["pull", "--session-id", &sid(1)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let out: PullOutcome = serde_json::from_str(&r.stdout).unwrap();
    let conflicts: Vec<String> = out
        .conflicts
        .iter()
        .map(|c| c.checkpoint_id.to_string())
        .collect();
    assert_eq!(conflicts, [first_id.as_str()]);
    // Everything else was pulled: the second checkpoint and the rollback's safety snapshot.
    assert!(ids(&out.pulled).contains(&second.checkpoint_id.to_string()));
    assert_eq!(
        resolve(&b, &name),
        before,
        "the local ref is not overwritten"
    );
    let got: Checkpoint = ok_as(
        b.path(),
        &["get", "--session-id", &sid(1), "--checkpoint-id", &first_id],
    );
    assert_eq!(got.description, "first");
    assert_eq!(got.rollback_count, 1, "A's rollback counts on B");
}

/// Failures: one line with git's reason, exit 5, and nothing changed here.
#[test]
fn an_unreachable_remote_changes_nothing() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    create(&a, &sid(1), "one", &["--snapshot"]);
    let before = observe(&a);
    let log = a.read(a.log_path(&sid(1)));
    let missing = remote.dir.path().join("nowhere.git").display().to_string();
    for verb in ["push", "pull"] {
        let message = fails(
            a.path(),
            &[verb, "--session-id", &sid(1), "--remote", &missing],
            5,
        );
        assert!(
            message.contains("does not appear to be a git repository"),
            "{message}"
        );
    }
    // A daemon that is not there: the port was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("git://127.0.0.1:{port}/shared.git");
    let message = fails(
        a.path(),
        &["pull", "--session-id", &sid(1), "--remote", &url],
        5,
    );
    assert!(message.to_lowercase().contains("connect"), "{message}");
    let message = fails(
        a.path(),
        &["push", "--session-id", &sid(1), "--remote=-x"],
        3,
    );
    assert!(message.contains("invalid remote"), "{message}");
    assert_eq!(observe(&a), before);
    assert_eq!(a.read(a.log_path(&sid(1))), log);
}

#[test]
fn a_server_hook_that_refuses_fails_the_push() {
    let remote = Remote::new();
    let hook = remote.path().join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'checkpoints are not welcome here' >&2\nexit 1\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    create(&a, &sid(1), "one", &["--snapshot"]);
    let before = observe(&a);
    let message = fails(a.path(), &["push", "--session-id", &sid(1)], 5);
    assert!(message.contains("pre-receive hook declined"), "{message}");
    assert!(message.contains("not welcome"), "{message}");
    assert_eq!(remote.refs().trim(), "");
    assert_eq!(observe(&a), before);
}

#[test]
fn a_remote_without_our_refs_or_missing_objects_changes_nothing() {
    let remote = Remote::new();
    let a = machine(&remote.url());
    a.write("f", "x\n");
    a.commit_all("initial");
    a.git(&["push", "-q", "origin", "main"]);
    let b = machine(&remote.url());
    let message = fails(b.path(), &["pull", "--session-id", &sid(1)], 5);
    assert!(message.contains("has no checkpoints"), "{message}");

    // The remote lost an object a checkpoint needs: the fetch stops, nothing lands here.
    a.write("g", "new file\n");
    let snap = create(&a, &sid(1), "snap", &["--snapshot"]);
    ok_as::<PushOutcome>(a.path(), &["push", "--session-id", &sid(1)]);
    let blob = a.git(&["rev-parse", &format!("{}:g", snap.commit_sha)]);
    let blob = blob.trim();
    let loose = remote
        .path()
        .join("objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&loose).expect("small pushes are stored loose");
    let before = observe(&b);
    let message = fails(b.path(), &["pull", "--session-id", &sid(1)], 5);
    assert!(message.starts_with("git fetch"), "{message}");
    assert_eq!(
        observe(&b),
        before,
        "no staging ref, no private ref, no log"
    );
    assert!(!b.exists(".flow"));
}
