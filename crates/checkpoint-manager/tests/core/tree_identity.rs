//! A checkpoint stores exactly the tree plain git would: `git add -A` then `git write-tree`, with
//! every conversion git applies (`.gitattributes` text/eol, a clean filter, `ident`), symlinks,
//! executable bits, negated ignore rules, deletions and staged changes.

use std::os::unix::fs::symlink;

use checkpoint_manager::{
    Checkpoint, CheckpointManager, CheckpointMode, CheckpointPhase, CreateRequest, SessionId,
};
use testutil::TestRepo;

/// A repository whose dirty state exercises every conversion and file kind.
fn fixture() -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["config", "filter.upper.clean", "tr a-z A-Z"]);
    repo.git(&["config", "filter.upper.smudge", "cat"]);
    repo.write(
        ".gitattributes",
        "*.txt text=auto\n*.crlf text eol=crlf\n*.up filter=upper\n*.id ident\n*.bin binary\n",
    );
    repo.write(".gitignore", "*.log\n!keep.log\nbuild/\n");
    repo.write("tracked.txt", "one\n");
    repo.write("gone.txt", "soon deleted\n");
    repo.write("staged.txt", "base\n");
    repo.write("tool.sh", "#!/bin/sh\necho hi\n");
    repo.make_executable("tool.sh");
    repo.commit_all("base");

    repo.write("tracked.txt", "one\r\ntwo\r\n"); // CRLF under text=auto
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("staged.txt", "staged, then changed again\n");
    repo.write("new.crlf", "lf only\n");
    repo.write("shout.up", "quiet words\n");
    repo.write("stamp.id", "$Id$\n");
    repo.write("blob.bin", b"\x00\x01\r\n\xff");
    repo.write("keep.log", "negated: kept\n");
    repo.write("drop.log", "ignored\n");
    repo.write("build/out.o", "ignored folder\n");
    repo.write("nested/deep/new file é.txt", "unicode and spaces\n");
    repo.write("newexec.sh", "#!/bin/sh\n");
    repo.make_executable("newexec.sh");
    symlink("tracked.txt", repo.join("link")).unwrap();
    symlink("nowhere", repo.join("dangling")).unwrap();
    repo
}

