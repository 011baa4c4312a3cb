//! `validate`: the spec's ValidationResult (errors, warnings, git status, uncommitted changes,
//! the test command's verdict), and that validating changes nothing.

use checkpoint_manager::{validate_at, ValidationResult};

use crate::support::*;

#[test]
fn a_clean_repository_is_valid_with_no_errors_or_warnings() {
    let repo = repo_with_commit();
    let result = manager(&repo).validate(None).unwrap();
    assert_eq!(
        result,
        ValidationResult {
            is_valid: true,
            errors: vec![],
            warnings: vec![],
            git_status: String::new(),
            has_uncommitted_changes: false,
            tests_passing: None,
            test_output: None,
        }
    );
}

#[test]
fn uncommitted_changes_are_a_warning_with_the_git_status() {
    let repo = repo_with_commit();
    repo.write("README.md", "changed\n");
    repo.write("new_file.txt", "new\n");
    let before = observe(&repo);

    let result = manager(&repo).validate(None).unwrap();

    assert!(result.is_valid);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert!(result.has_uncommitted_changes);
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("uncommitted"),
        "{:?}",
        result.warnings
    );
    assert!(
        result.git_status.contains(" M README.md"),
        "{}",
        result.git_status
    );
    assert!(
        result.git_status.contains("?? new_file.txt"),
        "{}",
        result.git_status
    );
    assert_eq!(observe(&repo), before, "validate changes nothing");
}

#[test]
fn a_detached_head_is_a_warning() {
    let repo = repo_with_commit();
    repo.git(&["checkout", "-q", "--detach"]);
    let result = manager(&repo).validate(None).unwrap();
    assert!(result.is_valid);
    assert!(!result.has_uncommitted_changes);
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("detached"),
        "{:?}",
        result.warnings
    );
}

#[test]
fn a_merge_in_progress_and_unmerged_paths_are_errors() {
    let repo = repo_with_commit();
    start_conflicted_merge(&repo);

    let result = manager(&repo).validate(None).unwrap();

    assert!(!result.is_valid);
    assert_eq!(result.errors.len(), 2, "{:?}", result.errors);
    assert!(result.errors[0].contains("merge"), "{:?}", result.errors);
    assert!(result.errors[1].contains("unmerged"), "{:?}", result.errors);
    assert!(
        result.errors[1].contains("conflict.txt"),
        "{:?}",
        result.errors
    );
    assert!(result.has_uncommitted_changes);
    assert!(
        result.git_status.contains("UU conflict.txt"),
        "{}",
        result.git_status
    );
}

#[test]
fn the_test_command_decides_tests_passing() {
    let repo = repo_with_commit();
    let m = manager(&repo);

    let passing = m.validate(Some("true")).unwrap();
    assert_eq!(passing.tests_passing, Some(true));
    assert!(passing.is_valid);

    let failing = m.validate(Some("false")).unwrap();
    assert_eq!(failing.tests_passing, Some(false));
    assert!(!failing.is_valid, "failing tests make the state invalid");
    assert_eq!(failing.errors.len(), 1, "{:?}", failing.errors);
    assert!(failing.errors[0].contains("false"), "{:?}", failing.errors);

    let exit_code = m.validate(Some("exit 7")).unwrap();
    assert_eq!(exit_code.tests_passing, Some(false));
}

#[test]
fn the_test_command_runs_in_the_top_of_the_work_tree() {
    let repo = repo_with_commit();
    repo.write("sub/dir/.keep", "");
    repo.write("marker at top.txt", "");
    let m = checkpoint_manager::CheckpointManager::open(repo.join("sub/dir")).unwrap();
    let result = m.validate(Some("test -f 'marker at top.txt'")).unwrap();
    assert_eq!(result.tests_passing, Some(true));
    let from_path =
        validate_at(&repo.join("sub/dir"), Some("test -f 'marker at top.txt'")).unwrap();
    assert_eq!(from_path.tests_passing, Some(true));
}

#[test]
fn the_test_command_is_run_exactly_as_given_and_nothing_else_is() {
    let repo = repo_with_commit();
    // The explicit test command is the one shell command the tool runs...
    let result = manager(&repo)
        .validate(Some("touch ran && echo noise && echo more >&2"))
        .unwrap();
    assert_eq!(result.tests_passing, Some(true));
    assert!(repo.exists("ran"));
}

#[test]
fn a_repository_path_full_of_shell_syntax_is_never_interpreted() {
    let outside = tempfile::tempdir().unwrap();
    let top = outside
        .path()
        .join("$(touch PWNED); `touch PWNED2` && echo 'x'");
    std::fs::create_dir_all(&top).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&top)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "T"]);
    git(&["config", "user.email", "t@example.com"]);
    std::fs::write(top.join("file.txt"), "x\n").unwrap();
    let m = checkpoint_manager::CheckpointManager::open(&top).unwrap();

    m.create(sid(1), &request("nasty path")).unwrap();
    let result = m.validate(Some("pwd > where.txt")).unwrap();

    assert_eq!(result.tests_passing, Some(true));
    let reported = std::fs::read_to_string(top.join("where.txt")).unwrap();
    assert_eq!(
        canonical(std::path::Path::new(reported.trim_end())),
        canonical(&top)
    );
    for dir in [outside.path(), top.as_path()] {
        assert!(!dir.join("PWNED").exists() && !dir.join("PWNED2").exists());
    }
}

