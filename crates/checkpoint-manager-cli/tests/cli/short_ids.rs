//! Issue 10: short checkpoint ids. Every command that takes a checkpoint id takes a unique
//! prefix of at least 4 hex digits (with or without the UUID's dashes); an ambiguous one is
//! exit 3 listing the candidates, a too-short or non-hex one exit 3 naming the rule, one that
//! matches nothing exit 4; nothing changes on any of them.
//!
//! Ids are random, so two real checkpoints share a 4-digit prefix once in 65,536 pairs. The
//! ambiguous case is made deterministic by a twin record written into the session's log: a
//! copy of a real checkpoint whose id keeps the first 8 hex digits and differs at the 9th
//! (the log is where the library resolves prefixes, safety snapshots included). The unique
//! cases use the shortest prefix that really is unique between the test's two checkpoints
//! (computed, never fewer than 4 digits), so they cannot collide by chance.

use insta::assert_snapshot;

use crate::support::*;

/// The hex digits of an id, without its dashes.
fn hex(id: &str) -> String {
    id.replace('-', "")
}

/// The shortest prefix of `id`'s hex digits (at least 4) that `other` does not share.
fn unique_prefix(id: &str, other: &str) -> String {
    let (a, b) = (hex(id), hex(other));
    let shared = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    a[..(shared + 1).max(4)].to_owned()
}

/// Appends to the session's log a copy of checkpoint `of` whose id shares its first 8 hex
/// digits and differs at the 9th; returns the twin's id.
fn add_twin(repo: &TestRepo, session: &str, of: &str) -> String {
    let ninth = if of.as_bytes()[9] == b'0' { '1' } else { '0' };
    let twin = format!("{}-{ninth}000-4000-8000-000000000000", &of[..8]);
    let mut log = log_json(repo, session);
    let checkpoints = log["checkpoints"].as_array_mut().unwrap();
    let mut copy = checkpoints
        .iter()
        .find(|c| c["checkpoint_id"] == of)
        .unwrap()
        .clone();
    copy["checkpoint_id"] = twin.clone().into();
    checkpoints.push(copy);
    std::fs::write(
        repo.log_path(session),
        serde_json::to_vec_pretty(&log).unwrap(),
    )
    .unwrap();
    twin
}

fn get(repo: &TestRepo, session: &str, id: &str) -> Checkpoint {
    ok_as(
        repo.path(),
        &["get", "--session-id", session, "--checkpoint-id", id],
    )
}

#[test]
fn a_unique_prefix_works_for_get_rollback_and_delete() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "one\n");
    let one = create(&repo, &session, "one", &[])
        .checkpoint_id
        .to_string();
    repo.write("a.txt", "two\n");
    let two = create(&repo, &session, "two", &[])
        .checkpoint_id
        .to_string();

    // Every spelling people type: digits only, upper case, dashes where the UUID has them,
    // the whole id without its dashes.
    let short = unique_prefix(&one, &two);
    let dashed = &one[..13];
    let forms = [
        short.clone(),
        short.to_uppercase(),
        dashed.to_owned(),
        hex(dashed),
        hex(&one),
        one.clone(),
    ];
    for form in &forms {
        assert_eq!(
            get(&repo, &session, form).checkpoint_id.to_string(),
            one,
            "{form}"
        );
    }

    let back: RollbackOutcome = ok_as(
        repo.path(),
        &[
            "rollback",
            "--session-id",
            &session,
            "--checkpoint-id",
            &short,
            "--hard-reset",
        ],
    );
    assert_eq!(back.checkpoint_id.to_string(), one);
    assert_eq!(repo.read("a.txt"), b"one\n");

    let gone: DeleteOutcome = ok_as(
        repo.path(),
        &[
            "delete",
            "--session-id",
            &session,
            "--checkpoint-id",
            &unique_prefix(&two, &one),
        ],
    );
    assert_eq!(gone.checkpoint_id.to_string(), two);
    let left: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &session]);
    let left: Vec<String> = left.iter().map(|c| c.checkpoint_id.to_string()).collect();
    assert_eq!(left, [one]);
}

