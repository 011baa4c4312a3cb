//! Locking: the repository lock (with the journal of the operation holding it, and the cleanup
//! after a killed holder), the session lock, and the session opened for changes under both.

use crate::defaults::INDEX_LOCK_GRACE;
use crate::error::{Error, Result};
use crate::ids::{OperationId, SessionId};
use crate::journal;
use crate::lock::{self, LockGuard};
use crate::log::{LogContents, SessionLog};
use crate::log_append::AppendableLog;
use crate::manager::CheckpointManager;
use crate::model::{Checkpoint, Operation, OperationState};
use crate::store;

impl CheckpointManager {
    /// The session lock lives in the git dir, so taking it never creates anything in the work
    /// tree (a refused command leaves no trace).
    pub(crate) fn session_lock_path(&self, session: SessionId) -> std::path::PathBuf {
        self.repo
            .private_dir()
            .join(format!("session-{session}.lock"))
    }

    /// Takes the repository lock, recovers from a holder that was killed, and starts the journal
    /// of this operation (see `journal`); all are released together.
    pub(crate) fn lock_repo(&self) -> Result<RepoLock> {
        let lock = lock::acquire(
            &lock::repo_lock_path(&self.repo.private_dir()),
            self.options.lock_timeout,
        )?;
        self.recover_from_killed_holder();
        let journal = journal::begin(
            self.repo.workdir(),
            self.repo.git_dir(),
            self.repo.common_dir(),
            &self.repo.index_lock_path(),
            &self.repo.private_dir(),
        );
        Ok(RepoLock {
            _journal: journal,
            _lock: lock,
        })
    }

