"""push and pull through a bare repository by path (issue 12): typed results, a pulled
checkpoint rolls back like a local one, failures raise GitCommandError and change nothing."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointValueError,
    GitCommandError,
    PullResult,
    PushResult,
    RemoteCheckpoint,
)
from support import make_repo


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def test_push_then_pull_on_another_clone(tmp_path: Path) -> None:
    remote = bare(tmp_path / "shared.git")
    session = str(uuid.uuid4())
    a = make_repo(tmp_path / "a")
    a.git("remote", "add", "origin", str(remote))
    a.git("push", "-q", "origin", "main")
    b = make_repo(tmp_path / "b", initial_commit=False)
    b.git("remote", "add", "origin", str(remote))
    b.git("fetch", "-q", "origin", "main")
    b.git("reset", "-q", "--hard", "FETCH_HEAD")

    on_a = CheckpointManager(str(a.path), session_id=session)
    a.write("src/app.py", "print('v2')\n")
    a.write("notes.txt", "untracked\n")
    made = on_a.create_checkpoint(
        None, "snapshot on A", "implement", snapshot=True
    )

    pushed = on_a.push()
    assert isinstance(pushed, PushResult)
    assert pushed.remote == "origin"
    assert pushed.pushed == [f"refs/checkpoints/{session}/{made.checkpoint_id}"]
    assert not pushed.up_to_date
    again = on_a.push()
    assert again.pushed == [] and again.up_to_date

    on_b = CheckpointManager(str(b.path), session_id=session)
    pulled = on_b.pull(remote="origin")
    assert isinstance(pulled, PullResult)
    assert pulled.pulled == [RemoteCheckpoint(session, made.checkpoint_id)]
    assert pulled.conflicts == [] and pulled.skipped_deleted == []
    assert on_b.pull().up_to_date
    assert [c.checkpoint_id for c in on_b.list_checkpoints(None)] == [made.checkpoint_id]
    on_b.rollback_to_checkpoint(None, made.checkpoint_id, hard_reset=True)
    assert b.read("src/app.py") == "print('v2')\n"
    assert b.read("notes.txt") == "untracked\n"
    assert on_a.push(all_sessions=True).up_to_date
    with pytest.raises(CheckpointValueError):
        on_a.push(session, all_sessions=True)


def test_an_unreachable_remote_raises_and_changes_nothing(tmp_path: Path) -> None:
    a = make_repo(tmp_path / "a")
    session = str(uuid.uuid4())
    on_a = CheckpointManager(str(a.path), session_id=session)
    a.write("x.txt", "x\n")
    on_a.create_checkpoint(None, "one", "implement", snapshot=True)
    refs = a.git("for-each-ref")
    log = a.log_file(session).read_bytes()
    missing = str(tmp_path / "nowhere.git")
    with pytest.raises(GitCommandError, match="does not appear to be a git repository"):
        on_a.push(remote=missing)
    with pytest.raises(GitCommandError, match="does not appear to be a git repository"):
        on_a.pull(remote=missing)
    assert a.git("for-each-ref") == refs
    assert a.log_file(session).read_bytes() == log
