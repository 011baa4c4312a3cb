//! Helpers shared by the safety tests: a repository with a manager and a session, an observer
//! that reads the repository without ever writing it (no index refresh), and a reader that turns
//! the tree of any checkpoint ref into the same shape as `TestRepo::tree_state`, so "is this state
//! still recoverable?" is a plain comparison.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, CheckpointPhase, CreateRequest, Options,
    RollbackOutcome, SessionId,
};
use testutil::{hermetic_env, FileState, TestRepo};

/// A work-tree state as `TestRepo::tree_state` reports it.
pub type State = Vec<(String, FileState)>;

/// A repository with a first commit, a manager over it and a session.
pub struct Fixture {
    pub repo: TestRepo,
    pub mgr: CheckpointManager,
    pub session: SessionId,
}

impl Fixture {
    /// A repository with `tracked.txt`, `keep.txt`, `gone.txt`, `bin/run.sh` (executable),
    /// `link` (a symlink to `keep.txt`) and a `.gitignore` that ignores `*.log` and `ignored/`.
    pub fn new() -> Self {
        let repo = TestRepo::new();
        repo.write("tracked.txt", "tracked v1\n");
        repo.write("keep.txt", "keep\n");
        repo.write("gone.txt", "will be deleted\n");
        repo.write("bin/run.sh", "#!/bin/sh\necho run\n");
        repo.make_executable("bin/run.sh");
        symlink("keep.txt", repo.join("link"));
        repo.write(".gitignore", "*.log\nignored/\n");
        repo.commit_all("initial");
        Self::over(repo, Options::default())
    }

    /// A fixture over an existing repository.
    pub fn over(repo: TestRepo, options: Options) -> Self {
        let mgr = CheckpointManager::with_options(repo.path(), options).expect("open manager");
        Fixture {
            repo,
            mgr,
            session: SessionId::parse(&testutil::session_id(1)).expect("session id"),
        }
    }

    /// Creates a checkpoint in `mode`.
    pub fn create(&self, mode: CheckpointMode, description: &str) -> Checkpoint {
        self.mgr
            .create(self.session, &request(mode, description))
            .unwrap_or_else(|e| panic!("create {mode} {description:?}: {e}"))
    }

    /// Takes a snapshot checkpoint.
    pub fn snapshot(&self, description: &str) -> Checkpoint {
        self.create(CheckpointMode::Snapshot, description)
    }

    /// Rolls back with `--hard-reset`.
    pub fn rollback_hard(&self, cp: &Checkpoint) -> RollbackOutcome {
        self.mgr
            .rollback(
                self.session,
                cp.checkpoint_id,
                checkpoint_manager::ResetMode::Hard,
            )
            .unwrap_or_else(|e| panic!("rollback --hard to {}: {e}", cp.description))
    }

    /// Undoes the last rollback or undo.
    pub fn undo(&self) -> RollbackOutcome {
        self.mgr
            .undo(self.session)
            .unwrap_or_else(|e| panic!("undo: {e}"))
    }

    /// Takes back the last undo.
    pub fn redo(&self) -> RollbackOutcome {
        self.mgr
            .redo(self.session)
            .unwrap_or_else(|e| panic!("redo: {e}"))
    }

    /// Returns everything observable about the repository.
    pub fn observe(&self) -> Observed {
        observe(&self.repo)
    }
}

/// A create request for `mode`.
pub fn request(mode: CheckpointMode, description: &str) -> CreateRequest {
    CreateRequest {
        mode,
        ..CreateRequest::new(description, CheckpointPhase::Implement)
    }
}

/// Makes a symlink (the target need not exist).
pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    let link = link.as_ref();
    if let Some(parent) = link.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// Runs git without optional locks (so `status` never refreshes the user's index), returning
/// raw stdout; panics unless git succeeds.
pub fn git_raw(repo: &TestRepo, args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo.path())
        .arg("--no-optional-locks")
        .args(args);
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    cmd.env("HOME", repo.path());
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// [`git_raw`] as trimmed text.
pub fn git(repo: &TestRepo, args: &[&str]) -> String {
    String::from_utf8_lossy(&git_raw(repo, args))
        .trim_end()
        .to_owned()
}

