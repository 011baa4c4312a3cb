"""Every Python example of the spec, run as written against a real repository, and what it did
checked through git and the checkpoint log.

The examples are fragments of one session: later ones use the `manager` and `session_id` the
first one made, and call helpers the spec leaves to the reader (`perform_migration`,
`make_changes`). Each test runs the fragments in one namespace and supplies those helpers. The
only change to the text is the session id: the spec's placeholder "uuid-string" is not a UUID, and
ids are validated as UUIDs (the unchanged text is run too, and refused).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import typing
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Dict

import pytest

from checkpoint_manager import Checkpoint, CheckpointPhase, CheckpointType, StateSnapshot
from spec_examples import (
    ALL,
    BASIC_CHECKPOINT_CREATION,
    CHECKPOINT_WITH_STATE_SNAPSHOT,
    DATA_MODEL_CHECKPOINT,
    DATA_MODEL_STATE_SNAPSHOT,
    ERROR_HANDLING,
    LISTING_CHECKPOINTS,
    PRE_OPERATION_SAFETY_CHECKPOINT,
    ROLLBACK_WORKFLOW,
)
from support import REPO_ROOT, Repo

Namespace = Dict[str, Any]

SPEC = REPO_ROOT.parent / "shared" / "spec" / "CHECKPOINT_MANAGER.md"


def run(source: str, ns: Namespace, name: str = "spec example") -> Namespace:
    exec(compile(source, f"<{name}>", "exec"), ns)
    return ns


def start_session(session_id: str) -> Namespace:
    """Runs "Basic Checkpoint Creation" with a real session id; returns its namespace."""
    assert BASIC_CHECKPOINT_CREATION.count('"uuid-string"') == 1
    source = BASIC_CHECKPOINT_CREATION.replace('"uuid-string"', repr(session_id))
    return run(source, {}, "Basic Checkpoint Creation")


def iso8601(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def session_id() -> str:
    return str(uuid.uuid4())


def test_examples_are_the_spec_s(tmp_path: Path) -> None:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the repository ({SPEC})")
    blocks = re.findall(r"```python\n(.*?)```", SPEC.read_text(), re.S)
    for name, source in ALL.items():
        assert source in blocks, f"{name} is no longer a code block of the spec"
    skipped = [b for b in blocks if b not in ALL.values()]
    assert len(skipped) == 1 and "SessionManager" in skipped[0]


def test_the_checkpoint_dataclass_has_the_spec_s_fields_in_order() -> None:
    spec_fields = re.findall(r"^    (\w+): (.+?)\s+#", DATA_MODEL_CHECKPOINT, re.M)
    ours = [(f.name, f.type) for f in dataclasses.fields(Checkpoint)]
    assert ours[: len(spec_fields)] == spec_fields
    assert [name for name, _ in ours[len(spec_fields) :]] == ["mode", "snapshot", "skipped"]
    hints = typing.get_type_hints(Checkpoint)
    assert hints["phase"] is CheckpointPhase and hints["checkpoint_type"] is CheckpointType


def test_the_state_snapshot_dataclass_is_the_spec_s() -> None:
    spec_ns = run("from dataclasses import dataclass\n" + DATA_MODEL_STATE_SNAPSHOT, {})
    spec_cls = spec_ns["StateSnapshot"]
    assert [(f.name, f.default) for f in dataclasses.fields(StateSnapshot)] == [
        (f.name, f.default) for f in dataclasses.fields(spec_cls)
    ]
    assert dataclasses.asdict(StateSnapshot()) == dataclasses.asdict(spec_cls())


def test_basic_checkpoint_creation(
    repo: Repo, session_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head = repo.head()
    ns = start_session(session_id)

    cp = ns["checkpoint"]
    assert isinstance(cp, Checkpoint)
    assert capsys.readouterr().out == (
        f"Created checkpoint: {cp.checkpoint_id}\nCommit SHA: {cp.commit_sha}\n"
    )
    assert str(uuid.UUID(cp.checkpoint_id)) == cp.checkpoint_id
    # commit_first=False: HEAD is tagged as it is, nothing is committed.
    assert cp.commit_sha == head == repo.head()
    assert repo.git("rev-list", "--count", "HEAD") == "1"
    assert cp.commit_message is None
    assert cp.phase is CheckpointPhase.PLAN
    assert cp.checkpoint_type is CheckpointType.PHASE_COMPLETE
    assert cp.tags == [f"checkpoint-{cp.checkpoint_id}"]
    assert repo.ref(f"refs/tags/checkpoint-{cp.checkpoint_id}") == head
    assert repo.ref(f"refs/checkpoints/{session_id}/{cp.checkpoint_id}") == head
    assert (cp.rollback_used, cp.rollback_count) == (False, 0)
    iso8601(cp.timestamp)
    # The log is the spec's layout; the tool's folder never shows in `git status`.
    log = repo.log(session_id)
    assert log["session_id"] == session_id
    assert [c["checkpoint_id"] for c in log["checkpoints"]] == [cp.checkpoint_id]
    assert log["checkpoints"][0] == cp.to_dict()
    assert log["summary"] == {
        "total_checkpoints": 1,
        "checkpoints_by_type": {"phase_complete": 1},
        "checkpoints_used_for_rollback": 0,
        "latest_checkpoint": head,
    }
    assert repo.status() == []


def test_basic_checkpoint_creation_verbatim_refuses_the_placeholder_session_id(repo: Repo) -> None:
    with pytest.raises(ValueError, match='invalid session id "uuid-string"'):
        run(BASIC_CHECKPOINT_CREATION, {})
    assert not repo.exists(".flow")
    assert repo.git("tag") == ""


def test_checkpoint_with_state_snapshot(repo: Repo, session_id: str) -> None:
    ns = start_session(session_id)
    before = repo.head()
    repo.write("src/app.py", "print('v2')\n")
    repo.write("src/models.py", "class Model: ...\n")

    run(CHECKPOINT_WITH_STATE_SNAPSHOT, ns, "Checkpoint with State Snapshot")

    cp = ns["checkpoint"]
    # commit_first defaults to True: the changes are committed on the branch, then tagged.
    assert cp.commit_sha == repo.head() != before
    assert repo.git("rev-parse", "HEAD^") == before
    assert repo.git("symbolic-ref", "HEAD") == "refs/heads/main"
    assert repo.git("log", "-1", "--format=%s") == "Checkpoint: Implementation milestone"
    assert repo.git("show", "--format=", "--name-status", "HEAD").splitlines() == [
        "M\tsrc/app.py",
        "A\tsrc/models.py",
    ]
    assert repo.status() == []
    assert cp.commit_message is not None and cp.commit_message.startswith(
        "Checkpoint: Implementation milestone\n"
    )
    assert repo.ref(f"refs/tags/checkpoint-{cp.checkpoint_id}") == cp.commit_sha
    assert cp.state_snapshot == ns["state_snapshot"]
    assert repo.log(session_id)["checkpoints"][1]["state_snapshot"] == {
        "tasks_completed": 15,
        "decisions_made": 8,
        "files_modified": 23,
        "files_created": 12,
        "tests_passing": 42,
        "tests_failing": 0,
    }
    assert ns["manager"].get_checkpoint(session_id, cp.checkpoint_id) == cp


def test_pre_operation_safety_checkpoint(repo: Repo, session_id: str) -> None:
    ns = start_session(session_id)
    migration_commit = []

    def perform_migration() -> None:
        repo.write("db/0001_users.sql", "CREATE TABLE users (id INTEGER);\n")
        migration_commit.append(repo.commit_all("migration, half done"))
        repo.write("src/app.py", "print('migrated')\n")
        raise RuntimeError("the migration failed")

    ns["perform_migration"] = perform_migration
    run(PRE_OPERATION_SAFETY_CHECKPOINT, ns, "Pre-Operation Safety Checkpoint")

    assert ns["validation"].is_valid, ns["validation"]
    safety_cp = ns["safety_cp"]
    assert safety_cp.checkpoint_type is CheckpointType.PRE_RISKY_OPERATION
    # The rollback (mixed, the default) took the branch back; the files stayed.
    assert repo.head() == safety_cp.commit_sha
    assert repo.git("symbolic-ref", "HEAD") == "refs/heads/main"
    assert repo.git("branch", "--contains", migration_commit[0]) == ""
    assert repo.read("src/app.py") == "print('migrated')\n"
    assert sorted(repo.status()) == [" M src/app.py", "?? db/0001_users.sql"]
    manager = ns["manager"]
    after = manager.get_checkpoint(session_id, safety_cp.checkpoint_id)
    assert (after.rollback_used, after.rollback_count) == (True, 1)
    assert manager.get_checkpoint_summary(session_id).checkpoints_used_for_rollback == 1
    # The rollback first took a safety snapshot of the failed state; undo returns to it.
    assert all(not (c.snapshot and c.snapshot.safety) for c in manager.list_checkpoints(session_id))
    listed = manager.list_checkpoints(session_id, include_safety=True)
    safety = [c for c in listed if c.snapshot and c.snapshot.safety]
    assert len(safety) == 1 and safety[0].checkpoint_type is CheckpointType.PRE_RISKY_OPERATION
    assert manager.undo_rollback(session_id) is True
    assert repo.head() == migration_commit[0]
    assert repo.status() == [" M src/app.py"]


def test_listing_checkpoints(
    repo: Repo, session_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = start_session(session_id)
    repo.write("src/app.py", "print('v2')\n")
    run(CHECKPOINT_WITH_STATE_SNAPSHOT, ns, "Checkpoint with State Snapshot")
    capsys.readouterr()

    run(LISTING_CHECKPOINTS, ns, "Listing Checkpoints")

    newest, oldest = ns["checkpoints"]
    assert iso8601(newest.timestamp) >= iso8601(oldest.timestamp)
    assert capsys.readouterr().out == (
        "1. Implementation milestone\n"
        "   Phase: implement\n"
        "   Type: task_group_complete\n"
        f"   Time: {newest.timestamp}\n"
        "2. Planning phase completed\n"
        "   Phase: plan\n"
        "   Type: phase_complete\n"
        f"   Time: {oldest.timestamp}\n"
        "Total: 2\n"
        "By type: {'phase_complete': 1, 'task_group_complete': 1}\n"
    )
    assert ns["summary"].latest_checkpoint == newest.commit_sha == repo.head()


def rollback_workflow(repo: Repo, session_id: str, source: str) -> Namespace:
    ns = start_session(session_id)

    def make_changes() -> None:
        repo.write("src/app.py", "print('broken')\n")
        repo.commit_all("a change that went wrong")
        repo.write("src/extra.py", "EXTRA = 1\n")

    ns["make_changes"] = make_changes
    return run(source, ns, "Rollback Workflow")


def test_rollback_workflow(repo: Repo, session_id: str) -> None:
    ns = rollback_workflow(repo, session_id, ROLLBACK_WORKFLOW)

    stable_cp = ns["stable_cp"]
    assert repo.head() == stable_cp.commit_sha
    assert repo.git("symbolic-ref", "HEAD") == "refs/heads/main"
    # --mixed: the index is the checkpoint's, the working directory is preserved.
    assert repo.git("diff", "--cached", "--name-only") == ""
    assert repo.read("src/app.py") == "print('broken')\n"
    assert sorted(repo.status()) == [" M src/app.py", "?? src/extra.py"]


def test_rollback_workflow_with_hard_reset_and_undo(repo: Repo, session_id: str) -> None:
    assert ROLLBACK_WORKFLOW.count("hard_reset=False") == 1
    ns = rollback_workflow(
        repo, session_id, ROLLBACK_WORKFLOW.replace("hard_reset=False", "hard_reset=True")
    )
    broken = repo.git("rev-parse", "HEAD@{1}")

    assert repo.head() == ns["stable_cp"].commit_sha
    assert repo.read("src/app.py") == "print('v1')\n"
    # Like `git reset --hard`, untracked files are left alone.
    assert repo.status() == ["?? src/extra.py"]
    assert ns["manager"].undo_rollback(session_id) is True
    assert repo.head() == broken
    assert repo.read("src/app.py") == "print('broken')\n"
    assert repo.status() == ["?? src/extra.py"]


# The spec's error-handling example elides the call (`manager.create_checkpoint(...)`); each case
# fills it with a call that reaches one `except` clause.
ERROR_CASES = {
    "ValueError": (
        'manager.create_checkpoint(session_id="uuid-string", description="x", phase=CheckpointPhase.PLAN)',
        'Cannot create checkpoint: invalid session id "uuid-string"',
    ),
    "FileNotFoundError": (
        'manager.get_checkpoint(session_id, "00000000-0000-4000-8000-000000000000")',
        "Not found: checkpoint 00000000-0000-4000-8000-000000000000 not found in session",
    ),
    "SubprocessError": (
        'manager.create_checkpoint(session_id, "x", CheckpointPhase.PLAN)',
        "Git error: git status",
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_handling(
    repo: Repo, session_id: str, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call, expected = ERROR_CASES[case]
    ns = start_session(session_id)
    del ns["checkpoint"]
    ns["subprocess"] = subprocess
    if case == "SubprocessError":
        (repo.path / ".git" / "index").write_text("not an index")
    capsys.readouterr()

    assert ERROR_HANDLING.count("manager.create_checkpoint(...)") == 1
    run(ERROR_HANDLING.replace("manager.create_checkpoint(...)", call), ns, "Error Handling")

    out = capsys.readouterr().out
    assert out.startswith(expected), out
    assert out.count("\n") == 1
    assert "checkpoint" not in ns, "the call should have failed"


def test_every_example_is_covered() -> None:
    covered = {
        "DATA_MODEL_CHECKPOINT",
        "DATA_MODEL_STATE_SNAPSHOT",
        "BASIC_CHECKPOINT_CREATION",
        "CHECKPOINT_WITH_STATE_SNAPSHOT",
        "PRE_OPERATION_SAFETY_CHECKPOINT",
        "LISTING_CHECKPOINTS",
        "ROLLBACK_WORKFLOW",
        "ERROR_HANDLING",
    }
    assert covered == set(ALL)
