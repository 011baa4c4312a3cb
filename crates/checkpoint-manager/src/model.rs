//! The spec's data model (Checkpoint, CheckpointType, CheckpointPhase, StateSnapshot, ...) plus the
//! few fields this implementation adds. Field names and enum spellings are the JSON layout of the
//! spec's `checkpoints.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::defaults::MAX_FILE_SIZE_ENV;
use crate::error::Error;
use crate::ids::{CheckpointId, ObjectId, OperationId};
use crate::settings::{MAX_FILE_SIZE_KEY, MAX_UNTRACKED_DIR_FILES_KEY};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            JsonSchema,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the spec's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the lowercase spelling used in JSON and on the command line.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::InvalidChoice {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

string_enum!(
    /// Why a checkpoint was made.
    CheckpointType, "checkpoint type" {
        /// At the completion of a phase.
        PhaseComplete => "phase_complete",
        /// After a group of tasks.
        TaskGroupComplete => "task_group_complete",
        /// At a known good state.
        SafeState => "safe_state",
        /// Before a risky operation; also the type of automatic safety snapshots.
        PreRiskyOperation => "pre_risky_operation",
        /// During error recovery.
        ErrorRecovery => "error_recovery",
        /// Made by hand (the default).
        Manual => "manual",
    }
);

string_enum!(
    /// The session phase a checkpoint belongs to.
    CheckpointPhase, "phase" {
        Plan => "plan",
        GenerateTasks => "generate_tasks",
        Implement => "implement",
        Validate => "validate",
        Cleanup => "cleanup",
    }
);

string_enum!(
    /// How a checkpoint holds the work.
    CheckpointMode, "checkpoint mode" {
        /// The work was committed on the current branch, then tagged (the spec's default).
        Commit => "commit",
        /// HEAD was tagged as it was (`commit_first = false`).
        Tag => "tag",
        /// A private stash-shaped commit; branch, index and files were left untouched.
        Snapshot => "snapshot",
    }
);

string_enum!(
    /// How a rollback treats the index and the working tree.
    ResetMode, "reset mode" {
        /// `git reset --mixed`: HEAD and index move, files stay.
        Mixed => "mixed",
        /// Files, index and HEAD all become the checkpoint's.
        Hard => "hard",
    }
);

string_enum!(
    /// What an entry of the operation history did.
    OperationKind, "operation kind" {
        /// A rollback to a checkpoint.
        Rollback => "rollback",
        /// A return to the state before an earlier operation.
        Undo => "undo",
        /// A return to the state before an undo.
        Redo => "redo",
        /// Chosen paths brought back from a checkpoint (HEAD and the branch stay).
        Restore => "restore",
    }
);

string_enum!(
    /// How far an operation got. An entry is written `started` before anything changes.
    OperationState, "operation state" {
        /// Recorded with its safety snapshot; nothing more is known (it was killed, or is running).
        Started => "started",
        /// Finished.
        Done => "done",
        /// Stopped by an error; the state before it is in its safety snapshot.
        Failed => "failed",
    }
);

#[allow(clippy::derivable_impls)] // the enum is declared by a macro shared with enums without a default
impl Default for CheckpointType {
    fn default() -> Self {
        CheckpointType::Manual
    }
}

#[allow(clippy::derivable_impls)]
impl Default for CheckpointMode {
    fn default() -> Self {
        CheckpointMode::Commit
    }
}

/// Session state at checkpoint time. Missing fields read as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StateSnapshot {
    pub tasks_completed: u64,
    pub decisions_made: u64,
    pub files_modified: u64,
    pub files_created: u64,
    pub tests_passing: u64,
    pub tests_failing: u64,
}

impl StateSnapshot {
    /// Parses the JSON object form (`{"tasks_completed": 15, ...}`).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let invalid = |e: serde_json::Error| Error::InvalidStateSnapshot(e.to_string());
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        // serde would also take an array and fill the fields by position.
        if !value.is_object() {
            return Err(Error::InvalidStateSnapshot(
                "expected a JSON object such as {\"tasks_completed\": 15}".to_owned(),
            ));
        }
        serde_json::from_value(value).map_err(invalid)
    }
}

