//! A session log (`.flow/maestro/sessions/<session>/checkpoints.json`) with any number of
//! checkpoints, written directly in the layout the tool writes, for the `list`/`get`/`create`
//! rows at 10,000 checkpoints. `list` and `get` only read the log, and `create` only appends to
//! it, so no refs are needed. The layout is declared here rather than built from the library's
//! types (whose constructors the library keeps to itself); the tests below pin it to them: every
//! generated checkpoint and summary reads into the library's model types and writes back the same,
//! and the commit messages are the ones the library writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, SecondsFormat};
use serde::Serialize;

use super::repo::Rng;

/// The session every benchmark run uses.
pub const SESSION: &str = "3b241101-e2bb-4255-8caf-4136c566a962";

const PHASES: [&str; 5] = ["plan", "generate_tasks", "implement", "validate", "cleanup"];
const TYPES: [&str; 6] = [
    "phase_complete",
    "task_group_complete",
    "safe_state",
    "pre_risky_operation",
    "error_recovery",
    "manual",
];

/// A generated log: the bytes of `checkpoints.json` and the checkpoint ids in creation order.
#[derive(Debug)]
pub struct SessionLog {
    pub bytes: Vec<u8>,
    pub ids: Vec<String>,
}

/// `checkpoints.json`, fields in the order the tool writes them.
#[derive(Debug, Serialize)]
struct LogFile<'a> {
    session_id: &'a str,
    generated_at: String,
    checkpoints: Vec<Checkpoint<'a>>,
    summary: Summary<'a>,
}

#[derive(Debug, Serialize)]
struct Checkpoint<'a> {
    checkpoint_id: String,
    commit_sha: &'a str,
    timestamp: String,
    description: String,
    phase: &'a str,
    checkpoint_type: &'a str,
    commit_message: String,
    tags: Vec<String>,
    rollback_used: bool,
    rollback_count: u64,
    mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<Snapshot<'a>>,
}

#[derive(Debug, Serialize)]
struct Snapshot<'a> {
    base_commit: &'a str,
    branch: &'a str,
    index_tree: &'a str,
    index_commit: &'a str,
}

#[derive(Debug, Serialize)]
struct Summary<'a> {
    total_checkpoints: usize,
    checkpoints_by_type: BTreeMap<&'a str, usize>,
    checkpoints_used_for_rollback: usize,
    latest_checkpoint: Option<&'a str>,
}

/// Returns where the log of [`SESSION`] lives in the work tree `workdir`.
pub fn path(workdir: &Path) -> PathBuf {
    workdir
        .join(".flow/maestro/sessions")
        .join(SESSION)
        .join("checkpoints.json")
}