/// The tree `git add -A` + `git write-tree` gives, computed in a copy of the index.
fn plain_git_tree(repo: &TestRepo) -> String {
    let copy = repo.join(".git/plain-index");
    std::fs::copy(repo.join(".git/index"), &copy).unwrap();
    let env = [("GIT_INDEX_FILE", copy.to_str().unwrap())];
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(repo.path()).args(args);
        for (k, v) in testutil::hermetic_env()
            .into_iter()
            .chain(env.iter().map(|(k, v)| (*k, (*v).to_owned())))
        {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    run(&["add", "-A"]);
    let tree = run(&["write-tree"]);
    std::fs::remove_file(copy).unwrap();
    tree
}

/// [`plain_git_tree`] with the index copy keeping the original's mtime, as the user's own
/// `git add -A` would judge racily clean entries (a fresh mtime would trust entries git does not).
fn plain_git_tree_racy_aware(repo: &TestRepo) -> String {
    let index = repo.join(".git/index");
    let mtime = std::fs::metadata(&index)
        .and_then(|m| m.modified())
        .unwrap();
    let copy = repo.join(".git/racy-index");
    std::fs::copy(&index, &copy).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(repo.path()).args(args);
        for (k, v) in testutil::hermetic_env() {
            cmd.env(k, v);
        }
        let out = cmd.env("GIT_INDEX_FILE", &copy).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    run(&["add", "-A"]);
    let tree = run(&["write-tree"]);
    std::fs::remove_file(copy).unwrap();
    tree
}

/// Makes a checkpoint of the repository's current state in `mode`.
fn checkpoint(repo: &TestRepo, mode: CheckpointMode) -> Checkpoint {
    let session = SessionId::parse(&testutil::session_id(1)).unwrap();
    let request = CreateRequest::new("tree identity", CheckpointPhase::Implement).with_mode(mode);
    CheckpointManager::open(repo.path())
        .unwrap()
        .create(session, &request)
        .unwrap()
}

/// Takes a snapshot and returns the tree it stores for the work tree.
fn snapshot_tree(repo: &TestRepo) -> String {
    let cp = checkpoint(repo, CheckpointMode::Snapshot);
    repo.git(&["rev-parse", &format!("{}^{{tree}}", cp.commit_sha)])
}

#[test]
fn a_snapshot_stores_the_tree_git_add_all_would() {
    let repo = fixture();
    let expected = plain_git_tree(&repo);
    let index_before = repo.index_bytes();
    let cp = checkpoint(&repo, CheckpointMode::Snapshot);
    let tree = repo.git(&["rev-parse", &format!("{}^{{tree}}", cp.commit_sha)]);
    assert_eq!(tree, expected);
    // The user's index is untouched, and the index tree is that index (staged.txt staged, the
    // rest not). `git write-tree` rewrites the index, so it comes last.
    assert_eq!(repo.index_bytes(), index_before);
    assert_eq!(cp.snapshot.unwrap().index_tree, repo.git(&["write-tree"]));
}

#[test]
fn a_commit_checkpoint_commits_the_tree_git_add_all_would() {
    let repo = fixture();
    let expected = plain_git_tree(&repo);
    let cp = checkpoint(&repo, CheckpointMode::Commit);
    assert_eq!(repo.head(), cp.commit_sha);
    assert_eq!(repo.git(&["rev-parse", "HEAD^{tree}"]), expected);
}

#[test]
fn the_fixture_really_exercises_the_conversions() {
    // Guards the two tests above against a fixture in which no conversion happens.
    let repo = fixture();
    let tree = plain_git_tree(&repo);
    let blob = |path: &str| repo.git(&["cat-file", "-p", &format!("{tree}:{path}")]);
    assert_eq!(blob("tracked.txt"), "one\ntwo"); // CRLF normalised
    assert_eq!(blob("shout.up"), "QUIET WORDS"); // clean filter ran
    assert_eq!(blob("stamp.id"), "$Id$"); // ident collapsed
    let listing = repo.git(&["ls-tree", "-r", &tree]);
    assert!(listing.contains("120000 blob") && listing.contains("\tlink"));
    assert!(listing.contains("100755 blob") && listing.contains("\tnewexec.sh"));
    assert!(listing.contains("\tkeep.log") && !listing.contains("\tdrop.log"));
    assert!(!listing.contains("build/") && !listing.contains("\tgone.txt"));
}

#[test]
fn files_and_folders_trading_places_give_the_tree_git_add_all_would() {
    let repo = TestRepo::new();
    repo.write("swap", "a file that becomes a folder\n");
    repo.write("folder/x", "a folder that becomes a file\n");
    repo.write("linkdir/f", "a folder that becomes a symlink\n");
    repo.write("keep/y", "stays\n");
    repo.commit_all("base");
    std::fs::remove_file(repo.join("swap")).unwrap();
    repo.write("swap/inner.txt", "now inside\n");
    std::fs::remove_dir_all(repo.join("folder")).unwrap();
    repo.write("folder", "now a file\n");
    std::fs::remove_dir_all(repo.join("linkdir")).unwrap();
    symlink("keep", repo.join("linkdir")).unwrap();
    repo.write("keep/z", "new beside y\n");
    let expected = plain_git_tree(&repo);
    let tree = snapshot_tree(&repo);
    assert_eq!(tree, expected);
}

#[test]
fn a_symlinked_folder_hides_the_tracked_files_behind_it_as_git_does() {
    // Only symlinks and files change here, so the snapshot edits the index's tree directly.
    let repo = TestRepo::new();
    repo.write("real/a.txt", "a\n");
    repo.write("other/a.txt", "other a\n");
    repo.commit_all("base");
    std::fs::remove_dir_all(repo.join("real")).unwrap();
    symlink("other", repo.join("real")).unwrap();
    repo.write("other/b.txt", "b\n");
    let expected = plain_git_tree(&repo);
    let tree = snapshot_tree(&repo);
    assert_eq!(tree, expected);
}

#[test]
fn names_git_would_quote_are_hashed_as_themselves() {
    // git reads `hash-object --stdin-paths` one name per line and unquotes a line starting
    // with `"`: these names must reach it quoted, not misread.
    let repo = TestRepo::new();
    repo.write("base.txt", "base\n");
    repo.commit_all("base");
    for name in [
        "\"quoted\"",
        "new\nline",
        "tab\there",
        "back\\slash",
        "sp ace",
        "\"a",
    ] {
        repo.write(name, format!("content of {name:?}\n"));
    }
    repo.write("plain", "unquoted twin of \"quoted\"\n");
    repo.write("quoted", "a file named like the unquoted form\n");
    let expected = plain_git_tree(&repo);
    let tree = snapshot_tree(&repo);
    assert_eq!(tree, expected);
}

mod random {
    //! Random work trees: whatever the user did, a snapshot stores the tree `git add -A` would.

    use std::fs;
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    const NAMES: &[&str] = &[
        "a", "b", "a/x", "a/y", "b/z", "a/x/deep", "c d", "\"q\"", "q", "n\nl", "é.txt", "crlf.txt",
    ];
    const CONTENTS: &[&[u8]] = &[b"one\n", b"two\n", b"one\r\ntwo\r\n", b"", b"\x00bin\xff"];

    #[derive(Debug, Clone)]
    enum Op {
        Write {
            name: usize,
            content: usize,
            exec: bool,
        },
        Link {
            name: usize,
            target: usize,
        },
        Remove {
            name: usize,
        },
        Stage {
            name: usize,
        },
        CommitAll,
    }

    fn op() -> impl Strategy<Value = Op> {
        let name = 0..NAMES.len();
        prop_oneof![
            4 => (name.clone(), 0..CONTENTS.len(), any::<bool>())
                .prop_map(|(name, content, exec)| Op::Write { name, content, exec }),
            1 => (name.clone(), 0..NAMES.len()).prop_map(|(name, target)| Op::Link { name, target }),
            2 => name.clone().prop_map(|name| Op::Remove { name }),
            1 => name.prop_map(|name| Op::Stage { name }),
            1 => Just(Op::CommitAll),
        ]
    }

    /// Removes whatever is at `path` (file, symlink or folder).
    fn clear(path: &Path) {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(path).unwrap(),
            Ok(_) => fs::remove_file(path).unwrap(),
            Err(_) => {}
        }
    }

    /// Makes room for `name`: every folder on its way must be a real folder.
    fn make_room(repo: &TestRepo, name: &str) {
        let mut prefix = String::new();
        for part in name.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            let path = repo.join(&prefix);
            if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&path).unwrap();
            }
        }
        clear(&repo.join(name));
    }

    fn apply(repo: &TestRepo, op: &Op) {
        match op {
            Op::Write {
                name,
                content,
                exec,
            } => {
                make_room(repo, NAMES[*name]);
                repo.write(NAMES[*name], CONTENTS[*content]);
                if *exec {
                    repo.make_executable(NAMES[*name]);
                }
            }
            Op::Link { name, target } => {
                make_room(repo, NAMES[*name]);
                if let Some(parent) = repo.join(NAMES[*name]).parent() {
                    fs::create_dir_all(parent).unwrap();
                }
                symlink(NAMES[*target], repo.join(NAMES[*name])).unwrap();
            }
            Op::Remove { name } => clear(&repo.join(NAMES[*name])),
            Op::Stage { name } => {
                let _ = repo.git_output(&["add", "-A", "--", NAMES[*name]]);
            }
            Op::CommitAll => {
                repo.commit_all("random");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn snapshots_store_what_git_add_all_would(ops in prop::collection::vec(op(), 1..14)) {
            let repo = TestRepo::new();
            repo.write(".gitattributes", "*.txt text=auto\n");
            repo.write("a/x/deep", "start\n");
            repo.commit_all("base");
            for op in &ops {
                apply(&repo, op);
            }
            let expected = plain_git_tree(&repo);
            let tree = snapshot_tree(&repo);
            prop_assert_eq!(tree, expected, "after {:?}", ops);
        }
    }
}

#[test]
fn attributes_that_live_only_in_the_index_still_apply() {
    // With .gitattributes skip-worktree (sparse checkout), git reads it from the index.
    let repo = TestRepo::new();
    repo.write(".gitattributes", "*.t text eol=lf\n");
    repo.write("x.t", "a\n");
    repo.commit_all("base");
    repo.git(&["update-index", "--skip-worktree", ".gitattributes"]);
    std::fs::remove_file(repo.join(".gitattributes")).unwrap();
    repo.write("x.t", "b\r\n");
    let expected = plain_git_tree(&repo);
    let tree = snapshot_tree(&repo);
    assert_eq!(tree, expected);
    assert_eq!(repo.git(&["cat-file", "-p", &format!("{tree}:x.t")]), "b");
}

#[test]
fn a_deleted_gitattributes_gives_the_tree_git_add_all_would() {
    let repo = TestRepo::new();
    repo.write(".gitattributes", "*.t text eol=lf\n");
    repo.write("x.t", "a\n");
    repo.commit_all("base");
    std::fs::remove_file(repo.join(".gitattributes")).unwrap();
    repo.write("x.t", "b\r\n");
    let expected = plain_git_tree(&repo);
    let tree = snapshot_tree(&repo);
    assert_eq!(tree, expected);
}

// --- The stat cache (issue 13): what earlier snapshots hashed is reused, never wrongly ---

/// Lets the file system's coarse clock move past every file written so far, so that the next
/// snapshot may learn them (it learns only files older than its own start).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(15));
}

