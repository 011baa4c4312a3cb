"""prune (issue 10 retention, issue 12 prune on a remote): typed results, the trash, the newest
checkpoint kept, dry runs, limits from git config (create prunes beyond them with a
UserWarning), bad input refused with nothing changed."""

from __future__ import annotations

import subprocess
import uuid
import warnings
from datetime import timedelta
from pathlib import Path
from typing import List

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointPhase,
    CheckpointValueError,
    GitCommandError,
    PrunedCheckpoint,
    PruneResult,
)
from support import Repo, make_repo


def three(repo: Repo, manager: CheckpointManager) -> List[str]:
    ids = []
    for n in range(3):
        repo.write("src/app.py", f"print({n})\n")
        ids.append(manager.create_checkpoint(None, f"c{n}", "implement").checkpoint_id)
    return ids


def refs(repo: Repo, prefix: str) -> List[str]:
    out = repo.git("for-each-ref", "--format=%(refname)", prefix)
    return out.splitlines() if out else []


def test_prune_moves_the_older_checkpoints_to_the_trash(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    session = str(uuid.uuid4())
    manager = CheckpointManager(str(repo.path), session_id=session)
    c0, c1, c2 = three(repo, manager)

    result = manager.prune(keep_last=1)

    assert isinstance(result, PruneResult)
    assert all(isinstance(p, PrunedCheckpoint) for p in result.removed)
    assert {p.checkpoint_id for p in result.removed} == {c0, c1}
    assert {p.phase for p in result.removed} == {CheckpointPhase.IMPLEMENT}
    assert result.purged == [] and not result.dry_run and not result.gc
    assert [c.checkpoint_id for c in manager.list_checkpoints(None)] == [c2]
    assert refs(repo, f"refs/checkpoints/{session}/") == [f"refs/checkpoints/{session}/{c2}"]
    assert sorted(refs(repo, "refs/checkpoint-trash/")) == sorted(
        f"refs/checkpoint-trash/{session}/{c}" for c in (c0, c1)
    )
    assert repo.git("tag", "--list") == f"checkpoint-{c2}"


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    manager = CheckpointManager(str(repo.path), session_id=str(uuid.uuid4()))
    three(repo, manager)
    before = repo.git("for-each-ref")

    result = manager.prune(keep_last=1, dry_run=True, older_than=timedelta(days=7))

    assert result.dry_run and len(result.removed) == 2
    assert result.older_than_seconds == 7 * 86400
    assert repo.git("for-each-ref") == before
    assert len(manager.list_checkpoints(None)) == 3


def test_all_sessions_and_limits_from_git_config(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    first = CheckpointManager(str(repo.path), session_id=str(uuid.uuid4()))
    second = CheckpointManager(str(repo.path), session_id=str(uuid.uuid4()))
    three(repo, first)
    three(repo, second)
    with pytest.raises(CheckpointValueError, match="checkpoint-manager.keepLast"):
        first.prune(all_sessions=True)

    repo.git("config", "checkpoint-manager.keepLast", "2")
    result = first.prune(all_sessions=True)

    assert result.keep_last == 2 and len(result.removed) == 2
    assert len(first.list_checkpoints(None)) == 2
    assert len(second.list_checkpoints(None)) == 2


def test_create_prunes_beyond_the_configured_limit_with_a_warning(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    repo.git("config", "checkpoint-manager.keepLast", "1")
    manager = CheckpointManager(str(repo.path), session_id=str(uuid.uuid4()))
    repo.write("src/app.py", "print(1)\n")
    manager.create_checkpoint(None, "one", "implement", snapshot=True)
    repo.write("src/app.py", "print(2)\n")
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")
        kept = manager.create_checkpoint(None, "two", "implement", snapshot=True)
    assert [c.checkpoint_id for c in manager.list_checkpoints(None)] == [kept.checkpoint_id]
    assert any("pruned session" in str(w.message) for w in heard), [str(w.message) for w in heard]


def test_bad_input_is_refused_with_nothing_changed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    manager = CheckpointManager(str(repo.path), session_id=str(uuid.uuid4()))
    three(repo, manager)
    before = repo.git("for-each-ref")
    with pytest.raises(CheckpointValueError, match="fortnight"):
        manager.prune(older_than="3 fortnights")
    with pytest.raises(CheckpointValueError):
        manager.prune(keep_last=-1)
    with pytest.raises(CheckpointValueError):
        manager.prune(session_id=str(uuid.uuid4()), all_sessions=True, keep_last=1)
    assert repo.git("for-each-ref") == before


def test_a_remote_is_pruned_too_and_its_failure_raises_after_pruning_here(
    tmp_path: Path,
) -> None:
    remote = tmp_path / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "r")
    session = str(uuid.uuid4())
    manager = CheckpointManager(str(repo.path), session_id=session)
    c0, c1, c2 = three(repo, manager)
    manager.push(remote=str(remote))

    result = manager.prune(keep_last=2, remote=str(remote))

    assert result.remote == str(remote)
    assert sorted(result.remote_removed) == sorted(
        [f"refs/checkpoints/{session}/{c0}", f"refs/tags/checkpoint-{c0}"]
    )
    with pytest.raises(GitCommandError, match="1 checkpoint"):
        manager.prune(keep_last=1, remote=str(tmp_path / "missing.git"))
    assert [c.checkpoint_id for c in manager.list_checkpoints(None)] == [c2]
