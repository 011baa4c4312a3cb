"""``CheckpointManager.diff`` (issue 10) against real repositories: typed results equal to
``git diff`` of the same trees, the working-tree case changes nothing, bad ids raise."""

from __future__ import annotations

import uuid
from typing import List, Optional, Tuple

import pytest

from checkpoint_manager import (
    CheckpointManager,
    CheckpointNotFoundError,
    CheckpointValueError,
    DiffReport,
    FileDiff,
    FileStatus,
)
from support import Repo

LETTERS = {
    FileStatus.ADDED: "A",
    FileStatus.MODIFIED: "M",
    FileStatus.DELETED: "D",
    FileStatus.RENAMED: "R",
    FileStatus.TYPE_CHANGED: "T",
}


def git_names(repo: Repo, a: str, b: str) -> List[Tuple[str, Optional[str], str]]:
    """(status letter, old path, path) per file as `git diff -M --name-status` prints them."""
    out: List[Tuple[str, Optional[str], str]] = []
    for line in repo.git("diff", "-M", "--name-status", a, b).splitlines():
        fields = line.split("\t")
        if fields[0].startswith("R"):
            out.append(("R", fields[1], fields[2]))
        else:
            out.append((fields[0], None, fields[1]))
    return out


def as_names(report: DiffReport) -> List[Tuple[str, Optional[str], str]]:
    return [(LETTERS[f.status], f.old_path, f.path) for f in report.files]


def observed(repo: Repo, session: str) -> Tuple[bytes, str, str, bytes]:
    return (
        (repo.path / ".git" / "index").read_bytes(),
        repo.git("for-each-ref"),
        repo.git("status", "--porcelain", "--untracked-files=all", "--ignored"),
        repo.log_file(session).read_bytes(),
    )


def test_diff_between_a_commit_and_a_snapshot_is_git_diff_of_their_trees(repo: Repo) -> None:
    session = str(uuid.uuid4())
    manager = CheckpointManager(str(repo.path), session_id=session)
    first = manager.create_checkpoint(session, "first", "implement", "manual")
    repo.write("src/app.py", "print('v2')\nprint('more')\n")
    (repo.path / "README.md").rename(repo.path / "README.txt")
    repo.write("notes/untracked.md", "not added\n")
    (repo.path / "logo.bin").write_bytes(b"\x00\x01\xff")
    second = manager.create_checkpoint(session, "second", "implement", "manual", snapshot=True)

    report = manager.diff(session, first.checkpoint_id, second.checkpoint_id, patch=True)

    assert isinstance(report, DiffReport)
    assert (report.from_id, report.to_id) == (first.checkpoint_id, second.checkpoint_id)
    assert as_names(report) == git_names(repo, first.commit_sha, second.commit_sha)
    patch = "".join(f.patch or "" for f in report.files)
    assert patch == repo.git("diff", "-M", first.commit_sha, second.commit_sha) + "\n"
    by_path = {f.path: f for f in report.files}
    assert isinstance(by_path["src/app.py"], FileDiff)
    assert (by_path["src/app.py"].additions, by_path["src/app.py"].deletions) == (2, 1)
    assert by_path["README.txt"].status is FileStatus.RENAMED
    assert by_path["README.txt"].old_path == "README.md"
    assert by_path["logo.bin"].binary and by_path["logo.bin"].additions == 0
    assert by_path["notes/untracked.md"].status is FileStatus.ADDED
    no_patch = manager.diff(session, first.checkpoint_id, second.checkpoint_id)
    assert all(f.patch is None for f in no_patch.files)


def test_diff_to_the_working_tree_changes_nothing(repo: Repo) -> None:
    session = str(uuid.uuid4())
    manager = CheckpointManager(str(repo.path), session_id=session)
    snap = manager.create_checkpoint(session, "snap", "implement", "manual", snapshot=True)
    repo.write("src/app.py", "print('v3')\n")
    repo.git("add", "src/app.py")
    repo.write("new.txt", "new\n")
    repo.write(".gitignore", "*.log\n")
    repo.write("debug.log", "ignored\n")
    before = observed(repo, session)

    report = manager.diff(None, uuid.UUID(snap.checkpoint_id))

    assert observed(repo, session) == before
    assert report.to_id is None
    assert sorted((f.path, f.status) for f in report.files) == [
        (".gitignore", FileStatus.ADDED),
        ("new.txt", FileStatus.ADDED),
        ("src/app.py", FileStatus.MODIFIED),
    ]


def test_unknown_and_invalid_ids_raise(repo: Repo) -> None:
    session = str(uuid.uuid4())
    manager = CheckpointManager(str(repo.path), session_id=session)
    cp = manager.create_checkpoint(session, "one", "implement", "manual", snapshot=True)
    with pytest.raises(CheckpointNotFoundError, match="not found"):
        manager.diff(session, cp.checkpoint_id, str(uuid.uuid4()))
    with pytest.raises(CheckpointNotFoundError):
        manager.diff(str(uuid.uuid4()), cp.checkpoint_id)
    with pytest.raises(CheckpointValueError, match="invalid checkpoint id"):
        manager.diff(session, "nope")
