//! Issue 9: what people and orchestrators see. Free-text flags take any value, messages name
//! the cause and the fix, pretty output speaks the JSON's words, commit mode keeps files over
//! the size cap out of the user's branch, and each mode leaves exactly what the README says.

use insta::assert_snapshot;

use checkpoint_manager::{SkipReason, SkippedPath, ValidationResult};

use crate::support::*;

/// Runs the binary with `CHECKPOINT_MANAGER_MAX_FILE_SIZE` set.
fn run_capped(dir: &std::path::Path, cap: &str, args: &[&str]) -> Run {
    let out = cm(dir)
        .env("CHECKPOINT_MANAGER_MAX_FILE_SIZE", cap)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn create_args<'a>(session: &'a str, description: &'a str) -> Vec<&'a str> {
    vec![
        "create",
        "--session-id",
        session,
        "--description",
        description,
        "--phase",
        "implement",
    ]
}

// ---- item 2: free-text flags ----

#[test]
fn a_description_starting_with_a_dash_is_taken_as_it_is() {
    let repo = repo_with_commit();
    for description in ["- fixed the parser", "-x", "--hard-reset", "-"] {
        repo.write("a.txt", description);
        let cp: Checkpoint = ok_as(repo.path(), &create_args(&sid(1), description));
        assert_eq!(cp.description, description);
    }
    let logged = log_json(&repo, sid(1));
    assert_eq!(
        logged["checkpoints"][0]["description"],
        "- fixed the parser"
    );
}

#[test]
fn an_empty_description_is_exit_3_and_changes_nothing() {
    let repo = repo_with_commit();
    repo.write("README.md", "work\n");
    let before = observe(&repo);
    for description in ["", "   ", "\n\t"] {
        let message = fails(repo.path(), &create_args(&sid(1), description), 3);
        assert_eq!(
            message,
            "invalid description: it is empty; give a few words saying what it is"
        );
    }
    assert_eq!(observe(&repo), before);
}

#[test]
fn a_test_command_starting_with_a_dash_is_taken_as_it_is() {
    let repo = repo_with_commit();
    // `sh -c "-v"` is not a command that succeeds, but it is the user's command, not a flag.
    let r = run(repo.path(), &["validate", "--test-command", "-v"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let result: ValidationResult = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(result.tests_passing, Some(false));
    let ok: ValidationResult = ok_as(repo.path(), &["validate", "--test-command", "true"]);
    assert_eq!(ok.tests_passing, Some(true));
}

// ---- item 5: messages ----

#[test]
fn repo_flag_outside_a_repository_names_the_flag_and_the_fix() {
    let plain = tempfile::tempdir().unwrap();
    let path = std::fs::canonicalize(plain.path()).unwrap();
    let text = path.display().to_string();
    let mut cmd = cm(&path);
    cmd.env("GIT_CEILING_DIRECTORIES", path.parent().unwrap());
    let out = cmd
        .args(["--repo", &text, "list", "--session-id", &sid(1)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let _filters = filters(&path).bind_to_scope();
    assert_snapshot!(stderr, @r"
        checkpoint-manager: error: --repo [REPO]: not inside a git repository; pass --repo a folder inside a git repository (or run `git init` in it first)
        ");
    // Without --repo, the current folder is named and both fixes are offered.
    let message = {
        let mut cmd = cm(&path);
        cmd.env("GIT_CEILING_DIRECTORIES", path.parent().unwrap());
        let out = cmd
            .args(["list", "--session-id", &sid(1)])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8(out.stderr).unwrap()
    };
    let _filters = filters(&path).bind_to_scope();
    assert_snapshot!(message, @r"
        checkpoint-manager: error: [REPO]: not inside a git work tree; cd into a repository or pass --repo <path> (or run `git init` there to make one)
        ");
}

#[test]
fn a_deleted_current_folder_is_named_as_such() {
    let repo = repo_with_commit();
    let gone = repo.join("gone");
    std::fs::create_dir(&gone).unwrap();
    let mut cmd = cm(&gone);
    // The folder disappears after the process started in it, as when another shell removed it.
    cmd.args(["list", "--session-id", &sid(1)]);
    let mut child = std::process::Command::new("sh");
    child
        .current_dir(&gone)
        .args(["-c", r#"rmdir "$PWD" && exec "$0" "$@""#])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => child.env(key, value),
            None => child.env_remove(key),
        };
    }
    let out = child.output().unwrap();
    assert!(!gone.exists());
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let _filters = filters(repo.path()).bind_to_scope();
    assert_snapshot!(stderr, @r"
        checkpoint-manager: error: the current folder no longer exists (No such file or directory (os error 2)); cd into the repository again, or pass --repo <path>
        ");
}

#[test]
fn a_commit_sha_naming_a_tree_or_a_blob_says_so() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "a\n");
    let cp = create(&repo, &session, "one", &[]);
    let id = cp.checkpoint_id.to_string();
    let log_path = repo.log_path(&session);
    let original = std::fs::read_to_string(&log_path).unwrap();
    let commit = cp.commit_sha.to_string();
    let mut messages = Vec::new();
    for rev in ["HEAD^{tree}", "HEAD:a.txt"] {
        let oid = repo.git(&["rev-parse", rev]).trim().to_owned();
        std::fs::write(&log_path, original.replace(&commit, &oid)).unwrap();
        let before = observe(&repo);
        let message = fails(
            repo.path(),
            &["rollback", "--session-id", &session, "--checkpoint-id", &id],
            3,
        );
        messages.push(message);
        assert_eq!(observe(&repo), before);
    }
    let _filters = filters(repo.path()).bind_to_scope();
    assert_snapshot!(messages.join("\n"), @r"
        checkpoint [ID] in session [TEST_ID_000000000001] has an invalid record (commit_sha [SHA] names a tree, not a commit); nothing was changed; repair the log of session [TEST_ID_000000000001] (repair) to rebuild it from git; run `checkpoint-manager repair --session-id [TEST_ID_000000000001]`
        checkpoint [ID] in session [TEST_ID_000000000001] has an invalid record (commit_sha [SHA] names a blob, not a commit); nothing was changed; repair the log of session [TEST_ID_000000000001] (repair) to rebuild it from git; run `checkpoint-manager repair --session-id [TEST_ID_000000000001]`
        ");
}

#[test]
fn a_mistyped_command_suggests_only_the_closest() {
    let repo = repo_with_commit();
    let stderr = usage_error(repo.path(), &["creat"]);
    assert!(
        stderr.contains("tip: a similar subcommand exists: 'create'"),
        "{stderr}"
    );
    for other in ["repair", "schema"] {
        assert!(!stderr.contains(other), "{stderr}");
    }
}

#[test]
fn undo_writes_a_reflog_message() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "1\n");
    let cp = create(&repo, &session, "one", &[]);
    repo.write("a.txt", "2\n");
    let id = cp.checkpoint_id.to_string();
    ok_as::<RollbackOutcome>(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &id,
            "--hard-reset",
        ],
    );
    ok_as::<RollbackOutcome>(repo.path(), &["undo", "--session-id", &session]);
    // `git reflog` hides entries whose new id is all zeros: read the file itself. Every entry
    // moves HEAD to a real commit and says why.
    let raw = std::fs::read_to_string(repo.join(".git/logs/HEAD")).expect("HEAD's reflog");
    for entry in raw.lines() {
        let new_id = entry.split(' ').nth(1).unwrap_or_default();
        assert!(new_id.bytes().any(|b| b != b'0'), "a zero entry: {raw}");
        let message = entry.split_once('\t').map(|(_, m)| m).unwrap_or("");
        assert!(
            !message.trim().is_empty(),
            "an entry without a message: {raw}"
        );
    }
    let messages = repo.git(&["reflog", "--format=%gs", "HEAD"]);
    assert!(
        messages.lines().all(|m| !m.trim().is_empty()),
        "an empty reflog message: {messages:?}"
    );
    assert!(
        messages
            .lines()
            .any(|m| m.starts_with("checkpoint-manager: undo")),
        "{messages:?}"
    );
}

// ---- item 5: pretty output ----

fn pretty_capped(repo: &TestRepo, cap: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["--output", "pretty"];
    all.extend_from_slice(args);
    let r = run_capped(repo.path(), cap, &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (r.stdout, without_note(&r.stderr))
}

#[test]
fn pretty_create_names_skipped_files_with_the_json_words() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("big.bin", [7u8; 20]);
    repo.write("small.txt", "s\n");
    let mut args = create_args(&session, "with a big file");
    args.push("--snapshot");
    let head = repo.head();
    let (snapshot, _) = pretty_capped(&repo, "10", &args);
    let (committed, stderr) = pretty_capped(&repo, "10", &create_args(&session, "committed"));
    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &session]);
    let [b, a] =
        [&listed[0], &listed[1]].map(|c| (c.checkpoint_id.to_string(), c.commit_sha.to_string()));
    let names = [
        (head.as_str(), "[HEAD]"),
        (a.0.as_str(), "[A]"),
        (a.1.as_str(), "[A_SHA]"),
        (b.0.as_str(), "[B]"),
        (b.1.as_str(), "[B_SHA]"),
    ];
    let _filters = pretty_filters(repo.path(), &names).bind_to_scope();
    assert_snapshot!(snapshot, @r#"
        checkpoint [A]---------------------------------
          description  with a big file
          commit       [A_SHA]---------------------------------
          time         [TIME]---------------------
          phase        implement
          type         manual
          mode         snapshot
          rollbacks    0
          taken on     refs/heads/main at [HEAD]------
          skipped      big.bin (too_large, 20 bytes)
    "#);
    assert_snapshot!(committed, @r#"
        checkpoint [B]---------------------------------
          description  committed
          commit       [B_SHA]---------------------------------
          time         [TIME]---------------------
          phase        implement
          type         manual
          mode         commit
          tags         checkpoint-[B]---------------------------------
          rollbacks    0
          skipped      big.bin (too_large, 20 bytes)
    "#);
    assert_eq!(
        stderr,
        "checkpoint-manager: warning: big.bin (20 bytes) is over the size cap of 10 bytes: it \
         was left out of the checkpoint commit and is untouched on disk; raise git config \
         checkpoint-manager.maxFileSize or CHECKPOINT_MANAGER_MAX_FILE_SIZE (0: no cap), or \
         include the path explicitly\n"
    );
}

#[test]
fn pretty_get_indents_every_line_of_a_description() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "a\n");
    let cp = create(
        &repo,
        &session,
        "Refactor the parser\n- split lexer\n- add tests",
        &[],
    );
    let id = cp.checkpoint_id.to_string();
    let mut all = vec!["--output", "pretty"];
    all.extend_from_slice(&["get", "--session-id", &session, "--checkpoint-id", &id]);
    let got = ok_text(repo.path(), &all);
    let sha = cp.commit_sha.to_string();
    let _filters = pretty_filters(repo.path(), &[(&id, "[A]"), (&sha, "[A_SHA]")]).bind_to_scope();
    assert_snapshot!(got, @r#"
        checkpoint [A]---------------------------------
          description  Refactor the parser
                       - split lexer
                       - add tests
          commit       [A_SHA]---------------------------------
          time         [TIME]---------------------
          phase        implement
          type         manual
          mode         commit
          tags         checkpoint-[A]---------------------------------
          rollbacks    0
    "#);
}

#[test]
fn pretty_undo_says_what_was_undone() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "1\n");
    let cp = create(&repo, &session, "one", &[]);
    repo.write("a.txt", "2\n");
    let id = cp.checkpoint_id.to_string();
    let rolled: RollbackOutcome = ok_as(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &id,
            "--hard-reset",
        ],
    );
    let text = ok_text(
        repo.path(),
        &["--output", "pretty", "undo", "--session-id", &session],
    );
    // It names the rollback it undid (its target), not the safety snapshot as a checkpoint.
    assert!(
        text.contains(&format!("undid the rollback to checkpoint {}", &id[..8])),
        "{text}"
    );
    assert!(!text.contains("rolled back to checkpoint"), "{text}");
    let op = rolled.operation.operation_id.to_string();
    let _filters =
        pretty_filters(repo.path(), &[(&id, "[A]"), (&op, "[ROLLBACK]")]).bind_to_scope();
    assert_snapshot!(text, @r#"
        undid the rollback to checkpoint [A]----- (operation [ROLLBACK]--------------------------): branch, HEAD, index and files are as they were before it
        safety snapshot [ID]---- holds the previous state; `checkpoint-manager redo` returns to it
    "#);
}

// ---- item 6: commit mode and large files ----

#[test]
fn commit_mode_leaves_untracked_files_over_the_cap_out_of_the_commit() {
    let repo = repo_with_commit();
    let session = sid(1);
    // 120 MB, sparse: over the default 100 MiB cap without writing 120 MB.
    let big = repo.join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(120_000_000)
        .unwrap();
    repo.write("small.txt", "s\n");
    let r = run(repo.path(), &create_args(&session, "work"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cp: Checkpoint = serde_json::from_str(&r.stdout).unwrap();
    let skipped = [SkippedPath {
        path: "big.bin".to_owned(),
        reason: SkipReason::TooLarge,
        size: Some(120_000_000),
        files: None,
    }];
    assert_eq!(cp.skipped, skipped);
    // The log keeps the same list (read raw: this pins the log's layout).
    assert_eq!(
        log_json(&repo, &session)["checkpoints"][0]["skipped"],
        serde_json::json!([{"path": "big.bin", "reason": "too_large", "size": 120_000_000}])
    );
    let commit = cp.commit_sha.as_str();
    assert_eq!(resolve(&repo, "HEAD").as_deref(), Some(commit));
    assert_eq!(tree_paths(&repo, commit), ["README.md", "small.txt"]);
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 120_000_000);
    assert_eq!(repo.status(), "?? big.bin");
    assert_eq!(
        without_note(&r.stderr),
        "checkpoint-manager: warning: big.bin (120000000 bytes) is over the size cap of \
         104857600 bytes: it was left out of the checkpoint commit and is untouched on disk; raise \
         git config checkpoint-manager.maxFileSize or CHECKPOINT_MANAGER_MAX_FILE_SIZE (0: no \
         cap), or include the path explicitly\n"
    );
}

#[test]
fn commit_mode_with_only_a_file_over_the_cap_makes_no_empty_commit() {
    let repo = repo_with_commit();
    let head = repo.head();
    repo.write("big.bin", [1u8; 20]);
    let r = run_capped(repo.path(), "10", &create_args(&sid(1), "only big"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cp: Checkpoint = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(cp.commit_sha, head);
    assert_eq!(repo.head(), head);
    assert_eq!(cp.skipped[0].reason, SkipReason::TooLarge);
    assert_eq!(repo.status(), "?? big.bin");
    // No cap: the file is committed as `git add -A` would.
    let r = run_capped(repo.path(), "0", &create_args(&sid(1), "no cap"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Read raw: an empty list is left out of the JSON.
    let raw: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(raw.get("skipped").is_none(), "{raw}");
    let cp: Checkpoint = serde_json::from_value(raw).unwrap();
    assert_eq!(
        tree_paths(&repo, cp.commit_sha.as_str()),
        ["README.md", "big.bin"]
    );
}

#[test]
fn the_hooks_and_signing_note_is_said_once_per_repository() {
    let note = "checkpoint-manager: note: checkpoint commits are written with `git commit-tree`: \
                your pre-commit and commit-msg hooks do not run and the commits are not signed \
                (commit.gpgSign is not used); this is said once per repository\n";
    let repo = repo_with_commit();
    // A snapshot makes no commit on the branch: no note yet.
    repo.write("a.txt", "0\n");
    let session = sid(1);
    let mut snapshot = create_args(&session, "snap");
    snapshot.push("--snapshot");
    assert_eq!(run(repo.path(), &snapshot).stderr, "");
    repo.write("a.txt", "1\n");
    assert_eq!(run(repo.path(), &create_args(&sid(1), "one")).stderr, note);
    assert!(repo.exists(".git/checkpoint-manager/commit-notice-shown"));
    repo.write("a.txt", "2\n");
    assert_eq!(run(repo.path(), &create_args(&sid(2), "two")).stderr, "");
    let other = repo_with_commit();
    other.write("a.txt", "1\n");
    assert_eq!(run(other.path(), &create_args(&sid(1), "one")).stderr, note);
}

// ---- item 7: what each mode leaves in the repository ----

/// Every ref name, with checkpoint ids replaced by `<id>` and the session by `<session>`.
fn ref_names(repo: &TestRepo, session: &str, id: &str) -> Vec<String> {
    repo.git(&["for-each-ref", "--format=%(refname) %(objecttype)"])
        .lines()
        .map(|l| l.replace(id, "<id>").replace(session, "<session>"))
        .collect()
}

#[test]
fn each_mode_leaves_exactly_what_the_readme_says() {
    for (mode, flag) in [
        ("commit", None),
        ("tag", Some("--no-commit")),
        ("snapshot", Some("--snapshot")),
    ] {
        let repo = repo_with_commit();
        repo.git(&["tag", "-a", "v1", "-m", "release 1"]);
        let session = sid(1);
        repo.write("a.txt", "work\n");
        if mode == "tag" {
            repo.commit_all("work");
        }
        let head = repo.head();
        let mut args = create_args(&session, "cp");
        args.extend(flag);
        let cp: Checkpoint = ok_as(repo.path(), &args);
        let id = &cp.checkpoint_id.to_string();
        let tag = format!("checkpoint-{id}");
        let mut expected = vec![
            "refs/checkpoints/<session>/<id> tag".to_owned(),
            "refs/heads/main commit".to_owned(),
        ];
        if mode != "snapshot" {
            expected.push("refs/tags/checkpoint-<id> commit".to_owned());
        }
        expected.push("refs/tags/v1 tag".to_owned());
        assert_eq!(ref_names(&repo, &session, id), expected, "{mode}");
        // A lightweight tag in commit and tag modes: listed by `git tag` and used by
        // `git describe --tags`, never by plain `git describe` (annotated tags only).
        let listed = tags(&repo);
        let described = repo.git(&["describe"]).trim().to_owned();
        let described_tags = repo.git(&["describe", "--tags"]).trim().to_owned();
        match mode {
            "snapshot" => {
                assert_eq!(listed, ["v1"]);
                assert_eq!(described_tags, "v1");
                assert_eq!(repo.head(), head, "a snapshot leaves the branch");
            }
            _ => {
                assert_eq!(listed, [tag.clone(), "v1".to_owned()], "{mode}");
                assert_eq!(described_tags, tag, "{mode}");
            }
        }
        match mode {
            "snapshot" => assert_eq!(described, "v1"),
            _ => assert!(described.starts_with("v1-1-g"), "{mode}: {described}"),
        }
        assert_eq!(
            repo.git(&["branch", "--format=%(refname)"]),
            "refs/heads/main"
        );
    }
}
