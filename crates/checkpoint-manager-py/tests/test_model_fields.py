"""The dataclasses of ``_models.py`` copy the Rust model by hand; these tests pin them to it: every
property the committed JSON Schema (``checkpoint-manager schema``) gives an object of the log is a
field of the matching dataclass, and every field of the dataclass is a property of the schema."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any, Dict, Set

import pytest

from checkpoint_manager import (
    Checkpoint,
    CheckpointManager,
    CheckpointPhase,
    CheckpointSummary,
    Operation,
    SkippedPath,
    SnapshotInfo,
    StateSnapshot,
)
from support import SCHEMA, Repo

# The schema's `$defs` name -> the dataclass that holds it in Python.
PAIRS: Dict[str, Any] = {
    "Checkpoint": Checkpoint,
    "SnapshotInfo": SnapshotInfo,
    "Operation": Operation,
    "CheckpointSummary": CheckpointSummary,
    "StateSnapshot": StateSnapshot,
    "SkippedPath": SkippedPath,
}


def schema_properties(name: str) -> Set[str]:
    schema: Dict[str, Any] = json.loads(SCHEMA.read_text())
    return set(schema["$defs"][name]["properties"])


def test_the_log_s_summary_is_the_summary_type() -> None:
    schema: Dict[str, Any] = json.loads(SCHEMA.read_text())
    assert schema["properties"]["summary"]["$ref"] == "#/$defs/CheckpointSummary"


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_every_schema_field_is_a_dataclass_field_and_back(name: str) -> None:
    ours = {f.name for f in dataclasses.fields(PAIRS[name])}
    theirs = schema_properties(name)
    assert theirs - ours == set(), f"{name}: the dataclass lacks these fields of the schema"
    assert ours - theirs == set(), f"{name}: the schema has no such fields"


def test_a_real_log_reads_into_the_dataclasses_and_writes_back_the_same(repo: Repo) -> None:
    sid = str(uuid.uuid4())
    manager = CheckpointManager()
    first = manager.create_checkpoint(sid, "first", CheckpointPhase.PLAN, commit_first=False)
    repo.write("src/app.py", "print('v2')\n")
    manager.create_checkpoint(sid, "snapshot", CheckpointPhase.IMPLEMENT, snapshot=True)
    manager.rollback_to_checkpoint(sid, first.checkpoint_id, hard_reset=True)
    manager.undo_rollback(sid)

    log = repo.log(sid)
    records = log["checkpoints"] + log["safety_snapshots"]
    assert any("snapshot" in c for c in records) and log["operations"]
    for record in records:
        assert Checkpoint.from_dict(record).to_dict() == record
    for entry in log["operations"]:
        assert Operation.from_dict(entry).to_dict() == entry
    summary = CheckpointSummary.from_dict(log["summary"])
    assert dataclasses.asdict(summary) == log["summary"]
