//! Reading a session's log, rebuilding it from git when it is missing or behind, and
//! `repair`'s merge of the log with what git holds.

use crate::error::{Error, Result};
use crate::ids::{CheckpointId, SessionId};
use crate::lock;
use crate::log::{self, LogContents, SessionLog};
use crate::manager::CheckpointManager;
use crate::model::{Checkpoint, Notice, Operation, OperationState, RepairReport};
use crate::store;

impl CheckpointManager {
    /// Reads the session's log without a lock. A missing log (git still holding the session's
    /// refs) or one behind the refs is rebuilt first, as `repair` does, with a notice. When the
    /// log is there, the check reads one folder and starts no git process.
    pub(crate) fn read_log(&self, session: SessionId) -> Result<Option<LogContents>> {
        let log = self.session_log(session);
        let missing = match log.read()? {
            Some(contents) if !self.log_is_behind(session, &contents) => return Ok(Some(contents)),
            Some(_) => false,
            None if !store::session_has_refs(&self.repo, session)? => return Ok(None),
            None => true,
        };
        let _repo_lock = self.lock_repo()?;
        let _session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        self.rebuild_if_needed(session, &log, missing)
    }

    pub(crate) fn read_existing_log(&self, session: SessionId) -> Result<LogContents> {
        let log = self.session_log(session);
        self.read_log(session)?
            .ok_or_else(|| Error::SessionNotFound {
                session,
                path: log.path(),
            })
    }

    /// Returns true when a private ref of the session (a loose one: the check starts no git)
    /// names a checkpoint the log lacks.
    pub(crate) fn log_is_behind(&self, session: SessionId, contents: &LogContents) -> bool {
        self.refs_ahead_of(
            session,
            contents.checkpoints.iter().map(|c| c.checkpoint_id),
        )
    }

    /// Returns true when a loose private ref of the session names a checkpoint not in `logged`.
    pub(crate) fn refs_ahead_of(
        &self,
        session: SessionId,
        logged: impl Iterator<Item = CheckpointId>,
    ) -> bool {
        let Some(ids) = store::loose_session_ref_ids(&self.repo, session) else {
            return false;
        };
        if ids.is_empty() {
            return false;
        }
        // A set: a session can hold 10,000 checkpoints.
        let logged: std::collections::HashSet<CheckpointId> = logged.collect();
        ids.iter().any(|id| !logged.contains(id))
    }

    /// With both locks held: reads the log again (another process may have fixed it meanwhile)
    /// and rebuilds it from git when it is still missing or behind, telling the notice sink.
    pub(crate) fn rebuild_if_needed(
        &self,
        session: SessionId,
        log: &SessionLog,
        missing: bool,
    ) -> Result<Option<LogContents>> {
        if let Some(contents) = log.read()? {
            if !self.log_is_behind(session, &contents) {
                return Ok(Some(contents));
            }
        }
        let report = match self.rebuild(session, log) {
            Err(Error::SessionNotFound { .. }) => return Ok(None),
            other => other?,
        };
        // A ref whose metadata cannot be read (not ours) brings nothing back: no news.
        let news = missing || !report.restored.is_empty();
        if news {
            self.notify(Notice::LogRebuilt {
                session: session.as_string(),
                path: log.path(),
                missing,
                restored: report.restored.len(),
            });
        }
        log.read()
    }

