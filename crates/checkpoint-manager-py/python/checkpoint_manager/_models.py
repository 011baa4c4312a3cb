"""The spec's data model as Python enums and dataclasses, built from the JSON the Rust library
returns (the spellings of ``checkpoints.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = [
    "CheckpointType",
    "CheckpointPhase",
    "CheckpointMode",
    "StateSnapshot",
    "SkippedPath",
    "SnapshotInfo",
    "Checkpoint",
    "ValidationResult",
    "CheckpointSummary",
    "RepairReport",
    "ResetMode",
    "BranchMoved",
    "RollbackResult",
    "Operation",
    # Issue 10: diff.
    "FileStatus",
    "FileDiff",
    "DiffReport",
]


class CheckpointType(Enum):
    """Why a checkpoint was made."""

    PHASE_COMPLETE = "phase_complete"
    TASK_GROUP_COMPLETE = "task_group_complete"
    SAFE_STATE = "safe_state"
    PRE_RISKY_OPERATION = "pre_risky_operation"
    ERROR_RECOVERY = "error_recovery"
    MANUAL = "manual"


class CheckpointPhase(Enum):
    """The session phase a checkpoint belongs to."""

    PLAN = "plan"
    GENERATE_TASKS = "generate_tasks"
    IMPLEMENT = "implement"
    VALIDATE = "validate"
    CLEANUP = "cleanup"


class CheckpointMode(Enum):
    """How a checkpoint holds the work."""

    COMMIT = "commit"
    """The work was committed on the current branch, then tagged (``commit_first=True``)."""
    TAG = "tag"
    """HEAD was tagged as it was (``commit_first=False``)."""
    SNAPSHOT = "snapshot"
    """A private snapshot commit; branch, index and files were left untouched."""


@dataclass
class StateSnapshot:
    """Session state at checkpoint time."""

    tasks_completed: int = 0
    decisions_made: int = 0
    files_modified: int = 0
    files_created: int = 0
    tests_passing: int = 0
    tests_failing: int = 0

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StateSnapshot:
        return cls(**data)


@dataclass
class SkippedPath:
    """A path a snapshot did not capture, and why (``too_large``, ``nested_repository``,
    ``submodule_changes`` or ``too_many_files``, an untracked folder whose ``files`` are over the
    folder cap)."""

    path: str
    reason: str
    size: Optional[int] = None
    files: Optional[int] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkippedPath:
        return cls(
            path=data["path"],
            reason=data["reason"],
            size=data.get("size"),
            files=data.get("files"),
        )

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"path": self.path, "reason": self.reason}
        if self.size is not None:
            data["size"] = self.size
        if self.files is not None:
            data["files"] = self.files
        return data


@dataclass
class SnapshotInfo:
    """What a snapshot checkpoint records beside its commit."""

    base_commit: Optional[str]
    branch: Optional[str]
    index_tree: str
    index_commit: str
    skipped: List[SkippedPath] = field(default_factory=list)
    safety: bool = False
    """True for the automatic snapshot a rollback or undo takes first."""
    raw_tree: Optional[str] = None
    """A tree of the exact bytes of the files git's filters would not give back as they were
    (CRLF under ``text=auto``, say); a restore writes them over the filtered checkout."""
    assume_unchanged: List[str] = field(default_factory=list)
    """Index entries marked ``assume-unchanged`` when captured; a hard restore marks them again."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotInfo:
        return cls(
            base_commit=data.get("base_commit"),
            branch=data.get("branch"),
            index_tree=data["index_tree"],
            index_commit=data["index_commit"],
            skipped=[SkippedPath.from_dict(s) for s in data.get("skipped", [])],
            safety=data.get("safety", False),
            raw_tree=data.get("raw_tree"),
            assume_unchanged=list(data.get("assume_unchanged", [])),
        )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the ``checkpoints.json`` form, which leaves out an empty ``skipped`` and
        ``assume_unchanged``, a false ``safety`` and a missing ``raw_tree``."""
        data: Dict[str, Any] = {
            "base_commit": self.base_commit,
            "branch": self.branch,
            "index_tree": self.index_tree,
            "index_commit": self.index_commit,
        }
        if self.skipped:
            data["skipped"] = [s.to_dict() for s in self.skipped]
        if self.safety:
            data["safety"] = True
        if self.raw_tree is not None:
            data["raw_tree"] = self.raw_tree
        if self.assume_unchanged:
            data["assume_unchanged"] = list(self.assume_unchanged)
        return data


@dataclass
class Checkpoint:
    """A checkpoint with its metadata: the spec's fields, then ``mode`` and ``snapshot``."""

    checkpoint_id: str
    commit_sha: str
    timestamp: str
    description: str
    phase: CheckpointPhase
    checkpoint_type: CheckpointType
    commit_message: Optional[str] = None
    state_snapshot: Optional[StateSnapshot] = None
    tags: List[str] = field(default_factory=list)
    rollback_used: bool = False
    rollback_count: int = 0
    mode: CheckpointMode = CheckpointMode.COMMIT
    snapshot: Optional[SnapshotInfo] = None
    skipped: List[SkippedPath] = field(default_factory=list)
    """Untracked files a commit-mode checkpoint left out of its commit for their size (they
    stay on disk untouched); a snapshot lists its own in ``snapshot.skipped``."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Builds a checkpoint from its ``checkpoints.json`` form."""
        state = data.get("state_snapshot")
        snapshot = data.get("snapshot")
        return cls(
            checkpoint_id=data["checkpoint_id"],
            commit_sha=data["commit_sha"],
            timestamp=data["timestamp"],
            description=data["description"],
            phase=CheckpointPhase(data["phase"]),
            checkpoint_type=CheckpointType(data["checkpoint_type"]),
            commit_message=data.get("commit_message"),
            state_snapshot=None if state is None else StateSnapshot.from_dict(state),
            tags=list(data.get("tags", [])),
            rollback_used=data.get("rollback_used", False),
            rollback_count=data.get("rollback_count", 0),
            mode=CheckpointMode(data.get("mode", "commit")),
            snapshot=None if snapshot is None else SnapshotInfo.from_dict(snapshot),
            skipped=[SkippedPath.from_dict(s) for s in data.get("skipped", [])],
        )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the ``checkpoints.json`` form: enums as their lowercase values."""
        data: Dict[str, Any] = {
            "checkpoint_id": self.checkpoint_id,
            "commit_sha": self.commit_sha,
            "timestamp": self.timestamp,
            "description": self.description,
            "phase": self.phase.value,
            "checkpoint_type": self.checkpoint_type.value,
            "commit_message": self.commit_message,
            "tags": list(self.tags),
            "rollback_used": self.rollback_used,
            "rollback_count": self.rollback_count,
            "mode": self.mode.value,
        }
        if self.state_snapshot is not None:
            data["state_snapshot"] = self.state_snapshot.to_dict()
        if self.snapshot is not None:
            data["snapshot"] = self.snapshot.to_dict()
        if self.skipped:
            data["skipped"] = [s.to_dict() for s in self.skipped]
        return data


@dataclass
class ValidationResult:
    """Whether the repository is fit for a checkpoint."""

    is_valid: bool
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    git_status: str = ""
    """``git status --porcelain`` of the work tree."""
    has_uncommitted_changes: bool = False
    tests_passing: Optional[bool] = None
    """The test command's verdict; None when no test command was given."""
    test_output: Optional[str] = None
    """The last 4 KiB of the test command's stdout and stderr (interleaved as written); None when
    no test command was given."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationResult:
        return cls(
            is_valid=data["is_valid"],
            errors=list(data.get("errors", [])),
            warnings=list(data.get("warnings", [])),
            git_status=data.get("git_status", ""),
            has_uncommitted_changes=data.get("has_uncommitted_changes", False),
            tests_passing=data.get("tests_passing"),
            test_output=data.get("test_output"),
        )


@dataclass
class CheckpointSummary:
    """Summary statistics of a session's checkpoints."""

    total_checkpoints: int = 0
    checkpoints_by_type: Dict[str, int] = field(default_factory=dict)
    """Counts keyed by the checkpoint type's value, e.g. ``{"phase_complete": 1}``."""
    checkpoints_used_for_rollback: int = 0
    latest_checkpoint: Optional[str] = None
    """The commit SHA of the newest checkpoint."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckpointSummary:
        return cls(
            total_checkpoints=data["total_checkpoints"],
            checkpoints_by_type=dict(data.get("checkpoints_by_type", {})),
            checkpoints_used_for_rollback=data.get("checkpoints_used_for_rollback", 0),
            latest_checkpoint=data.get("latest_checkpoint"),
        )


@dataclass
class RepairReport:
    """What ``repair_checkpoints`` found and did."""

    total_checkpoints: int
    restored: List[str] = field(default_factory=list)
    """Checkpoints rebuilt from git that the log lacked."""
    dropped: List[str] = field(default_factory=list)
    """Records dropped because their commit no longer exists."""
    moved_aside: Optional[str] = None
    """Where a corrupt log was moved, if it was."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepairReport:
        return cls(
            total_checkpoints=data["total_checkpoints"],
            restored=list(data.get("restored", [])),
            dropped=list(data.get("dropped", [])),
            moved_aside=data.get("moved_aside"),
        )


