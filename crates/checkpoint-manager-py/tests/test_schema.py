"""The JSON Schema of checkpoints.json: the committed file is what the library generates, it is
a valid draft 2020-12 schema, logs of every kind match it, and broken logs do not."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any, Dict, List, Tuple

import pytest

import checkpoint_manager
from checkpoint_manager import CheckpointManager, CheckpointPhase, CheckpointType, StateSnapshot
from support import SCHEMA, Repo, make_repo, run_module, schema_validator

# The spec's example log, with its placeholder ids made UUIDs.
SPEC_LOG: Dict[str, Any] = {
    "session_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "generated_at": "2024-01-07T13:00:00Z",
    "checkpoints": [
        {
            "checkpoint_id": "0b7d2a57-3c4e-4f5a-9b6c-7d8e9f0a1b2c",
            "commit_sha": "abc123",
            "timestamp": "2024-01-07T13:00:00Z",
            "description": "Planning phase completed",
            "phase": "plan",
            "checkpoint_type": "phase_complete",
            "tags": ["checkpoint-0b7d2a57-3c4e-4f5a-9b6c-7d8e9f0a1b2c"],
            "rollback_used": False,
            "rollback_count": 0,
        }
    ],
    "summary": {
        "total_checkpoints": 1,
        "checkpoints_by_type": {"phase_complete": 1},
        "checkpoints_used_for_rollback": 0,
        "latest_checkpoint": "abc123",
    },
}


def errors(log: Dict[str, Any]) -> List[str]:
    return [e.message for e in schema_validator().iter_errors(log)]


def test_the_committed_schema_is_the_library_s() -> None:
    assert json.loads(SCHEMA.read_text()) == checkpoint_manager.log_schema()


def test_checkpoint_manager_schema_prints_the_committed_file(tmp_path: Any) -> None:
    result = run_module("schema", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == SCHEMA.read_text()


def test_the_spec_s_example_log_matches() -> None:
    assert errors(SPEC_LOG) == []


@pytest.mark.parametrize(
    "path, value, complaint",
    [
        (("session_id",), "uuid-string", "does not match"),
        (("checkpoints", 0, "checkpoint_id"), "../../etc", "does not match"),
        (("checkpoints", 0, "phase"), "planning", "is not one of"),
        (("checkpoints", 0, "checkpoint_type"), "urgent", "is not valid under any"),
        (("checkpoints", 0, "rollback_count"), -1, "less than the minimum"),
        (("checkpoints", 0, "state_snapshot"), {"bogus": 1}, "is not valid under any"),
        (("summary", "checkpoints_by_type"), {"urgent": 1}, "is not valid under any"),
    ],
)
def test_broken_logs_do_not_match(path: Tuple[Any, ...], value: Any, complaint: str) -> None:
    log = copy.deepcopy(SPEC_LOG)
    target: Any = log
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    found = errors(log)
    assert found and any(complaint in e for e in found), found


def test_logs_of_every_kind_of_checkpoint_match(repo: Repo) -> None:
    sid = str(uuid.uuid4())
    manager = CheckpointManager()
    tagged = manager.create_checkpoint(sid, "tag", CheckpointPhase.PLAN, commit_first=False)
    repo.write("src/app.py", "print('v2')\n")
    manager.create_checkpoint(
        sid,
        "commit\n\nwith a body",
        CheckpointPhase.IMPLEMENT,
        CheckpointType.TASK_GROUP_COMPLETE,
        StateSnapshot(tasks_completed=1, tests_passing=2),
    )
    repo.write("big.bin", "x" * 2048)
    make_repo(repo.path / "nested")  # a repository inside the work tree: never captured
    small = CheckpointManager(max_file_size=1024)
    snap = small.create_checkpoint(sid, "snapshot", CheckpointPhase.VALIDATE, snapshot=True)
    manager.rollback_to_checkpoint(sid, tagged.checkpoint_id, hard_reset=True)
    manager.undo_rollback(sid)
    manager.delete_checkpoint(sid, snap.checkpoint_id, delete_tag=False)

    log = repo.log(sid)
    assert {c["mode"] for c in log["checkpoints"]} == {"tag", "commit"}
    assert not any(c.get("snapshot", {}).get("safety") for c in log["checkpoints"])
    assert log["safety_snapshots"] and all(c["snapshot"]["safety"] for c in log["safety_snapshots"])
    assert [o["kind"] for o in log["operations"]] == ["rollback", "undo"]
    assert snap.snapshot is not None and {s.reason for s in snap.snapshot.skipped} == {
        "too_large",
        "nested_repository",
    }
    assert errors(log) == []
