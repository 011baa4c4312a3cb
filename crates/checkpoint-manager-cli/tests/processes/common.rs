//! Helpers for tests that run real `checkpoint-manager` processes: building commands with a
//! hermetic environment, reading the log and the refs straight from disk and git, a small
//! seeded random generator. Observing a repository and reading checkpoint trees live in
//! `testutil` (re-exported here).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
pub use testutil::*;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_checkpoint-manager");

/// A command of the binary in `repo`, with the hermetic environment.
pub fn cm(repo: &TestRepo) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(repo.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    cmd.env("HOME", repo.path()).env_remove("NO_COLOR");
    cmd
}

/// Runs the binary to completion.
pub fn run(repo: &TestRepo, args: &[&str]) -> Output {
    cm(repo)
        .args(args)
        .output()
        .expect("run checkpoint-manager")
}

/// Runs the binary and parses its JSON stdout; panics unless it exits 0.
#[track_caller]
pub fn run_json(repo: &TestRepo, args: &[&str]) -> Value {
    let out = run(repo, args);
    assert!(
        out.status.success(),
        "checkpoint-manager {args:?} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A session id for test number `n`.
pub fn session(n: u32) -> String {
    testutil::session_id(n)
}

/// Returns the git dir's private folder, where the repository lock lives.
pub fn private_dir(repo: &TestRepo) -> PathBuf {
    repo.join(".git/checkpoint-manager")
}

/// Reads a session's log from disk. `Ok(None)` when it does not exist; `Err` when it does not
/// parse (a half-written file).
pub fn read_log(repo: &TestRepo, session: &str) -> Result<Option<Vec<Value>>, String> {
    let path = repo.log_path(session);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} does not parse ({e}): {:?}",
            path.display(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        )
    })?;
    if value["session_id"] != session {
        return Err(format!("log of the wrong session: {}", value["session_id"]));
    }
    let mut cps = value["checkpoints"]
        .as_array()
        .ok_or_else(|| "no checkpoints array".to_owned())?
        .clone();
    // Safety snapshots have a section of their own.
    if let Some(safety) = value["safety_snapshots"].as_array() {
        cps.extend(safety.iter().cloned());
    }
    Ok(Some(cps))
}

/// Asserts the log of `session` parses and agrees with git: every logged checkpoint has its
/// private ref, reaching its commit, which exists; no id is logged twice. Returns the log.
#[track_caller]
pub fn assert_log_matches_refs(repo: &TestRepo, session: &str) -> Vec<Value> {
    let logged = read_log(repo, session)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_default();
    let refs = checkpoint_refs(repo);
    let mut seen = std::collections::HashSet::new();
    for cp in &logged {
        let id = cp["checkpoint_id"].as_str().expect("id");
        assert!(seen.insert(id.to_owned()), "{id} logged twice");
        let sha = cp["commit_sha"].as_str().expect("sha");
        let name = format!("refs/checkpoints/{session}/{id}");
        assert_eq!(
            refs.get(&name).map(String::as_str),
            Some(sha),
            "logged checkpoint {id} has no ref reaching {sha}"
        );
        assert!(
            repo.git_try(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
                .is_some(),
            "the commit of {id} is missing"
        );
        for tag in cp["tags"].as_array().into_iter().flatten() {
            let tag = tag.as_str().expect("tag");
            assert_eq!(
                repo.git(&["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]),
                sha,
                "tag {tag}"
            );
        }
    }
    logged
}

/// A xorshift generator: enough randomness for timing, reproducible from its seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeds from `PROCESSES_SEED` or the clock; prints the seed so a failure can be replayed.
    pub fn from_env() -> Self {
        let seed = std::env::var("PROCESSES_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_nanos() as u64
            });
        eprintln!("PROCESSES_SEED={seed}");
        Rng(seed | 1)
    }

    /// Returns a number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}
