//! A session log (`.flow/maestro/sessions/<session>/checkpoints.json`) with any number of
//! checkpoints, written directly in the layout the tool writes, for the `list`/`get`/`create`
//! rows at 10,000 checkpoints. `list` and `get` only read the log, and `create` only appends to
//! it, so no refs are needed.

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
            commit_message: if snapshot {
                format!("checkpoint-manager snapshot: {description}")
            } else {
                format!(
                    "Checkpoint: {description}\n\nCheckpoint-Id: {id}\nCheckpoint-Phase: {phase}\nCheckpoint-Type: {kind}\n"
                )
            },
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
}
