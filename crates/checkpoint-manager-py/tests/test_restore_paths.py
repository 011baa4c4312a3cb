"""Issue 10: ``CheckpointManager.restore_paths`` against real repositories: the named files come
back byte for byte, nothing else changes, ``staged`` sets the index entries, ``undo`` takes the
restore back, and refused paths raise ValueError and change nothing."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointPhase,
    CheckpointValueError,
    PathRestoreResult,
)
from support import Repo


@pytest.fixture
def sid() -> str:
    return str(uuid.uuid4())


def changed_since_checkpoint(repo: Repo, sid: str, *, snapshot: bool) -> str:
    repo.write("src/app.py", "print('v1')\n")
    repo.write("src/util.py", "UTIL = 1\n")
    repo.write("README.md", "readme v1\n")
    cp = CheckpointManager().create_checkpoint(
        sid, "before", CheckpointPhase.IMPLEMENT, snapshot=snapshot
    )
    repo.write("src/app.py", "print('v2')\n")
    os.remove(repo.path / "src/util.py")
    repo.write("src/new.py", "NEW = True\n")
    repo.write("README.md", "readme v2\n")
    return cp.checkpoint_id


@pytest.mark.parametrize("snapshot", [False, True])
def test_named_paths_come_back_and_nothing_else_changes(
    repo: Repo, sid: str, snapshot: bool
) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=snapshot)
    head = repo.head()
    index = (repo.path / ".git/index").read_bytes()

    result = CheckpointManager().restore_paths(sid, cp, ["src"])

    assert isinstance(result, PathRestoreResult)
    assert result.success and not result.staged
    assert result.restored_paths == ["src/app.py", "src/util.py"]
    assert result.removed_paths == ["src/new.py"]
    assert result.operation is not None and result.operation.kind == "restore"
    assert repo.read("src/app.py") == "print('v1')\n"
    assert repo.read("src/util.py") == "UTIL = 1\n"
    assert not repo.exists("src/new.py")
    assert repo.read("README.md") == "readme v2\n", "an unnamed file is untouched"
    assert repo.head() == head
    assert (repo.path / ".git/index").read_bytes() == index


def test_staged_sets_the_index_and_undo_takes_the_restore_back(repo: Repo, sid: str) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=False)
    manager = CheckpointManager()
    result = manager.restore_paths(sid, cp, [Path("src/app.py")], staged=True)
    assert result.staged
    assert repo.git("diff", "--cached", "--name-only", cp_sha(repo, manager, sid, cp)) == ""

    undone = manager.undo(sid)
    assert undone.checkpoint_id == result.safety_checkpoint_id
    assert repo.read("src/app.py") == "print('v2')\n"
    assert repo.exists("src/new.py")


def cp_sha(repo: Repo, manager: CheckpointManager, sid: str, cp: str) -> str:
    return manager.get_checkpoint(sid, cp).commit_sha


def test_relative_paths_start_from_the_current_folder(
    repo: Repo, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=True)
    monkeypatch.chdir(repo.path / "src")
    result = CheckpointManager().restore_paths(sid, cp, ["app.py"])
    assert result.restored_paths == ["src/app.py"]


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "no-such-file", ".git/HEAD"])
def test_refused_paths_raise_value_error_and_change_nothing(
    repo: Repo, sid: str, path: str
) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=True)
    log = repo.log_file(sid).read_bytes()
    refs = repo.git("for-each-ref")
    with pytest.raises(CheckpointValueError, match="cannot restore"):
        CheckpointManager().restore_paths(sid, cp, ["src/app.py", path])
    assert repo.read("src/app.py") == "print('v2')\n"
    assert repo.log_file(sid).read_bytes() == log
    assert repo.git("for-each-ref") == refs
    with pytest.raises(ValueError):
        CheckpointManager().restore_paths(sid, cp, [])


def test_a_single_string_is_not_a_list_of_paths(repo: Repo, sid: str) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=True)
    with pytest.raises(TypeError, match="list of paths"):
        CheckpointManager().restore_paths(sid, cp, "src")


def test_a_restore_that_changes_nothing_records_nothing(repo: Repo, sid: str) -> None:
    cp = changed_since_checkpoint(repo, sid, snapshot=True)
    manager = CheckpointManager()
    first = manager.restore_paths(sid, cp, ["src"])
    again = manager.restore_paths(sid, cp, ["src"])
    assert (again.restored_paths, again.removed_paths) == ([], [])
    assert again.safety_checkpoint_id is None and again.operation is None
    assert [o["kind"] for o in repo.log(sid)["operations"]] == ["restore"]
    assert manager.undo(sid).checkpoint_id == first.safety_checkpoint_id
