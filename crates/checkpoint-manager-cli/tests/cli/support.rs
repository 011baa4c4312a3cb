//! Running the binary hermetically and reading what it did: exit code, stdout parsed as JSON,
//! the one-line error on stderr; plus insta filters that make messages and `--output pretty`
//! text stable (ids, shas, times and the temp path vary from run to run).

use std::path::Path;

pub use checkpoint_manager::{
    Checkpoint, CheckpointSummary, DeleteOutcome, ResetMode, RollbackOutcome,
};
use serde_json::Value;
pub use testutil::*;

/// The `n`th test session id as a string.
pub fn sid(n: u32) -> String {
    testutil::session_id(n)
}

/// The binary, run in `dir` with no dependency on the machine's git config or the caller's
/// environment (no size cap override, no colour preference, no git identity variables).
pub fn cm(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_checkpoint-manager"));
    cmd.current_dir(dir);
    for (key, value) in testutil::hermetic_env() {
        cmd.env(key, value);
    }
    for key in [
        "CHECKPOINT_MANAGER_MAX_FILE_SIZE",
        "NO_COLOR",
        "GIT_PAGER",
        "PAGER",
        "LESS",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        cmd.env_remove(key);
    }
    cmd.env("HOME", dir);
    cmd
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary in `dir` with `args`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    let out = cm(dir).args(args).output().unwrap();
    Run {
        code: out
            .status
            .code()
            .expect("the binary exited, it was not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The once-per-repository note of the first checkpoint commit (see `views.rs`).
pub const NOTE: &str = "checkpoint-manager: note: ";

/// stderr without the once-per-repository note, which any first commit-mode `create` prints.
pub fn without_note(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.starts_with(NOTE))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Runs a command that must succeed silently on stderr (but for the note) and returns its JSON
/// output.
pub fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let r = run(dir, args);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    assert_eq!(without_note(&r.stderr), "", "{args:?} wrote to stderr");
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {}", r.stdout))
}

/// Runs a command that must succeed silently on stderr (but for the note) and returns its JSON
/// output read into a model type of the library (`Checkpoint`, `RollbackOutcome`, ...).
#[track_caller]
pub fn ok_as<T: serde::de::DeserializeOwned>(dir: &Path, args: &[&str]) -> T {
    let value = ok_json(dir, args);
    serde_json::from_value(value.clone()).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not a {}: {e}: {value}",
            std::any::type_name::<T>()
        )
    })
}

/// Runs a command that must succeed (stderr empty but for the note) and returns its stdout
/// (for `--output pretty`).
pub fn ok_text(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    assert_eq!(without_note(&r.stderr), "", "{args:?} wrote to stderr");
    r.stdout
}

/// Runs a command that must fail with `code`, print nothing on stdout and exactly one line on
/// stderr prefixed `checkpoint-manager: error: `; returns that line without the prefix.
pub fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, code, "{args:?}: stderr: {}", r.stderr);
    assert_eq!(r.stdout, "", "{args:?}: stdout must be empty on error");
    assert!(
        r.stderr.ends_with('\n') && r.stderr.matches('\n').count() == 1,
        "{args:?}: the error must be one line: {:?}",
        r.stderr
    );
    r.stderr
        .trim_end()
        .strip_prefix("checkpoint-manager: error: ")
        .unwrap_or_else(|| panic!("{args:?}: unexpected stderr {:?}", r.stderr))
        .to_owned()
}

/// Runs a command that clap must refuse (exit 2, nothing on stdout, an `error:` on stderr);
/// returns stderr.
pub fn usage_error(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    assert_eq!(r.stdout, "", "{args:?}");
    assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
    r.stderr
}

/// `create` with the given extra flags; returns the printed checkpoint.
pub fn create(repo: &TestRepo, session: &str, description: &str, extra: &[&str]) -> Checkpoint {
    let mut args = vec![
        "create",
        "--session-id",
        session,
        "--description",
        description,
        "--phase",
        "implement",
    ];
    args.extend_from_slice(extra);
    ok_as(repo.path(), &args)
}

/// Returns a string field of a JSON object.
pub fn s<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

/// Returns the bytes of `.git/info/exclude`, if it exists.
pub fn exclude_file(repo: &TestRepo) -> Option<Vec<u8>> {
    std::fs::read(repo.join(".git/info/exclude")).ok()
}

/// The insta settings for `--output pretty` text: like [`filters`], but every placeholder keeps
/// the width of what it replaces (`[ID]-----...`), so column alignment stays visible; and each
/// `(value, name)` the test knows (a checkpoint or operation id, a commit sha) reads `name`
/// instead, so the snapshot still tells two ids apart. A named 40-hex sha also names its
/// 12-character short form. Use as `let _guard = pretty_filters(..).bind_to_scope();`.
pub fn pretty_filters(repo: &Path, names: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::new();
    for (value, name) in names {
        settings.add_filter(
            &format!(r"\b{}\b", regex_escape(value)),
            padded(name, value.len()),
        );
        if value.len() == 40 {
            settings.add_filter(&format!(r"\b{}\b", &value[..12]), padded(name, 12));
        }
    }
    // A named checkpoint id also names its short form (issue 10: 8 digits shown), once every
    // full id is named (two ids may share their first 8 digits).
    for (value, name) in names.iter().filter(|(value, _)| value.len() == 36) {
        settings.add_filter(&format!(r"\b{}\b", &value[..8]), padded(name, 8));
    }
    for path in [std::fs::canonicalize(repo).unwrap(), repo.to_owned()] {
        settings.add_filter(&regex_escape(&path.display().to_string()), "[REPO]");
    }
    settings.add_filter(
        r"\b00000000-0000-4000-8000-([0-9a-f]{12})\b",
        "[TEST_ID_$1]",
    );
    for (pattern, name, width) in [
        (
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "[ID]",
            36,
        ),
        (r"\b[0-9a-f]{40}\b", "[SHA]", 40),
        (r"\b[0-9a-f]{12}\b", "[SHORT]", 12),
        (r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", "[TIME]", 27),
        // Short ids no test named (issue 10).
        (r"\b[0-9a-f]{8}\b", "[ID]", 8),
    ] {
        settings.add_filter(pattern, padded(name, width));
    }
    settings
}

/// `name` followed by dashes up to `width` characters.
fn padded(name: &str, width: usize) -> String {
    format!("{name:-<width$}")
}

/// The insta settings every snapshot of messages uses: what varies from run to run becomes a
/// placeholder (`[REPO]` for the repository's path, `[ID]`, `[SHA]`, `[SHORT]` and `[TIME]`),
/// while the test ids (`00000000-0000-4000-8000-NNNNNNNNNNNN`) read `[TEST_ID_NNNNNNNNNNNN]`. Use as
/// `let _guard = filters(repo.path()).bind_to_scope();` before `assert_snapshot!`.
pub fn filters(repo: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for path in [std::fs::canonicalize(repo).unwrap(), repo.to_owned()] {
        settings.add_filter(&regex_escape(&path.display().to_string()), "[REPO]");
    }
    settings.add_filter(
        r"\b00000000-0000-4000-8000-([0-9a-f]{12})\b",
        "[TEST_ID_$1]",
    );
    settings.add_filter(
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "[ID]",
    );
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[SHA]");
    settings.add_filter(r"\b[0-9a-f]{12}\b", "[SHORT]");
    settings.add_filter(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]");
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}
