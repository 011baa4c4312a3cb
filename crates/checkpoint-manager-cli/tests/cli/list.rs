//! `list`, `get` and `summary` end to end: newest first, the same objects the log holds, the
//! summary by type.

use checkpoint_manager::CheckpointType;

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

    let listed: Vec<Checkpoint> = ok_as(repo.path(), &["list", "--session-id", &sid(1)]);

    let newest_first: Vec<Checkpoint> = created.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    let timestamps: Vec<&str> = listed.iter().map(|c| c.timestamp.as_str()).collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] >= w[1]),
        "{timestamps:?}"
    );
    // The log keeps creation order; list reverses it.
    // (The log is read raw on purpose: its own layout holds every field the list printed.)
    let log = log_json(&repo, sid(1));
    assert_eq!(log["checkpoints"], serde_json::to_value(&created).unwrap());

    for cp in &created {
        let got: Checkpoint = ok_as(
            repo.path(),
            &[
                "get",
                "--session-id",
                &sid(1),
                "--checkpoint-id",
                &cp.checkpoint_id.to_string(),
            ],
        );
        assert_eq!(&got, cp);
    }
}

#[test]
fn summary_counts_by_type_and_names_the_latest_commit() {
    let repo = repo_with_commit();
    let mut last = None;
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
        last = Some(create(&repo, &sid(1), "x", &["--checkpoint-type", kind]));
    }

    let summary: CheckpointSummary = ok_as(repo.path(), &["summary", "--session-id", &sid(1)]);

    assert_eq!(
        summary,
        CheckpointSummary {
            total_checkpoints: 4,
            checkpoints_by_type: [
                (CheckpointType::PhaseComplete, 2),
                (CheckpointType::ErrorRecovery, 1),
                (CheckpointType::Manual, 1),
            ]
            .into(),
            checkpoints_used_for_rollback: 0,
            latest_checkpoint: last.map(|cp| cp.commit_sha.to_string()),
        }
    );
    let logged: CheckpointSummary =
        serde_json::from_value(log_json(&repo, sid(1))["summary"].clone()).unwrap();
    assert_eq!(logged, summary);
}

#[test]
fn sessions_do_not_see_each_other() {
    let repo = repo_with_commit();
    let a = create(&repo, &sid(1), "a", &[]);
    repo.write("x.txt", "x\n");
    let b = create(&repo, &sid(2), "b", &[]);
    let list = |session: &str| -> Vec<Checkpoint> {
        ok_as(repo.path(), &["list", "--session-id", session])
    };
    assert_eq!(list(&sid(1)), [a]);
    assert_eq!(list(&sid(2)), std::slice::from_ref(&b));
    fails(
        repo.path(),
        &[
            "get",
            "--session-id",
            &sid(1),
            "--checkpoint-id",
            &b.checkpoint_id.to_string(),
        ],
        4,
    );
}

#[test]
fn uppercase_ids_name_the_same_session_and_checkpoint() {
    let repo = repo_with_commit();
    let session = "7C9E6679-7425-40DE-944B-E07FC1F90AE7";
    let cp = create(&repo, session, "upper", &[]);
    let id = &cp.checkpoint_id.to_string().to_uppercase();
    let got: Checkpoint = ok_as(
        repo.path(),
        &[
            "get",
            "--session-id",
            &session.to_lowercase(),
            "--checkpoint-id",
            id,
        ],
    );
    assert_eq!(got, cp);
    assert!(repo
        .log_path("7c9e6679-7425-40de-944b-e07fc1f90ae7")
        .exists());
}