    /// After a holder of the repository lock was killed: removes the lock files its git step
    /// left when the journal proves they are that step's (waiting a moment for a git child that
    /// outlived it), and the temporary indexes killed processes left behind (only lock holders
    /// make them, and we hold the lock now). Each lock file removed becomes a notice.
    pub(crate) fn recover_from_killed_holder(&self) {
        let grace = INDEX_LOCK_GRACE.min(self.options.lock_timeout);
        for removed in journal::recover(&self.repo.private_dir(), grace) {
            self.notify(removed);
        }
        if let Ok(entries) = std::fs::read_dir(self.repo.private_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("index-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// Fails with [`Error::LockFileExists`] when the checked-out branch's lock file exists.
    pub(crate) fn require_branch_unlocked(&self, status: &crate::git::Status) -> Result<()> {
        let Some(branch) = &status.head.branch else {
            return Ok(());
        };
        let path = self
            .repo
            .common_dir()
            .join("refs/heads")
            .join(format!("{branch}.lock"));
        if path.exists() {
            return Err(Error::LockFileExists { path });
        }
        Ok(())
    }

    /// Fails with [`Error::IndexLocked`] while another git holds the user's index: an operation
    /// that writes it checks before it starts, rather than failing halfway.
    pub(crate) fn require_index_unlocked(&self) -> Result<()> {
        let path = self.repo.index_lock_path();
        if path.exists() {
            return Err(Error::IndexLocked { path });
        }
        Ok(())
    }

    /// Opens a session for changes: the repository lock, then the session lock, then one read
    /// of the log (a corrupt log fails here, before anything changes). With `must_exist`, a
    /// session without a log is not found, and nothing (not even its folder) is created.
    /// A log that is missing while git holds the session's refs, or behind them, is rebuilt
    /// first (with a notice).
    pub(crate) fn lock_session(
        &self,
        session: SessionId,
        must_exist: bool,
    ) -> Result<LockedSession> {
        let log = self.session_log(session);
        // A log that would be read or written through a symlink is refused before anything.
        log.check_path()?;
        let missing = !log.path().exists();
        // Cheap refusal before waiting for any lock: no log and nothing in git.
        if missing && must_exist && !store::session_has_refs(&self.repo, session)? {
            return Err(Error::SessionNotFound {
                session,
                path: log.path(),
            });
        }
        let repo_lock = self.lock_repo()?;
        let session_lock =
            lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
        let found = if missing && !must_exist && !store::session_has_refs(&self.repo, session)? {
            None
        } else {
            self.rebuild_if_needed(session, &log, missing)?
        };
        let contents = match found {
            Some(contents) => contents,
            None if must_exist => {
                return Err(Error::SessionNotFound {
                    session,
                    path: log.path(),
                })
            }
            None => LogContents::default(),
        };
        Ok(LockedSession {
            log,
            checkpoints: contents.checkpoints,
            operations: contents.operations,
            _session_lock: session_lock,
            _repo_lock: repo_lock,
        })
    }
}

/// A session opened for changes; the locks are released on drop, session first.
#[derive(Debug)]
pub(crate) struct LockedSession {
    pub(crate) log: SessionLog,
    pub(crate) checkpoints: Vec<Checkpoint>,
    pub(crate) operations: Vec<Operation>,
    pub(crate) _session_lock: LockGuard,
    pub(crate) _repo_lock: RepoLock,
}

/// The repository lock with the journal of the operation holding it; the journal is removed
/// first, while the lock is still held.
#[derive(Debug)]
pub(crate) struct RepoLock {
    pub(crate) _journal: journal::JournalGuard,
    pub(crate) _lock: LockGuard,
}

impl LockedSession {
    /// Writes the log as it is in memory (atomically).
    pub(crate) fn save(&self) -> Result<()> {
        self.log.write(&self.checkpoints, &self.operations)
    }

    pub(crate) fn set_state(&mut self, operation: OperationId, state: OperationState) {
        if let Some(op) = self
            .operations
            .iter_mut()
            .find(|o| o.operation_id == operation)
        {
            op.state = state;
        }
    }
}

/// A session opened to append one checkpoint (`create`) under both locks: the log read for a
/// splice where it can be (see `log_append`), else read in full as by `lock_session`.
#[derive(Debug)]
pub(crate) enum AppendSession {
    Splice {
        log: SessionLog,
        read: AppendableLog,
        // Released on drop in this order: session first.
        _session_lock: LockGuard,
        _repo_lock: RepoLock,
    },
    Full(LockedSession),
}

impl CheckpointManager {
    /// [`CheckpointManager::lock_session`] for `create`: a log that exists, is not behind git
    /// and has the layout this tool writes is read only as far as an append needs; any other
    /// case (no log, a log to rebuild or to rewrite) takes the full path.
    pub(crate) fn lock_session_to_append(&self, session: SessionId) -> Result<AppendSession> {
        let log = self.session_log(session);
        log.check_path()?;
        if log.path().exists() {
            let repo_lock = self.lock_repo()?;
            let session_lock =
                lock::acquire(&self.session_lock_path(session), self.options.lock_timeout)?;
            if let Some(read) = log.read_appendable()? {
                if !self.refs_ahead_of(session, read.ids.iter().copied()) {
                    return Ok(AppendSession::Splice {
                        log,
                        read,
                        _session_lock: session_lock,
                        _repo_lock: repo_lock,
                    });
                }
            }
            // Released here; `lock_session` takes them again for the rare full path.
            drop(session_lock);
            drop(repo_lock);
        }
        self.lock_session(session, false).map(AppendSession::Full)
    }
}

impl AppendSession {
    /// Returns the session's newest checkpoint (safety snapshots included).
    pub(crate) fn newest(&self) -> Option<Checkpoint> {
        match self {
            AppendSession::Splice { read, .. } => read.newest(),
            AppendSession::Full(open) => crate::log::newest_first(&open.checkpoints)
                .into_iter()
                .next(),
        }
    }

    /// The whole log in memory, under the locks already held: for retention, which needs every
    /// record (only when limits are configured). The log was just written by this process.
    pub(crate) fn into_locked(self) -> Result<LockedSession> {
        match self {
            AppendSession::Full(open) => Ok(open),
            AppendSession::Splice {
                log,
                _session_lock,
                _repo_lock,
                ..
            } => {
                let contents = log.read()?.unwrap_or_default();
                Ok(LockedSession {
                    log,
                    checkpoints: contents.checkpoints,
                    operations: contents.operations,
                    _session_lock,
                    _repo_lock,
                })
            }
        }
    }

    /// Records `checkpoint` (a user checkpoint) in the log, atomically.
    pub(crate) fn append(&mut self, checkpoint: Checkpoint) -> Result<()> {
        match self {
            AppendSession::Splice { log, read, .. } => log.append(read, &checkpoint),
            AppendSession::Full(open) => {
                open.checkpoints.push(checkpoint);
                open.save()
            }
        }
    }
}
