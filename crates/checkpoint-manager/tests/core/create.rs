//! `create`: what gets committed and tagged, in every starting state (changes, nothing to
//! commit, no commit yet, detached HEAD, no identity), `--no-commit`, and the refusals.

use checkpoint_manager::{
    CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, Error, ErrorKind, StateSnapshot,
};

use crate::support::*;

#[test]
fn commits_tracked_changes_deletions_and_untracked_files_then_tags_the_commit() {
    let repo = repo_with_commit();
    repo.write("keep.txt", "keep\n");
    repo.write("edit.txt", "old\n");
    repo.write("gone.txt", "bye\n");
    let base = repo.commit_all("base");
    repo.write("edit.txt", "new\n");
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    repo.write("fresh/untracked.txt", "hi\n");

    let cp = checkpoint(&repo, sid(1), "Implementation milestone");

    assert_eq!(
        resolve(&repo, "HEAD").as_deref(),
        Some(cp.commit_sha.as_str())
    );
    assert_eq!(head_branch(&repo).as_deref(), Some("refs/heads/main"));
    assert_eq!(parents(&repo, &cp.commit_sha), [base]);
    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        ["README.md", "edit.txt", "fresh/untracked.txt", "keep.txt"]
    );
    assert_eq!(blob(&repo, &cp.commit_sha, "edit.txt"), b"new\n");
    assert_eq!(blob(&repo, &cp.commit_sha, "fresh/untracked.txt"), b"hi\n");
    // Like `git add -A && git commit`: nothing is left uncommitted, files are untouched.
    assert_eq!(repo.status(), "");
    assert_eq!(repo.read("edit.txt"), b"new\n");

    let tag = format!("checkpoint-{}", cp.checkpoint_id);
    assert_eq!(cp.tags, std::slice::from_ref(&tag));
    assert_eq!(tags(&repo), std::slice::from_ref(&tag));
    assert_eq!(
        resolve(&repo, &format!("refs/tags/{tag}")).as_deref(),
        Some(cp.commit_sha.as_str())
    );
    assert_eq!(cp.mode, CheckpointMode::Commit);
    assert_eq!(cp.checkpoint_type, CheckpointType::Manual);
    assert_eq!(cp.phase, CheckpointPhase::Implement);
    assert_eq!(cp.description, "Implementation milestone");
    assert!(!cp.rollback_used);
    assert_eq!(cp.rollback_count, 0);
    // The recorded commit message is the commit's message.
    let message = repo.git(&["log", "-1", "--format=%B", &cp.commit_sha]);
    let recorded = cp
        .commit_message
        .clone()
        .expect("a new commit has a message");
    assert_eq!(message.trim_end(), recorded.trim_end());
    assert!(recorded.contains("Implementation milestone"), "{recorded}");
}

#[test]
fn staged_changes_staged_deletions_and_mode_changes_are_committed() {
    let repo = repo_with_commit();
    repo.write("script.sh", "echo hi\n");
    repo.write("removed.txt", "x\n");
    repo.commit_all("base");
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    repo.git(&["rm", "-q", "removed.txt"]);
    repo.make_executable("script.sh");

    let cp = checkpoint(&repo, sid(1), "staged work");

    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        ["README.md", "script.sh", "staged.txt"]
    );
    assert_eq!(mode_of(&repo, &cp.commit_sha, "script.sh"), "100755");
    assert_eq!(repo.status(), "");
}

#[test]
fn ignored_files_are_not_committed_and_stay_on_disk() {
    let repo = repo_with_commit();
    repo.write(".gitignore", "*.log\nbuild/\n");
    repo.write("debug.log", "noise\n");
    repo.write("build/out.bin", "bin\n");
    repo.write("src/main.rs", "fn main() {}\n");

    let cp = checkpoint(&repo, sid(1), "ignore rules");

    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        [".gitignore", "README.md", "src/main.rs"]
    );
    assert_eq!(repo.read("debug.log"), b"noise\n");
    assert_eq!(repo.read("build/out.bin"), b"bin\n");
}