#[test]
fn an_ambiguous_prefix_is_exit_3_listing_the_candidates_and_changes_nothing() {
    let repo = repo_with_commit();
    let session = sid(1);
    repo.write("a.txt", "one\n");
    let one = create(&repo, &session, "one", &[])
        .checkpoint_id
        .to_string();
    repo.write("a.txt", "dirty\n");
    let twin = add_twin(&repo, &session, &one);
    let before = observe(&repo);

    let mut messages = Vec::new();
    for command in [
        &["get", "--session-id", &session, "--checkpoint-id"][..],
        &[
            "rollback",
            "--session-id",
            &session,
            "--hard-reset",
            "--checkpoint-id",
        ],
        &["delete", "--session-id", &session, "--checkpoint-id"],
    ] {
        let args = [command, &[&one[..8]]].concat();
        messages.push(fails(repo.path(), &args, 3));
    }
    assert_eq!(
        observe(&repo),
        before,
        "an ambiguous prefix changes nothing"
    );
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:#?}");
    let _filters =
        pretty_filters(repo.path(), &[(&one, "[ONE]"), (&twin, "[TWIN]")]).bind_to_scope();
    assert_snapshot!(messages[0], @r#"
        checkpoint id "[ONE]---" is ambiguous in session [TEST_ID_000000000001]: it starts 2 checkpoints: [ONE]------------------------------- (implement, [TIME]---------------------), [TWIN]------------------------------ (implement, [TIME]---------------------); give more of its digits
    "#);

    // One digit more tells them apart: with the dash as the UUID has it, or without.
    assert_eq!(
        get(&repo, &session, &one[..10]).checkpoint_id.to_string(),
        one
    );
    assert_eq!(
        get(&repo, &session, &hex(&one)[..9])
            .checkpoint_id
            .to_string(),
        one
    );
    assert_eq!(
        get(&repo, &session, &twin[..10]).checkpoint_id.to_string(),
        twin
    );
}

#[test]
fn too_short_or_not_hex_is_exit_3_and_no_match_is_exit_4() {
    let repo = repo_with_commit();
    let session = sid(1);
    let one = create(&repo, &session, "one", &[])
        .checkpoint_id
        .to_string();
    let before = observe(&repo);
    let _filters = filters(repo.path()).bind_to_scope();
    let short = ["abc", "a-b-c", "-", "xyz12345", "12345678/.."]
        .iter()
        .map(|bad| {
            fails(
                repo.path(),
                &["rollback", "--session-id", &session, "--checkpoint-id", bad],
                3,
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_snapshot!(short, @r#"
        invalid checkpoint id "abc": only 3 hex digit(s); give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)
        invalid checkpoint id "a-b-c": only 3 hex digit(s); give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)
        invalid checkpoint id "-": only 0 hex digit(s); give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)
        invalid checkpoint id "xyz12345": 'x' is not a hex digit; give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)
        invalid checkpoint id "12345678/..": '/' is not a hex digit; give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)
    "#);

    // A prefix of nothing in the session: not found, as a full id of nothing is.
    let first = u8::from_str_radix(&one[..1], 16).unwrap();
    let nothing = format!("{:x}{}", (first + 1) % 16, &one[1..8]);
    let missing = fails(
        repo.path(),
        &[
            "delete",
            "--session-id",
            &session,
            "--checkpoint-id",
            &nothing,
        ],
        4,
    );
    assert_eq!(
        missing,
        format!(
            "checkpoint {nothing} not found in session {session}; listing the session (list) \
             shows its checkpoints; `checkpoint-manager list --session-id {session}` shows them"
        )
    );
    // A prefix in a session that has no log: that session is not found.
    let other = sid(2);
    let no_session = fails(
        repo.path(),
        &["get", "--session-id", &other, "--checkpoint-id", &one[..8]],
        4,
    );
    assert!(
        no_session.starts_with(&format!("session {other} has no checkpoints")),
        "{no_session}"
    );
    assert_eq!(observe(&repo), before);
}

/// Runs `list --output pretty` with stdout on a terminal (util-linux `script`), no pager.
fn list_on_a_terminal(repo: &TestRepo, session: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_checkpoint-manager");
    let mut command = std::process::Command::new("script");
    command
        .args([
            "-q",
            "-e",
            "-c",
            &format!("'{bin}' --output pretty --no-pager list --session-id {session}"),
            "/dev/null",
        ])
        .current_dir(repo.path())
        .env_remove("NO_COLOR");
    for (k, v) in testutil::hermetic_env() {
        command.env(k, v);
    }
    let out = command
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
fn printed_ids_highlight_their_unique_prefix_on_a_terminal_only() {
    let repo = repo_with_commit();
    let session = sid(1);
    let one = create(&repo, &session, "one", &[])
        .checkpoint_id
        .to_string();
    let twin = add_twin(&repo, &session, &one);

    // On a terminal: the digits that tell the id apart bold, the rest of the 8 shown dimmed;
    // the twin needs 9 digits (one past the dash), so both show `xxxxxxxx-x`, all highlighted.
    let coloured = list_on_a_terminal(&repo, &session);
    let bold = |text: &str| format!("\u{1b}[1;35m{text}\u{1b}[0m");
    assert!(coloured.contains(&bold(&one[..10])), "{coloured:?}");
    assert!(coloured.contains(&bold(&twin[..10])), "{coloured:?}");

    // Piped: the same text, plain.
    let plain = ok_text(
        repo.path(),
        &["--output", "pretty", "list", "--session-id", &session],
    );
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    let rows: Vec<&str> = plain.lines().skip(1).take(2).collect();
    for (row, id) in rows.iter().zip([&twin, &one]) {
        assert!(row.starts_with(&format!("{}  ", &id[..10])), "{row:?}");
    }

    // Alone in its session, an id shows 8 digits, the first 4 (the fewest accepted) bold.
    let other = sid(2);
    let alone = create(&repo, &other, "alone", &[])
        .checkpoint_id
        .to_string();
    let coloured = list_on_a_terminal(&repo, &other);
    let dim = format!("\u{1b}[2m{}\u{1b}[0m", &alone[4..8]);
    assert!(
        coloured.contains(&format!("{}{dim}", bold(&alone[..4]))),
        "{coloured:?}"
    );
}
