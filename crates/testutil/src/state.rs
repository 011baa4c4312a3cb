//! Work-tree states ([`TestRepo::tree_state`]) and the trees of checkpoint commits read into the
//! same shape, so "is this state still recoverable?" is a plain comparison.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{checkpoint_commits, hermetic_env, FileState, TestRepo};

/// A work-tree state as [`TestRepo::tree_state`] reports it.
pub type State = Vec<(String, FileState)>;

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

/// Reads trees out of git as [`State`]s, caching by tree and blob id (objects never change).
#[derive(Default)]
pub struct TreeReader {
    trees: HashMap<String, State>,
    blobs: HashMap<String, Vec<u8>>,
}

impl TreeReader {
    /// Returns the files of `tree` (a tree or commit id) as a state. Submodules/gitlinks are
    /// left out (a checkpoint never holds a nested repository's content).
    pub fn state(&mut self, repo: &TestRepo, tree: &str) -> State {
        let tree = repo.git(&["rev-parse", &format!("{tree}^{{tree}}")]);
        if let Some(state) = self.trees.get(&tree) {
            return state.clone();
        }
        let entries = blob_entries(repo, &tree);
        let missing: Vec<String> = entries
            .iter()
            .map(|(_, _, oid)| oid.clone())
            .filter(|oid| !self.blobs.contains_key(oid))
            .collect();
        for (oid, bytes) in missing.iter().zip(cat_blobs(repo, &missing)) {
            self.blobs.insert(oid.clone(), bytes);
        }
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

    /// Returns the state of every checkpoint commit the tool keeps (private refs and the trash).
    pub fn checkpoint_states(&mut self, repo: &TestRepo) -> Vec<State> {
        checkpoint_commits(repo)
            .into_iter()
            .map(|c| self.state(repo, &c))
            .collect()
    }
}

/// Returns `(path, mode, oid)` of every blob in `tree`.
fn blob_entries(repo: &TestRepo, tree: &str) -> Vec<(String, String, String)> {
    let raw = repo.git_bytes(&["ls-tree", "-r", "-z", "--full-tree", tree]);
    let mut entries = Vec::new();
    for record in raw.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let tab = record.iter().position(|b| *b == b'\t').expect("tab");
        let meta = String::from_utf8_lossy(&record[..tab]).into_owned();
        let path = String::from_utf8_lossy(&record[tab + 1..]).into_owned();
        let fields: Vec<&str> = meta.split(' ').collect();
        if fields[1] == "blob" {
            entries.push((path, fields[0].to_owned(), fields[2].to_owned()));
        }
    }
    entries
}

/// Reads the blobs `oids` in one `git cat-file --batch`, in order.
fn cat_blobs(repo: &TestRepo, oids: &[String]) -> Vec<Vec<u8>> {
    if oids.is_empty() {
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
    let input: String = oids.iter().map(|o| format!("{o}\n")).collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).expect("write");
    });
    let out = child.wait_with_output().expect("cat-file output");
    writer.join().expect("writer");
    let mut rest = out.stdout.as_slice();
    let mut blobs = Vec::with_capacity(oids.len());
    for _ in oids {
        let end = rest.iter().position(|b| *b == b'\n').expect("header");
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad header {header}"));
        rest = &rest[end + 1..];
        blobs.push(rest[..size].to_vec());
        rest = &rest[size + 1..];
    }
    blobs
}
