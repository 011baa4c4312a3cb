//! One module per operation of [`crate::CheckpointManager`]: each holds the flow of its
//! operation; the manager's public methods are a thin face over them.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod include;
pub(crate) mod prune;
pub(crate) mod repair;
pub(crate) mod restore_paths;
pub(crate) mod rollback;

// Short ids and the sessions list (issue 10).
pub(crate) mod sessions;
pub(crate) mod short_ids;
// Issue 10: diff and the log timeline.
pub(crate) mod diff;
pub(crate) mod timeline;
