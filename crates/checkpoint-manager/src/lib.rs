//! checkpoint-manager: git-based checkpoints for AI coding-agent sessions that can always be
//! rolled back, and rollbacks that can always be undone.
//!
//! The library holds every rule; the `checkpoint-manager` binary and the Python package are thin
//! layers over [`CheckpointManager`]. Checkpoints are recorded in
//! `.flow/maestro/sessions/<session-id>/checkpoints.json` (the original spec's layout) and kept
//! alive in git by private refs `refs/checkpoints/<session-id>/<checkpoint-id>`.
//!
//! ```
//! use checkpoint_manager::{CheckpointManager, CheckpointPhase, CreateRequest, ResetMode, SessionId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let git = |args: &[&str]| std::process::Command::new("git").args(args).current_dir(dir.path()).status();
//! # assert!(git(&["init", "-q"])?.success());
//! let notes = dir.path().join("notes.txt");
//! std::fs::write(&notes, "first draft\n")?;
//!
//! let manager = CheckpointManager::open(dir.path())?;
//! let session = SessionId::new_random();
//! // A commit-mode checkpoint: every change is committed, then tagged.
//! let request = CreateRequest::new("before the refactor", CheckpointPhase::Implement);
//! let checkpoint = manager.create(session, &request)?;
//!
//! std::fs::write(&notes, "a change the agent regrets\n")?;
//! let outcome = manager.rollback(session, checkpoint.checkpoint_id, ResetMode::Hard)?;
//! assert_eq!(std::fs::read_to_string(&notes)?, "first draft\n");
//!
//! // The rollback took a safety snapshot first: undo brings the regretted change back.
//! manager.undo(session)?;
//! assert_eq!(std::fs::read_to_string(&notes)?, "a change the agent regrets\n");
//! # let _ = outcome;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod defaults;
mod error;
mod git;
mod ids;
mod journal;
mod lock;
mod log;
mod log_append;
mod manager;
mod model;
mod ops;
mod paths;
mod progress;
mod remote;
mod restore;
mod session;
mod settings;
mod snapshot;
mod store;
mod validate;

pub use defaults::{
    DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_UNTRACKED_DIR_FILES,
    MAX_FILE_SIZE_ENV, SESSIONS_DIR, TOOL_EMAIL, TOOL_NAME,
};
pub use error::{Error, ErrorKind, Result};
pub use ids::{CheckpointId, ObjectId, OperationId, SessionId};
pub use log::write_atomically;
pub use manager::{CheckpointManager, CreateRequest, Created, NoticeSink, Options};
pub use model::PathRestoreOutcome;
pub use model::{
    BranchMove, Checkpoint, CheckpointMode, CheckpointPhase, CheckpointSummary, CheckpointType,
    DeleteOutcome, Notice, Operation, OperationKind, OperationState, RepairReport, ResetMode,
    RollbackOutcome, SkipReason, SkippedPath, SnapshotInfo, StateSnapshot, ValidationResult,
};
pub use progress::{Progress, ProgressSink, Stage};
pub use remote::{PullOutcome, PushOutcome, RemoteCheckpoint, RemoteConflict, Sessions};
pub use settings::{parse_duration, Settings};
pub use validate::{validate_at, validate_at_with, TestRun, DEFAULT_TEST_TIMEOUT};
// Short ids and the sessions list (issue 10).
pub use model::SessionInfo;
pub use ops::short_ids::MIN_PREFIX_HEX;
// Issue 10: diff and the log timeline.
pub use ops::diff::{DiffFormat, DiffReport, FileDiff, FileStatus};
pub use ops::timeline::{ChangeStat, TimelineCheckpoint, TimelineEntry};
// Retention (prune).
pub use ops::prune::{PruneOutcome, PruneRequest, PrunedCheckpoint};

/// Returns the JSON Schema (draft 2020-12) of a session's `checkpoints.json`, derived from the
/// types that read and write it. `schemas/checkpoints.schema.json` is this value, committed.
pub fn log_schema() -> serde_json::Value {
    schemars::schema_for!(log::LogFile).to_value()
}
