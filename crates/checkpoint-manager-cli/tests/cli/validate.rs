//! `validate` end to end: the ValidationResult object, exit 0 when valid and 3 when not (the
//! object printed either way), and the test command.

use checkpoint_manager::ValidationResult;
use serde_json::{json, Value};

use crate::support::*;

/// The printed object as raw JSON (to pin the wire format).
fn validate_raw(dir: &std::path::Path, args: &[&str], code: i32) -> Value {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    let r = run(dir, &all);
    assert_eq!(r.code, code, "{all:?}: {}", r.stderr);
    assert_eq!(r.stderr, "", "{all:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

fn validate(dir: &std::path::Path, args: &[&str], code: i32) -> ValidationResult {
    serde_json::from_value(validate_raw(dir, args, code)).unwrap()
}

#[test]
fn a_clean_repository_is_valid() {
    let repo = repo_with_commit();
    assert_eq!(
        validate_raw(repo.path(), &[], 0),
        json!({
            "is_valid": true,
            "errors": [],
            "warnings": [],
            "git_status": "",
            "has_uncommitted_changes": false,
            "tests_passing": null
        })
    );
}

#[test]
fn uncommitted_changes_are_a_warning_and_still_valid() {
    let repo = repo_with_commit();
    repo.write("README.md", "changed\n");
    repo.write("naïve_new.txt", "n\n");
    let v = validate(repo.path(), &[], 0);
    assert!(v.is_valid);
    assert!(v.has_uncommitted_changes);
    assert!(v.errors.is_empty());
    assert_eq!(v.warnings.len(), 1, "{v:?}");
    assert_eq!(v.git_status, " M README.md\n?? naïve_new.txt\n");
}

#[test]
fn a_detached_head_is_a_warning() {
    let repo = repo_with_commit();
    repo.git(&["checkout", "-q", "--detach"]);
    let v = validate(repo.path(), &[], 0);
    assert!(v.is_valid);
    assert_eq!(v.warnings.len(), 1, "{v:?}");
    assert!(v.warnings[0].contains("detached"), "{v:?}");
}

#[test]
fn a_merge_in_progress_is_invalid_exit_3_with_the_object_printed() {
    let repo = repo_with_commit();
    start_conflicted_merge(&repo);
    let v = validate(repo.path(), &[], 3);
    assert!(!v.is_valid);
    let errors = &v.errors;
    assert_eq!(errors.len(), 2, "{v:?}");
    assert!(errors[0].contains("merge"), "{errors:?}");
    assert!(errors[1].contains("conflict.txt"), "{errors:?}");
    assert_eq!(v.git_status, "UU conflict.txt\n");
}

#[test]
fn the_test_command_sets_tests_passing_and_the_exit_code() {
    let repo = repo_with_commit();
    let passing = validate(repo.path(), &["--test-command", "true"], 0);
    assert_eq!(passing.tests_passing, Some(true));
    assert!(passing.is_valid);

    let failing = validate(repo.path(), &["--test-command", "false"], 3);
    assert_eq!(failing.tests_passing, Some(false));
    assert!(!failing.is_valid);
    assert_eq!(failing.errors.len(), 1, "{failing:?}");
}

#[test]
fn the_test_commands_output_never_reaches_the_tools_output() {
    let repo = repo_with_commit();
    let r = run(
        repo.path(),
        &[
            "validate",
            "--test-command",
            "echo to-stdout; echo to-stderr >&2; exit 0",
        ],
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr, "");
    let v: ValidationResult = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.tests_passing, Some(true));
    // Only inside the JSON, as the tail of its output.
    assert_eq!(v.test_output.as_deref(), Some("to-stdout\nto-stderr\n"));
}

#[test]
fn the_test_command_runs_in_the_work_tree_exactly_as_given() {
    let repo = repo_with_commit();
    repo.write("sub/.keep", "");
    // Run from a subdirectory: the command sees the top of the work tree.
    let v = validate(
        &repo.join("sub"),
        &[
            "--test-command",
            "test -f README.md && touch 'made by the test command'",
        ],
        0,
    );
    assert_eq!(v.tests_passing, Some(true));
    assert!(repo.exists("made by the test command"));
    assert!(!repo.exists("sub/made by the test command"));
}

#[test]
fn validate_outside_a_repository_prints_an_invalid_result_naming_the_path() {
    let plain = tempfile::tempdir().unwrap();
    let path = std::fs::canonicalize(plain.path()).unwrap();
    let text = path.display().to_string();
    let v = validate(&path, &["--repo", &text], 3);
    assert!(!v.is_valid);
    assert_eq!(v.errors.len(), 1, "{v:?}");
    assert!(v.errors[0].contains(&text), "{v:?}");
}

#[test]
fn test_timeout_kills_a_command_that_never_ends_and_fails_the_tests() {
    let repo = repo_with_commit();
    let started = std::time::Instant::now();
    let v = validate(
        repo.path(),
        &[
            "--test-command",
            "echo serving; sleep 60",
            "--test-timeout",
            "2.5",
        ],
        3,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(v.tests_passing, Some(false));
    assert_eq!(v.test_output.as_deref(), Some("serving\n"));
    let errors = v.errors.join("\n");
    assert!(errors.contains("timed out after 2.5 s"), "{errors}");
}

#[test]
fn a_server_left_running_by_the_test_command_does_not_hold_validate() {
    let repo = repo_with_commit();
    let started = std::time::Instant::now();
    let v = validate(repo.path(), &["--test-command", "sleep 30 & exit 0"], 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(v.tests_passing, Some(true));
}

#[test]
fn a_bad_test_timeout_is_a_usage_error() {
    let repo = repo_with_commit();
    for args in [
        &["--test-command", "true", "--test-timeout", "0"][..],
        &["--test-command", "true", "--test-timeout", "-1"][..],
        &["--test-command", "true", "--test-timeout", "soon"][..],
        &["--test-timeout", "5"][..],
    ] {
        let mut all = vec!["validate"];
        all.extend_from_slice(args);
        assert_eq!(run(repo.path(), &all).code, 2, "{args:?}");
    }
}