/// Like `git`, but returns `None` when git fails.
pub fn git_try(repo: &TestRepo, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo.path())
        .arg("--no-optional-locks")
        .args(args);
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run git");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// Everything a user can observe about a repository, read without writing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `refs/heads/main`, or `None` when detached.
    pub symbolic_head: Option<String>,
    /// The commit HEAD points at (`None` when unborn).
    pub head: Option<String>,
    /// The user's index file, byte for byte.
    pub index_bytes: Vec<u8>,
    /// `git ls-files -s` (modes, blobs, stages of the index).
    pub index: String,
    /// `git status --porcelain -uall --ignored`.
    pub status: String,
    /// Every ref but the tool's private ones (branches, tags, stash...).
    pub public_refs: String,
    /// `git tag`.
    pub tags: String,
    /// Every file of the work tree.
    pub files: State,
}

/// Asserts that nothing observable differs between `want` and `got`.
#[track_caller]
pub fn assert_same(want: &Observed, got: &Observed, what: &str) {
    assert_eq!(want.symbolic_head, got.symbolic_head, "{what}: branch");
    assert_eq!(want.head, got.head, "{what}: HEAD");
    assert!(
        want.index_bytes == got.index_bytes,
        "{what}: the user's index file changed"
    );
    assert_eq!(want.index, got.index, "{what}: index");
    assert_eq!(want.status, got.status, "{what}: git status");
    assert_eq!(
        want.public_refs, got.public_refs,
        "{what}: branches and tags"
    );
    assert_eq!(want.tags, got.tags, "{what}: git tag");
    assert_state(&want.files, &got.files, what);
}

/// Reads an [`Observed`].
pub fn observe(repo: &TestRepo) -> Observed {
    let refs = git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"]);
    Observed {
        symbolic_head: git_try(repo, &["symbolic-ref", "-q", "HEAD"]),
        head: git_try(repo, &["rev-parse", "-q", "--verify", "HEAD"]),
        index_bytes: repo.index_bytes(),
        index: index_listing(repo),
        status: status(repo),
        public_refs: refs
            .lines()
            .filter(|l| !l.starts_with("refs/checkpoint"))
            .collect::<Vec<_>>()
            .join("\n"),
        tags: git(repo, &["tag"]),
        files: repo.tree_state(),
    }
}

/// `git status` with every untracked and ignored file, without refreshing the index. The tool's
/// own session folder (hidden by `info/exclude`) is left out.
pub fn status(repo: &TestRepo) -> String {
    String::from_utf8_lossy(&git_raw(
        repo,
        &["status", "--porcelain=v1", "-z", "-uall", "--ignored"],
    ))
    .split('\0')
    .filter(|l| !l.is_empty() && !l.contains(" .flow/maestro/sessions/"))
    .map(|l| format!("{l}\n"))
    .collect()
}

/// `git ls-files -s -z`, the whole index.
pub fn index_listing(repo: &TestRepo) -> String {
    String::from_utf8_lossy(&git_raw(repo, &["ls-files", "-s", "-z"])).replace('\0', "\n")
}

/// Lists `tree` the way [`index_listing`] lists the index (`<mode> <oid> 0\t<path>`).
pub fn tree_as_index_listing(repo: &TestRepo, tree: &str) -> String {
    String::from_utf8_lossy(&git_raw(
        repo,
        &["ls-tree", "-r", "-z", "--full-tree", tree],
    ))
    .split('\0')
    .filter(|l| !l.is_empty())
    .map(|l| {
        let (meta, path) = l.split_once('\t').expect("tab");
        let mut f = meta.split(' ');
        let mode = f.next().expect("mode");
        let oid = f.nth(1).expect("oid");
        format!("{mode} {oid} 0\t{path}\n")
    })
    .collect()
}

/// `git diff --cached --binary` against HEAD (or the empty tree), the staged changes.
pub fn staged_diff(repo: &TestRepo) -> String {
    let base = git_try(repo, &["rev-parse", "-q", "--verify", "HEAD"])
        .unwrap_or_else(|| git(repo, &["hash-object", "-t", "tree", "/dev/null"]));
    String::from_utf8_lossy(&git_raw(
        repo,
        &["diff", "--cached", "--binary", "--no-renames", &base],
    ))
    .into_owned()
}

/// Removes the paths `drop` (and anything under a `drop` folder) from `state`.
pub fn without(state: &State, drop: &[&str]) -> State {
    state
        .iter()
        .filter(|(p, _)| {
            !drop
                .iter()
                .any(|d| p == d || p.starts_with(&format!("{}/", d.trim_end_matches('/'))))
        })
        .cloned()
        .collect()
}