#[test]
fn nothing_to_commit_tags_head_without_a_new_commit() {
    let repo = repo_with_commit();
    let head = repo.head();
    let before = commit_count(&repo);

    let cp = checkpoint(&repo, sid(1), "clean tree");

    assert_eq!(cp.commit_sha, head);
    assert_eq!(repo.head(), head, "no empty commit");
    assert_eq!(commit_count(&repo), before);
    assert_eq!(cp.commit_message, None, "no commit was made");
    assert_eq!(
        resolve(&repo, &format!("refs/tags/checkpoint-{}", cp.checkpoint_id)),
        Some(head)
    );
}

#[test]
fn a_repository_without_commits_gets_a_root_commit() {
    let repo = TestRepo::new();
    repo.write("first.txt", "1\n");
    repo.write("dir/second.txt", "2\n");

    let cp = checkpoint(&repo, sid(1), "root");

    assert_eq!(
        resolve(&repo, "refs/heads/main"),
        Some(cp.commit_sha.to_string())
    );
    assert!(parents(&repo, &cp.commit_sha).is_empty(), "a root commit");
    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        ["dir/second.txt", "first.txt"]
    );
    assert_eq!(tags(&repo), [format!("checkpoint-{}", cp.checkpoint_id)]);
    assert_eq!(repo.status(), "");
}

#[test]
fn without_a_configured_identity_the_commit_is_made_with_the_tools_identity() {
    let repo = TestRepo::without_identity();
    assert!(
        !repo.git_output(&["config", "user.email"]).status.success(),
        "precondition: no identity anywhere"
    );
    repo.write("work.txt", "work\n");

    let cp = manager(&repo)
        .create(sid(1), &request("no identity"))
        .unwrap();

    let who = repo.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", &cp.commit_sha]);
    assert_eq!(
        who,
        "checkpoint-manager <checkpoint-manager@localhost>|checkpoint-manager <checkpoint-manager@localhost>"
    );
    assert_eq!(tree_paths(&repo, &cp.commit_sha), ["work.txt"], "not empty");
    // A second checkpoint on top works the same way.
    repo.write("work.txt", "more\n");
    let second = manager(&repo).create(sid(1), &request("again")).unwrap();
    assert_eq!(parents(&repo, &second.commit_sha), [cp.commit_sha]);
}

#[test]
fn a_configured_identity_is_the_commits_author() {
    let repo = repo_with_commit();
    repo.write("a.txt", "a\n");
    let cp = checkpoint(&repo, sid(1), "mine");
    let who = repo.git(&["log", "-1", "--format=%an <%ae>", &cp.commit_sha]);
    assert_eq!(who, "Test User <test@example.com>");
}

#[test]
fn commits_run_no_hooks_and_no_signing() {
    let repo = repo_with_commit();
    for hook in [
        "pre-commit",
        "commit-msg",
        "post-commit",
        "reference-transaction",
    ] {
        repo.write(
            format!(".git/hooks/{hook}"),
            format!("#!/bin/sh\ntouch \"$(git rev-parse --show-toplevel)/ran-{hook}\"\nexit 1\n"),
        );
        repo.make_executable(format!(".git/hooks/{hook}"));
    }
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.git(&["config", "tag.gpgSign", "true"]);
    repo.git(&["config", "gpg.program", "false"]);
    repo.write("a.txt", "a\n");

    let cp = checkpoint(&repo, sid(1), "hooks everywhere");

    assert_eq!(tree_paths(&repo, &cp.commit_sha), ["README.md", "a.txt"]);
    for hook in [
        "pre-commit",
        "commit-msg",
        "post-commit",
        "reference-transaction",
    ] {
        assert!(!repo.exists(format!("ran-{hook}")), "{hook} ran");
    }
    let raw = repo.git(&["cat-file", "commit", &cp.commit_sha]);
    assert!(!raw.contains("gpgsig"), "{raw}");
}

#[test]
fn file_names_with_unicode_spaces_and_quotes_are_committed_exactly() {
    let repo = repo_with_commit();
    let names = [
        "dir with spaces/file name.txt",
        "naïve café/ünïcödé ✓.md",
        "日本語/ファイル.txt",
        "quote\"and'apostrophe.txt",
        "-leading-dash.txt",
        "tab\tname.txt",
    ];
    for (i, name) in names.iter().enumerate() {
        repo.write(name, format!("content {i}\n"));
    }

    let cp = checkpoint(&repo, sid(1), "unicode");

    let mut expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    expected.push("README.md".to_owned());
    expected.sort();
    let mut got = tree_paths(&repo, &cp.commit_sha);
    got.sort();
    assert_eq!(got, expected);
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            blob(&repo, &cp.commit_sha, name),
            format!("content {i}\n").into_bytes()
        );
    }
    assert_eq!(repo.status(), "");
}

