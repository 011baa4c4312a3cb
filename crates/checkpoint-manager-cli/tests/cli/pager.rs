//! Long pretty output goes through the pager git would choose, only when stdout is a terminal:
//! the binary runs with its stdout on a real pseudo-terminal, and the pager is a shell command
//! that records what it was given.

use std::path::Path;
use std::process::Stdio;

use crate::support::*;

/// Runs the binary with stdout on a terminal; returns its exit code.
fn run_on_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> i32 {
    let pty = Pty::open();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_checkpoint-manager"));
    cmd.current_dir(dir).args(args);
    for (key, value) in testutil::hermetic_env() {
        cmd.env(key, value);
    }
    for key in ["GIT_PAGER", "PAGER", "LESS", "NO_COLOR"] {
        cmd.env_remove(key);
    }
    cmd.env("HOME", dir).envs(env.iter().copied());
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(pty.secondary))
        .stderr(Stdio::null())
        .status()
        .expect("the binary runs");
    drop(pty.primary);
    status.code().expect("exited")
}

fn session_with_a_checkpoint() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("f.txt", "one\n");
    repo.commit_all("initial");
    create(&repo, &sid(1), "the first checkpoint", &["--snapshot"]);
    repo
}

const RECORD: &str = "printf '%s' \"$LESS\" > pager-env; cat > pager-out";

#[test]
fn pretty_output_on_a_terminal_goes_through_git_pager_with_less_defaults() {
    let repo = session_with_a_checkpoint();
    let args = ["list", "--session-id", &sid(1), "--output", "pretty"];
    assert_eq!(
        run_on_terminal(repo.path(), &args, &[("GIT_PAGER", RECORD)]),
        0
    );
    let shown = std::fs::read_to_string(repo.path().join("pager-out")).expect("the pager ran");
    assert!(shown.contains("the first checkpoint"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("pager-env")).expect("env"),
        "FRX"
    );
}

#[test]
fn core_pager_is_used_when_no_environment_variable_names_one() {
    let repo = session_with_a_checkpoint();
    repo.git(&["config", "core.pager", RECORD]);
    let args = ["list", "--session-id", &sid(1), "--output", "pretty"];
    assert_eq!(run_on_terminal(repo.path(), &args, &[]), 0);
    assert!(repo.path().join("pager-out").exists());
}

#[test]
fn no_pager_for_json_for_no_pager_or_when_piped() {
    let repo = session_with_a_checkpoint();
    let pretty = ["list", "--session-id", &sid(1), "--output", "pretty"];
    let json = ["list", "--session-id", &sid(1)];
    let no_pager = [
        "--no-pager",
        "list",
        "--session-id",
        &sid(1),
        "--output",
        "pretty",
    ];
    for args in [&json[..], &no_pager[..]] {
        assert_eq!(
            run_on_terminal(repo.path(), args, &[("GIT_PAGER", RECORD)]),
            0
        );
        assert!(!repo.path().join("pager-out").exists(), "{args:?} paged");
    }
    let piped = cm(repo.path())
        .args(pretty)
        .env("GIT_PAGER", RECORD)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&piped.stdout).contains("the first checkpoint"));
    assert!(
        !repo.path().join("pager-out").exists(),
        "piped output paged"
    );
}
