//! The library's error type. Each variant says what went wrong and where; callers sort them into
//! kinds (and the CLI into exit codes) through [`Error::kind`].

use std::path::PathBuf;

use crate::ids::{CheckpointId, OperationId, SessionId};

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad classes of failure, mirroring the spec's Python exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or a repository state that forbids the operation (the spec's `ValueError`).
    Invalid,
    /// An unknown session or checkpoint (the spec's `FileNotFoundError`).
    NotFound,
    /// A git command failed (the spec's `subprocess.SubprocessError`).
    Git,
    /// Another process holds a lock for longer than we are willing to wait.
    Busy,
    /// The file system refused a read or write.
    Io,
}

/// Everything that can go wrong in checkpoint-manager.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "invalid {what} {value:?}: expected a UUID such as 123e4567-e89b-12d3-a456-426614174000"
    )]
    InvalidId { what: &'static str, value: String },

    #[error("invalid {what} {value:?}: expected one of {expected}")]
    InvalidChoice {
        what: &'static str,
        value: String,
        expected: String,
    },

    #[error("invalid value {value:?} for {what}: expected {expected}")]
    InvalidSetting {
        what: String,
        value: String,
        expected: &'static str,
    },

    #[error("invalid {what}: it contains a NUL byte, which git cannot store in a message")]
    NulInText { what: &'static str },

    #[error("invalid state snapshot: {0}")]
    InvalidStateSnapshot(String),

    #[error("{}: not inside a git work tree; use a folder inside a git repository (or run `git init` there to make one)", path.display())]
    NotARepository { path: PathBuf },

    #[error("the repository is not in a state to checkpoint: {}", problems.join("; "))]
    InvalidState { problems: Vec<String> },

    #[error("cannot {action} while {operation} is in progress: finish it or abort it first")]
    OperationInProgress {
        action: &'static str,
        operation: &'static str,
    },

    #[error("tag-only checkpoint refused: {count} uncommitted change(s) would be left out of it; tag-only checkpoints need a clean tree: commit first, or make a commit checkpoint or a snapshot instead")]
    UncommittedChanges { count: usize },

    #[error("tag-only checkpoint refused: the repository has no commit yet to tag; make a commit checkpoint instead")]
    NothingToTag,

    #[error("cannot restore: the checkpoint has files at {path:?}, where a nested repository is; nothing was changed; move the repository away first (checkpoint-manager never touches one)")]
    NestedRepositoryInTheWay { path: String },

    #[error("{}: checkpoints log is corrupt ({detail}); nothing was changed; repair the log of session {session} (repair) to rebuild it from git", path.display())]
    CorruptLog {
        path: PathBuf,
        session: SessionId,
        detail: String,
    },

    #[error("session {session} has no checkpoints ({} does not exist); check the session id, or create a checkpoint in it first", path.display())]
    SessionNotFound { session: SessionId, path: PathBuf },

    #[error("checkpoint {checkpoint} not found in session {session}; listing the session (list) shows its checkpoints")]
    CheckpointNotFound {
        session: SessionId,
        checkpoint: CheckpointId,
    },

    #[error("session {session} has nothing to undo: no rollback, undo or redo is left in its operation history")]
    NothingToUndo { session: SessionId },

    #[error("checkpoint {checkpoint} in session {session} has an invalid record ({detail}); nothing was changed; repair the log of session {session} (repair) to rebuild it from git")]
    InvalidRecord {
        session: SessionId,
        checkpoint: String,
        detail: String,
    },

    #[error("undo would re-attach branch {branch}, which is checked out in another work tree ({worktree}); nothing was changed; switch that work tree to another branch, or check {branch} out here, then undo")]
    BranchCheckedOutElsewhere { branch: String, worktree: String },

    #[error("undo would move branch {branch}, which is not checked out and has moved since the rollback (now at {tip}); nothing was changed; check it out first, then undo")]
    BranchMoved { branch: String, tip: String },

    #[error("checkpoint {checkpoint}: its commit {commit} is missing from the repository; nothing was changed; repairing the log of session {session} (repair) drops records whose commit is gone")]
    MissingCommit {
        session: SessionId,
        checkpoint: CheckpointId,
        commit: String,
    },

    #[error("git {args} failed (exit {code}): {stderr}")]
    Git {
        args: String,
        code: String,
        stderr: String,
    },

    #[error("git could not be run ({source}); install git {min} or newer")]
    GitMissing {
        min: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("git {found} is too old: checkpoint-manager needs git {min} or newer")]
    GitTooOld { found: String, min: &'static str },

    #[error("unexpected output from git {args}: {detail}")]
    GitOutput { args: String, detail: String },

    #[error("{}: another git process is writing the index; retry when it is done (remove the file if no git is running)", path.display())]
    IndexLocked { path: PathBuf },

    #[error("checkpoint {checkpoint} was made and logged, but the index could not follow it ({source}); your files are untouched: `git reset --mixed HEAD` brings the index up to date")]
    IndexNotUpdated {
        source: Box<Error>,
        checkpoint: CheckpointId,
    },

    #[error("{}: lock is held by {} and was not released within {waited_ms} ms; retry, or stop that process", path.display(), holder.map_or_else(|| "another process".to_owned(), |pid| format!("process {pid}")))]
    LockTimeout {
        path: PathBuf,
        holder: Option<u32>,
        waited_ms: u128,
    },

    #[error("{source}; nothing is lost: safety snapshot {safety} holds the state from before, and undoing the last operation of session {session} (undo) returns to it")]
    Interrupted {
        source: Box<Error>,
        session: SessionId,
        safety: CheckpointId,
    },

    #[error("{source}; checkpoint {checkpoint} was made in git but is not in the log: repairing the log of session {session} (repair) adds it")]
    NotLogged {
        source: Box<Error>,
        session: SessionId,
        checkpoint: CheckpointId,
    },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid {what}: it is empty; give a few words saying what it is")]
    EmptyText { what: &'static str },

    #[error("{name} changed underneath this operation ({detail}): another git process committed, reset or switched branches meanwhile; it was not moved over: look at the new state, then retry")]
    RefMoved { name: String, detail: String },

    #[error("{}: another git process holds this lock; retry when it is done (if no git is running, a crashed git left it: remove the file)", path.display())]
    LockFileExists { path: PathBuf },

    #[error("git could not be started: {source}")]
    GitSpawn {
        #[source]
        source: std::io::Error,
    },

    #[error("talking to a git process failed: {source}")]
    GitIo {
        #[source]
        source: std::io::Error,
    },
    #[error("{}: is {what}; the session logs are kept only in plain folders inside the work tree (never through a symlink, which could put them outside the repository or into a commit); nothing was changed; replace it with a plain folder holding the same files", path.display())]
    LogPathNotPlain { path: PathBuf, what: &'static str },

    #[error("could not encode {what} as JSON ({detail}); nothing was written")]
    Serialize { what: &'static str, detail: String },

    #[error("a worker thread ({task}) stopped unexpectedly; nothing was changed")]
    WorkerPanicked { task: &'static str },

    #[error("session {session} has nothing to redo: no undo is left to take back (a rollback after an undo starts a new history)")]
    NothingToRedo { session: SessionId },

    #[error("checkpoint {checkpoint} is the safety snapshot of operation {operation} in session {session}: undo and redo return to it, so it is kept; nothing was changed")]
    SafetySnapshotInUse {
        session: SessionId,
        checkpoint: CheckpointId,
        operation: OperationId,
    },

    #[error("invalid remote {remote:?}: give the name of a git remote (`git remote -v` lists them) or a URL, not starting with '-'")]
    InvalidRemote { remote: String },

    #[error("remote {remote} has no checkpoints of {what}; push them from the machine that made them first, or check the remote and the session id")]
    RemoteHasNoCheckpoints { remote: String, what: String },

    // Short ids (issue 10).
    #[error("invalid checkpoint id {value:?}: {problem}; give the full UUID or a unique prefix of at least 4 hex digits of it (such as 123e4567)")]
    InvalidCheckpointRef { value: String, problem: String },

    #[error("checkpoint id {prefix:?} is ambiguous in session {session}: it starts {} checkpoints: {}; give more of its digits", candidates.len(), candidates.join(", "))]
    AmbiguousCheckpointId {
        session: SessionId,
        prefix: String,
        candidates: Vec<String>,
    },

    #[error("checkpoint {prefix} not found in session {session}; listing the session (list) shows its checkpoints")]
    CheckpointPrefixNotFound { session: SessionId, prefix: String },
    #[error("cannot include {}: {problem}; nothing was changed; name a file or folder inside the work tree", path.display())]
    InvalidInclude {
        path: PathBuf,
        problem: &'static str,
    },

    // Restoring chosen paths (issue 10).
    #[error("cannot restore {path:?}: it is outside the work tree {workdir}; nothing was changed; name files or folders inside the repository")]
    PathOutsideWorkTree { path: String, workdir: String },

    #[error("cannot restore {path:?}: {reason}; nothing was changed")]
    PathNotRestorable { path: String, reason: String },

    #[error("cannot restore {path:?}: checkpoint {checkpoint} does not have it and it does not exist now (neither on disk nor in the index); nothing was changed; check the path (paths are relative to the current folder)")]
    PathOnNeitherSide { path: String, checkpoint: String },

    #[error("nothing to restore: no path was given; name the files or folders to bring back")]
    NoPathsToRestore,

    // Retention (prune).
    #[error("no retention limit: give a number of checkpoints to keep or a maximum age, or set {keys} in git config; nothing was changed")]
    NoRetentionLimit { keys: String },

    #[error("pruned here ({removed} checkpoint(s) moved to refs/checkpoint-trash/, {purged} aged out of it), but removing their refs from remote {remote} failed: {source}; they stay on {remote} (`git push {remote} --delete <ref>` removes one)")]
    PruneRemoteFailed {
        remote: String,
        removed: usize,
        purged: usize,
        source: Box<Error>,
        /// What was pruned here, for the caller to report.
        outcome: Box<crate::ops::prune::PruneOutcome>,
    },
}

impl Error {
    /// Returns the class of this error, which the CLI maps to an exit code and the Python binding
    /// to an exception type.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidId { .. }
            | Error::InvalidChoice { .. }
            | Error::InvalidSetting { .. }
            | Error::InvalidStateSnapshot(_)
            | Error::NulInText { .. }
            | Error::NotARepository { .. }
            | Error::InvalidState { .. }
            | Error::OperationInProgress { .. }
            | Error::UncommittedChanges { .. }
            | Error::NothingToTag
            | Error::NestedRepositoryInTheWay { .. }
            | Error::InvalidRecord { .. }
            | Error::BranchMoved { .. }
            | Error::BranchCheckedOutElsewhere { .. }
            | Error::CorruptLog { .. }
            | Error::RefMoved { .. }
            | Error::LogPathNotPlain { .. }
            | Error::GitTooOld { .. }
            | Error::EmptyText { .. }
            | Error::SafetySnapshotInUse { .. }
            | Error::InvalidRemote { .. }
            | Error::InvalidInclude { .. }
            | Error::PathOutsideWorkTree { .. }
            | Error::PathNotRestorable { .. }
            | Error::PathOnNeitherSide { .. }
            | Error::NoPathsToRestore
            | Error::NoRetentionLimit { .. } => ErrorKind::Invalid,
            Error::InvalidCheckpointRef { .. } | Error::AmbiguousCheckpointId { .. } => {
                ErrorKind::Invalid
            }
            Error::SessionNotFound { .. }
            | Error::CheckpointNotFound { .. }
            | Error::CheckpointPrefixNotFound { .. }
            | Error::NothingToUndo { .. }
            | Error::NothingToRedo { .. }
            | Error::MissingCommit { .. } => ErrorKind::NotFound,
            Error::Git { .. }
            | Error::GitMissing { .. }
            | Error::GitOutput { .. }
            | Error::GitSpawn { .. }
            | Error::GitIo { .. }
            | Error::RemoteHasNoCheckpoints { .. }
            | Error::PruneRemoteFailed { .. } => ErrorKind::Git,
            Error::LockTimeout { .. }
            | Error::IndexLocked { .. }
            | Error::LockFileExists { .. } => ErrorKind::Busy,
            // A worker runs git; a panic there is reported with git's failures, as before.
            Error::WorkerPanicked { .. } => ErrorKind::Git,
            Error::Io { .. } | Error::Serialize { .. } => ErrorKind::Io,
            Error::Interrupted { source, .. }
            | Error::NotLogged { source, .. }
            | Error::IndexNotUpdated { source, .. } => source.kind(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
