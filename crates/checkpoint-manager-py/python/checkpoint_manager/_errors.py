"""The exceptions of checkpoint_manager, one per kind of failure of the Rust library.

Each is a subclass of the built-in exception the spec promises, so ``except ValueError``,
``except FileNotFoundError`` and ``except subprocess.SubprocessError`` work as written there, and
of ``CheckpointManagerError``, which catches them all. ``exit_code`` is the code the command
line exits with for the same failure.
"""

from __future__ import annotations

import subprocess

__all__ = [
    "CheckpointManagerError",
    "CheckpointValueError",
    "CheckpointNotFoundError",
    "GitCommandError",
    "LockTimeoutError",
    "CheckpointIOError",
]


class CheckpointManagerError(Exception):
    """Any failure reported by checkpoint_manager."""

    exit_code: int = 1


class CheckpointValueError(CheckpointManagerError, ValueError):
    """Invalid input (an id that is not a UUID, an unknown phase) or a repository state that
    forbids the operation (not a work tree, a merge in progress, uncommitted changes with
    ``commit_first=False``)."""

    exit_code = 3


class CheckpointNotFoundError(CheckpointManagerError, FileNotFoundError):
    """An unknown session or checkpoint, or nothing to undo."""

    exit_code = 4


class GitCommandError(CheckpointManagerError, subprocess.SubprocessError):
    """A git command failed (the message holds git's own), or git is missing."""

    exit_code = 5


class LockTimeoutError(CheckpointManagerError, TimeoutError):
    """Another process held the repository or session lock for longer than ``lock_timeout``."""

    exit_code = 6


class CheckpointIOError(CheckpointManagerError, OSError):
    """A file could not be read or written."""

    exit_code = 1
