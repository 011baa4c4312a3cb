//! Deleting a checkpoint: its refs go to the trash (so a delete can be taken back) and the
//! record leaves the log.

use crate::error::{Error, Result};
use crate::git::RefTransaction;
use crate::ids::{CheckpointId, SessionId};
use crate::manager::{find, CheckpointManager};
use crate::model::{DeleteOutcome, Operation};
use crate::store;

impl CheckpointManager {
    /// Deletes under both locks: the refs move to the trash in one transaction, then the
    /// record leaves the log.
    pub(crate) fn delete_checkpoint(
        &self,
        session: SessionId,
        checkpoint: CheckpointId,
        delete_tag: bool,
    ) -> Result<DeleteOutcome> {
        let mut open = self.lock_session(session, true)?;
        let target = find(&open.checkpoints, session, checkpoint)?.clone();
        refuse_deleting_what_undo_needs(&open.operations, session, checkpoint)?;
        let tag_ref = format!("refs/tags/{}", store::tag_name(checkpoint));
        let private = store::private_ref(session, checkpoint);
        let trash = store::trash_ref(session, checkpoint);
        let current = crate::git::read_refs(&self.repo, &[tag_ref.clone(), private.clone()])?;
        let mut refs = RefTransaction::default();
        // Whatever an earlier delete of the same id left in the trash is replaced.
        let kept_ref = match current.get(&private) {
            Some(tag_object) => {
                refs.delete(&private, tag_object);
                refs.set(&trash, tag_object);
                Some(trash)
            }
            None if store::existing_commits(&self.repo, &[target.commit_sha.to_string()])?[0] => {
                refs.set(&trash, &target.commit_sha);
                Some(trash)
            }
            None => None,
        };
        let removed_tag = match current.get(&tag_ref) {
            Some(oid) if delete_tag => {
                refs.delete(&tag_ref, oid);
                Some(store::tag_name(checkpoint))
            }
            _ => None,
        };
        refs.commit(
            &self.repo,
            &format!("checkpoint-manager: delete {checkpoint}"),
        )?;
        open.checkpoints.retain(|c| c.checkpoint_id != checkpoint);
        open.save()?;
        Ok(DeleteOutcome {
            deleted: true,
            checkpoint_id: checkpoint,
            commit_sha: target.commit_sha,
            removed_tag,
            kept_ref,
        })
    }
}

/// A safety snapshot the operation history names is where undo or redo returns: it stays.
fn refuse_deleting_what_undo_needs(
    operations: &[Operation],
    session: SessionId,
    checkpoint: CheckpointId,
) -> Result<()> {
    match operations
        .iter()
        .find(|op| op.safety_checkpoint_id == checkpoint)
    {
        Some(op) => Err(Error::SafetySnapshotInUse {
            session,
            checkpoint,
            operation: op.operation_id,
        }),
        None => Ok(()),
    }
}