#[test]
fn descriptions_are_data_never_shell() {
    let repo = repo_with_commit();
    repo.write("keep/me.txt", "still here\n");
    let description =
        "$(touch pwned) `touch pwned2`; rm -rf keep && echo \"x\" > overwritten | cat\n\
                       second line with 'quotes' and \\backslashes\\";

    let cp = checkpoint(&repo, sid(1), description);

    assert!(!repo.exists("pwned"));
    assert!(!repo.exists("pwned2"));
    assert!(!repo.exists("overwritten"));
    assert_eq!(repo.read("keep/me.txt"), b"still here\n");
    assert_eq!(cp.description, description);
    let stored = manager(&repo).get(sid(1), cp.checkpoint_id).unwrap();
    assert_eq!(stored.description, description);
    let message = repo.git(&["log", "-1", "--format=%B", &cp.commit_sha]);
    assert!(
        message.contains("$(touch pwned) `touch pwned2`"),
        "{message}"
    );
}

#[test]
fn the_sessions_folder_is_never_in_any_commit_and_never_shows_in_status() {
    let repo = repo_with_commit();
    // The user's own files under .flow are theirs and are committed; only sessions/ is ours.
    repo.write(".flow/maestro/config.json", "{}\n");
    let a = checkpoint(&repo, sid(1), "one");
    repo.write("a.txt", "a\n");
    let b = checkpoint(&repo, sid(2), "other session");
    repo.write("a.txt", "aa\n");
    let c = checkpoint(&repo, sid(1), "three");
    manager(&repo)
        .rollback(
            sid(1),
            a.checkpoint_id,
            checkpoint_manager::ResetMode::Mixed,
        )
        .unwrap();
    repo.write("b.txt", "b\n");
    checkpoint(&repo, sid(1), "after rollback");

    assert!(repo.exists(".flow/maestro/sessions"));
    assert!(tree_paths(&repo, &a.commit_sha).contains(&".flow/maestro/config.json".to_owned()));
    // Every object any ref reaches, checkpoints and safety snapshots included.
    let all = repo.git(&["rev-list", "--all"]);
    assert!(all.lines().count() >= 5, "{all}");
    for commit in all.lines() {
        for path in tree_paths(&repo, commit) {
            assert!(
                !path.starts_with(".flow/maestro/sessions"),
                "{path} is in commit {commit}"
            );
        }
    }
    assert!(all.contains(b.commit_sha.as_str()) && all.contains(c.commit_sha.as_str()));
    // A user's own `git add -A` never picks the log up either.
    assert_eq!(repo.status(), "");
    repo.git(&["add", "-A"]);
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
}

#[test]
fn the_sessions_folder_is_excluded_even_without_an_info_exclude_file() {
    let repo = repo_with_commit();
    std::fs::remove_dir_all(repo.join(".git/info")).unwrap();
    checkpoint(&repo, sid(1), "one");
    repo.write("a.txt", "a\n");
    let second = checkpoint(&repo, sid(1), "two");
    assert_eq!(
        tree_paths(&repo, &second.commit_sha),
        ["README.md", "a.txt"]
    );
    assert_eq!(repo.status(), "");
}

#[test]
fn the_repository_can_be_opened_from_a_subdirectory() {
    let repo = repo_with_commit();
    repo.write("deep/er/here.txt", "here\n");
    repo.write("elsewhere.txt", "there\n");
    let m = checkpoint_manager::CheckpointManager::open(repo.join("deep/er")).unwrap();
    assert_eq!(canonical(m.workdir()), canonical(repo.path()));

    let cp = m.create(sid(1), &request("from a subdirectory")).unwrap();

    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        ["README.md", "deep/er/here.txt", "elsewhere.txt"]
    );
    assert!(repo.log_path(&sid(1).to_string()).exists());
    assert!(!repo.exists("deep/er/.flow"));
    assert_eq!(manager(&repo).list(sid(1)).unwrap().len(), 1);
}

