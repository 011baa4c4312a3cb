//! Which lock files a git call takes, so the journal can name them should we be killed while
//! git holds them (see `journal.rs`). The knowledge of git's sub-commands stays in the door.

use std::fs;
use std::path::PathBuf;

use crate::journal::LockPaths;

/// Git sub-commands that lock the index they write (the user's, unless `GIT_INDEX_FILE` points
/// at a private one).
const INDEX_WRITERS: &[&str] = &[
    "read-tree",
    "update-index",
    "reset",
    "checkout",
    "checkout-index",
    "commit",
    "add",
    "rm",
    "mv",
    "apply",
    "restore",
    "stash",
    "merge",
    "write-tree",
];

/// A git call's step as the journal records it: what it is and the lock files it takes.
pub fn step_of(
    paths: &LockPaths,
    args: &[String],
    stdin: Option<&[u8]>,
    own_index: bool,
) -> (String, Vec<PathBuf>) {
    let sub = subcommand(args).unwrap_or_default();
    (
        format!("git {sub}"),
        locks_taken(paths, args, stdin, own_index),
    )
}

/// Returns the lock files git creates for this call.
fn locks_taken(
    paths: &LockPaths,
    args: &[String],
    stdin: Option<&[u8]>,
    own_index: bool,
) -> Vec<PathBuf> {
    let Some(sub) = subcommand(args) else {
        return Vec::new();
    };
    if INDEX_WRITERS.contains(&sub) {
        let mut locks = Vec::new();
        if !own_index {
            locks.push(paths.index_lock.clone());
        }
        if sub == "reset" || sub == "commit" || sub == "merge" {
            locks.extend(ref_locks(paths, "HEAD"));
        }
        return locks;
    }
    match sub {
        "update-ref" => update_ref_locks(paths, args, stdin),
        "symbolic-ref" => vec![paths.git_dir.join("HEAD.lock")],
        _ => Vec::new(),
    }
}

fn update_ref_locks(paths: &LockPaths, args: &[String], stdin: Option<&[u8]>) -> Vec<PathBuf> {
    let mut names: Vec<String> = Vec::new();
    let mut deletes = args.iter().any(|a| a == "-d");
    if args.iter().any(|a| a == "--stdin") {
        let text = String::from_utf8_lossy(stdin.unwrap_or_default());
        for line in text.lines() {
            let mut words = line.split(' ');
            let (Some(verb), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            deletes |= verb == "delete";
            names.push(name.to_owned());
        }
    } else {
        names.extend(ref_argument(args));
    }
    let mut locks: Vec<PathBuf> = names.iter().flat_map(|n| ref_locks(paths, n)).collect();
    if deletes {
        locks.push(paths.common_dir.join("packed-refs.lock"));
    }
    locks
}

/// The ref of `update-ref [-m <msg>] [--no-deref] [-d] <ref> ...`.
fn ref_argument(args: &[String]) -> Option<String> {
    let mut rest = args.iter().skip_while(|a| *a != "update-ref").skip(1);
    while let Some(arg) = rest.next() {
        if arg == "-m" {
            rest.next();
        } else if !arg.starts_with('-') {
            return Some(arg.clone());
        }
    }
    None
}

/// The lock files of ref `name`: its own, and, for HEAD, the branch it points at.
fn ref_locks(paths: &LockPaths, name: &str) -> Vec<PathBuf> {
    let mut locks = vec![ref_lock(paths, name)];
    if name == "HEAD" {
        if let Ok(head) = fs::read_to_string(paths.git_dir.join("HEAD")) {
            if let Some(target) = head.trim().strip_prefix("ref: ") {
                locks.push(ref_lock(paths, target));
            }
        }
    }
    locks
}

fn ref_lock(paths: &LockPaths, name: &str) -> PathBuf {
    let per_worktree = name == "HEAD"
        || ["refs/bisect/", "refs/worktree/", "refs/rewritten/"]
            .iter()
            .any(|p| name.starts_with(p));
    let dir = if per_worktree {
        &paths.git_dir
    } else {
        &paths.common_dir
    };
    dir.join(format!("{name}.lock"))
}

/// Returns git's sub-command: the first argument that is not an option (`-c key=value` skipped).
fn subcommand(args: &[String]) -> Option<&str> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-c" {
            iter.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locks_of_each_step_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = dir.path().join(".git");
        fs::create_dir_all(&git).expect("git dir");
        fs::write(git.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
        let paths = LockPaths {
            git_dir: git.clone(),
            common_dir: git.clone(),
            index_lock: git.join("index.lock"),
        };
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let locks =
            |a: &[&str], stdin: Option<&[u8]>, own| locks_taken(&paths, &args(a), stdin, own);
        assert_eq!(
            locks(&["read-tree", "-u", "--reset", "x"], None, false),
            vec![git.join("index.lock")]
        );
        assert!(locks(&["read-tree", "x"], None, true).is_empty());
        assert!(locks(&["status", "-z"], None, false).is_empty());
        assert_eq!(
            locks(
                &["update-ref", "-m", "msg", "--stdin"],
                Some(b"update HEAD a b\ndelete refs/x/y c\n"),
                false
            ),
            vec![
                git.join("HEAD.lock"),
                git.join("refs/heads/main.lock"),
                git.join("refs/x/y.lock"),
                git.join("packed-refs.lock"),
            ]
        );
        assert_eq!(
            step_of(
                &paths,
                &args(&["-c", "a=b", "update-ref", "-d", "refs/x/y"]),
                None,
                false
            ),
            (
                "git update-ref".to_owned(),
                vec![git.join("refs/x/y.lock"), git.join("packed-refs.lock")]
            )
        );
    }
}
