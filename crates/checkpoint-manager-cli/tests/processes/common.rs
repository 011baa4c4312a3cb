//! Helpers for tests that run real `checkpoint-manager` processes: building commands with a
//! hermetic environment, reading the log and the refs straight from disk and git, a small
//! seeded random generator, and a reader that turns any checkpoint's tree into a file state.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use testutil::{hermetic_env, FileState, TestRepo};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_checkpoint-manager");

/// A work-tree state as `TestRepo::tree_state` reports it.
pub type State = Vec<(String, FileState)>;

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

/// Runs git without optional locks (never refreshing the user's index); `None` on failure.
pub fn git_try(repo: &TestRepo, args: &[&str]) -> Option<Vec<u8>> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo.path())
        .arg("--no-optional-locks")
        .args(args);
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("git");
    out.status.success().then_some(out.stdout)
}

/// Runs git; panics unless it succeeds; returns trimmed text.
#[track_caller]
pub fn git(repo: &TestRepo, args: &[&str]) -> String {
    let out = git_try(repo, args).unwrap_or_else(|| panic!("git {args:?} failed"));
    String::from_utf8_lossy(&out).trim_end().to_owned()
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

/// Returns `refs/checkpoints/<session>/<id>` -> the commit it reaches, for every session.
pub fn checkpoint_refs(repo: &TestRepo) -> HashMap<String, String> {
    let out = git(
        repo,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname) %(*objectname)",
            "refs/checkpoints/",
        ],
    );
    out.lines()
        .map(|l| {
            let mut f = l.split(' ');
            let name = f.next().expect("name").to_owned();
            let direct = f.next().expect("oid").to_owned();
            let peeled = f.next().filter(|p| !p.is_empty()).map(str::to_owned);
            (name, peeled.unwrap_or(direct))
        })
        .collect()
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
            git_try(repo, &["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_some(),
            "the commit of {id} is missing"
        );
        for tag in cp["tags"].as_array().into_iter().flatten() {
            let tag = tag.as_str().expect("tag");
            assert_eq!(
                git(repo, &["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]),
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

/// Reads checkpoint trees out of git as states, caching by tree id.
#[derive(Default)]
pub struct TreeReader {
    trees: HashMap<String, State>,
}

impl TreeReader {
    /// Returns the files of `commit`'s tree.
    pub fn state(&mut self, repo: &TestRepo, commit: &str) -> State {
        let tree = git(repo, &["rev-parse", &format!("{commit}^{{tree}}")]);
        if let Some(s) = self.trees.get(&tree) {
            return s.clone();
        }
        let raw = git_try(repo, &["ls-tree", "-r", "-z", "--full-tree", &tree]).expect("ls-tree");
        let mut entries = Vec::new();
        for rec in raw.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let tab = rec.iter().position(|b| *b == b'\t').expect("tab");
            let meta = String::from_utf8_lossy(&rec[..tab]).into_owned();
            let path = String::from_utf8_lossy(&rec[tab + 1..]).into_owned();
            let f: Vec<&str> = meta.split(' ').collect();
            if f[1] == "blob" {
                entries.push((path, f[0].to_owned(), f[2].to_owned()));
            }
        }
        let blobs = cat_blobs(repo, entries.iter().map(|e| e.2.as_str()));
        let mut state: State = entries
            .into_iter()
            .zip(blobs)
            .map(|((path, mode, _), bytes)| {
                let fs = if mode == "120000" {
                    FileState::Symlink(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
                } else {
                    FileState::File {
                        bytes,
                        executable: mode == "100755",
                    }
                };
                (path, fs)
            })
            .collect();
        state.sort_by(|a, b| a.0.cmp(&b.0));
        self.trees.insert(tree, state.clone());
        state
    }

    /// Returns the states of every checkpoint ref (private refs and the trash).
    pub fn all_checkpoint_states(&mut self, repo: &TestRepo) -> Vec<State> {
        let out = git(
            repo,
            &[
                "for-each-ref",
                "--format=%(objectname) %(*objectname)",
                "refs/checkpoints/",
                "refs/checkpoint-trash/",
            ],
        );
        let commits: Vec<String> = out
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                let direct = f.next().expect("oid").to_owned();
                f.next()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .unwrap_or(direct)
            })
            .collect();
        commits.iter().map(|c| self.state(repo, c)).collect()
    }
}

fn cat_blobs<'a>(repo: &TestRepo, oids: impl Iterator<Item = &'a str>) -> Vec<Vec<u8>> {
    let input: String = oids.map(|o| format!("{o}\n")).collect();
    if input.is_empty() {
        return Vec::new();
    }
    let mut cmd = Command::new("git");
    cmd.current_dir(repo.path())
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("cat-file");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).expect("write");
    });
    let out = child.wait_with_output().expect("output");
    writer.join().expect("writer");
    let mut rest = out.stdout.as_slice();
    let mut blobs = Vec::new();
    while !rest.is_empty() {
        let end = rest.iter().position(|b| *b == b'\n').expect("header");
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("size");
        rest = &rest[end + 1..];
        blobs.push(rest[..size].to_vec());
        rest = &rest[size + 1..];
    }
    blobs
}
