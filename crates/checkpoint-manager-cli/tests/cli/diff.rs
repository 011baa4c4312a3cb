//! `diff` and `log` (issue 10) through the real binary: the JSON is the library's report, the
//! pretty text is git's own (`git diff`, `--stat`, `--name-status` on the same trees, byte for
//! byte), coloured and paged only on a terminal; the timeline pinned with insta; bad ids refused
//! with one line and the right exit code.

use checkpoint_manager::{DiffReport, FileStatus, TimelineEntry};
use insta::assert_snapshot;

use crate::support::*;

/// A session with a commit checkpoint `a` and a snapshot `b` after a modification, a rename,
/// a deletion, a file that became a symlink, a binary file and an untracked file.
fn two_checkpoints() -> (TestRepo, String, Checkpoint, Checkpoint) {
    let repo = TestRepo::new();
    repo.write("notes.txt", "one\ntwo\nthree\n");
    repo.write("old-name.txt", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    repo.write("gone.txt", "bye\n");
    repo.write("config", "a file first\n");
    repo.commit_all("initial");
    let session = sid(1);
    let a = create(&repo, &session, "before", &[]);
    repo.write("notes.txt", "one\n2\nthree\nfour\n");
    std::fs::rename(repo.join("old-name.txt"), repo.join("new-name.txt")).unwrap();
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    std::fs::remove_file(repo.join("config")).unwrap();
    symlink("notes.txt", repo.join("config"));
    repo.write("logo.bin", [0u8, 1, 2, 3, 255]);
    repo.write("untracked.txt", "not added\n");
    let b = create(&repo, &session, "after", &["--snapshot"]);
    (repo, session, a, b)
}

fn diff_args<'a>(session: &'a str, a: &'a Checkpoint, b: &'a Checkpoint) -> Vec<String> {
    [
        "diff",
        "--session-id",
        session,
        "--from",
        &a.checkpoint_id.to_string(),
        "--to",
        &b.checkpoint_id.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// What git prints, untrimmed.
fn git_text(repo: &TestRepo, args: &[&str]) -> String {
    String::from_utf8(repo.git_bytes(args)).unwrap()
}

fn text_of(repo: &TestRepo, args: &[String], extra: &[&str]) -> String {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    let text = ok_text(repo.path(), &all);
    assert!(!text.contains('\u{1b}'), "no colour on a pipe: {text:?}");
    text
}

#[test]
fn json_is_the_report_and_pretty_stat_and_name_status_are_what_git_prints() {
    let (repo, session, a, b) = two_checkpoints();
    let args = diff_args(&session, &a, &b);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let report: DiffReport = ok_as(repo.path(), &argv);
    assert_eq!(report.from, a.checkpoint_id);
    assert_eq!(report.to, Some(b.checkpoint_id));
    let statuses: Vec<(&str, FileStatus)> = report
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("config", FileStatus::TypeChanged),
            ("gone.txt", FileStatus::Deleted),
            ("logo.bin", FileStatus::Added),
            ("new-name.txt", FileStatus::Renamed),
            ("notes.txt", FileStatus::Modified),
            ("untracked.txt", FileStatus::Added),
        ]
    );
    assert!(report.files.iter().all(|f| f.patch.is_none()));
    let with_patch: DiffReport = ok_as(repo.path(), &[&argv[..], &["--patch"]].concat());
    assert!(with_patch.files.iter().all(|f| f.patch.is_some()));

    let (from, to) = (a.commit_sha.as_str(), b.commit_sha.as_str());
    let pretty = text_of(&repo, &args, &["--output", "pretty"]);
    assert_eq!(pretty, git_text(&repo, &["diff", "-M", from, to]));
    let stat = text_of(&repo, &args, &["--stat"]);
    assert_eq!(stat, git_text(&repo, &["diff", "-M", "--stat", from, to]));
    let names = text_of(&repo, &args, &["--name-status", "--output", "pretty"]);
    assert_eq!(
        names,
        git_text(&repo, &["diff", "-M", "--name-status", from, to])
    );

    assert_snapshot!(stat, @r"
    config                       |   2 +-
    gone.txt                     |   1 -
    logo.bin                     | Bin 0 -> 5 bytes
    old-name.txt => new-name.txt |   0
    notes.txt                    |   3 ++-
    untracked.txt                |   1 +
    6 files changed, 4 insertions(+), 3 deletions(-)
    ");
    assert_snapshot!(names, @r"
    T	config
    D	gone.txt
    A	logo.bin
    R100	old-name.txt	new-name.txt
    M	notes.txt
    A	untracked.txt
    ");
    assert_snapshot!(pretty, @r"
    diff --git a/config b/config
    deleted file mode 100644
    index 006c3ea..0000000
    --- a/config
    +++ /dev/null
    @@ -1 +0,0 @@
    -a file first
    diff --git a/config b/config
    new file mode 120000
    index 0000000..d669de9
    --- /dev/null
    +++ b/config
    @@ -0,0 +1 @@
    +notes.txt
    \ No newline at end of file
    diff --git a/gone.txt b/gone.txt
    deleted file mode 100644
    index b023018..0000000
    --- a/gone.txt
    +++ /dev/null
    @@ -1 +0,0 @@
    -bye
    diff --git a/logo.bin b/logo.bin
    new file mode 100644
    index 0000000..e2613b3
    Binary files /dev/null and b/logo.bin differ
    diff --git a/old-name.txt b/new-name.txt
    similarity index 100%
    rename from old-name.txt
    rename to new-name.txt
    diff --git a/notes.txt b/notes.txt
    index 4cb29ea..ea14db2 100644
    --- a/notes.txt
    +++ b/notes.txt
    @@ -1,3 +1,4 @@
     one
    -two
    +2
     three
    +four
    diff --git a/untracked.txt b/untracked.txt
    new file mode 100644
    index 0000000..fd302b0
    --- /dev/null
    +++ b/untracked.txt
    @@ -0,0 +1 @@
    +not added
    ");
}

#[test]
fn a_diff_to_the_work_tree_changes_nothing_the_user_sees() {
    let (repo, session, a, _) = two_checkpoints();
    repo.write("notes.txt", "changed again\n");
    let before = observe(&repo);
    let report: DiffReport = ok_as(
        repo.path(),
        &[
            "diff",
            "--session-id",
            &session,
            "--from",
            &a.checkpoint_id.to_string(),
        ],
    );
    assert_eq!(before, observe(&repo));
    assert_eq!(report.to, None);
    let notes = report.files.iter().find(|f| f.path == "notes.txt").unwrap();
    assert_eq!((notes.additions, notes.deletions), (1, 3));
}

#[test]
fn bad_ids_are_refused_in_one_line_with_nothing_printed() {
    let (repo, session, a, _) = two_checkpoints();
    let a = a.checkpoint_id.to_string();
    let stranger = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let message = fails(
        repo.path(),
        &["diff", "--session-id", &session, "--from", "nope"],
        3,
    );
    assert!(
        message.starts_with("invalid checkpoint id \"nope\""),
        "{message}"
    );
    let message = fails(
        repo.path(),
        &[
            "diff",
            "--session-id",
            &session,
            "--from",
            &a,
            "--to",
            stranger,
        ],
        4,
    );
    assert!(
        message.contains(stranger) && message.contains("list --session-id"),
        "{message}"
    );
    fails(
        repo.path(),
        &["diff", "--session-id", &sid(9), "--from", &a],
        4,
    );
    fails(repo.path(), &["log", "--session-id", &sid(9)], 4);
    fails(repo.path(), &["log", "--session-id", "x"], 3);
    usage_error(
        repo.path(),
        &[
            "diff",
            "--session-id",
            &session,
            "--from",
            &a,
            "--stat",
            "--name-status",
        ],
    );
}

#[test]
fn the_log_is_a_timeline_newest_first_with_operations_and_diffstats() {
    let (repo, session, a, b) = two_checkpoints();
    let a_id = a.checkpoint_id.to_string();
    let rolled: RollbackOutcome = ok_as(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &a_id,
            "--hard-reset",
        ],
    );
    let timeline: Vec<TimelineEntry> = ok_as(repo.path(), &["log", "--session-id", &session]);
    assert_eq!(timeline.len(), 4, "{timeline:#?}");
    assert!(
        matches!(&timeline[0], TimelineEntry::Operation(op) if op.safety_checkpoint_id == rolled.safety_checkpoint_id)
    );

    let safety = rolled.safety_checkpoint_id.to_string();
    let (b_id, a_sha, b_sha) = (
        b.checkpoint_id.to_string(),
        a.commit_sha.clone(),
        b.commit_sha.clone(),
    );
    let names = [
        (a_id.as_str(), "[A]"),
        (b_id.as_str(), "[B]"),
        (safety.as_str(), "[SAFETY]"),
        (a_sha.as_str(), "[A_SHA]"),
        (b_sha.as_str(), "[B_SHA]"),
    ];
    let mut settings = pretty_filters(repo.path(), &names);
    settings.add_filter(
        r"(\d+ \w+ ago|just now) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)",
        "[WHEN]",
    );
    let _guard = settings.bind_to_scope();
    let text = ok_text(
        repo.path(),
        &["--output", "pretty", "log", "--session-id", &session],
    );
    assert!(!text.contains('\u{1b}'), "no colour on a pipe");
    assert_snapshot!(text, @r"
    ↺  rollback (hard) to [A]-----  done  [WHEN]
    │  the state before it is in safety snapshot [SAFETY]
    │
    ◌  [SAFETY]  [SHORT]-----  [WHEN]
    │  implement · pre_risky_operation · safety
    │  Safety snapshot before rollback to checkpoint [A]---------------------------------
    │  no changes
    │
    ○  [B]-----  [B_SHA]-----  [WHEN]
    │  implement · manual · snapshot
    │  after
    │  6 files changed, 4 insertions(+), 3 deletions(-)
    │
    ○  [A]-----  [A_SHA]-----  [WHEN]
    │  implement · manual · commit
    │  before
    │
    ");
}

/// Runs the binary with stdout on a terminal (util-linux `script`) and `GIT_PAGER` marking
/// each line it pages.
fn on_a_terminal(repo: &TestRepo, args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_checkpoint-manager");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &format!("'{bin}' {args}"), "/dev/null"])
        .current_dir(repo.path())
        .env_remove("NO_COLOR")
        .env("GIT_PAGER", "sed s/^/paged:/");
    for (k, v) in testutil::hermetic_env() {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("util-linux `script` is needed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn on_a_terminal_the_diff_is_coloured_and_paged_and_the_log_paged() {
    let (repo, session, a, b) = two_checkpoints();
    let args = format!(
        "--output pretty diff --session-id {session} --from {} --to {}",
        a.checkpoint_id, b.checkpoint_id
    );
    let shown = on_a_terminal(&repo, &args);
    assert!(shown.starts_with("paged:"), "{shown:?}");
    assert!(shown.contains("\u{1b}[32mfour"), "git's colours: {shown:?}");
    let shown = on_a_terminal(&repo, &format!("--no-pager {args}"));
    assert!(!shown.contains("paged:"), "{shown:?}");
    let shown = on_a_terminal(
        &repo,
        &format!("--output pretty log --session-id {session}"),
    );
    assert!(shown.starts_with("paged:"), "{shown:?}");
}