/// Returns one file's state in `state`.
pub fn file<'a>(state: &'a State, path: &str) -> Option<&'a FileState> {
    state.iter().find(|(p, _)| p == path).map(|(_, s)| s)
}

/// Shows the difference between two states, for assertion messages.
pub fn diff_states(want: &State, got: &State) -> String {
    let mut out = String::new();
    let w: HashMap<_, _> = want.iter().cloned().collect();
    let g: HashMap<_, _> = got.iter().cloned().collect();
    for (p, s) in want {
        match g.get(p) {
            None => out.push_str(&format!("  missing {p:?} ({})\n", short(s))),
            Some(o) if o != s => out.push_str(&format!(
                "  changed {p:?}: want {} got {}\n",
                short(s),
                short(o)
            )),
            _ => {}
        }
    }
    for (p, s) in got {
        if !w.contains_key(p) {
            out.push_str(&format!("  extra {p:?} ({})\n", short(s)));
        }
    }
    out
}

fn short(s: &FileState) -> String {
    match s {
        FileState::File { bytes, executable } => format!(
            "{:?}{}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(40)]),
            if *executable { " +x" } else { "" }
        ),
        FileState::Symlink(t) => format!("-> {}", t.display()),
    }
}

/// Asserts two states are equal, printing what differs.
#[track_caller]
pub fn assert_state(want: &State, got: &State, what: &str) {
    assert!(
        want == got,
        "{what}: work tree differs\n{}",
        diff_states(want, got)
    );
}

/// Reads trees out of git as [`State`]s, caching by tree id (trees never change).
#[derive(Default)]
pub struct TreeReader {
    trees: HashMap<String, State>,
    blobs: HashMap<String, Vec<u8>>,
}

