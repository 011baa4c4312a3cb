//! Descriptions of any size (issue 8, item 14): an inline description up to the kernel's limit on
//! one argument, and 1 MB from `--description-file` (a file or stdin), are committed whole.

use crate::support::*;

fn commit_message(repo: &TestRepo, sha: &str) -> String {
    repo.git(&["cat-file", "commit", sha])
}

#[test]
fn an_inline_description_of_131_kb_is_committed_whole() {
    let repo = repo_with_commit();
    repo.write("a.txt", "a\n");
    // Just under the 128 KiB a single argument may hold; the commit message is longer.
    let description = "y".repeat(131_000);
    let out = ok_json(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            &description,
            "--phase",
            "implement",
        ],
    );
    let sha = out["commit_sha"].as_str().unwrap();
    assert!(commit_message(&repo, sha).contains(&description));
    assert_eq!(repo.head(), sha);
}

#[test]
fn a_one_megabyte_description_file_or_stdin_is_committed_whole() {
    let repo = repo_with_commit();
    let description = "line of a long description\n".repeat(40_000);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &description).unwrap();
    repo.write("a.txt", "a\n");
    let from_file = ok_json(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description-file",
            file.path().to_str().unwrap(),
            "--phase",
            "implement",
        ],
    );
    assert_eq!(from_file["description"], description.as_str());
    let sha = from_file["commit_sha"].as_str().unwrap();
    // The first line is the subject, the rest the body, whole.
    let (_, body) = description.trim().split_once('\n').unwrap();
    let message = commit_message(&repo, sha);
    assert!(message.len() > description.len() && message.contains(body));

    repo.write("b.txt", "b\n");
    let out = cm(repo.path())
        .args([
            "create",
            "--session-id",
            &sid(1),
            "--description-file",
            "-",
            "--phase",
            "implement",
        ])
        .write_stdin(description.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_stdin: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_stdin["description"], description.as_str());
    assert_eq!(repo.head(), from_stdin["commit_sha"].as_str().unwrap());
}

#[test]
fn description_and_description_file_together_are_a_usage_error() {
    let repo = repo_with_commit();
    let r = run(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description",
            "x",
            "--description-file",
            "-",
            "--phase",
            "implement",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let missing = run(
        repo.path(),
        &["create", "--session-id", &sid(1), "--phase", "plan"],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    let unreadable = run(
        repo.path(),
        &[
            "create",
            "--session-id",
            &sid(1),
            "--description-file",
            "/nonexistent/description.txt",
            "--phase",
            "plan",
        ],
    );
    assert_eq!(unreadable.code, 1, "{}", unreadable.stderr);
    assert!(unreadable.stderr.contains("/nonexistent/description.txt"));
    assert_eq!(repo.git(&["tag"]), "");
}
