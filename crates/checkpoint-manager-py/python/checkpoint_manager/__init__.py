"""Git checkpoints for AI coding-agent sessions: the Maestro ``checkpoint_manager`` API on the
Rust checkpoint-manager library.

    from checkpoint_manager import CheckpointManager, CheckpointPhase, CheckpointType

    manager = CheckpointManager()
    checkpoint = manager.create_checkpoint(
        session_id=session_id,
        description="Planning phase completed",
        phase=CheckpointPhase.PLAN,
        checkpoint_type=CheckpointType.PHASE_COMPLETE,
    )
    manager.rollback_to_checkpoint(session_id, checkpoint.checkpoint_id)
    manager.undo_rollback(session_id)

``python -m checkpoint_manager`` is the ``checkpoint-manager`` command line.
"""

from __future__ import annotations

import json
from typing import Any, Dict

from . import _native
from ._errors import (
    CheckpointIOError,
    CheckpointManagerError,
    CheckpointNotFoundError,
    CheckpointValueError,
    GitCommandError,
    LockTimeoutError,
)
from ._manager import DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_FILE_SIZE, CheckpointManager
from ._models import (
    Checkpoint,
    CheckpointMode,
    CheckpointPhase,
    CheckpointSummary,
    CheckpointType,
    BranchMoved,
    PruneResult,
    PrunedCheckpoint,
    PullResult,
    PushResult,
    RemoteCheckpoint,
    RemoteConflict,
    Operation,
    RepairReport,
    ResetMode,
    RollbackResult,
    SkippedPath,
    SnapshotInfo,
    StateSnapshot,
    ValidationResult,
)
from ._models import SessionInfo  # issue 10
from ._models import DiffReport, FileDiff, FileStatus  # Issue 10: diff.
from ._models import PathRestoreResult

__version__: str = _native.VERSION


def log_schema() -> Dict[str, Any]:
    """Returns the JSON Schema (draft 2020-12) of a session's ``checkpoints.json``, generated
    from the Rust types that read and write it (``checkpoint-manager schema`` prints it)."""
    schema: Dict[str, Any] = json.loads(_native.log_schema())
    return schema


__all__ = [
    "CheckpointManager",
    "CheckpointType",
    "CheckpointPhase",
    "CheckpointMode",
    "Checkpoint",
    "StateSnapshot",
    "SnapshotInfo",
    "SkippedPath",
    "ValidationResult",
    "CheckpointSummary",
    "RepairReport",
    "PushResult",
    "PullResult",
    "RemoteCheckpoint",
    "RemoteConflict",
    "RollbackResult",
    "BranchMoved",
    "Operation",
    "ResetMode",
    "CheckpointManagerError",
    "CheckpointValueError",
    "CheckpointNotFoundError",
    "GitCommandError",
    "LockTimeoutError",
    "CheckpointIOError",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MAX_FILE_SIZE",
    "log_schema",
    "__version__",
    "SessionInfo",
    # Issue 10: diff.
    "DiffReport",
    "FileDiff",
    "FileStatus",
    "PathRestoreResult",
    "PruneResult",
    "PrunedCheckpoint",
]