@dataclass
class RemoteCheckpoint:
    """A checkpoint named by session and id, as ``pull`` reports it."""

    session_id: str
    checkpoint_id: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemoteCheckpoint:
        return cls(session_id=data["session_id"], checkpoint_id=data["checkpoint_id"])


@dataclass
class RemoteConflict:
    """A checkpoint id both sides hold with different metadata or commit; left as it is."""

    session_id: str
    checkpoint_id: str
    detail: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemoteConflict:
        return cls(
            session_id=data["session_id"],
            checkpoint_id=data["checkpoint_id"],
            detail=data["detail"],
        )


@dataclass
class PushResult:
    """What ``push`` sent: the refs (private refs and ``checkpoint-<uuid>`` tags) the remote
    lacked; ``up_to_date`` when it had them all."""

    remote: str
    pushed: List[str]
    up_to_date: bool
    conflicts: List[RemoteConflict] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PushResult:
        return cls(
            remote=data["remote"],
            pushed=list(data["pushed"]),
            up_to_date=data["up_to_date"],
            conflicts=[RemoteConflict.from_dict(c) for c in data.get("conflicts", [])],
        )


@dataclass
class PullResult:
    """What ``pull`` brought: checkpoints new here, those deleted here and so not brought back,
    and ids both sides hold differently (never overwritten)."""

    remote: str
    pulled: List[RemoteCheckpoint]
    up_to_date: bool
    skipped_deleted: List[RemoteCheckpoint] = field(default_factory=list)
    conflicts: List[RemoteConflict] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PullResult:
        return cls(
            remote=data["remote"],
            pulled=[RemoteCheckpoint.from_dict(c) for c in data["pulled"]],
            up_to_date=data["up_to_date"],
            skipped_deleted=[RemoteCheckpoint.from_dict(c) for c in data.get("skipped_deleted", [])],
            conflicts=[RemoteConflict.from_dict(c) for c in data.get("conflicts", [])],
        )


