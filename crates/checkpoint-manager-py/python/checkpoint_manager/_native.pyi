# Type stubs of the Rust extension `checkpoint_manager._native` (crates/checkpoint-manager-py/src/lib.rs).
# Ids, phases, types and modes cross as strings; results come back as JSON text.

from pathlib import Path
from typing import List, Optional

VERSION: str
DEFAULT_LOCK_TIMEOUT: float
DEFAULT_MAX_FILE_SIZE: Optional[int]

class Manager:
    def __init__(self, path: str, lock_timeout: float, max_file_size: Optional[int]) -> None: ...
    @property
    def workdir(self) -> Path: ...
    def create(
        self,
        session_id: str,
        description: str,
        phase: str,
        checkpoint_type: str,
        state_snapshot: Optional[str],
        mode: str,
        include: List[str] = ...,
    ) -> str: ...
    def list(self, session_id: str, include_safety: bool = False) -> str: ...
    def get(self, session_id: str, checkpoint_id: str) -> str: ...
    def summary(self, session_id: str) -> str: ...
    def rollback(self, session_id: str, checkpoint_id: str, hard_reset: bool) -> str: ...
    def undo(self, session_id: str) -> str: ...
    def delete(self, session_id: str, checkpoint_id: str, delete_tag: bool) -> str: ...
    def repair(self, session_id: str) -> str: ...
    def push(self, session_id: Optional[str] = None, remote: Optional[str] = None) -> str: ...
    def pull(
        self,
        session_id: Optional[str] = None,
        remote: Optional[str] = None,
        include_deleted: bool = False,
    ) -> str: ...
    # Issue 10: the sessions list.
    def list_sessions(self) -> str: ...
    # Issue 10: diff.
    def diff(
        self,
        session_id: str,
        from_id: str,
        to_id: Optional[str] = None,
        patch: bool = False,
    ) -> str: ...
    def restore_paths(
        self,
        session_id: str,
        checkpoint_id: str,
        paths: List[str],
        staged: bool = False,
    ) -> str: ...
    def prune(
        self,
        session_id: Optional[str] = None,
        keep_last: Optional[int] = None,
        older_than: Optional[str] = None,
        include_safety: bool = False,
        dry_run: bool = False,
        gc: bool = False,
        remote: Optional[str] = None,
    ) -> str: ...

def validate_at(
    path: str, test_command: Optional[str] = None, test_timeout: Optional[float] = None
) -> str: ...
def log_schema() -> str: ...
def run_cli(args: List[str]) -> int: ...