/// A clean filter that appends a line to `count` each time git runs it.
fn counting_filter(repo: &TestRepo) -> std::path::PathBuf {
    let count = repo.join(".git/filter-runs");
    let clean = format!("sh -c 'echo run >> \"{}\"; cat'", count.display());
    repo.git(&["config", "filter.count.clean", &clean]);
    repo.git(&["config", "filter.count.smudge", "cat"]);
    repo.write(".gitattributes", "*.c filter=count\n");
    repo.write("base.txt", "base\n");
    repo.commit_all("base");
    count
}

fn runs(count: &std::path::Path) -> usize {
    std::fs::read_to_string(count).map_or(0, |t| t.lines().count())
}

#[test]
fn an_unchanged_untracked_file_is_not_run_through_its_clean_filter_again() {
    let repo = TestRepo::new();
    let count = counting_filter(&repo);
    repo.write("one.c", "one\n");
    repo.write("two.c", "two\n");
    settle();
    let first = snapshot_tree(&repo);
    assert_eq!(runs(&count), 2, "both new files filtered once");
    let expected = plain_git_tree(&repo);
    let before_plain = runs(&count);

    let second = snapshot_tree(&repo);

    assert_eq!(runs(&count), before_plain, "nothing filtered again");
    assert_eq!(second, first);
    assert_eq!(second, expected);
    // One file changes: only it goes through the filter.
    repo.write("two.c", "two, longer\n");
    let third = snapshot_tree(&repo);
    assert_eq!(runs(&count), before_plain + 1);
    assert_eq!(third, plain_git_tree(&repo));
}