#[test]
fn validate_at_a_folder_outside_any_repository_is_an_invalid_result_naming_it() {
    let outside = tempfile::tempdir().unwrap();
    let result = validate_at(outside.path(), None).unwrap();
    assert!(!result.is_valid);
    assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
    assert!(
        result.errors[0].contains(&outside.path().display().to_string()),
        "{:?}",
        result.errors
    );
    assert_eq!(result.tests_passing, None);
}

#[test]
fn the_tools_own_log_never_shows_in_the_status() {
    let repo = repo_with_commit();
    checkpoint(&repo, sid(1), "one");
    let result = manager(&repo).validate(None).unwrap();
    assert_eq!(result.git_status, "");
    assert!(!result.has_uncommitted_changes);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

/// `git status --porcelain` as git itself prints it (renames off: the tool never pairs them).
fn porcelain(repo: &TestRepo) -> String {
    let out = repo.git_output(&[
        "-c",
        "core.quotePath=false",
        "--no-optional-locks",
        "status",
        "--porcelain=v1",
        "--no-renames",
    ]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn git_status_is_what_git_status_porcelain_prints() {
    let repo = repo_with_commit();
    repo.write("tracked_one.txt", "1\n");
    repo.write("gone.txt", "g\n");
    repo.commit_all("base");
    repo.write("tracked_one.txt", "changed\n");
    repo.write("staged.txt", "s\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("staged.txt", "s and more\n");
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    repo.write("new_folder/a.txt", "a\n");
    repo.write("naïve_ünïcode.md", "u\n");

    let result = manager(&repo).validate(None).unwrap();

    assert_eq!(result.git_status, porcelain(&repo));
}

#[test]

fn git_status_quotes_names_like_git() {
    let repo = repo_with_commit();
    repo.write("evil\n?? forged.txt", "x\n");
    repo.write("q\"uote", "x\n");
    repo.write("back\\slash", "x\n");
    repo.write("with space", "x\n");

    let result = manager(&repo).validate(None).unwrap();

    assert_eq!(result.git_status, porcelain(&repo));
    assert_eq!(
        result.git_status.lines().count(),
        4,
        "{:?}",
        result.git_status
    );
}

#[test]
fn a_repository_without_commits_is_valid_with_a_warning() {
    let repo = TestRepo::new();
    let result = manager(&repo).validate(None).unwrap();
    assert!(result.is_valid);
    assert!(result.errors.is_empty());
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("no commit"),
        "{:?}",
        result.warnings
    );
}

/// Runs `command` through validate with `timeout` and the time it took.
fn validate_with_timeout(
    repo: &TestRepo,
    command: &str,
    timeout: std::time::Duration,
) -> (ValidationResult, std::time::Duration) {
    let started = std::time::Instant::now();
    let result = manager(repo)
        .validate_with(Some(checkpoint_manager::TestRun { command, timeout }))
        .unwrap();
    (result, started.elapsed())
}

#[test]
fn background_children_holding_the_output_do_not_keep_validate_waiting() {
    let repo = repo_with_commit();
    let (result, took) = validate_with_timeout(
        &repo,
        "sleep 40 & echo started; exit 0",
        checkpoint_manager::DEFAULT_TEST_TIMEOUT,
    );
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(result.tests_passing, Some(true));
    assert_eq!(result.test_output.as_deref(), Some("started\n"));
    assert!(result.is_valid, "{:?}", result.errors);
}

#[test]
fn a_test_command_over_its_timeout_is_killed_with_its_whole_group_and_fails() {
    let repo = repo_with_commit();
    let pid_dir = tempfile::tempdir().unwrap();
    let pid_file = pid_dir.path().join("pid");
    let command = format!(
        "sleep 60 & echo $! > '{}'; echo waiting; wait",
        pid_file.display()
    );
    let (result, took) = validate_with_timeout(&repo, &command, std::time::Duration::from_secs(3));
    // Long enough for a loaded machine to start the shell; far less than the 60 s it asks.
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(result.tests_passing, Some(false));
    assert!(!result.is_valid);
    assert!(
        result
            .errors
            .iter()
            .any(|e| e.contains("timed out after 3 s")),
        "{:?}",
        result.errors
    );
    assert_eq!(result.test_output.as_deref(), Some("waiting\n"));
    // The background child was in the group: it is gone too (a zombie at most, until reaped).
    // SIGKILL is delivered asynchronously: give a loaded machine a moment to finish it.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let gone = || {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .to_owned();
        stat.is_empty() || state.starts_with('Z') || state.starts_with('X')
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(gone(), "the background child {} still runs", pid.trim());
}

#[test]
fn the_tail_of_a_failing_commands_output_says_why() {
    let repo = repo_with_commit();
    let (result, _) = validate_with_timeout(
        &repo,
        "echo 'to stdout'; echo 'FAILED: test_parse' >&2; exit 3",
        checkpoint_manager::DEFAULT_TEST_TIMEOUT,
    );
    assert_eq!(result.tests_passing, Some(false));
    assert_eq!(
        result.test_output.as_deref(),
        Some("to stdout\nFAILED: test_parse\n")
    );
    assert!(
        result.errors.iter().any(|e| e.ends_with("exit 3")),
        "{:?}",
        result.errors
    );
    // Long output keeps its last 4 KiB.
    let (long, _) = validate_with_timeout(
        &repo,
        "i=0; while [ $i -lt 2000 ]; do echo \"line $i\"; i=$((i+1)); done; exit 1",
        checkpoint_manager::DEFAULT_TEST_TIMEOUT,
    );
    let tail = long.test_output.unwrap();
    assert_eq!(tail.len(), 4096);
    assert!(tail.ends_with("line 1998\nline 1999\n"), "{tail}");
}
