"""The spec's data model as Python enums and dataclasses, built from the JSON the Rust library
returns (the spellings of ``checkpoints.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional

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
    """A path a snapshot did not capture, and why (``too_large`` or ``nested_repository``)."""

    path: str
    reason: str
    size: Optional[int] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkippedPath:
        return cls(path=data["path"], reason=data["reason"], size=data.get("size"))

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"path": self.path, "reason": self.reason}
        if self.size is not None:
            data["size"] = self.size
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotInfo:
        return cls(
            base_commit=data.get("base_commit"),
            branch=data.get("branch"),
            index_tree=data["index_tree"],
            index_commit=data["index_commit"],
            skipped=[SkippedPath.from_dict(s) for s in data.get("skipped", [])],
            safety=data.get("safety", False),
        )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the ``checkpoints.json`` form, which leaves out an empty ``skipped`` and a
        false ``safety``."""
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