#[test]
fn a_same_size_rewrite_with_the_old_mtime_is_captured() {
    // "Racy git": the bytes change, the size and mtime do not (same tick, or set back).
    let repo = TestRepo::new();
    repo.write("base.txt", "base\n");
    repo.commit_all("base");
    repo.write("new.txt", "aaaa\n");
    let mtime = std::fs::metadata(repo.join("new.txt"))
        .unwrap()
        .modified()
        .unwrap();
    settle();
    let first = snapshot_tree(&repo);
    repo.write("new.txt", "bbbb\n");
    std::fs::File::options()
        .write(true)
        .open(repo.join("new.txt"))
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    settle();

    let second = snapshot_tree(&repo);

    assert_ne!(second, first);
    assert_eq!(second, plain_git_tree(&repo));
    assert_eq!(
        repo.git(&["cat-file", "-p", &format!("{second}:new.txt")]),
        "bbbb"
    );
}

#[test]
fn new_attributes_or_filter_settings_drop_what_the_cache_knows() {
    let repo = TestRepo::new();
    let count = counting_filter(&repo);
    repo.write("one.c", "one\n");
    repo.write("plain.t", "x\r\n");
    settle();
    snapshot_tree(&repo);
    // The filter changes: the same bytes must be filtered anew.
    repo.git(&["config", "filter.count.clean", "tr a-z A-Z"]);
    assert_eq!(snapshot_tree(&repo), plain_git_tree(&repo));
    // An untracked .gitattributes now converts line ends of `*.t`.
    repo.write(".gitattributes", "*.c filter=count\n*.t text eol=lf\n");
    assert_eq!(snapshot_tree(&repo), plain_git_tree(&repo));
    // A corrupt cache file is an empty cache.
    std::fs::write(repo.join(".git/checkpoint-manager/stat-cache"), "garbage").unwrap();
    assert_eq!(snapshot_tree(&repo), plain_git_tree(&repo));
    assert!(runs(&count) >= 1);
}