/// A path a snapshot did not capture, and why. Nothing is ever left out silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedPath {
    pub path: String,
    pub reason: SkipReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// How many untracked files a folder skipped for their number holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
}

/// Why a path was left out of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// An untracked file larger than the size cap.
    TooLarge,
    /// An untracked nested repository: its own history is never entered or renamed.
    NestedRepository,
    /// Uncommitted or untracked work inside a submodule (its commit is captured, its work tree
    /// belongs to its own repository and is never entered).
    SubmoduleChanges,
    /// An untracked folder holding more files than the folder cap (its path ends with `/`).
    TooManyFiles,
}

/// What a snapshot checkpoint records beside its commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotInfo {
    /// The commit HEAD pointed at (none in a repository without commits).
    pub base_commit: Option<ObjectId>,
    /// The branch checked out (`refs/heads/...`), none when HEAD was detached.
    pub branch: Option<String>,
    /// The tree of the index, so staged and unstaged changes restore exactly.
    pub index_tree: ObjectId,
    /// The commit that holds the index tree (the snapshot commit's second parent).
    pub index_commit: ObjectId,
    /// Paths that were not captured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedPath>,
    /// True for the automatic snapshot a rollback or undo takes first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub safety: bool,
    /// A tree of the exact bytes of the files git's filters would not give back as they were
    /// (CRLF under `text=auto`, say); a restore writes them over the filtered checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_tree: Option<ObjectId>,
    /// Index entries marked `assume-unchanged` when captured (UTF-8 paths); a hard restore to
    /// the snapshot marks them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assume_unchanged: Vec<String>,
}

/// A checkpoint with its metadata: the spec's fields first, then this implementation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Checkpoint {
    pub checkpoint_id: CheckpointId,
    pub commit_sha: ObjectId,
    pub timestamp: String,
    pub description: String,
    pub phase: CheckpointPhase,
    pub checkpoint_type: CheckpointType,
    #[serde(default)]
    pub commit_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_snapshot: Option<StateSnapshot>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub rollback_used: bool,
    #[serde(default)]
    pub rollback_count: u64,
    /// How the checkpoint holds the work; logs written by the original tool have only commits.
    #[serde(default)]
    pub mode: CheckpointMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotInfo>,
    /// Untracked files a commit-mode checkpoint left out of its commit (over the size cap);
    /// they stay on disk untouched. A snapshot lists its own under `snapshot.skipped`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedPath>,
}

impl Checkpoint {
    /// Returns true for the automatic snapshot a rollback or undo takes first.
    pub fn is_safety_snapshot(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| s.safety)
    }
}

/// One entry of a session's operation history: every rollback, undo and redo, recorded with its
/// safety snapshot before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Operation {
    pub operation_id: OperationId,
    pub kind: OperationKind,
    /// The checkpoint restored (for undo and redo: the safety snapshot returned to).
    pub target_checkpoint_id: CheckpointId,
    /// The snapshot of the state before this operation, taken first.
    pub safety_checkpoint_id: CheckpointId,
    pub mode: ResetMode,
    pub timestamp: String,
    pub state: OperationState,
    /// For an undo: the operation it undid; for a redo: the undo it took back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undid: Option<OperationId>,
}

/// A branch a restore moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchMove {
    /// The branch, short name (`main`).
    pub branch: String,
    /// Its commit before (none for a branch that did not exist).
    pub old_commit: Option<ObjectId>,
    /// Its commit now.
    pub new_commit: ObjectId,
    /// True when the new commit is in the old one's history (a plain rewind of this branch);
    /// false when the branch now points at another line of history (the checkpoint was taken on
    /// another branch or a detached HEAD).
    pub in_history: bool,
}

/// Summary statistics of a session's checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointSummary {
    pub total_checkpoints: usize,
    #[schemars(extend("propertyNames" = { "$ref": "#/$defs/CheckpointType" }))]
    pub checkpoints_by_type: BTreeMap<CheckpointType, usize>,
    pub checkpoints_used_for_rollback: usize,
    pub latest_checkpoint: Option<String>,
}

