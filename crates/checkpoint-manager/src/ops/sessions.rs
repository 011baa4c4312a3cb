//! `list_sessions`: every session of the repository, found in the sessions folder and in the
//! private refs (a session pulled or rebuilt may have refs before it has a log).

use std::collections::BTreeSet;

use crate::defaults::{CHECKPOINT_REFS, SESSIONS_DIR};
use crate::error::{Error, Result};
use crate::git;
use crate::ids::SessionId;
use crate::log::{self, LogContents};
use crate::manager::CheckpointManager;
use crate::model::SessionInfo;

impl CheckpointManager {
    /// Returns every session of the repository, newest first (by its newest checkpoint). A
    /// session known only from its refs has its log rebuilt first, as every reader does.
    pub fn list_sessions(&self) -> Result<Vec<SessionInfo>> {
        let mut sessions = Vec::new();
        for session in self.session_ids()? {
            if let Some(contents) = self.read_log(session)? {
                sessions.push(session_info(session, contents));
            }
        }
        sessions.sort_by(|a, b| {
            let newest = |s: &SessionInfo| s.last.clone().unwrap_or_default();
            log::compare_timestamps(&newest(b), &newest(a))
                .then_with(|| a.session_id.cmp(&b.session_id))
        });
        Ok(sessions)
    }

    /// Returns the ids of the session folders and of the sessions under the private refs.
    fn session_ids(&self) -> Result<BTreeSet<SessionId>> {
        let dir = self.workdir().join(SESSIONS_DIR);
        let mut ids = BTreeSet::new();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&dir, e))?;
                    if let Ok(id) = SessionId::parse(&entry.file_name().to_string_lossy()) {
                        ids.insert(id);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&dir, e)),
        }
        for (name, _, _) in git::local_refs(self.repo(), CHECKPOINT_REFS)? {
            let session = name
                .strip_prefix(CHECKPOINT_REFS)
                .and_then(|rest| rest.split_once('/'))
                .and_then(|(session, _)| SessionId::parse(session).ok());
            ids.extend(session);
        }
        Ok(ids)
    }
}

/// Sums up one session's log.
fn session_info(session: SessionId, contents: LogContents) -> SessionInfo {
    let newest_first = log::into_newest_first(contents.into_user_checkpoints());
    SessionInfo {
        session_id: session,
        checkpoints: newest_first.len(),
        first: newest_first.last().map(|c| c.timestamp.clone()),
        last: newest_first.first().map(|c| c.timestamp.clone()),
        latest_phase: newest_first.first().map(|c| c.phase),
        rollbacks: newest_first.iter().map(|c| c.rollback_count).sum(),
    }
}