#[test]
fn a_detached_head_gets_the_commit_and_the_branch_stays_put() {
    let repo = repo_with_commit();
    let main = repo.head();
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("a.txt", "a\n");

    let cp = checkpoint(&repo, sid(1), "detached");

    assert_eq!(head_branch(&repo), None, "HEAD stays detached");
    assert_eq!(repo.head(), cp.commit_sha);
    assert_eq!(parents(&repo, &cp.commit_sha), std::slice::from_ref(&main));
    assert_eq!(resolve(&repo, "refs/heads/main"), Some(main));
}

#[test]
fn a_linked_worktree_commits_on_its_own_branch() {
    let repo = repo_with_commit();
    let main = repo.head();
    let outside = tempfile::tempdir().unwrap();
    let wt_dir = outside.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        &wt_dir.to_string_lossy(),
    ]);
    std::fs::write(wt_dir.join("feature.txt"), "f\n").unwrap();

    let m = checkpoint_manager::CheckpointManager::open(&wt_dir).unwrap();
    let cp = m.create(sid(1), &request("in a worktree")).unwrap();

    assert_eq!(
        resolve(&repo, "refs/heads/feature"),
        Some(cp.commit_sha.to_string())
    );
    assert_eq!(resolve(&repo, "refs/heads/main"), Some(main));
    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        ["README.md", "feature.txt"]
    );
    assert!(wt_dir
        .join(format!(
            ".flow/maestro/sessions/{}/checkpoints.json",
            sid(1)
        ))
        .exists());
    let wt_status = std::process::Command::new("git")
        .args(["--no-optional-locks", "status", "--porcelain", "-uall"])
        .current_dir(&wt_dir)
        .output()
        .unwrap();
    assert!(wt_status.status.success());
    assert_eq!(String::from_utf8_lossy(&wt_status.stdout), "");
}

