//! Issue 10, caps beyond single files on the command line: the folder cap and the size cap
//! from git config (the environment variable wins), `create --include`, and no progress on
//! stderr when it is not a terminal or with `--quiet`.

use crate::support::*;

/// A committed repository ignoring `*.log`, with `config` set in its own git config.
fn repo_with_config(config: &[(&str, &str)]) -> TestRepo {
    let repo = repo_with_commit();
    repo.write(".gitignore", "*.log\n");
    repo.commit_all("ignore logs");
    for (key, value) in config {
        repo.git(&["config", key, value]);
    }
    repo
}

fn fill(repo: &TestRepo, folder: &str, count: usize) {
    for i in 0..count {
        repo.write(
            format!("{folder}/pkg{}/file{i}.js", i % 3),
            format!("{i}\n"),
        );
    }
}

fn snapshot_args<'a>(session: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "create",
        "--session-id",
        session,
        "--description",
        "caps",
        "--phase",
        "implement",
        "--snapshot",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_folder_over_the_configured_cap_is_listed_with_its_count_and_nothing_reaches_stderr() {
    let repo = repo_with_config(&[("checkpoint-manager.maxUntrackedDirFiles", "4")]);
    fill(&repo, "node_modules", 5);
    let session = sid(1);
    // stderr is a pipe here: no progress bar, whatever the size.
    let cp = ok_json(repo.path(), &snapshot_args(&session, &[]));
    assert_eq!(
        cp["snapshot"]["skipped"],
        serde_json::json!([{"path": "node_modules/", "reason": "too_many_files", "files": 5}])
    );
    let r = run(repo.path(), &snapshot_args(&session, &["--quiet"]));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let pretty = ok_text(
        repo.path(),
        &snapshot_args(&session, &["--output", "pretty"]),
    );
    let skipped: Vec<&str> = pretty.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(
        skipped,
        ["  skipped      node_modules/ (too_many_files, 5 files)"]
    );
}

#[test]
fn commit_mode_warns_about_a_folder_left_out_and_quiet_silences_it() {
    let repo = repo_with_config(&[("checkpoint-manager.maxUntrackedDirFiles", "2")]);
    fill(&repo, "node_modules", 3);
    let session = sid(1);
    let args = [
        "create",
        "--session-id",
        &session,
        "--description",
        "work",
        "--phase",
        "implement",
    ];
    let r = run(repo.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let warning = without_note(&r.stderr);
    assert!(
        warning.starts_with("checkpoint-manager: warning: node_modules/ holds 3 untracked files")
            && warning.contains("checkpoint-manager.maxUntrackedDirFiles")
            && warning.lines().count() == 1,
        "{warning}"
    );
    repo.write("node_modules/pkg0/more.js", "more\n");
    let quiet: Vec<&str> = args.iter().copied().chain(["--quiet"]).collect();
    let r = run(repo.path(), &quiet);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn the_environment_variable_wins_over_the_configured_size_cap() {
    let repo = repo_with_config(&[("checkpoint-manager.maxFileSize", "1k")]);
    repo.write("big.bin", vec![1u8; 2000]);
    let session = sid(1);
    let skipped = |extra_env: Option<&str>| {
        let mut cmd = cm(repo.path());
        if let Some(value) = extra_env {
            cmd.env("CHECKPOINT_MANAGER_MAX_FILE_SIZE", value);
        }
        let out = cmd.args(snapshot_args(&session, &[])).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cp: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        cp["snapshot"]["skipped"].clone()
    };
    assert_eq!(
        skipped(None),
        serde_json::json!([{"path": "big.bin", "reason": "too_large", "size": 2000}])
    );
    assert_eq!(skipped(Some("0")), serde_json::Value::Null, "env 0: no cap");
    repo.git(&["config", "checkpoint-manager.maxFileSize", "0"]);
    assert_eq!(skipped(None), serde_json::Value::Null, "config 0: no cap");
    assert_eq!(skipped(Some("1500"))[0]["path"], "big.bin", "env wins");
}

#[test]
fn include_takes_paths_from_the_current_folder() {
    let repo = repo_with_config(&[]);
    repo.write("debug.log", "wanted\n");
    repo.write("sub/trace.log", "wanted too\n");
    let session = sid(1);
    let sub = repo.join("sub");
    let cp: Checkpoint = ok_as(
        &sub,
        &snapshot_args(
            &session,
            &["--include", "../debug.log", "--include", "trace.log"],
        ),
    );
    let held = tree_paths(&repo, &cp.commit_sha);
    assert!(
        held.contains(&"debug.log".to_owned()) && held.contains(&"sub/trace.log".to_owned()),
        "{held:?}"
    );
}

#[test]
fn include_outside_the_repository_is_refused_with_exit_3_and_nothing_changes() {
    let repo = repo_with_config(&[]);
    let session = sid(1);
    let before = observe(&repo);
    let message = fails(
        repo.path(),
        &snapshot_args(&session, &["--include", "/etc/hostname"]),
        3,
    );
    assert_eq!(
        message,
        "cannot include /etc/hostname: it is outside the work tree; nothing was changed; \
         name a file or folder inside the work tree"
    );
    assert_same_for_user(&before, &observe(&repo), "a refused include");
    assert_eq!(
        refs(&repo)
            .iter()
            .filter(|r| r.contains("checkpoint"))
            .count(),
        0
    );
    usage_error(
        repo.path(),
        &[
            "create",
            "--session-id",
            &session,
            "--description",
            "x",
            "--phase",
            "plan",
            "--no-commit",
            "--include",
            "a",
        ],
    );
}

#[test]
fn a_bad_cap_in_git_config_is_exit_3_naming_the_key() {
    let repo = repo_with_config(&[("checkpoint-manager.maxFileSize", "12 parsecs")]);
    let message = fails(repo.path(), &snapshot_args(&sid(1), &[]), 3);
    assert_eq!(
        message,
        "invalid value \"12 parsecs\" for checkpoint-manager.maxFileSize: expected a whole \
         number (k, m or g suffixes allowed)"
    );
}
