//! File names git and shells find hard (unicode, spaces, newlines, tabs, quotes, leading dashes,
//! glob and pathspec-magic characters, bytes that are not UTF-8), symlinks of every kind and
//! executable bits, through snapshot, hard rollback, undo and undo of the undo.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use checkpoint_manager::CheckpointMode;

use crate::common::*;

/// Names that break naive code: shell and pathspec metacharacters, control characters.
const HARD_NAMES: &[&str] = &[
    "with space.txt",
    "  leading and trailing spaces  ",
    "new\nline.txt",
    "tab\there.txt",
    "carriage\rreturn.txt",
    "ünïcödé/日本語/файл.txt",
    "emoji 🎉.md",
    "-rf",
    "--all",
    "*",
    "[abc].txt",
    "?.txt",
    "quote\"d'.txt",
    "back\\slash.txt",
    "$HOME and `cmd`.sh",
    "dir with space/sub dir/file name.txt",
    ".hidden",
    "a.txt~",
    "NUL-looking\u{1}.txt",
];

/// Names that are pathspec magic when git reads them as pathspecs.
const MAGIC_NAMES: &[&str] = &[
    ":(exclude)magic",
    ":!not",
    ":(glob)*.txt",
    ":/top",
    ":(icase)X",
];

fn write_hard_names(fx: &Fixture, tag: &str) {
    for (i, name) in HARD_NAMES.iter().enumerate() {
        fx.repo.write(name, format!("{tag} #{i}: {name:?}\n"));
    }
    // A name that is not UTF-8 at all.
    let raw = OsStr::from_bytes(b"latin1-\xe9t\xe9.txt");
    fs::write(fx.repo.path().join(raw), format!("{tag}: not utf-8\n")).expect("write");
}

#[test]
fn hard_file_names_round_trip_staged_unstaged_untracked_and_deleted() {
    let fx = Fixture::new();
    write_hard_names(&fx, "committed");
    fx.repo.commit_all("hard names");
    // Every kind of change, on hard names: staged edits, unstaged edits, deletions, untracked.
    for (i, name) in HARD_NAMES.iter().enumerate() {
        match i % 4 {
            0 => {
                fx.repo.write(name, format!("staged {i}\n"));
                fx.repo.git(&["add", "--", name]);
            }
            1 => {
                fx.repo.write(name, format!("unstaged {i}\n"));
            }
            2 => fs::remove_file(fx.repo.join(name)).expect("rm"),
            _ => {
                fx.repo.git(&["rm", "-q", "--cached", "--", name]);
            }
        }
        fx.repo
            .write(format!("untracked/{i} {name}"), "untracked\n");
    }
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("hard names");
    let mut reader = TreeReader::default();
    assert_state(
        &without(&a.files, IGNORED),
        &reader.state(&fx.repo, &cp.commit_sha),
        "the snapshot of hard names",
    );

    // Change everything: the rollback must remove, rewrite and recreate files by these names.
    for (i, name) in HARD_NAMES.iter().enumerate() {
        if i % 3 == 0 {
            let _ = fs::remove_file(fx.repo.join(name));
        } else {
            fx.repo.write(name, format!("changed after {i}\n"));
        }
        fx.repo.write(format!("later/{name}"), "created after\n");
    }
    fx.repo.git(&["add", "-A"]);
    let b = fx.observe();
    let b_staged = staged_diff(&fx.repo);

    fx.rollback_hard(&cp);
    let now = fx.observe();
    assert_state(&a.files, &now.files, "rollback");
    assert_eq!(a.index, now.index, "rollback: index");
    assert_eq!(a_staged, staged_diff(&fx.repo), "rollback: staged");
    fx.undo();
    let now = fx.observe();
    assert_state(&b.files, &now.files, "undo");
    assert_eq!(b.index, now.index, "undo: index");
    assert_eq!(b_staged, staged_diff(&fx.repo), "undo: staged");
    // Repeated undo walks back; redo takes the undo back.
    fx.redo();
    assert_state(&a.files, &fx.repo.tree_state(), "redo");
}