#[test]
fn every_checkpoint_gets_its_own_id_and_tag() {
    let repo = repo_with_commit();
    let ids: Vec<_> = (0..3)
        .map(|i| {
            repo.write("n.txt", format!("{i}\n"));
            checkpoint(&repo, sid(1), &format!("cp {i}")).checkpoint_id
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    let mut expected: Vec<String> = ids.iter().map(|id| format!("checkpoint-{id}")).collect();
    expected.sort();
    assert_eq!(tags(&repo), expected);
}

#[test]
fn type_phase_and_state_snapshot_are_recorded() {
    let repo = repo_with_commit();
    let snapshot = StateSnapshot {
        tasks_completed: 15,
        decisions_made: 8,
        files_modified: 23,
        files_created: 12,
        tests_passing: 42,
        tests_failing: 1,
    };
    let cp = manager(&repo)
        .create(
            sid(1),
            &CreateRequest::new("with state", CheckpointPhase::GenerateTasks)
                .with_type(CheckpointType::TaskGroupComplete)
                .with_state_snapshot(Some(snapshot))
                .with_mode(CheckpointMode::Commit),
        )
        .unwrap();
    let got = manager(&repo).get(sid(1), cp.checkpoint_id).unwrap();
    assert_eq!(got.state_snapshot, Some(snapshot));
    assert_eq!(got.phase, CheckpointPhase::GenerateTasks);
    assert_eq!(got.checkpoint_type, CheckpointType::TaskGroupComplete);
    assert_eq!(got, cp);
}

// --- `--no-commit` (tag mode) ---

#[test]
fn no_commit_tags_head_as_it_is() {
    let repo = repo_with_commit();
    let head = repo.head();
    repo.write("ignored.log", "x\n");
    repo.write(".git/info/exclude", "*.log\n");

    let cp = manager(&repo)
        .create(
            sid(1),
            &request_with("tag only", CheckpointType::SafeState, CheckpointMode::Tag),
        )
        .unwrap();

    assert_eq!(cp.commit_sha, head);
    assert_eq!(repo.head(), head);
    assert_eq!(cp.mode, CheckpointMode::Tag);
    assert_eq!(cp.commit_message, None);
    assert_eq!(cp.tags, [format!("checkpoint-{}", cp.checkpoint_id)]);
    assert_eq!(
        resolve(&repo, &format!("refs/tags/checkpoint-{}", cp.checkpoint_id)),
        Some(head)
    );
    assert_eq!(manager(&repo).list(sid(1)).unwrap(), [cp]);
}

#[test]
fn no_commit_refuses_uncommitted_changes_and_changes_nothing() {
    type Dirty = fn(&TestRepo);
    let cases: [(&str, Dirty); 4] = [
        ("modified", |r| {
            r.write("README.md", "changed\n");
        }),
        ("untracked", |r| {
            r.write("new.txt", "new\n");
        }),
        ("staged", |r| {
            r.write("staged.txt", "s\n");
            r.git(&["add", "staged.txt"]);
        }),
        ("deleted", |r| {
            std::fs::remove_file(r.join("README.md")).unwrap()
        }),
    ];
    for (name, make_dirty) in cases {
        let repo = repo_with_commit();
        make_dirty(&repo);
        let before = observe(&repo);

        let err = manager(&repo)
            .create(
                sid(1),
                &request_with("refused", CheckpointType::Manual, CheckpointMode::Tag),
            )
            .unwrap_err();

        assert_eq!(err.kind(), ErrorKind::Invalid, "{name}: {err}");
        assert!(
            matches!(err, Error::UncommittedChanges { .. }),
            "{name}: {err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("tag-only checkpoint refused") && !message.contains("--"),
            "{name}: the library names the mode, not a CLI flag: {message}"
        );
        assert_eq!(observe(&repo), before, "{name}: something changed");
        assert!(tags(&repo).is_empty(), "{name}");
        assert_eq!(log_bytes(&repo, sid(1)), None, "{name}: no log");
    }
}

#[test]
fn no_commit_in_a_repository_without_commits_is_refused() {
    let repo = TestRepo::new();
    let before = observe(&repo);
    let err = manager(&repo)
        .create(
            sid(1),
            &request_with("nothing", CheckpointType::Manual, CheckpointMode::Tag),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(observe(&repo), before);
    assert_eq!(log_bytes(&repo, sid(1)), None);
}

// --- refusals in the middle of a git operation ---

#[test]
fn create_is_refused_in_the_middle_of_a_merge_and_changes_nothing() {
    for mode in [CheckpointMode::Commit, CheckpointMode::Tag] {
        let repo = repo_with_commit();
        start_conflicted_merge(&repo);
        let before = observe(&repo);

        let err = manager(&repo)
            .create(
                sid(1),
                &request_with("mid-merge", CheckpointType::Manual, mode),
            )
            .unwrap_err();

        assert_eq!(err.kind(), ErrorKind::Invalid, "{mode}: {err}");
        assert!(err.to_string().contains("merge"), "{mode}: {err}");
        assert_eq!(observe(&repo), before, "{mode}");
        assert!(
            repo.exists(".git/MERGE_HEAD"),
            "the merge is still the user's"
        );
        assert_eq!(log_bytes(&repo, sid(1)), None);
    }
}

#[test]
fn create_is_refused_during_a_clean_merge_too() {
    let repo = repo_with_commit();
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("other.txt", "o\n");
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "m\n");
    repo.commit_all("main");
    repo.git(&["merge", "--no-commit", "--no-ff", "-q", "other"]);
    assert!(repo.exists(".git/MERGE_HEAD"));
    let before = observe(&repo);

    let err = manager(&repo)
        .create(sid(1), &request("merge"))
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(observe(&repo), before);
}

#[test]
fn a_corrupt_log_refuses_create_before_anything_is_committed() {
    let repo = repo_with_commit();
    repo.write(
        format!(".flow/maestro/sessions/{}/checkpoints.json", sid(1)),
        "{ not json",
    );
    repo.write("a.txt", "work\n");
    let head = repo.head();

    let err = manager(&repo).create(sid(1), &request("x")).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(repo.head(), head);
    assert!(tags(&repo).is_empty());
    assert_eq!(repo.read(repo.log_path(&sid(1).to_string())), b"{ not json");
}

/// Leaves `conflict.txt` unmerged with no operation in progress (a conflicted `git stash pop`).
fn unmerged_without_an_operation(repo: &TestRepo) {
    repo.write("conflict.txt", "base\n");
    repo.commit_all("base");
    repo.write("conflict.txt", "stashed\n");
    repo.git(&["stash", "-q"]);
    repo.write("conflict.txt", "committed\n");
    repo.commit_all("committed");
    assert!(!repo.git_output(&["stash", "pop"]).status.success());
    assert!(!repo.exists(".git/MERGE_HEAD"));
    assert!(repo.status().contains("UU conflict.txt"));
}

#[test]
fn unmerged_paths_alone_refuse_create_and_are_a_validation_error() {
    let repo = repo_with_commit();
    unmerged_without_an_operation(&repo);
    let before = observe(&repo);

    let err = manager(&repo).create(sid(1), &request("x")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("conflict.txt"), "{err}");
    assert_eq!(observe(&repo), before);

    let result = manager(&repo).validate(None).unwrap();
    assert!(!result.is_valid);
    assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
    assert!(result.errors[0].contains("unmerged"), "{:?}", result.errors);
}

#[test]
fn a_name_without_an_email_still_commits() {
    let repo = TestRepo::without_identity();
    repo.git(&["config", "user.name", "Only A Name"]);
    repo.write("a.txt", "a\n");
    let cp = manager(&repo)
        .create(sid(1), &request("half identity"))
        .unwrap();
    assert_eq!(tree_paths(&repo, &cp.commit_sha), ["a.txt"]);
    let email = repo.git(&["log", "-1", "--format=%ae", &cp.commit_sha]);
    assert!(!email.is_empty());
}

#[test]

fn a_description_with_a_nul_byte_is_invalid_input_and_changes_nothing() {
    // Unreachable from the command line (argv cannot hold NUL) but reachable from the library
    // and the Python binding.
    let repo = repo_with_commit();
    repo.write("a.txt", "a\n");
    let before = observe(&repo);
    match manager(&repo).create(sid(1), &request("bad\0byte")) {
        Ok(cp) => assert_eq!(cp.description, "bad\0byte"),
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
            assert_eq!(observe(&repo), before, "a refused create changes nothing");
        }
    }
}

/// Any description (NUL aside, and not blank: that is refused) is stored verbatim and the
/// commit is made. One repository for
/// all cases keeps this fast; each case commits a new change on top.
#[test]
fn any_description_round_trips() {
    use proptest::test_runner::{Config, TestRunner};

    let repo = repo_with_commit();
    let m = manager(&repo);
    let counter = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&"[^\u{0}]{0,79}[^\u{0}\\s]", |description| {
            let n = counter.get() + 1;
            counter.set(n);
            repo.write("a.txt", format!("{n}\n"));
            let cp = m.create(sid(1), &request(&description)).unwrap();
            proptest::prop_assert_eq!(&cp.description, &description);
            proptest::prop_assert_eq!(&m.get(sid(1), cp.checkpoint_id).unwrap(), &cp);
            proptest::prop_assert_eq!(
                blob(&repo, &cp.commit_sha, "a.txt"),
                format!("{n}\n").into_bytes()
            );
            proptest::prop_assert_eq!(repo.status(), "");
            Ok(())
        })
        .unwrap();
}

