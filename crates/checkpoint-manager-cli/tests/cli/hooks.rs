//! `hook <agent>` (issue 11): each agent's documented hook payloads, recorded as fixtures under
//! `tests/fixtures/hooks/<agent>/`, fed to the real binary with `cwd` pointing at a real
//! repository; the checkpoints made, skipped and described, the stdout each agent allows, exit 0
//! always, and a one-line warning on failure.

use std::path::Path;

use serde_json::Value;

use crate::support::{cm, ok_json, repo_with_commit, TestRepo};

/// The Claude Code and Codex fixtures' session ids are UUIDs, used as they are.
const CLAUDE_SESSION: &str = "8c35adc1-5f4e-4a0b-9b1e-3a2d7c9e0f11";
const CODEX_SESSION: &str = "019a7f3e-2c4b-7d10-9e8f-5a6b7c8d9e0f";
/// Gemini's fixture id is not a UUID: uuid5(NAMESPACE_URL, "checkpoint-manager:session:" + id).
const GEMINI_SESSION: &str = "b081b3a6-3d0d-57ba-9911-84a37f7e8065";

struct HookRun {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The fixture's text with its `cwd` (and paths under it) set to `cwd`.
fn fixture(agent: &str, name: &str, cwd: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hooks")
        .join(agent)
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.replace("__CWD__", cwd.to_str().unwrap())
}

/// Runs `hook <agent>` with `input` on stdin, from a folder that is not the repository (the
/// payload's `cwd` must be what counts).
fn hook_with(agent: &str, input: &str) -> HookRun {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = cm(elsewhere.path())
        .args(["hook", agent])
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .unwrap();
    HookRun {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs the fixture `name` of `agent` against `repo`; it must succeed quietly.
fn hook(agent: &str, name: &str, repo: &TestRepo) {
    let r = hook_with(agent, &fixture(agent, name, repo.path()));
    assert_eq!(r.code, 0, "{agent} {name}: {}", r.stderr);
    assert_eq!(r.stderr, "", "{agent} {name}: stderr");
    let expected_stdout = if agent == "gemini" { "{}\n" } else { "" };
    assert_eq!(r.stdout, expected_stdout, "{agent} {name}: stdout");
}

fn checkpoints(repo: &TestRepo, session: &str) -> Vec<Value> {
    ok_json(repo.path(), &["list", "--session-id", session])
        .as_array()
        .unwrap()
        .clone()
}

fn description(checkpoint: &Value) -> &str {
    checkpoint["description"].as_str().unwrap()
}

#[test]
fn claude_code_pre_tool_use_snapshots_the_work_before_an_edit_and_touches_nothing() {
    let repo = repo_with_commit();
    repo.write("README.md", "work in progress\n");
    repo.write("untracked.txt", "new\n");
    let (head, status, index) = (repo.head(), repo.status(), repo.index_bytes());

    hook("claude-code", "PreToolUse-Write", &repo);

    let made = checkpoints(&repo, CLAUDE_SESSION);
    assert_eq!(made.len(), 1);
    let cp = &made[0];
    let notes = repo.path().join("notes.txt");
    assert_eq!(
        description(cp),
        format!("before Write: {}", notes.display())
    );
    assert_eq!(cp["mode"], "snapshot");
    assert_eq!(cp["checkpoint_type"], "pre_risky_operation");
    assert_eq!(cp["phase"], "implement");
    let commit = cp["commit_sha"].as_str().unwrap();
    assert_eq!(
        repo.git(&["show", &format!("{commit}:README.md")]),
        "work in progress"
    );
    assert_eq!(
        repo.git(&["show", &format!("{commit}:untracked.txt")]),
        "new"
    );
    // Branch, index and files as they were.
    assert_eq!(repo.head(), head);
    assert_eq!(repo.status(), status);
    assert_eq!(repo.index_bytes(), index);
}

#[test]
fn nothing_new_while_nothing_changed_and_a_new_checkpoint_after_a_change() {
    let repo = repo_with_commit();
    hook("claude-code", "PreToolUse-Edit", &repo);
    hook("claude-code", "PreToolUse-Edit", &repo);
    hook("claude-code", "PreToolUse-Write", &repo);
    let made = checkpoints(&repo, CLAUDE_SESSION);
    assert_eq!(made.len(), 1, "{made:#?}");
    let readme = repo.path().join("README.md");
    assert_eq!(
        description(&made[0]),
        format!("before Edit: {}", readme.display())
    );

    repo.write("README.md", "goodbye\n");
    hook("claude-code", "PreToolUse-Bash", &repo);
    let made = checkpoints(&repo, CLAUDE_SESSION);
    assert_eq!(made.len(), 2);
    // The command, trimmed to its first line.
    assert_eq!(
        description(&made[0]),
        "before Bash: sed -i 's/hello/bye/' README.md"
    );
    let commit = made[0]["commit_sha"].as_str().unwrap();
    assert_eq!(
        repo.git(&["show", &format!("{commit}:README.md")]),
        "goodbye"
    );
}

#[test]
fn reads_and_other_events_take_nothing() {
    let repo = repo_with_commit();
    repo.write("README.md", "changed\n");
    hook("claude-code", "PreToolUse-Read", &repo);
    hook("claude-code", "Stop", &repo);
    hook("gemini", "BeforeTool-read_file", &repo);
    assert!(!repo.log_path(CLAUDE_SESSION).exists());
    assert!(!repo.log_path(GEMINI_SESSION).exists());
    assert_eq!(repo.git(&["for-each-ref", "refs/checkpoints/"]), "");
}

#[test]
fn a_submitted_prompt_is_checkpointed_under_its_first_line() {
    let repo = repo_with_commit();
    hook("claude-code", "UserPromptSubmit", &repo);
    let made = checkpoints(&repo, CLAUDE_SESSION);
    assert_eq!(made.len(), 1);
    assert_eq!(
        description(&made[0]),
        "before prompt: Rename the greeting everywhere"
    );
    assert_eq!(made[0]["checkpoint_type"], "safe_state");
}

#[test]
fn codex_patches_are_described_by_their_files_and_prompts_by_their_text() {
    let repo = repo_with_commit();
    hook("codex", "UserPromptSubmit", &repo);
    repo.write("README.md", "edited\n");
    hook("codex", "PreToolUse-apply_patch", &repo);
    repo.write("README.md", "edited again\n");
    hook("codex", "PreToolUse-Bash", &repo);
    let made = checkpoints(&repo, CODEX_SESSION);
    let descriptions: Vec<&str> = made.iter().map(description).collect();
    assert_eq!(
        descriptions,
        [
            "before Bash: cargo fmt --all",
            "before apply_patch: README.md, src/new.rs",
            "before prompt: Add a --verbose flag to the CLI",
        ]
    );
}

#[test]
fn gemini_gets_json_only_and_its_non_uuid_session_maps_to_a_stable_uuid() {
    let repo = repo_with_commit();
    hook("gemini", "BeforeAgent", &repo);
    repo.write("notes.txt", "draft\n");
    hook("gemini", "BeforeTool-write_file", &repo);
    hook("gemini", "BeforeTool-run_shell_command", &repo);
    let made = checkpoints(&repo, GEMINI_SESSION);
    let descriptions: Vec<&str> = made.iter().map(description).collect();
    let notes = repo.path().join("notes.txt");
    assert_eq!(
        descriptions,
        [
            format!("before write_file: {}", notes.display()),
            "before prompt: Make the build pass".to_owned(),
        ]
    );
}

#[test]
fn outside_a_repository_it_does_nothing_and_exits_0() {
    let plain = tempfile::tempdir().unwrap();
    for (agent, name, stdout) in [
        ("claude-code", "PreToolUse-Write", ""),
        ("codex", "UserPromptSubmit", ""),
        ("gemini", "BeforeTool-write_file", "{}\n"),
    ] {
        let r = hook_with(agent, &fixture(agent, name, plain.path()));
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (0, stdout, "")
        );
    }
    assert_eq!(std::fs::read_dir(plain.path()).unwrap().count(), 0);
}

#[test]
fn a_failure_is_one_warning_line_on_stderr_and_exit_0() {
    let repo = repo_with_commit();
    for (agent, stdout) in [("claude-code", ""), ("gemini", "{}\n")] {
        let r = hook_with(agent, "not json");
        assert_eq!((r.code, r.stdout.as_str()), (0, stdout));
        assert_eq!(r.stderr.matches('\n').count(), 1, "{:?}", r.stderr);
        assert!(
            r.stderr
                .starts_with(&format!("checkpoint-manager: warning: {agent} hook: no checkpoint taken: the event on stdin is not")),
            "{:?}",
            r.stderr
        );
    }
    // A log that does not parse: the library refuses, the agent goes on.
    std::fs::create_dir_all(repo.log_path(CLAUDE_SESSION).parent().unwrap()).unwrap();
    std::fs::write(repo.log_path(CLAUDE_SESSION), "{ corrupt").unwrap();
    let r = hook_with(
        "claude-code",
        &fixture("claude-code", "PreToolUse-Write", repo.path()),
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(r.stderr.matches('\n').count(), 1, "{:?}", r.stderr);
    assert!(r.stderr.contains("repair"), "{:?}", r.stderr);
    assert_eq!(
        std::fs::read(repo.log_path(CLAUDE_SESSION)).unwrap(),
        b"{ corrupt"
    );
}

#[test]
fn create_if_changed_prints_the_newest_checkpoint_marked_unchanged() {
    let repo = repo_with_commit();
    let session = crate::support::sid(1);
    let args = [
        "create",
        "--session-id",
        &session,
        "--description",
        "first",
        "--phase",
        "implement",
        "--snapshot",
        "--if-changed",
    ];
    let first = ok_json(repo.path(), &args);
    assert_eq!(first["unchanged"], false);
    let again = ok_json(repo.path(), &args);
    assert_eq!(again["unchanged"], true);
    assert_eq!(again["checkpoint_id"], first["checkpoint_id"]);
    assert_eq!(checkpoints(&repo, &session).len(), 1);
    repo.write("README.md", "changed\n");
    let third = ok_json(repo.path(), &args);
    assert_eq!(third["unchanged"], false);
    assert_ne!(third["checkpoint_id"], first["checkpoint_id"]);
    assert_eq!(checkpoints(&repo, &session).len(), 2);
}
