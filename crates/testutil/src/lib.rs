//! Hermetic temporary git repositories for tests: no dependency on the machine's git config or
//! identity (`GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`, a private `HOME`), fixed
//! dates, and nothing outside the temp dir is ever touched. Also what every test reads back from
//! a repository: refs, trees, the status, the session log ([`queries`]), a snapshot of all that
//! must stay put when an operation is refused ([`Observed`]), and checkpoint trees read as
//! work-tree states ([`TreeReader`]).
#![allow(clippy::unwrap_used, missing_debug_implementations)]

mod observe;
mod queries;
mod state;

pub use observe::{assert_same_for_user, observe, Observed};
pub use queries::*;
pub use state::{assert_state, diff_states, file, without, State, TreeReader};

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Returns the environment every git process of a test should run with (and that the binary
/// under test inherits).
pub fn hermetic_env() -> Vec<(&'static str, String)> {
    vec![
        ("GIT_CONFIG_GLOBAL", "/dev/null".to_owned()),
        ("GIT_CONFIG_NOSYSTEM", "1".to_owned()),
        ("GIT_TERMINAL_PROMPT", "0".to_owned()),
        ("LC_ALL", "C".to_owned()),
    ]
}

/// A git repository in a temporary folder, removed on drop.
pub struct TestRepo {
    dir: tempfile::TempDir,
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRepo {
    /// `git init` with branch `main` and a test identity in the repository's own config.
    pub fn new() -> Self {
        let repo = Self::without_identity();
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo
    }

    /// `git init` with no identity configured anywhere.
    pub fn without_identity() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cm-test-")
            .tempdir()
            .unwrap();
        let repo = TestRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// Returns the top of the work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Returns `path` inside the work tree.
    pub fn join(&self, path: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(path)
    }

    /// Runs git in the repository with a hermetic environment; panics unless it succeeds.
    /// Reading commands never write: `--no-optional-locks` keeps `status` from refreshing the
    /// index a test compares byte for byte.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs git and returns its raw output, whatever the exit code.
    pub fn git_output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .arg("--no-optional-locks")
            .args(args);
        for (k, v) in hermetic_env() {
            cmd.env(k, v);
        }
        cmd.env("GIT_AUTHOR_DATE", "2024-01-07T13:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-07T13:00:00Z")
            .env("HOME", self.path());
        cmd.output().unwrap()
    }

    /// Runs git and returns its raw stdout; panics unless it succeeds.
    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs git and returns its trimmed stdout, or `None` when git fails.
    pub fn git_try(&self, args: &[&str]) -> Option<String> {
        let out = self.git_output(args);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// Runs git with `input` on stdin and returns its trimmed stdout; panics unless it succeeds.
    pub fn git_with_stdin(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        for (k, v) in hermetic_env() {
            cmd.env(k, v);
        }
        cmd.env("HOME", self.path());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file (creating folders), returning its path.
    pub fn write(&self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> PathBuf {
        let full = self.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&full, content).unwrap();
        full
    }

    /// Reads a file's bytes.
    pub fn read(&self, path: impl AsRef<Path>) -> Vec<u8> {
        fs::read(self.join(path)).unwrap()
    }

    /// Returns true when the path exists (a dangling symlink counts).
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        fs::symlink_metadata(self.join(path)).is_ok()
    }

    /// Makes a file executable.
    pub fn make_executable(&self, path: impl AsRef<Path>) {
        let full = self.join(path);
        let mut perms = fs::metadata(&full).unwrap().permissions();
        perms.set_mode(0o755);
        fs::set_permissions(full, perms).unwrap();
    }

    /// Stages everything and commits it, returning the new HEAD.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// Returns the commit HEAD points at.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Returns `git status --porcelain=v1 -uall`: changes and untracked files, not ignored ones
    /// (what a user sees; see [`TestRepo::status_with_ignored`] for everything).
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain=v1", "-uall"])
    }

    /// Returns `git status --porcelain=v1 -uall --ignored`, one line per entry, every ignored
    /// file included but the tool's own session folder (hidden by `info/exclude`).
    pub fn status_with_ignored(&self) -> String {
        String::from_utf8_lossy(&self.git_bytes(&[
            "status",
            "--porcelain=v1",
            "-z",
            "-uall",
            "--ignored",
        ]))
        .split('\0')
        .filter(|l| !l.is_empty() && !l.contains(" .flow/maestro/sessions/"))
        .map(|l| format!("{l}\n"))
        .collect()
    }

    /// Returns the raw bytes of the user's index file.
    pub fn index_bytes(&self) -> Vec<u8> {
        fs::read(self.join(".git/index")).unwrap_or_default()
    }

    /// Returns the session log path for `session`.
    pub fn log_path(&self, session: &str) -> PathBuf {
        self.join(format!(".flow/maestro/sessions/{session}/checkpoints.json"))
    }

    /// Returns every file under the work tree (except `.git` and the tool's `.flow`) with its
    /// bytes, executable bit and symlink target: the state a checkpoint must preserve.
    pub fn tree_state(&self) -> Vec<(String, FileState)> {
        let mut out = Vec::new();
        walk(self.path(), self.path(), &mut out);
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// One file's observable state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    File { bytes: Vec<u8>, executable: bool },
    Symlink(PathBuf),
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, FileState)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == ".git" || rel == ".flow" {
            continue;
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            out.push((rel, FileState::Symlink(fs::read_link(&path).unwrap())));
        } else if meta.is_dir() {
            walk(root, &path, out);
        } else {
            out.push((
                rel,
                FileState::File {
                    bytes: fs::read(&path).unwrap(),
                    executable: meta.permissions().mode() & 0o111 != 0,
                },
            ));
        }
    }
}

/// A fresh random-looking but valid session id for a test.
pub fn session_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A pseudo-terminal: the secondary end is handed to a child as its stdout so the child sees a
/// terminal (pager and colour decisions); the primary end is kept open (and read) by the test.
pub struct Pty {
    pub primary: std::fs::File,
    pub secondary: std::fs::File,
}

impl Pty {
    /// Opens a new pseudo-terminal pair.
    pub fn open() -> Pty {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let primary = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&primary).expect("grantpt");
        unlockpt(&primary).expect("unlockpt");
        let name = ptsname(&primary, Vec::new()).expect("ptsname");
        let secondary = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_string_lossy().as_ref())
            .expect("open the pty's secondary end");
        Pty {
            primary: std::fs::File::from(primary),
            secondary,
        }
    }
}