/// The result of checking whether the repository is fit for a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationResult {
    pub is_valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// `git status --porcelain` of the work tree.
    pub git_status: String,
    pub has_uncommitted_changes: bool,
    /// The test command's verdict; `None` when no test command was given.
    pub tests_passing: Option<bool>,
    /// The last 4 KiB (4096 bytes) of the test command's stdout and stderr, interleaved as
    /// written; absent when no test command was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_output: Option<String>,
}

/// What a rollback (or undo) did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackOutcome {
    pub success: bool,
    pub checkpoint_id: CheckpointId,
    /// The checkpoint's commit.
    pub commit_sha: ObjectId,
    pub mode: ResetMode,
    /// The commit HEAD points at now (the checkpoint's base commit for a snapshot).
    pub head: Option<ObjectId>,
    /// The automatic snapshot of the state before the rollback: `undo` returns to it.
    pub safety_checkpoint_id: CheckpointId,
    /// Paths the exact restore removed (each is in the safety snapshot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_paths: Vec<String>,
    /// The entry this operation added to the session's history.
    pub operation: Operation,
    /// For an undo or redo: the entry it took back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone: Option<Operation>,
    /// The branch this operation moved, with its old and new commit (none when HEAD was
    /// detached or no branch changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_moved: Option<BranchMove>,
}

/// What `delete` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteOutcome {
    pub deleted: bool,
    pub checkpoint_id: CheckpointId,
    pub commit_sha: ObjectId,
    /// The tag removed, if any.
    pub removed_tag: Option<String>,
    /// Where the checkpoint's commit and metadata remain reachable for recovery.
    pub kept_ref: Option<String>,
}

/// What `repair` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// Where a corrupt log was moved aside, if it was.
    pub moved_aside: Option<String>,
    /// Checkpoints rebuilt from git that the log lacked.
    pub restored: Vec<CheckpointId>,
    /// Records dropped because their commit no longer exists.
    pub dropped: Vec<CheckpointId>,
    /// Checkpoints in the rewritten log (safety snapshots not counted).
    pub total_checkpoints: usize,
    /// Safety snapshots in the rewritten log.
    #[serde(default)]
    pub total_safety_snapshots: usize,
    /// Entries of the operation history rebuilt from git that the log lacked.
    #[serde(default)]
    pub restored_operations: Vec<OperationId>,
    /// Entries in the rewritten operation history.
    #[serde(default)]
    pub total_operations: usize,
}

/// Something a command did on its own, or left out, that its user should hear about. The
/// library prints nothing: it hands notices to [`crate::Options::on_notice`] (the CLI prints
/// each as one line on stderr, Python raises a `UserWarning`). Each displays as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A lock file left by a killed operation's git step was removed (its journal proved it
    /// was that step's leftover).
    LockRemoved {
        path: std::path::PathBuf,
        /// The killed checkpoint-manager process.
        pid: u32,
        /// The git step it was killed during.
        step: String,
    },
    /// An untracked file over the size cap was left out of a checkpoint commit (a warning).
    TooLarge {
        path: String,
        size: Option<u64>,
        cap: Option<u64>,
    },
    /// An untracked folder holding more files than the folder cap was left out of a checkpoint
    /// commit (a warning).
    TooManyFiles { path: String, files: u64, cap: u64 },
    /// The first checkpoint commit in a repository: such commits skip hooks and signing. Said
    /// once per repository (a marker in the git dir remembers it).
    CommitsSkipHooks,
    /// The session's log was missing or behind the refs in git, and was rebuilt from git.
    LogRebuilt {
        session: String,
        path: std::path::PathBuf,
        /// True when the file was missing, false when it lacked checkpoints git holds.
        missing: bool,
        /// Checkpoints and safety snapshots the log gained.
        restored: usize,
    },
    // Retention (prune).
    /// `create` pruned the session beyond the limits set in git config
    /// (`checkpoint-manager.keepLast`, `checkpoint-manager.maxAge`).
    Pruned {
        session: String,
        /// Checkpoints moved to `refs/checkpoint-trash/` (recoverable).
        removed: usize,
        /// Deleted checkpoints that aged out of the trash (their refs deleted).
        purged: usize,
    },
    /// `create` made its checkpoint, but pruning beyond the configured limits failed (a warning).
    PruneFailed { session: String, detail: String },
}

