//! `restore` end to end (issue 10): paths relative to the current folder, `--staged`, `--`, the
//! JSON and pretty outcome, undo of a restore, and refusals that change nothing.

use checkpoint_manager::{OperationKind, PathRestoreOutcome};
use insta::assert_snapshot;

use crate::support::*;

/// A checkpoint of `notes/a.txt` = 1 and `notes/b.txt`, then `a.txt` changed, `b.txt` deleted,
/// `-dash.txt` changed and `notes/c.txt` created.
fn changed_since(repo: &TestRepo) -> Checkpoint {
    repo.write("notes/a.txt", "a 1\n");
    repo.write("notes/b.txt", "b 1\n");
    repo.write("-dash.txt", "dash 1\n");
    let cp = create(repo, &sid(1), "notes", &[]);
    repo.write("notes/a.txt", "a 2\n");
    std::fs::remove_file(repo.join("notes/b.txt")).unwrap();
    repo.write("notes/c.txt", "c, created since\n");
    repo.write("-dash.txt", "dash 2\n");
    cp
}

fn restore_args<'a>(session: &'a str, id: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["restore", "--session-id", session, "--checkpoint-id", id];
    args.extend_from_slice(extra);
    args
}

#[test]
fn restore_takes_paths_from_the_current_folder_and_changes_nothing_else() {
    let repo = repo_with_commit();
    let cp = changed_since(&repo);
    let (session, id) = (sid(1), cp.checkpoint_id.to_string());
    let before = observe(&repo);

    let out: PathRestoreOutcome = ok_as(
        &repo.join("notes"),
        &restore_args(&session, &id, &["a.txt", "../notes/b.txt"]),
    );

    assert_eq!(out.restored_paths, ["notes/a.txt", "notes/b.txt"]);
    assert!(out.removed_paths.is_empty());
    assert!(!out.staged);
    assert_eq!(out.operation.unwrap().kind, OperationKind::Restore);
    assert_eq!(repo.read("notes/a.txt"), b"a 1\n");
    assert_eq!(repo.read("notes/b.txt"), b"b 1\n");
    let after = observe(&repo);
    assert_eq!(after.head, before.head);
    assert!(after.index_bytes == before.index_bytes, "the index changed");
    assert_eq!(repo.read("notes/c.txt"), b"c, created since\n");
    assert_eq!(repo.read("-dash.txt"), b"dash 2\n");
}

#[test]
fn a_folder_with_staged_and_a_dash_path_after_double_dash() {
    let repo = repo_with_commit();
    let cp = changed_since(&repo);
    let (session, id) = (sid(1), cp.checkpoint_id.to_string());
    let out: PathRestoreOutcome = ok_as(
        repo.path(),
        &restore_args(&session, &id, &["--staged", "--", "notes", "-dash.txt"]),
    );
    assert_eq!(
        out.restored_paths,
        ["-dash.txt", "notes/a.txt", "notes/b.txt"]
    );
    assert_eq!(out.removed_paths, ["notes/c.txt"]);
    assert!(out.staged);
    assert!(!repo.exists("notes/c.txt"));
    assert_eq!(repo.read("-dash.txt"), b"dash 1\n");
    assert_eq!(repo.status(), "", "files and index are the checkpoint's");

    // undo returns to the state before the restore.
    ok_json(repo.path(), &["undo", "--session-id", &session]);
    assert_eq!(repo.read("notes/c.txt"), b"c, created since\n");
    assert_eq!(repo.read("notes/a.txt"), b"a 2\n");
    assert_eq!(repo.read("-dash.txt"), b"dash 2\n");
}

#[test]
fn pretty_output_lists_what_was_restored_and_removed() {
    let repo = repo_with_commit();
    let cp = changed_since(&repo);
    let (session, id) = (sid(1), cp.checkpoint_id.to_string());
    let mut args = vec!["--output", "pretty"];
    args.extend(restore_args(&session, &id, &["notes"]));
    let text = ok_text(repo.path(), &args);
    let _guard = pretty_filters(repo.path(), &[(&id, "CP")]).bind_to_scope();
    assert_snapshot!(text, @r#"
restored 2 file(s) and removed 1 from checkpoint CP------
  restored  notes/a.txt
  restored  notes/b.txt
  removed   notes/c.txt
safety snapshot [ID]---- holds the previous state; `checkpoint-manager undo` returns to it
"#);
    let again = ok_text(repo.path(), &args);
    assert_snapshot!(again, @"nothing to restore: the named paths already hold checkpoint CP------'s files; nothing was recorded");
}

#[test]
fn refused_paths_exit_3_with_one_line_and_change_nothing() {
    let repo = repo_with_commit();
    let cp = changed_since(&repo);
    let (session, id) = (sid(1), cp.checkpoint_id.to_string());
    let before = observe(&repo);
    let _guard = filters(repo.path()).bind_to_scope();

    let outside = fails(
        repo.path(),
        &restore_args(&session, &id, &["../elsewhere.txt"]),
        3,
    );
    assert_snapshot!(outside, @r#"cannot restore "../elsewhere.txt": it is outside the work tree [REPO]; nothing was changed; name files or folders inside the repository"#);
    let neither = fails(
        repo.path(),
        &restore_args(&session, &id, &["no-such.txt"]),
        3,
    );
    assert_snapshot!(neither, @r#"cannot restore "no-such.txt": checkpoint [ID] does not have it and it does not exist now (neither on disk nor in the index); nothing was changed; check the path (paths are relative to the current folder)"#);
    let git_dir = fails(repo.path(), &restore_args(&session, &id, &[".git/HEAD"]), 3);
    assert_snapshot!(git_dir, @r#"cannot restore ".git/HEAD": it is in the repository's git folder, which checkpoints never hold; nothing was changed"#);
    assert_eq!(observe(&repo), before);

    let missing = usage_error(repo.path(), &restore_args(&session, &id, &[]));
    assert!(missing.contains("<PATH>"), "{missing}");
    let unknown = sid(99);
    fails(
        repo.path(),
        &restore_args(&session, &unknown, &["notes"]),
        4,
    );
    assert_eq!(observe(&repo), before);
}