#[test]
fn type_changes_symlinks_intent_to_add_and_newlines_in_names_are_committed_like_git_add_all() {
    let repo = repo_with_commit();
    repo.write("a", "file that becomes a folder\n");
    repo.write("d/x.txt", "folder that becomes a file\n");
    repo.commit_all("base");
    std::fs::remove_file(repo.join("a")).unwrap();
    repo.write("a/b.txt", "b\n");
    std::fs::remove_dir_all(repo.join("d")).unwrap();
    repo.write("d", "now a file\n");
    std::os::unix::fs::symlink("a/b.txt", repo.join("link")).unwrap();
    repo.write("new\nline.txt", "nl\n");
    repo.write("ita.txt", "intent to add\n");
    repo.git(&["add", "-N", "ita.txt"]);

    let cp = checkpoint(&repo, sid(1), "every kind of change");

    assert_eq!(
        tree_paths(&repo, &cp.commit_sha),
        [
            "README.md",
            "a/b.txt",
            "d",
            "ita.txt",
            "link",
            "new\nline.txt"
        ]
    );
    assert_eq!(mode_of(&repo, &cp.commit_sha, "link"), "120000");
    assert_eq!(blob(&repo, &cp.commit_sha, "link"), b"a/b.txt");
    assert_eq!(blob(&repo, &cp.commit_sha, "ita.txt"), b"intent to add\n");
    assert_eq!(repo.status(), "");
}

