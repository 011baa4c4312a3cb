//! `log`: a session's timeline for people, newest first: every checkpoint (safety snapshots
//! included) with the lines changed since the one before it, and every operation (rollback,
//! undo, redo, ...) where it happened. The statistics come from one `git diff-tree --stdin`.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::git;
use crate::ids::{CheckpointId, ObjectId, SessionId};
use crate::manager::CheckpointManager;
use crate::model::{Checkpoint, CheckpointMode, CheckpointPhase, CheckpointType, Operation};
use crate::ops::rollback::is_object_id;

/// One line of a session's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum TimelineEntry {
    Checkpoint(TimelineCheckpoint),
    /// A rollback, undo or redo, placed just after the safety snapshot it took first.
    Operation(Operation),
}

/// A checkpoint on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineCheckpoint {
    pub checkpoint_id: CheckpointId,
    pub timestamp: String,
    pub phase: CheckpointPhase,
    pub checkpoint_type: CheckpointType,
    pub description: String,
    pub commit_sha: ObjectId,
    pub mode: CheckpointMode,
    /// An automatic safety snapshot taken before a rollback, undo or redo.
    pub safety: bool,
    /// What changed since the checkpoint before it on the timeline (`None` for the first).
    pub changes: Option<ChangeStat>,
}

/// Files and lines changed between two checkpoints, as `git diff --shortstat` counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeStat {
    pub files_changed: u64,
    pub insertions: u64,
    pub deletions: u64,
}

impl CheckpointManager {
    /// Returns the session's timeline, newest first.
    pub fn timeline(&self, session: SessionId) -> Result<Vec<TimelineEntry>> {
        let contents = self.read_existing_log(session)?;
        let mut checkpoints = crate::log::into_newest_first(contents.checkpoints);
        checkpoints.reverse();
        let changes = self.changes_since_previous(&checkpoints)?;
        let mut keyed: Vec<(String, u8, TimelineEntry)> = Vec::new();
        for operation in contents.operations {
            // An operation's entry sits above the safety snapshot it took first.
            let safety = checkpoints
                .iter()
                .find(|c| c.checkpoint_id == operation.safety_checkpoint_id);
            let key = safety.map_or(operation.timestamp.clone(), |s| {
                s.timestamp.clone().max(operation.timestamp.clone())
            });
            keyed.push((key, 1, TimelineEntry::Operation(operation)));
        }
        for (checkpoint, changes) in checkpoints.into_iter().zip(changes) {
            let key = checkpoint.timestamp.clone();
            keyed.push((key, 0, timeline_checkpoint(checkpoint, changes)));
        }
        // Oldest first (stable: checkpoints of the same instant keep the log's order), then
        // turned around.
        keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        Ok(keyed.into_iter().rev().map(|(_, _, entry)| entry).collect())
    }

    /// Returns, for each checkpoint (oldest first), what changed since the one before it: one
    /// git process for all. A record whose commit is not an object id gets no statistics.
    fn changes_since_previous(
        &self,
        oldest_first: &[Checkpoint],
    ) -> Result<Vec<Option<ChangeStat>>> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let mut slots: Vec<Option<usize>> = vec![None; oldest_first.len()];
        for (i, pair) in oldest_first.windows(2).enumerate() {
            let (old, new) = (&pair[0].commit_sha, &pair[1].commit_sha);
            if is_object_id(old) && is_object_id(new) {
                slots[i + 1] = Some(pairs.len());
                pairs.push((new, old));
            }
        }
        let stats = git::short_stats(&self.repo, &pairs)?;
        Ok(slots
            .into_iter()
            .map(|slot| {
                slot.map(|i| {
                    let stat = stats[i].unwrap_or_default();
                    ChangeStat {
                        files_changed: stat.files,
                        insertions: stat.insertions,
                        deletions: stat.deletions,
                    }
                })
            })
            .collect())
    }
}

fn timeline_checkpoint(checkpoint: Checkpoint, changes: Option<ChangeStat>) -> TimelineEntry {
    let safety = checkpoint.is_safety_snapshot();
    TimelineEntry::Checkpoint(TimelineCheckpoint {
        checkpoint_id: checkpoint.checkpoint_id,
        timestamp: checkpoint.timestamp,
        phase: checkpoint.phase,
        checkpoint_type: checkpoint.checkpoint_type,
        description: checkpoint.description,
        commit_sha: checkpoint.commit_sha,
        mode: checkpoint.mode,
        safety,
        changes,
    })
}
