//! checkpoint-manager: git-based checkpoints for AI coding-agent sessions that can always be
//! rolled back, and rollbacks that can always be undone.
//!
//! The library holds every rule; the `checkpoint-manager` binary and the Python package are thin
//! layers over [`CheckpointManager`]. Checkpoints are recorded in
//! `.flow/maestro/sessions/<session-id>/checkpoints.json` (the original spec's layout) and kept
//! alive in git by private refs `refs/checkpoints/<session-id>/<checkpoint-id>`.
#![forbid(unsafe_code)]

mod error;
pub mod git;
mod ids;
mod journal;
pub mod lock;
pub mod log;
mod manager;
mod model;
mod paths;
pub mod remote;
pub mod restore;
pub mod snapshot;
pub mod store;
pub mod validate;

pub use error::{Error, ErrorKind, Result};
pub use ids::{CheckpointId, OperationId, SessionId};
pub use manager::{
    CheckpointManager, CreateRequest, Created, NoticeSink, Options, MAX_FILE_SIZE_ENV,
};
pub use model::{
    BranchMove, Checkpoint, CheckpointMode, CheckpointPhase, CheckpointSummary, CheckpointType,
    DeleteOutcome, Notice, Operation, OperationKind, OperationState, RepairReport, ResetMode,
    RollbackOutcome, SkipReason, SkippedPath, SnapshotInfo, StateSnapshot, ValidationResult,
};
pub use remote::{PullOutcome, PushOutcome, RemoteCheckpoint, RemoteConflict, Sessions};
pub use validate::{validate_at, validate_at_with, TestRun, DEFAULT_TEST_TIMEOUT};

/// Returns the JSON Schema (draft 2020-12) of a session's `checkpoints.json`, derived from the
/// types that read and write it. `schemas/checkpoints.schema.json` is this value, committed.
pub fn log_schema() -> serde_json::Value {
    schemars::schema_for!(log::LogFile).to_value()
}