#[test]
fn a_blob_the_cache_names_that_gc_pruned_is_hashed_again() {
    let repo = TestRepo::new();
    repo.write("base.txt", "base\n");
    repo.commit_all("base");
    repo.write("new.txt", "kept only by the cache\n");
    settle();
    let first = snapshot_tree(&repo);
    // Every checkpoint ref gone and the objects pruned: the cache's blob no longer exists.
    for r in repo
        .git(&["for-each-ref", "--format=%(refname)", "refs/checkpoints/"])
        .lines()
    {
        repo.git(&["update-ref", "-d", r]);
    }
    std::fs::remove_dir_all(repo.join(".flow")).unwrap();
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let blob = repo.git(&["hash-object", "new.txt"]);
    assert!(!repo.git_output(&["cat-file", "-e", &blob]).status.success());

    let second = snapshot_tree(&repo);

    assert_eq!(second, first);
    assert!(repo.git_output(&["cat-file", "-e", &blob]).status.success());
}

mod warm {
    //! Random work trees snapshotted again and again (the stat cache warm, cold, and racy):
    //! every snapshot stores the tree `git add -A` would.

    use std::fs;

    use proptest::prelude::*;

    use super::*;

    const NAMES: &[&str] = &["u1", "u2", "d/u3", "d/u4", "t.txt", "e é"];
    const CONTENTS: &[&[u8]] = &[b"one\n", b"two\n", b"one\r\ntwo\r\n", b"", b"\x00bin\xff"];

    #[derive(Debug, Clone)]
    enum Op {
        Write {
            name: usize,
            content: usize,
        },
        /// Same size, other bytes, the old mtime set back ("racy git").
        RacyRewrite {
            name: usize,
        },
        Exec {
            name: usize,
        },
        Remove {
            name: usize,
        },
        Stage {
            name: usize,
        },
        Settle,
        Snapshot,
    }

    fn op() -> impl Strategy<Value = Op> {
        let name = 0..NAMES.len();
        prop_oneof![
            3 => (name.clone(), 0..CONTENTS.len()).prop_map(|(name, content)| Op::Write { name, content }),
            2 => name.clone().prop_map(|name| Op::RacyRewrite { name }),
            1 => name.clone().prop_map(|name| Op::Exec { name }),
            1 => name.clone().prop_map(|name| Op::Remove { name }),
            1 => name.prop_map(|name| Op::Stage { name }),
            2 => Just(Op::Settle),
            3 => Just(Op::Snapshot),
        ]
    }

    fn racy_rewrite(repo: &TestRepo, name: &str) {
        let path = repo.join(name);
        let Ok(old) = fs::read(&path) else { return };
        let Ok(mtime) = fs::metadata(&path).and_then(|m| m.modified()) else {
            return;
        };
        let new: Vec<u8> = old.iter().map(|b| b.wrapping_add(1)).collect();
        fs::write(&path, new).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }

    fn apply(repo: &TestRepo, op: &Op) -> Option<(String, String)> {
        match op {
            Op::Write { name, content } => {
                repo.write(NAMES[*name], CONTENTS[*content]);
            }
            Op::RacyRewrite { name } => racy_rewrite(repo, NAMES[*name]),
            Op::Exec { name } => {
                if repo.join(NAMES[*name]).is_file() {
                    repo.make_executable(NAMES[*name]);
                }
            }
            Op::Remove { name } => {
                let _ = fs::remove_file(repo.join(NAMES[*name]));
            }
            Op::Stage { name } => {
                let _ = repo.git_output(&["add", "-A", "--", NAMES[*name]]);
            }
            Op::Settle => settle(),
            Op::Snapshot => return Some((snapshot_tree(repo), plain_git_tree_racy_aware(repo))),
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn snapshots_with_a_warm_stat_cache_store_what_git_add_all_would(
            ops in prop::collection::vec(op(), 1..16)
        ) {
            let repo = TestRepo::new();
            repo.write(".gitattributes", "*.txt text=auto\n");
            repo.write("base", "start\n");
            repo.commit_all("base");
            for (i, op) in ops.iter().chain([&Op::Snapshot]).enumerate() {
                if let Some((tree, expected)) = apply(&repo, op) {
                    prop_assert_eq!(tree, expected, "at {} of {:?}", i, ops);
                }
            }
        }
    }
}
