"""Issue 9: the full results behind the spec's ``True`` (``rollback`` and ``undo``), commit
mode's size cap seen from Python, and empty descriptions refused."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any, Dict, List

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointPhase,
    CheckpointValueError,
    ResetMode,
    RollbackResult,
)
from support import Repo


@pytest.fixture
def sid() -> str:
    return str(uuid.uuid4())


def test_rollback_returns_the_whole_result(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    repo.write("a.txt", "one\n")
    cp = manager.create_checkpoint(sid, "one", CheckpointPhase.IMPLEMENT, snapshot=True)
    repo.write("new.txt", "created after\n")
    result = manager.rollback(sid, cp.checkpoint_id, hard_reset=True)
    assert isinstance(result, RollbackResult)
    assert result.success is True
    assert result.checkpoint_id == cp.checkpoint_id
    assert result.commit_sha == cp.commit_sha
    assert result.mode is ResetMode.HARD
    assert result.head == repo.git("rev-parse", "HEAD")
    assert result.removed_paths == ["new.txt"]
    assert not (repo.path / "new.txt").exists()
    # The safety snapshot is a real checkpoint of the session, and holds new.txt.
    safety = manager.get_checkpoint(sid, result.safety_checkpoint_id)
    assert safety.snapshot is not None and safety.snapshot.safety
    assert repo.git("show", f"{safety.commit_sha}:new.txt") == "created after"
    assert result.branch_moved is None


def test_undo_returns_the_whole_result(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    repo.write("a.txt", "one\n")
    cp = manager.create_checkpoint(sid, "one", CheckpointPhase.IMPLEMENT)
    repo.write("a.txt", "two\n")
    rolled = manager.rollback(sid, cp.checkpoint_id)
    assert rolled.mode is ResetMode.MIXED and rolled.removed_paths == []
    undone = manager.undo(sid)
    assert undone.success and undone.mode is ResetMode.HARD
    assert undone.checkpoint_id == rolled.safety_checkpoint_id
    assert undone.safety_checkpoint_id not in (rolled.safety_checkpoint_id, cp.checkpoint_id)
    assert (repo.path / "a.txt").read_text() == "two\n"
    # The spec's methods still return True.
    assert manager.rollback_to_checkpoint(sid, cp.checkpoint_id) is True
    assert manager.undo_rollback(sid) is True


def test_the_result_carries_the_library_s_fields_it_does_not_name_yet() -> None:
    outcome: Dict[str, Any] = {
        "success": True,
        "checkpoint_id": str(uuid.uuid4()),
        "commit_sha": "a" * 40,
        "mode": "hard",
        "head": "b" * 40,
        "safety_checkpoint_id": str(uuid.uuid4()),
        "branch_moved": {"branch": "main", "old": "c" * 40, "new": "d" * 40, "why": "x"},
        "notices": ["something new"],
    }
    result = RollbackResult.from_dict(json.loads(json.dumps(outcome)))
    assert result.removed_paths == []
    assert result.branch_moved is not None
    assert (result.branch_moved.branch, result.branch_moved.old, result.branch_moved.new) == (
        "main",
        "c" * 40,
        "d" * 40,
    )
    assert result.branch_moved.extra == {"why": "x"}
    assert result.extra == {"notices": ["something new"]}
    names: List[str] = [f.name for f in dataclasses.fields(RollbackResult)]
    assert names == [
        "success",
        "checkpoint_id",
        "commit_sha",
        "mode",
        "head",
        "safety_checkpoint_id",
        "removed_paths",
        "branch_moved",
        "extra",
    ]


@pytest.mark.parametrize("description", ["", "   ", "\n"])
def test_an_empty_description_is_a_value_error(repo: Repo, sid: str, description: str) -> None:
    manager = CheckpointManager()
    repo.write("a.txt", "work\n")
    head = repo.git("rev-parse", "HEAD")
    with pytest.raises(ValueError, match="invalid description: it is empty"):
        manager.create_checkpoint(sid, description, CheckpointPhase.PLAN)
    with pytest.raises(CheckpointValueError):
        manager.create_checkpoint(sid, description, CheckpointPhase.PLAN, snapshot=True)
    assert repo.git("rev-parse", "HEAD") == head
    assert manager.list_checkpoints(sid) == []


def test_commit_mode_leaves_files_over_the_cap_out(repo: Repo, sid: str) -> None:
    manager = CheckpointManager(max_file_size=10)
    repo.write("big.bin", "x" * 20)
    repo.write("small.txt", "s\n")
    cp = manager.create_checkpoint(sid, "work", CheckpointPhase.IMPLEMENT)
    assert [(s.path, s.reason, s.size) for s in cp.skipped] == [("big.bin", "too_large", 20)]
    committed = repo.git("ls-tree", "-r", "--name-only", cp.commit_sha).splitlines()
    assert "small.txt" in committed and "big.bin" not in committed
    assert (repo.path / "big.bin").read_text() == "x" * 20
    assert repo.git("status", "--porcelain") == "?? big.bin"
    assert repo.log(sid)["checkpoints"][0] == cp.to_dict()