/// Returns a random-looking but reproducible version-4 UUID.
fn uuid(rng: &mut Rng) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Returns the commit message the tool writes for a checkpoint (pinned to the library's by
/// `tests::commit_messages_are_the_librarys`).
fn commit_message(description: &str, id: &str, phase: &str, kind: &str, snapshot: bool) -> String {
    if snapshot {
        format!("checkpoint-manager snapshot: {description}")
    } else {
        format!(
            "Checkpoint: {description}\n\nCheckpoint-Id: {id}\nCheckpoint-Phase: {phase}\nCheckpoint-Type: {kind}\n"
        )
    }
}

/// Generates a log of `count` checkpoints, one a minute, all on `commit` (whose tree is
/// `tree`): four in five are commit-mode checkpoints with their tag, one in five a snapshot;
/// one in seven was used for a rollback.
pub fn generate(count: usize, commit: &str, tree: &str) -> Result<SessionLog> {
    let mut rng = Rng::new(0x10_0000 + count as u64);
    let start = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z")
        .context("bad start time")?
        .to_utc();
    let mut checkpoints = Vec::with_capacity(count);
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..count {
        let id = uuid(&mut rng);
        let minutes = i64::try_from(i).context("too many checkpoints")?;
        let timestamp =
            (start + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Micros, true);
        let phase = PHASES[i % PHASES.len()];
        let kind = TYPES[i % TYPES.len()];
        let description = format!("Benchmark checkpoint {i}: {kind} during {phase}");
        let rollback_count = u64::from(i % 7 == 3);
        let snapshot = i % 5 == 4;
        *by_type.entry(kind).or_default() += 1;
        checkpoints.push(Checkpoint {
            commit_message: commit_message(&description, &id, phase, kind, snapshot),
            tags: if snapshot {
                Vec::new()
            } else {
                vec![format!("checkpoint-{id}")]
            },
            checkpoint_id: id,
            commit_sha: commit,
            timestamp,
            description,
            phase,
            checkpoint_type: kind,
            rollback_used: rollback_count > 0,
            rollback_count,
            mode: if snapshot { "snapshot" } else { "commit" },
            snapshot: snapshot.then_some(Snapshot {
                base_commit: commit,
                branch: "refs/heads/main",
                index_tree: tree,
                index_commit: commit,
            }),
        });
    }
    let ids = checkpoints
        .iter()
        .map(|cp| cp.checkpoint_id.clone())
        .collect();
    let summary = Summary {
        total_checkpoints: count,
        checkpoints_by_type: by_type,
        checkpoints_used_for_rollback: checkpoints.iter().filter(|cp| cp.rollback_used).count(),
        latest_checkpoint: checkpoints.last().map(|cp| cp.commit_sha),
    };
    let log = LogFile {
        session_id: SESSION,
        generated_at: checkpoints.last().map_or_else(
            || "2025-01-06T09:00:00.000000Z".to_owned(),
            |cp| cp.timestamp.clone(),
        ),
        checkpoints,
        summary,
    };
    let mut bytes = serde_json::to_vec_pretty(&log).context("cannot serialize the log")?;
    bytes.push(b'\n');
    Ok(SessionLog { bytes, ids })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint_manager::{
        Checkpoint as LibCheckpoint, CheckpointManager, CheckpointMode, CheckpointPhase,
        CheckpointSummary, CheckpointType, CreateRequest, SessionId,
    };
    use serde_json::Value;

    #[test]
    fn logs_are_reproducible_and_counted() {
        let a = generate(10, "c0ffee", "7ree").expect("generates");
        let b = generate(10, "c0ffee", "7ree").expect("generates");
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.ids.len(), 10);
        let v: serde_json::Value = serde_json::from_slice(&a.bytes).expect("json");
        assert_eq!(v["summary"]["total_checkpoints"], 10);
        assert_eq!(
            v["checkpoints"][9]["timestamp"],
            "2025-01-06T09:09:00.000000Z"
        );
        assert_eq!(a.ids[0].len(), 36);
        assert_eq!(&a.ids[0][14..15], "4");
    }

    /// Reads `value` into the library's type `T` and writes it back: equal only when every
    /// field the generator writes is one the library reads, with the same name and value shape,
    /// and the library writes no field the generator leaves out.
    fn round_trip<T: serde::de::DeserializeOwned + Serialize>(value: &Value, what: &str) {
        let typed: T = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{what} does not read as the library's type: {e}"));
        let back = serde_json::to_value(&typed).expect("serializes");
        assert_eq!(&back, value, "{what}: the library writes it differently");
    }

    #[test]
    fn generated_logs_are_in_the_librarys_layout() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let log = generate(30, sha, "89abcdef0123456789abcdef0123456789abcdef").expect("log");
        let v: Value = serde_json::from_slice(&log.bytes).expect("json");
        let checkpoints = v["checkpoints"].as_array().expect("checkpoints");
        for (i, cp) in checkpoints.iter().enumerate() {
            round_trip::<LibCheckpoint>(cp, &format!("checkpoint {i}"));
        }
        assert!(checkpoints.iter().any(|cp| cp["mode"] == "snapshot"));
        assert!(checkpoints.iter().any(|cp| cp["mode"] == "commit"));
        round_trip::<CheckpointSummary>(&v["summary"], "summary");

        let schema = checkpoint_manager::log_schema();
        let known = schema["properties"].as_object().expect("properties");
        for key in v.as_object().expect("object").keys() {
            assert!(known.contains_key(key), "the log file has no field {key:?}");
        }
        for key in schema["required"].as_array().expect("required") {
            let key = key.as_str().expect("name");
            assert!(v.get(key).is_some(), "the generated log lacks {key:?}");
        }
    }

    #[test]
    fn commit_messages_are_the_librarys() {
        let repo = testutil::repo_with_commit();
        let manager = CheckpointManager::open(repo.path()).expect("open");
        let session = SessionId::parse(&testutil::session_id(1)).expect("session");
        for mode in [CheckpointMode::Commit, CheckpointMode::Snapshot] {
            repo.write("work.txt", format!("{mode}\n"));
            let request = CreateRequest::new("Benchmark checkpoint 2", CheckpointPhase::Implement)
                .with_type(CheckpointType::SafeState)
                .with_mode(mode);
            let cp = manager.create(session, &request).expect("create");
            let ours = commit_message(
                &cp.description,
                &cp.checkpoint_id.to_string(),
                cp.phase.as_str(),
                cp.checkpoint_type.as_str(),
                mode == CheckpointMode::Snapshot,
            );
            assert_eq!(cp.commit_message.as_deref(), Some(ours.as_str()), "{mode}");
            let in_git = repo.git(&["log", "-1", "--format=%B", &cp.commit_sha]);
            assert_eq!(
                in_git.trim_end(),
                ours.trim_end(),
                "{mode}: the commit itself"
            );
        }
    }
}
