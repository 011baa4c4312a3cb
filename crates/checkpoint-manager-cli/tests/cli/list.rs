//! `list`, `get` and `summary` end to end: newest first, the same objects the log holds, the
//! summary by type.

use serde_json::{json, Value};

use crate::support::*;

#[test]
fn list_prints_the_logged_checkpoints_newest_first_and_get_prints_one() {
    let repo = repo_with_commit();
    let mut created = Vec::new();
    for (i, kind) in ["phase_complete", "safe_state", "phase_complete"]
        .iter()
        .enumerate()
    {
        repo.write("n.txt", format!("{i}\n"));
        created.push(create(
            &repo,
            &sid(1),
            &format!("cp {i}"),
            &["--checkpoint-type", kind],
        ));
    }

    let listed = ok_json(repo.path(), &["list", "--session-id", &sid(1)]);

    let newest_first: Vec<Value> = created.iter().rev().cloned().collect();
    assert_eq!(listed, Value::Array(newest_first));
    let timestamps: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "timestamp"))
        .collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] >= w[1]),
        "{timestamps:?}"
    );
    // The log keeps creation order; list reverses it.
    let log = log_json(&repo, sid(1));
    assert_eq!(log["checkpoints"], Value::Array(created.clone()));

    for cp in &created {
        let got = ok_json(
            repo.path(),
            &[
                "get",
                "--session-id",
                &sid(1),
                "--checkpoint-id",
                s(cp, "checkpoint_id"),
            ],
        );
        assert_eq!(&got, cp);
    }
}

#[test]
fn summary_counts_by_type_and_names_the_latest_commit() {
    let repo = repo_with_commit();
    let mut last = Value::Null;
    for (i, kind) in [
        "phase_complete",
        "error_recovery",
        "phase_complete",
        "manual",
    ]
    .iter()
    .enumerate()
    {
        repo.write("n.txt", format!("{i}\n"));
        last = create(&repo, &sid(1), "x", &["--checkpoint-type", kind]);
    }

    let summary = ok_json(repo.path(), &["summary", "--session-id", &sid(1)]);

    assert_eq!(
        summary,
        json!({
            "total_checkpoints": 4,
            "checkpoints_by_type": {"phase_complete": 2, "error_recovery": 1, "manual": 1},
            "checkpoints_used_for_rollback": 0,
            "latest_checkpoint": last["commit_sha"],
        })
    );
    assert_eq!(log_json(&repo, sid(1))["summary"], summary);
}

#[test]
fn sessions_do_not_see_each_other() {
    let repo = repo_with_commit();
    let a = create(&repo, &sid(1), "a", &[]);
    repo.write("x.txt", "x\n");
    let b = create(&repo, &sid(2), "b", &[]);
    assert_eq!(
        ok_json(repo.path(), &["list", "--session-id", &sid(1)]),
        json!([a])
    );
    assert_eq!(
        ok_json(repo.path(), &["list", "--session-id", &sid(2)]),
        json!([b.clone()])
    );
    fails(
        repo.path(),
        &[
            "get",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            s(&b, "checkpoint_id"),
        ],
        4,
    );
}

#[test]
fn uppercase_ids_name_the_same_session_and_checkpoint() {
    let repo = repo_with_commit();
    let session = "7C9E6679-7425-40DE-944B-E07FC1F90AE7";
    let cp = create(&repo, session, "upper", &[]);
    let id = s(&cp, "checkpoint_id").to_uppercase();
    let got = ok_json(
        repo.path(),
        &[
            "get",
            "--session-id",
            &session.to_lowercase(),
            "--checkpoint-id",
            &id,
        ],
    );
    assert_eq!(got, cp);
    assert!(repo
        .log_path("7c9e6679-7425-40de-944b-e07fc1f90ae7")
        .exists());
}
