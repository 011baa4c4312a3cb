"""Issue 10: ``list_sessions`` and short checkpoint ids through the Python API, against real
repositories: every method that takes a checkpoint id takes a unique prefix of at least 4 hex
digits, resolved by the same library function as the command line."""

from __future__ import annotations

import json
import uuid

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointNotFoundError,
    CheckpointPhase,
    CheckpointValueError,
    SessionInfo,
)
from support import Repo


def test_list_sessions_newest_first_with_counts(repo: Repo) -> None:
    manager = CheckpointManager()
    assert manager.list_sessions() == []
    older, newer = str(uuid.uuid4()), str(uuid.uuid4())
    first = manager.create_checkpoint(older, "first", CheckpointPhase.PLAN, snapshot=True)
    repo.write("a.txt", "changed\n")
    manager.create_checkpoint(older, "second", CheckpointPhase.IMPLEMENT, snapshot=True)
    manager.rollback(older, first.checkpoint_id, hard_reset=True)
    only = manager.create_checkpoint(newer, "only", CheckpointPhase.CLEANUP, snapshot=True)

    listed = manager.list_sessions()
    assert [s.session_id for s in listed] == [newer, older]
    assert listed[0] == SessionInfo(
        session_id=newer,
        checkpoints=1,
        first=only.timestamp,
        last=only.timestamp,
        latest_phase=CheckpointPhase.CLEANUP,
        rollbacks=0,
    )
    assert listed[1].checkpoints == 2, "the rollback's safety snapshot is not counted"
    assert listed[1].latest_phase is CheckpointPhase.IMPLEMENT
    assert listed[1].first == first.timestamp
    assert listed[1].rollbacks == 1


def test_a_unique_prefix_names_a_checkpoint_everywhere_an_id_is_taken(repo: Repo) -> None:
    manager = CheckpointManager()
    sid = str(uuid.uuid4())
    repo.write("a.txt", "one\n")
    one = manager.create_checkpoint(sid, "one", CheckpointPhase.PLAN, snapshot=True)
    repo.write("a.txt", "two\n")
    two = manager.create_checkpoint(sid, "two", CheckpointPhase.PLAN, snapshot=True)
    a, b = one.checkpoint_id.replace("-", ""), two.checkpoint_id.replace("-", "")
    shared = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
    prefix = a[: max(shared + 1, 4)]

    assert manager.get_checkpoint(sid, prefix).checkpoint_id == one.checkpoint_id
    assert manager.get_checkpoint(sid, prefix.upper()).checkpoint_id == one.checkpoint_id
    result = manager.rollback(sid, prefix, hard_reset=True)
    assert result.checkpoint_id == one.checkpoint_id
    assert repo.read("a.txt") == "one\n"
    assert manager.delete_checkpoint(sid, b[: max(shared + 1, 4)])
    assert [c.checkpoint_id for c in manager.list_checkpoints(sid)] == [one.checkpoint_id]


def test_bad_ambiguous_and_unknown_prefixes_raise_the_spec_s_errors(repo: Repo) -> None:
    manager = CheckpointManager()
    sid = str(uuid.uuid4())
    one = manager.create_checkpoint(sid, "one", CheckpointPhase.PLAN, snapshot=True)
    # A twin record sharing the first 8 digits makes the ambiguity deterministic.
    log = repo.log(sid)
    twin = dict(log["checkpoints"][0])
    ninth = "1" if one.checkpoint_id[9] == "0" else "0"
    twin["checkpoint_id"] = f"{one.checkpoint_id[:8]}-{ninth}000-4000-8000-000000000000"
    log["checkpoints"].append(twin)
    repo.log_file(sid).write_text(json.dumps(log))

    with pytest.raises(CheckpointValueError, match="is ambiguous") as ambiguous:
        manager.get_checkpoint(sid, one.checkpoint_id[:8])
    assert one.checkpoint_id in str(ambiguous.value)
    assert twin["checkpoint_id"] in str(ambiguous.value)
    with pytest.raises(ValueError, match="at least 4 hex digits"):
        manager.rollback(sid, "abc")
    unknown = ("0" if one.checkpoint_id[0] != "0" else "1") * 8
    with pytest.raises(FileNotFoundError):
        manager.delete_checkpoint(sid, unknown)
    with pytest.raises(CheckpointNotFoundError):
        manager.get_checkpoint(sid, unknown)
    assert manager.get_checkpoint(sid, one.checkpoint_id[:10]).checkpoint_id == one.checkpoint_id