    /// `repair` with both locks held: merges the log with what git holds (checkpoints, safety
    /// snapshots and the operations recorded in their metadata) and recounts the rollbacks.
    pub(crate) fn rebuild(&self, session: SessionId, log: &SessionLog) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        let (found, log_existed) = read_or_move_aside(log, &mut report)?;
        let LogContents {
            checkpoints: existing,
            operations,
        } = found;
        let records = store::read_session_records(&self.repo, session)?;
        let operations = merge_operations(operations, &records, log_existed, &mut report);
        let from_git: Vec<Checkpoint> = records.into_iter().map(|(cp, _)| cp).collect();
        if existing.is_empty()
            && from_git.is_empty()
            && report.moved_aside.is_none()
            && !log.path().exists()
        {
            return Err(Error::SessionNotFound {
                session,
                path: log.path(),
            });
        }
        let mut merged = self.keep_alive(existing, &mut report)?;
        for cp in from_git {
            if !merged.iter().any(|c| c.checkpoint_id == cp.checkpoint_id) {
                report.restored.push(cp.checkpoint_id);
                merged.push(cp);
            }
        }
        // Creation order is time order (ties keep the log's order, then git's).
        let mut merged = log::into_newest_first(merged);
        merged.reverse();
        recount_rollbacks(&mut merged, &operations);
        report.total_safety_snapshots = merged.iter().filter(|c| c.is_safety_snapshot()).count();
        report.total_checkpoints = merged.len() - report.total_safety_snapshots;
        report.total_operations = operations.len();
        log.write(&merged, &operations)?;
        Ok(report)
    }
}

impl CheckpointManager {
    /// The log's records whose commit git still has; the others are reported as dropped.
    fn keep_alive(
        &self,
        existing: Vec<Checkpoint>,
        report: &mut RepairReport,
    ) -> Result<Vec<Checkpoint>> {
        let shas: Vec<String> = existing.iter().map(|c| c.commit_sha.to_string()).collect();
        let alive = store::existing_commits(&self.repo, &shas)?;
        let mut kept = Vec::new();
        for (cp, alive) in existing.into_iter().zip(alive) {
            if alive {
                kept.push(cp);
            } else {
                report.dropped.push(cp.checkpoint_id);
            }
        }
        Ok(kept)
    }
}

/// Reads the log for repair; a corrupt one is moved aside (kept, with a timestamped name) and
/// repair starts from git alone. Returns the contents and whether a log existed.
fn read_or_move_aside(log: &SessionLog, report: &mut RepairReport) -> Result<(LogContents, bool)> {
    match log.read() {
        Ok(found) => {
            let existed = found.is_some();
            Ok((found.unwrap_or_default(), existed))
        }
        Err(Error::CorruptLog { path, .. }) => {
            let aside = path.with_file_name(format!(
                "checkpoints.json.corrupt-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
            ));
            std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
            report.moved_aside = Some(aside.display().to_string());
            Ok((LogContents::default(), false))
        }
        Err(e) => Err(e),
    }
}

/// Merges the log's operation history with the operations git records in safety snapshots'
/// metadata. When the log was lost, every operation git holds is taken as done (git keeps no
/// outcome; the state before each is in its safety snapshot either way). When the log exists,
/// an operation only git holds was killed between its safety snapshot and its entry, before
/// anything changed: it stays out of the history (its snapshot is kept), or `undo` would take
/// back a rollback that never happened.
pub(crate) fn merge_operations(
    mut operations: Vec<Operation>,
    records: &[(Checkpoint, Option<Operation>)],
    log_existed: bool,
    report: &mut RepairReport,
) -> Vec<Operation> {
    for op in records.iter().filter_map(|(_, op)| op.as_ref()) {
        if !log_existed && !operations.iter().any(|o| o.operation_id == op.operation_id) {
            report.restored_operations.push(op.operation_id);
            operations.push(Operation {
                state: OperationState::Done,
                ..op.clone()
            });
        }
    }
    // Time order; the log's order for equal times (sort is stable).
    operations.sort_by(|a, b| log::compare_timestamps(&a.timestamp, &b.timestamp));
    operations
}

/// Sets each checkpoint's rollback counters to at least what the history records: the finished
/// operations that restored it (a log kept by an older version may count more).
pub(crate) fn recount_rollbacks(checkpoints: &mut [Checkpoint], operations: &[Operation]) {
    for cp in checkpoints {
        let count = operations
            .iter()
            .filter(|o| {
                // A restore of chosen paths is not a rollback.
                o.state == OperationState::Done
                    && o.kind != crate::model::OperationKind::Restore
                    && o.target_checkpoint_id == cp.checkpoint_id
            })
            .count() as u64;
        cp.rollback_count = cp.rollback_count.max(count);
        cp.rollback_used |= cp.rollback_count > 0;
    }
}
