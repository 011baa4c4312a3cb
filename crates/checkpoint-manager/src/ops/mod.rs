//! One module per operation of [`crate::CheckpointManager`]: each holds the flow of its
//! operation; the manager's public methods are a thin face over them.

pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod prune;
pub(crate) mod repair;
pub(crate) mod rollback;