#[test]
fn an_orphan_branch_gets_a_root_commit() {
    let repo = repo_with_commit();
    repo.git(&["checkout", "-q", "--orphan", "fresh"]);
    repo.git(&["rm", "-q", "-r", "--cached", "."]);
    std::fs::remove_file(repo.join("README.md")).unwrap();
    repo.write("orphan.txt", "o\n");

    let cp = checkpoint(&repo, sid(1), "orphan");

    assert_eq!(head_branch(&repo).as_deref(), Some("refs/heads/fresh"));
    assert!(parents(&repo, &cp.commit_sha).is_empty());
    assert_eq!(tree_paths(&repo, &cp.commit_sha), ["orphan.txt"]);
}

/// "Racy git": a file rewritten with the same size within the tick the index was written keeps
/// identical stat data; git then trusts only a content check, decided by the index file's own
/// mtime. Every such rewrite must still be committed.
#[test]
fn same_size_rewrites_in_quick_succession_are_all_committed() {
    let repo = repo_with_commit();
    let m = manager(&repo);
    for n in 10..60 {
        repo.write("a.txt", format!("{n}\n"));
        let cp = m.create(sid(1), &request("quick")).unwrap();
        assert_eq!(
            blob(&repo, &cp.commit_sha, "a.txt"),
            format!("{n}\n").into_bytes(),
            "rewrite {n} was not committed"
        );
    }
}

#[test]
fn a_blank_description_is_refused_in_every_mode_and_changes_nothing() {
    let repo = repo_with_commit();
    repo.write("a.txt", "work\n");
    let head = repo.head();
    for mode in [
        CheckpointMode::Commit,
        CheckpointMode::Tag,
        CheckpointMode::Snapshot,
    ] {
        for description in ["", " ", "\n\t "] {
            let request = request_with(description, CheckpointType::Manual, mode);
            let err = manager(&repo).create(sid(1), &request).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::EmptyText {
                        what: "description"
                    }
                ),
                "{err}"
            );
            assert_eq!(err.kind(), ErrorKind::Invalid);
        }
    }
    assert_eq!(repo.head(), head);
    assert!(!repo.exists(".flow"));
    assert_eq!(repo.status(), "?? a.txt");
}

/// The size warnings and the once-per-repository notice reach the notice sink from
/// `create_with_notices`; plain `create` records the same `skipped` but tells the sink nothing
/// and does not use the notice up.
#[test]
fn commit_mode_tells_the_sink_size_warnings_and_the_commit_notice_once() {
    use checkpoint_manager::{Notice, NoticeSink};
    use std::sync::{Arc, Mutex};
    let repo = repo_with_commit();
    let heard: Arc<Mutex<Vec<Notice>>> = Arc::default();
    let sink = heard.clone();
    let capped = checkpoint_manager::CheckpointManager::with_options(
        repo.path(),
        checkpoint_manager::Options::default()
            .with_max_file_size(Some(10))
            .with_notice_sink(NoticeSink::new(move |n| {
                sink.lock().unwrap().push(n.clone())
            })),
    )
    .unwrap();
    let take = || std::mem::take(&mut *heard.lock().unwrap());
    repo.write("big.bin", [0u8; 11]);
    repo.write("a.txt", "1\n");
    let plain = capped.create(sid(1), &request("plain")).unwrap();
    assert_eq!(plain.skipped.len(), 1);
    assert_eq!(take(), []);
    assert!(!repo.exists(".git/checkpoint-manager/commit-notice-shown"));
    repo.write("a.txt", "2\n");
    let first = capped
        .create_with_notices(sid(1), &request("first"))
        .unwrap();
    assert_eq!(first.skipped[0].path, "big.bin");
    let first_heard = take();
    assert_eq!(
        first_heard,
        [
            Notice::TooLarge {
                path: "big.bin".to_owned(),
                size: Some(11),
                cap: Some(10),
            },
            Notice::CommitsSkipHooks,
        ]
    );
    assert!(first_heard[0].is_warning() && !first_heard[1].is_warning());
    assert!(first_heard[0]
        .to_string()
        .starts_with("big.bin (11 bytes) is over the size cap of 10 bytes"));
    assert!(first_heard[1].to_string().contains("hooks do not run"));
    repo.write("a.txt", "3\n");
    capped
        .create_with_notices(sid(1), &request("second"))
        .unwrap();
    assert!(!take().contains(&Notice::CommitsSkipHooks));
    assert_eq!(repo.status(), "?? big.bin");
}