class ResetMode(Enum):
    """How a rollback treated the index and the working tree."""

    MIXED = "mixed"
    """HEAD and the index moved; files stayed (``hard_reset=False``)."""
    HARD = "hard"
    """Files, index and HEAD all became the checkpoint's (``hard_reset=True``; always for undo)."""


def _extra(data: Mapping[str, Any], known: Iterable[str]) -> Dict[str, Any]:
    """The fields of ``data`` a dataclass does not name: newer library versions add fields, and
    they reach the caller as they are instead of being dropped."""
    names = set(known)
    return {key: value for key, value in data.items() if key not in names}


@dataclass
class BranchMoved:
    """A branch a rollback or undo moved, with its commit before (``old``) and after (``new``)."""

    branch: str
    old: Optional[str] = None
    new: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    """Any further fields the library reports about the move."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BranchMoved:
        return cls(
            branch=data["branch"],
            old=data.get("old"),
            new=data.get("new"),
            extra=_extra(data, ("branch", "old", "new")),
        )


@dataclass
class RollbackResult:
    """What ``rollback`` or ``undo`` did: the full outcome behind the spec's ``True``."""

    success: bool
    checkpoint_id: str
    """The checkpoint returned to (for undo: the safety snapshot it returned to)."""
    commit_sha: str
    """That checkpoint's commit."""
    mode: ResetMode
    head: Optional[str]
    """The commit HEAD points at now (None in a repository left without commits)."""
    safety_checkpoint_id: str
    """The safety snapshot of the state before; ``undo`` returns to it."""
    removed_paths: List[str] = field(default_factory=list)
    """Files the exact restore removed (each is in the safety snapshot)."""
    branch_moved: Optional[BranchMoved] = None
    """The branch that was moved to another commit, when the rollback moved one."""
    extra: Dict[str, Any] = field(default_factory=dict)
    """Fields of the library's outcome this version of the package does not name, as JSON
    values (so an orchestrator sees them without waiting for a new package)."""

    _KNOWN = (
        "success",
        "checkpoint_id",
        "commit_sha",
        "mode",
        "head",
        "safety_checkpoint_id",
        "removed_paths",
        "branch_moved",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RollbackResult:
        """Builds a result from the library's JSON outcome (the command line's output)."""
        moved = data.get("branch_moved")
        return cls(
            success=data["success"],
            checkpoint_id=data["checkpoint_id"],
            commit_sha=data["commit_sha"],
            mode=ResetMode(data["mode"]),
            head=data.get("head"),
            safety_checkpoint_id=data["safety_checkpoint_id"],
            removed_paths=list(data.get("removed_paths", [])),
            branch_moved=None if moved is None else BranchMoved.from_dict(moved),
            extra=_extra(data, cls._KNOWN),
        )


@dataclass
class Operation:
    """One entry of a session's operation history (``operations`` in ``checkpoints.json``):
    every rollback, undo and redo, recorded with its safety snapshot before anything changes."""

    operation_id: str
    kind: str
    """``rollback``, ``undo``, ``redo`` or ``restore`` (chosen paths brought back)."""
    target_checkpoint_id: str
    """The checkpoint restored (for undo and redo: the safety snapshot returned to)."""
    safety_checkpoint_id: str
    """The snapshot of the state before this operation, taken first."""
    mode: ResetMode
    timestamp: str
    state: str
    """``started`` (written before anything changes), ``done`` or ``failed``."""
    undid: Optional[str] = None
    """For an undo: the operation it undid; for a redo: the undo it took back."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        return cls(
            operation_id=data["operation_id"],
            kind=data["kind"],
            target_checkpoint_id=data["target_checkpoint_id"],
            safety_checkpoint_id=data["safety_checkpoint_id"],
            mode=ResetMode(data["mode"]),
            timestamp=data["timestamp"],
            state=data["state"],
            undid=data.get("undid"),
        )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the ``checkpoints.json`` form, which leaves out a missing ``undid``."""
        data: Dict[str, Any] = {
            "operation_id": self.operation_id,
            "kind": self.kind,
            "target_checkpoint_id": self.target_checkpoint_id,
            "safety_checkpoint_id": self.safety_checkpoint_id,
            "mode": self.mode.value,
            "timestamp": self.timestamp,
            "state": self.state,
        }
        if self.undid is not None:
            data["undid"] = self.undid
        return data


# Issue 10: the sessions list.


@dataclass
class SessionInfo:
    """One session of the repository, as ``list_sessions`` reports it: how many checkpoints the
    user or orchestrator created (safety snapshots left out), when the first and the last were
    made, the phase of the last, and how many rollbacks restored one of them."""

    session_id: str
    checkpoints: int
    first: Optional[str]
    last: Optional[str]
    latest_phase: Optional[CheckpointPhase]
    rollbacks: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionInfo:
        phase = data.get("latest_phase")
        return cls(
            session_id=data["session_id"],
            checkpoints=data["checkpoints"],
            first=data.get("first"),
            last=data.get("last"),
            latest_phase=CheckpointPhase(phase) if phase is not None else None,
            rollbacks=data["rollbacks"],
        )


# Issue 10: diff.


class FileStatus(Enum):
    """How a file changed between two checkpoints (git's own diff, renames found)."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    TYPE_CHANGED = "type_changed"
    """A file became a symlink (or the other way round), or a submodule."""


@dataclass
class FileDiff:
    """One changed file: its path (and the path before a rename), how it changed, the lines
    added and removed (0 for a binary file) and, when asked for, its unified diff."""

    path: str
    status: FileStatus
    additions: int
    deletions: int
    binary: bool
    old_path: Optional[str] = None
    patch: Optional[str] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileDiff:
        return cls(
            path=data["path"],
            status=FileStatus(data["status"]),
            additions=data["additions"],
            deletions=data["deletions"],
            binary=data["binary"],
            old_path=data.get("old_path"),
            patch=data.get("patch"),
        )


@dataclass
class DiffReport:
    """What changed from checkpoint ``from_id`` to checkpoint ``to_id``, or to the files as they
    are now when ``to_id`` is None (tracked files and untracked ones that are not ignored)."""

    from_id: str
    to_id: Optional[str]
    files: List[FileDiff]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiffReport:
        return cls(
            from_id=data["from"],
            to_id=data.get("to"),
            files=[FileDiff.from_dict(f) for f in data["files"]],
        )


@dataclass
class PathRestoreResult:
    """What ``restore_paths`` did: the files written and removed, and the safety snapshot that
    holds the state from before (``undo`` returns to it)."""

    success: bool
    checkpoint_id: str
    """The checkpoint the files came from."""
    restored_paths: List[str]
    """Files and symlinks written with the checkpoint's bytes and mode (those that differed)."""
    removed_paths: List[str]
    """Files under the named paths that the checkpoint lacks, removed (each is in the safety
    snapshot)."""
    staged: bool
    """True when the index entries of the named paths were set to the checkpoint's too."""
    safety_checkpoint_id: Optional[str]
    """The safety snapshot of the state before; ``undo`` returns to it. None when the paths
    already held the checkpoint's files: nothing changed and nothing was recorded."""
    operation: Optional[Operation]
    """The entry this restore added to the session's operation history (None when nothing
    changed)."""
    extra: Dict[str, Any] = field(default_factory=dict)
    """Fields of the library's outcome this version of the package does not name."""

    _KNOWN = (
        "success",
        "checkpoint_id",
        "restored_paths",
        "removed_paths",
        "staged",
        "safety_checkpoint_id",
        "operation",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PathRestoreResult:
        """Builds a result from the library's JSON outcome (the command line's output)."""
        operation = data.get("operation")
        return cls(
            success=data["success"],
            checkpoint_id=data["checkpoint_id"],
            restored_paths=list(data["restored_paths"]),
            removed_paths=list(data["removed_paths"]),
            staged=data["staged"],
            safety_checkpoint_id=data.get("safety_checkpoint_id"),
            operation=None if operation is None else Operation.from_dict(operation),
            extra=_extra(data, cls._KNOWN),
        )


@dataclass
class PrunedCheckpoint:
    """A checkpoint ``prune`` removed (or would remove, in a dry run)."""

    session_id: str
    checkpoint_id: str
    phase: Optional[CheckpointPhase]
    """``None`` for a trash entry without metadata (a record of an early version)."""
    checkpoint_type: Optional[CheckpointType]
    created: Optional[str]
    """When it was made (ISO 8601)."""
    safety: bool
    """True for an automatic safety snapshot."""
    commit_sha: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrunedCheckpoint:
        return cls(
            session_id=data["session_id"],
            checkpoint_id=data["checkpoint_id"],
            phase=CheckpointPhase(data["phase"]) if data.get("phase") else None,
            checkpoint_type=(
                CheckpointType(data["checkpoint_type"]) if data.get("checkpoint_type") else None
            ),
            created=data.get("created"),
            safety=bool(data["safety"]),
            commit_sha=data["commit_sha"],
        )


@dataclass
class PruneResult:
    """What ``prune`` did: checkpoints moved to ``refs/checkpoint-trash/`` (``removed``, still
    recoverable), deleted checkpoints that aged out of the trash (``purged``), and the bytes
    ``git gc --prune=now`` reclaims (reclaimed when ``gc``)."""

    dry_run: bool
    keep_last: Optional[int]
    older_than_seconds: Optional[int]
    removed: List[PrunedCheckpoint]
    purged: List[PrunedCheckpoint]
    removed_tags: List[str]
    reclaimable_bytes: int
    gc: bool
    remote: Optional[str] = None
    remote_removed: List[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PruneResult:
        return cls(
            dry_run=data["dry_run"],
            keep_last=data.get("keep_last"),
            older_than_seconds=data.get("older_than_seconds"),
            removed=[PrunedCheckpoint.from_dict(c) for c in data["removed"]],
            purged=[PrunedCheckpoint.from_dict(c) for c in data["purged"]],
            removed_tags=list(data["removed_tags"]),
            reclaimable_bytes=int(data["reclaimable_bytes"]),
            gc=data["gc"],
            remote=data.get("remote"),
            remote_removed=list(data.get("remote_removed", [])),
        )