#[test]
fn hard_file_names_survive_commit_mode_and_descriptions_with_newlines() {
    let fx = Fixture::new();
    write_hard_names(&fx, "v1");
    let cp = fx.create(
        CheckpointMode::Commit,
        "multi-line\ndescription with \"quotes\", $vars and `ticks`\n\n-- and a trailer: x",
    );
    let a = fx.repo.tree_state();
    write_hard_names(&fx, "v2");
    let b = fx.repo.tree_state();
    fx.rollback_hard(&cp);
    assert_state(&a, &fx.repo.tree_state(), "rollback to a commit");
    fx.undo();
    assert_state(&b, &fx.repo.tree_state(), "undo");
    let got = fx.mgr.get(fx.session, cp.checkpoint_id).expect("get");
    assert_eq!(got.description, cp.description);
}

#[test]
fn symlinks_of_every_kind_and_executable_bits_are_kept() {
    let fx = Fixture::new();
    fx.repo.write("target dir/inner.txt", "inner\n");
    symlink("target dir", fx.repo.join("to-dir"));
    symlink("does/not/exist", fx.repo.join("dangling"));
    symlink("/etc/hostname", fx.repo.join("absolute"));
    symlink("../../keep.txt", fx.repo.join("deep/er/relative"));
    symlink("self-loop", fx.repo.join("self-loop"));
    symlink("ünï cödé target", fx.repo.join("ünï link"));
    fx.repo.write("script.sh", "#!/bin/sh\n");
    fx.repo.make_executable("script.sh");
    fx.repo.write("staged-exec.sh", "#!/bin/sh\n");
    fx.repo.make_executable("staged-exec.sh");
    fx.repo.git(&["add", "staged-exec.sh"]);
    // Staged as executable, then made non-executable in the work tree.
    fx.repo.make_executable("keep.txt");
    fx.repo.git(&["add", "keep.txt"]);
    let mut perms = fs::metadata(fx.repo.join("keep.txt"))
        .expect("m")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    fs::set_permissions(fx.repo.join("keep.txt"), perms).expect("chmod");
    let a = fx.observe();
    let a_staged = staged_diff(&fx.repo);
    let cp = fx.snapshot("links and modes");

    // Flip everything: links retargeted or replaced by files, modes flipped, links removed.
    for link in ["to-dir", "dangling", "absolute", "self-loop"] {
        fs::remove_file(fx.repo.join(link)).expect("rm");
    }
    fx.repo.write("to-dir", "a file now\n");
    symlink("keep.txt", fx.repo.join("dangling"));
    fx.repo.make_executable("tracked.txt");
    let mut perms = fs::metadata(fx.repo.join("script.sh"))
        .expect("m")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    fs::set_permissions(fx.repo.join("script.sh"), perms).expect("chmod");
    fs::remove_file(fx.repo.join("link")).expect("rm");
    fx.repo.write("link", "link replaced by a file\n");
    let b = fx.observe();

    fx.rollback_hard(&cp);
    let now = fx.observe();
    assert_state(&a.files, &now.files, "rollback");
    assert_eq!(a.index, now.index, "rollback: index");
    assert_eq!(a_staged, staged_diff(&fx.repo), "rollback: staged modes");
    fx.undo();
    assert_state(&b.files, &fx.repo.tree_state(), "undo");
    fx.redo();
    assert_state(&a.files, &fx.repo.tree_state(), "redo");
    assert_eq!(a.index, index_listing(&fx.repo), "redo: index");
}

#[test]
fn pathspec_magic_names_are_captured_by_a_snapshot() {
    let fx = Fixture::new();
    for name in MAGIC_NAMES {
        fx.repo.write(name, format!("{name}\n"));
    }
    fx.repo.write("other.txt", "other\n");
    let before = fx.observe();
    let cp = fx.snapshot("magic names");
    assert_same_for_user(&before, &fx.observe(), "snapshot");
    let mut reader = TreeReader::default();
    assert_state(
        &before.files,
        &reader.state(&fx.repo, &cp.commit_sha),
        "snapshot of pathspec-magic names",
    );
}

#[test]
fn pathspec_magic_names_round_trip_through_rollback_and_undo() {
    let fx = Fixture::new();
    let target = fx.snapshot("before the magic names");
    for name in MAGIC_NAMES {
        fx.repo.write(name, format!("{name}\n"));
    }
    let b = fx.repo.tree_state();
    let outcome = fx.rollback_hard(&target);
    for name in MAGIC_NAMES {
        assert!(!fx.repo.exists(name), "{name} not removed");
        assert!(outcome.removed_paths.contains(&name.to_string()), "{name}");
    }
    fx.undo();
    assert_state(
        &b,
        &fx.repo.tree_state(),
        "undo brings the magic names back",
    );
}