impl TreeReader {
    /// Returns the files of `tree` (a tree or commit id) as a state. Submodules/gitlinks are
    /// left out (a checkpoint never holds a nested repository's content).
    pub fn state(&mut self, repo: &TestRepo, tree: &str) -> State {
        let tree = git(repo, &["rev-parse", &format!("{tree}^{{tree}}")]);
        if let Some(state) = self.trees.get(&tree) {
            return state.clone();
        }
        let raw = git_raw(repo, &["ls-tree", "-r", "-z", "--full-tree", &tree]);
        let mut entries = Vec::new();
        for record in raw.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let tab = record.iter().position(|b| *b == b'\t').expect("tab");
            let meta = String::from_utf8_lossy(&record[..tab]).into_owned();
            let path = String::from_utf8_lossy(&record[tab + 1..]).into_owned();
            let mut fields = meta.split(' ');
            let mode = fields.next().expect("mode").to_owned();
            let kind = fields.next().expect("type").to_owned();
            let oid = fields.next().expect("oid").to_owned();
            if kind == "blob" {
                entries.push((path, mode, oid));
            }
        }
        let missing: Vec<String> = entries
            .iter()
            .map(|(_, _, oid)| oid.clone())
            .filter(|oid| !self.blobs.contains_key(oid))
            .collect();
        self.load_blobs(repo, &missing);
        let mut state: State = entries
            .into_iter()
            .map(|(path, mode, oid)| {
                let bytes = self.blobs[&oid].clone();
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

    fn load_blobs(&mut self, repo: &TestRepo, oids: &[String]) {
        if oids.is_empty() {
            return;
        }
        let mut cmd = Command::new("git");
        cmd.current_dir(repo.path())
            .args(["cat-file", "--batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        for (k, v) in hermetic_env() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cat-file");
        let input: String = oids.iter().map(|o| format!("{o}\n")).collect();
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            stdin.write_all(input.as_bytes()).expect("write");
        });
        let out = child.wait_with_output().expect("cat-file output");
        writer.join().expect("writer");
        let mut rest = out.stdout.as_slice();
        for oid in oids {
            let end = rest.iter().position(|b| *b == b'\n').expect("header");
            let header = String::from_utf8_lossy(&rest[..end]).into_owned();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad header {header}"));
            rest = &rest[end + 1..];
            self.blobs.insert(oid.clone(), rest[..size].to_vec());
            rest = &rest[size + 1..];
        }
    }

    /// Returns the state of every checkpoint commit the tool keeps (private refs and the trash).
    pub fn checkpoint_states(&mut self, repo: &TestRepo) -> Vec<State> {
        checkpoint_commits(repo)
            .into_iter()
            .map(|c| self.state(repo, &c))
            .collect()
    }
}

/// Returns the commit behind every `refs/checkpoints/**` and `refs/checkpoint-trash/**` ref.
pub fn checkpoint_commits(repo: &TestRepo) -> Vec<String> {
    let out = git(
        repo,
        &[
            "for-each-ref",
            "--format=%(objectname) %(*objectname)",
            "refs/checkpoints/",
            "refs/checkpoint-trash/",
        ],
    );
    out.lines()
        .map(|l| {
            let mut it = l.split(' ');
            let direct = it.next().expect("oid").to_owned();
            match it.next() {
                Some(peeled) if !peeled.is_empty() => peeled.to_owned(),
                _ => direct,
            }
        })
        .collect()
}

/// Returns the commit a checkpoint's private ref points at (through its metadata tag).
pub fn private_ref_commit(repo: &TestRepo, session: SessionId, cp: &Checkpoint) -> Option<String> {
    git_try(
        repo,
        &[
            "rev-parse",
            "-q",
            "--verify",
            &format!("refs/checkpoints/{session}/{}^{{commit}}", cp.checkpoint_id),
        ],
    )
}

/// Sets a file's modification time an hour ahead, so git's stat data for it is stale (a
/// `git status` that may write would refresh the index).
pub fn make_stat_dirty(repo: &TestRepo, path: &str) {
    let file = fs::File::options()
        .write(true)
        .open(repo.join(path))
        .expect("open");
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .expect("set mtime");
}

/// Sets up the mix every round trip uses on top of [`Fixture::new`]: a staged change with a
/// different unstaged change on top, a staged new file, an unstaged deletion, a staged deletion,
/// untracked files (one in a new folder), an executable made non-executable and the reverse, a
/// retargeted symlink, and ignored files.
pub fn make_mixed_state(repo: &TestRepo) {
    repo.write("tracked.txt", "tracked v2 staged\n");
    repo.git(&["add", "tracked.txt"]);
    repo.write("tracked.txt", "tracked v3 unstaged\n");
    repo.write("staged-new.txt", "staged new\n");
    repo.git(&["add", "staged-new.txt"]);
    fs::remove_file(repo.join("gone.txt")).expect("rm");
    repo.git(&["rm", "-q", "--cached", "keep.txt"]);
    repo.write("untracked.txt", "untracked\n");
    repo.write("newdir/deep/file.bin", [0u8, 1, 2, 255, 0, 10, 13]);
    repo.write("empty.txt", "");
    let mut perms = fs::metadata(repo.join("bin/run.sh"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    fs::set_permissions(repo.join("bin/run.sh"), perms).expect("chmod");
    repo.write("tool.sh", "#!/bin/sh\n");
    repo.make_executable("tool.sh");
    fs::remove_file(repo.join("link")).expect("rm link");
    symlink("tracked.txt", repo.join("link"));
    symlink("../nowhere", repo.join("newdir/dangling"));
    repo.write("build.log", "ignored log v1\n");
    repo.write("ignored/cache.bin", "ignored cache v1\n");
}

/// Changes everything again: a user commit, edits, deletions, new files, mode changes, and
/// new contents for the ignored files.
pub fn mess_up(repo: &TestRepo) {
    repo.write("tracked.txt", "tracked after\n");
    repo.write("after.txt", "created after the snapshot\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "user commit after the snapshot"]);
    repo.write("later-untracked.txt", "later\n");
    repo.write("newdir/deep/file.bin", "replaced");
    let _ = fs::remove_file(repo.join("untracked.txt"));
    let _ = fs::remove_file(repo.join("empty.txt"));
    repo.write("gone.txt", "resurrected differently\n");
    repo.make_executable("tracked.txt");
    repo.write("build.log", "ignored log v2\n");
    repo.write("ignored/cache.bin", "ignored cache v2\n");
    repo.write("staged-new.txt", "staged new, changed and staged again\n");
    repo.git(&["add", "staged-new.txt"]);
}

/// The ignored files of [`make_mixed_state`]/[`mess_up`]: never touched by any restore.
pub const IGNORED: &[&str] = &["build.log", "ignored"];

/// Runs git with `input` on stdin and returns its trimmed stdout.
pub fn git_with_stdin(repo: &TestRepo, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut cmd = Command::new("git");
    cmd.current_dir(repo.path())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    for (k, v) in hermetic_env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run git");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