impl Notice {
    /// True for what the user may have expected to happen and did not (a file left out of a
    /// checkpoint); the others report what was done.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Notice::TooLarge { .. } | Notice::TooManyFiles { .. } | Notice::PruneFailed { .. }
        )
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::LockRemoved { path, pid, step } => write!(
                f,
                "removed {}: left by checkpoint-manager process {pid} that was killed during {step} (it and its git child are gone)",
                path.display()
            ),
            Notice::TooLarge { path, size, cap } => {
                let size = size.map_or_else(String::new, |n| format!(" ({n} bytes)"));
                let cap = cap.map_or_else(String::new, |n| format!(" of {n} bytes"));
                write!(
                    f,
                    "{path}{size} is over the size cap{cap}: it was left out of the checkpoint \
                     commit and is untouched on disk; raise git config {MAX_FILE_SIZE_KEY} or \
                     {MAX_FILE_SIZE_ENV} (0: no cap), or include the path explicitly"
                )
            }
            Notice::TooManyFiles { path, files, cap } => write!(
                f,
                "{path} holds {files} untracked files, over the folder cap of {cap}: it was left \
                 out of the checkpoint commit and is untouched on disk; ignore it in .gitignore, \
                 raise git config {MAX_UNTRACKED_DIR_FILES_KEY} (0: no cap), or include the path \
                 explicitly"
            ),
            Notice::CommitsSkipHooks => f.write_str(
                "checkpoint commits are written with `git commit-tree`: your pre-commit and \
                 commit-msg hooks do not run and the commits are not signed (commit.gpgSign is \
                 not used); this is said once per repository",
            ),
            Notice::LogRebuilt {
                session,
                path,
                missing,
                restored,
            } => write!(
                f,
                "{} {}: rebuilt it from git ({restored} record(s) restored, rollback counts recounted) for session {session}",
                path.display(),
                if *missing { "was missing" } else { "lacked checkpoints kept in git" },
            ),
            Notice::Pruned {
                session,
                removed,
                purged,
            } => write!(
                f,
                "pruned session {session} beyond the limits set in git config \
                 (checkpoint-manager.keepLast / checkpoint-manager.maxAge): {removed} \
                 checkpoint(s) moved to refs/checkpoint-trash/, {purged} aged out of the trash"
            ),
            Notice::PruneFailed { session, detail } => write!(
                f,
                "the checkpoint was made, but pruning session {session} beyond the limits set \
                 in git config failed: {detail}"
            ),
        }
    }
}

// The sessions list (issue 10).

/// One session of the repository, as `list_sessions` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session_id: crate::ids::SessionId,
    /// How many checkpoints the user or orchestrator created (safety snapshots left out).
    pub checkpoints: usize,
    /// When the oldest and the newest of them were made (none in a session whose checkpoints
    /// were all deleted).
    pub first: Option<String>,
    pub last: Option<String>,
    /// The phase of the newest one.
    pub latest_phase: Option<CheckpointPhase>,
    /// How many rollbacks restored one of them (the sum of their `rollback_count`).
    pub rollbacks: u64,
}

/// What a restore of chosen paths did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRestoreOutcome {
    pub success: bool,
    pub checkpoint_id: CheckpointId,
    /// Files (and symlinks) written with the checkpoint's bytes and mode: those that differed.
    pub restored_paths: Vec<String>,
    /// Files under the named paths that the checkpoint lacks, removed (each is in the safety
    /// snapshot).
    pub removed_paths: Vec<String>,
    /// True when the index entries of the named paths were set to the checkpoint's too.
    pub staged: bool,
    /// The automatic snapshot of the state before the restore: `undo` returns to it. `None`
    /// when the named paths already held the checkpoint's files: nothing changed, and neither
    /// a safety snapshot nor a history entry is kept.
    pub safety_checkpoint_id: Option<CheckpointId>,
    /// The entry this restore added to the session's history (`None` when nothing changed).
    pub operation: Option<Operation>,
}
