"""``CheckpointManager``: the spec's Python API over the Rust library.

Every rule lives in the library; this class only turns Python values into the strings the
binding takes (ids, enum values, a JSON state snapshot) and the JSON it returns into dataclasses.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Type, Union

from . import _native
from ._errors import CheckpointValueError
from ._models import (
    Checkpoint,
    CheckpointMode,
    CheckpointPhase,
    CheckpointSummary,
    CheckpointType,
    PathRestoreResult,
    PruneResult,
    PullResult,
    PushResult,
    RepairReport,
    RollbackResult,
    StateSnapshot,
    ValidationResult,
)
from ._models import SessionInfo  # issue 10
from ._models import DiffReport  # Issue 10: diff.

__all__ = ["CheckpointManager", "DEFAULT_LOCK_TIMEOUT", "DEFAULT_MAX_FILE_SIZE"]

#: Seconds to wait for another process's repository or session lock.
DEFAULT_LOCK_TIMEOUT: float = _native.DEFAULT_LOCK_TIMEOUT
#: Untracked files larger than this many bytes are left out of snapshots and checkpoint commits
#: (and reported as skipped), unless
#: ``max_file_size`` or the environment variable CHECKPOINT_MANAGER_MAX_FILE_SIZE says otherwise.
DEFAULT_MAX_FILE_SIZE: Optional[int] = _native.DEFAULT_MAX_FILE_SIZE

IdLike = Union[str, uuid.UUID]
PathLike = Union[str, "os.PathLike[str]"]


def _id_text(value: Optional[IdLike], what: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} must be a str or uuid.UUID, not {type(value).__name__}")


def _enum_text(value: Union[Enum, str], cls: Type[Enum], what: str) -> str:
    """Returns the lowercase value of an enum member, or a string as given (the library checks
    it, with the same message as the command line)."""
    if isinstance(value, cls):
        return str(value.value)
    if isinstance(value, str) and not isinstance(value, Enum):
        return value
    raise TypeError(f"{what} must be a {cls.__name__} or its value, not {value!r}")


def _state_json(state: Union[StateSnapshot, Mapping[str, int], None]) -> Optional[str]:
    if state is None:
        return None
    if isinstance(state, StateSnapshot):
        return json.dumps(state.to_dict())
    if isinstance(state, Mapping):
        return json.dumps(dict(state))
    raise TypeError(f"state_snapshot must be a StateSnapshot or a mapping, not {state!r}")


class CheckpointManager:
    """Git checkpoints of one repository: create, list, roll back, undo.

    ``repo_root`` is any folder inside the repository (default: the current folder);
    ``session_id`` is the session the methods use when they are given ``None``. The keyword-only
    ``lock_timeout`` is how many seconds to wait for another process's lock; ``max_file_size`` caps
    the untracked files a snapshot or a checkpoint commit takes, in bytes (``0``: no cap; ``None``: the environment
    variable CHECKPOINT_MANAGER_MAX_FILE_SIZE, else git config ``checkpoint-manager.maxFileSize``,
    else ``DEFAULT_MAX_FILE_SIZE``), as on the command line. Larger files are left out and listed on the checkpoint as skipped.
    """

    def __init__(
        self,
        repo_root: Optional[PathLike] = None,
        session_id: Optional[IdLike] = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        max_file_size: Optional[int] = None,
    ) -> None:
        start = Path(os.fspath(repo_root)) if repo_root is not None else Path.cwd()
        self.repo_root: Path = start.absolute()
        """The top of the work tree (the given folder until a repository is found there)."""
        self.session_id: Optional[str] = (
            None if session_id is None else _id_text(session_id, "session_id")
        )
        self._lock_timeout = lock_timeout
        self._max_file_size = max_file_size
        self._opened: Optional[_native.Manager] = None
        try:
            self._native()
        except CheckpointValueError:
            # Not (yet) a repository: validate_checkpoint_state() reports it, and every other
            # method raises it, finding the repository if one has been made since.
            pass

    def _native(self) -> _native.Manager:
        if self._opened is None:
            self._opened = _native.Manager(
                os.fspath(self.repo_root), self._lock_timeout, self._max_file_size
            )
            self.repo_root = Path(self._opened.workdir)
        return self._opened

    def _session(self, session_id: Optional[IdLike]) -> str:
        if session_id is None:
            if self.session_id is None:
                raise CheckpointValueError(
                    "no session_id given, and the CheckpointManager was created without one"
                )
            return self.session_id
        return _id_text(session_id, "session_id")

    def validate_checkpoint_state(
        self, test_command: Optional[str] = None, *, test_timeout: Optional[float] = None
    ) -> ValidationResult:
        """Checks whether the repository is fit for a checkpoint. ``test_command`` (run with
        ``sh -c`` in the work tree) decides ``tests_passing``; without it that is None. The
        command may run ``test_timeout`` seconds (default 600), then its whole process group is
        killed and the tests fail; ``test_output`` holds the tail of what it printed."""
        if test_timeout is not None and not (
            isinstance(test_timeout, (int, float)) and 0 < test_timeout < float("inf")
        ):
            raise CheckpointValueError(
                f"test_timeout {test_timeout!r}: not a positive number of seconds"
            )
        raw = _native.validate_at(os.fspath(self.repo_root), test_command, test_timeout)
        return ValidationResult.from_dict(json.loads(raw))

    def create_checkpoint(
        self,
        session_id: Optional[IdLike],
        description: str,
        phase: Union[CheckpointPhase, str],
        checkpoint_type: Union[CheckpointType, str] = CheckpointType.MANUAL,
        state_snapshot: Union[StateSnapshot, Mapping[str, int], None] = None,
        commit_first: bool = True,
        *,
        snapshot: bool = False,
        include: Sequence[PathLike] = (),
    ) -> Checkpoint:
        """Creates a checkpoint and records it in the session's log.

        ``commit_first=True`` commits all changes on the current branch and tags the commit
        ``checkpoint-<id>``; ``commit_first=False`` tags HEAD as it is and is refused while there
        are uncommitted changes. ``snapshot=True`` instead captures the working tree and index in
        a private snapshot commit, leaving branch, index and files untouched. ``include`` names
        files or folders (relative to the current folder) captured even when ignored, too large
        or in an untracked folder over the file cap; a path outside the work tree is refused.
        """
        if snapshot and not commit_first:
            raise CheckpointValueError(
                "snapshot=True and commit_first=False are two different modes: choose one"
            )
        mode = (
            CheckpointMode.SNAPSHOT
            if snapshot
            else CheckpointMode.COMMIT
            if commit_first
            else CheckpointMode.TAG
        )
        raw = self._native().create(
            self._session(session_id),
            description,
            _enum_text(phase, CheckpointPhase, "phase"),
            _enum_text(checkpoint_type, CheckpointType, "checkpoint_type"),
            _state_json(state_snapshot),
            mode.value,
            [os.path.abspath(os.fspath(p)) for p in include],
        )
        return Checkpoint.from_dict(json.loads(raw))

    def list_checkpoints(
        self, session_id: Optional[IdLike], *, include_safety: bool = False
    ) -> List[Checkpoint]:
        """Returns the checkpoints created in the session, newest first (none for an unknown
        session). ``include_safety=True`` adds the automatic safety snapshots that rollbacks and
        undos take first (``checkpoint.snapshot.safety`` is True on them)."""
        raw = self._native().list(self._session(session_id), include_safety)
        return [Checkpoint.from_dict(cp) for cp in json.loads(raw)]

    def get_checkpoint(self, session_id: Optional[IdLike], checkpoint_id: IdLike) -> Checkpoint:
        """Returns one checkpoint; FileNotFoundError when the session or checkpoint is unknown."""
        raw = self._native().get(
            self._session(session_id), _id_text(checkpoint_id, "checkpoint_id")
        )
        return Checkpoint.from_dict(json.loads(raw))

    def rollback_to_checkpoint(
        self,
        session_id: Optional[IdLike],
        checkpoint_id: IdLike,
        hard_reset: bool = False,
    ) -> bool:
        """Rolls the repository back to a checkpoint and returns True.

        ``hard_reset=False`` (``--mixed``) moves HEAD and the index and keeps the files;
        ``hard_reset=True`` makes the files the checkpoint's too. Either way a safety snapshot of
        the current state is taken first, and ``undo_rollback`` returns to it. ``rollback``
        does the same and returns the whole result (the safety snapshot's id among others).
        """
        return self.rollback(session_id, checkpoint_id, hard_reset).success

    def undo_rollback(self, session_id: Optional[IdLike]) -> bool:
        """Steps back one entry of the session's operation history: branch, HEAD, index and every
        file return to the state before the newest rollback, undo or redo still in effect (called
        again, it keeps going back), and returns True. It takes its own safety snapshot first.
        ``undo`` does the same and returns the whole result."""
        return self.undo(session_id).success

    def rollback(
        self,
        session_id: Optional[IdLike],
        checkpoint_id: IdLike,
        hard_reset: bool = False,
    ) -> RollbackResult:
        """``rollback_to_checkpoint``, returning what it did: the safety snapshot that holds the
        state from before (``safety_checkpoint_id``), the files removed, HEAD now, and the branch
        moved if one was."""
        raw = self._native().rollback(
            self._session(session_id), _id_text(checkpoint_id, "checkpoint_id"), hard_reset
        )
        return RollbackResult.from_dict(json.loads(raw))

    def undo(self, session_id: Optional[IdLike]) -> RollbackResult:
        """``undo_rollback``, returning what it did: ``checkpoint_id`` is the safety snapshot it
        returned to, ``safety_checkpoint_id`` the new one holding the state before the undo."""
        raw = self._native().undo(self._session(session_id))
        return RollbackResult.from_dict(json.loads(raw))

    def get_checkpoint_summary(self, session_id: Optional[IdLike]) -> CheckpointSummary:
        """Returns the statistics of the checkpoints created in the session (safety snapshots
        are not counted; zeros for an unknown session)."""
        raw = self._native().summary(self._session(session_id))
        return CheckpointSummary.from_dict(json.loads(raw))

    def delete_checkpoint(
        self,
        session_id: Optional[IdLike],
        checkpoint_id: IdLike,
        delete_tag: bool = True,
    ) -> bool:
        """Deletes a checkpoint from tracking (and its tag ``checkpoint-<id>`` unless
        ``delete_tag=False``) and returns True. Its commit stays reachable under
        ``refs/checkpoint-trash/``."""
        raw = self._native().delete(
            self._session(session_id), _id_text(checkpoint_id, "checkpoint_id"), delete_tag
        )
        return bool(json.loads(raw)["deleted"])

    def repair_checkpoints(self, session_id: Optional[IdLike]) -> RepairReport:
        """Rebuilds the session's ``checkpoints.json`` from the metadata kept in git."""
        raw = self._native().repair(self._session(session_id))
        return RepairReport.from_dict(json.loads(raw))

    def _sessions(self, session_id: Optional[IdLike], all_sessions: bool) -> Optional[str]:
        if all_sessions:
            if session_id is not None:
                raise CheckpointValueError("give session_id or all_sessions=True, not both")
            return None
        return self._session(session_id)

    def push(
        self,
        session_id: Optional[IdLike] = None,
        *,
        remote: Optional[str] = None,
        all_sessions: bool = False,
    ) -> PushResult:
        """Sends the session's checkpoints (every session's with ``all_sessions=True``) to a git
        remote: their private refs and ``checkpoint-<uuid>`` tags, never a branch. ``remote``
        defaults to git config ``checkpoint-manager.remote``, else ``origin``. A second push
        sends nothing (``up_to_date``). Raises ``GitCommandError`` when git fails."""
        raw = self._native().push(self._sessions(session_id, all_sessions), remote)
        return PushResult.from_dict(json.loads(raw))

    def pull(
        self,
        session_id: Optional[IdLike] = None,
        *,
        remote: Optional[str] = None,
        all_sessions: bool = False,
        include_deleted: bool = False,
    ) -> PullResult:
        """Fetches checkpoints from a git remote and merges them into the local refs and logs;
        then they work as local ones. Nothing local is dropped or overwritten: ids both sides
        hold differently are in ``conflicts``. Checkpoints deleted here stay deleted unless
        ``include_deleted``."""
        raw = self._native().pull(
            self._sessions(session_id, all_sessions), remote, include_deleted
        )
        return PullResult.from_dict(json.loads(raw))

    # Issue 10: the sessions list.

    def list_sessions(self) -> List[SessionInfo]:
        """Returns every session of the repository, newest first (by its newest checkpoint):
        those with a log under ``.flow/maestro/sessions/`` and those known only from their git
        refs (pulled or fetched; their log is rebuilt first)."""
        raw = self._native().list_sessions()
        return [SessionInfo.from_dict(s) for s in json.loads(raw)]

    # Issue 10: restore of chosen paths.
    def restore_paths(
        self,
        session_id: Optional[IdLike],
        checkpoint_id: IdLike,
        paths: Sequence[PathLike],
        staged: bool = False,
    ) -> PathRestoreResult:
        """Brings back the named files and folders exactly as the checkpoint holds them (content,
        mode, symlinks), after a safety snapshot that ``undo`` returns to. A file under a named
        path that the checkpoint lacks is removed (it is in the safety snapshot). HEAD, the
        branch, every other file and (unless ``staged``) the index stay as they are. Relative
        paths are taken from the current folder when it is inside the work tree, else from the
        top of the work tree. A path outside the repository, or on neither side, raises
        ValueError and changes nothing."""
        if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
            raise TypeError("paths must be a list of paths, not a single string")
        raw = self._native().restore_paths(
            self._session(session_id),
            _id_text(checkpoint_id, "checkpoint_id"),
            [os.fspath(p) for p in paths],
            staged,
        )
        return PathRestoreResult.from_dict(json.loads(raw))

    # Retention (prune).
    def prune(
        self,
        session_id: Optional[IdLike] = None,
        *,
        all_sessions: bool = False,
        keep_last: Optional[int] = None,
        older_than: Union[str, float, timedelta, None] = None,
        include_safety: bool = False,
        dry_run: bool = False,
        gc: bool = False,
        remote: Optional[str] = None,
    ) -> PruneResult:
        """Removes checkpoints beyond ``keep_last`` (the newest kept) or ``older_than`` (a
        duration such as ``"7d"``, seconds, or a ``timedelta``); with neither, git config
        ``checkpoint-manager.keepLast`` / ``checkpoint-manager.maxAge`` apply. They move to
        ``refs/checkpoint-trash/`` (recoverable); deleted checkpoints already there and beyond the
        same limits are deleted for good, and ``gc=True`` reclaims their bytes. A session's newest
        checkpoint always stays, and so do safety snapshots undo or redo need unless
        ``include_safety``. ``remote`` also deletes the removed refs there (``GitCommandError``
        when that fails, after pruning here)."""
        if keep_last is not None and keep_last < 0:
            raise CheckpointValueError(f"keep_last {keep_last}: expected 0 or more")
        raw = self._native().prune(
            self._sessions(session_id, all_sessions),
            keep_last,
            _duration_text(older_than),
            include_safety,
            dry_run,
            gc,
            remote,
        )
        return PruneResult.from_dict(json.loads(raw))

    def __repr__(self) -> str:
        return (
            f"CheckpointManager(repo_root={str(self.repo_root)!r}, session_id={self.session_id!r})"
        )

    # Issue 10: diff.
    def diff(
        self,
        session_id: Optional[IdLike],
        from_id: IdLike,
        to_id: Optional[IdLike] = None,
        patch: bool = False,
    ) -> DiffReport:
        """Returns what changed from checkpoint ``from_id`` to checkpoint ``to_id``, or to the
        files as they are now when ``to_id`` is None (what a snapshot would capture; nothing is
        written that the user can see). With ``patch=True`` each file carries its unified diff.
        Raises ``CheckpointNotFoundError`` for an unknown session or checkpoint."""
        raw = self._native().diff(
            self._session(session_id),
            _id_text(from_id, "from_id"),
            None if to_id is None else _id_text(to_id, "to_id"),
            patch,
        )
        return DiffReport.from_dict(json.loads(raw))


def _duration_text(value: Union[str, float, timedelta, None]) -> Optional[str]:
    """A duration as the library reads it: text as given (``"7d"``), numbers as whole seconds."""
    if value is None or isinstance(value, str):
        return value
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise CheckpointValueError(f"older_than {value}: expected a duration of 0 or more")
    return str(int(seconds))
