"""The Python API beyond the spec's examples: its shape (enums, dataclasses, signatures), snapshot
mode and undo, delete and repair, and how every kind of library error surfaces."""

from __future__ import annotations

import dataclasses
import fcntl
import inspect
import subprocess
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

import checkpoint_manager
from checkpoint_manager import (
    Checkpoint,
    CheckpointIOError,
    CheckpointManager,
    CheckpointManagerError,
    CheckpointMode,
    CheckpointNotFoundError,
    CheckpointPhase,
    CheckpointSummary,
    CheckpointType,
    CheckpointValueError,
    GitCommandError,
    LockTimeoutError,
    StateSnapshot,
    ValidationResult,
)
from support import Repo, make_repo


@pytest.fixture
def sid() -> str:
    return str(uuid.uuid4())


# -- shape ----------------------------------------------------------------------------------


def test_enums_are_the_spec_s_with_lowercase_values() -> None:
    assert {m.name: m.value for m in CheckpointType} == {
        "PHASE_COMPLETE": "phase_complete",
        "TASK_GROUP_COMPLETE": "task_group_complete",
        "SAFE_STATE": "safe_state",
        "PRE_RISKY_OPERATION": "pre_risky_operation",
        "ERROR_RECOVERY": "error_recovery",
        "MANUAL": "manual",
    }
    assert {m.name: m.value for m in CheckpointPhase} == {
        "PLAN": "plan",
        "GENERATE_TASKS": "generate_tasks",
        "IMPLEMENT": "implement",
        "VALIDATE": "validate",
        "CLEANUP": "cleanup",
    }
    assert CheckpointPhase("plan") is CheckpointPhase.PLAN


def test_result_dataclasses_have_the_spec_s_attributes() -> None:
    def names(cls: Any) -> List[str]:
        return [f.name for f in dataclasses.fields(cls)]

    assert names(ValidationResult) == [
        "is_valid",
        "errors",
        "warnings",
        "git_status",
        "has_uncommitted_changes",
        "tests_passing",
        "test_output",
    ]
    assert names(CheckpointSummary) == [
        "total_checkpoints",
        "checkpoints_by_type",
        "checkpoints_used_for_rollback",
        "latest_checkpoint",
    ]
    assert StateSnapshot(tasks_completed=2).to_dict()["tests_failing"] == 0


def test_signatures_are_the_spec_s() -> None:
    def params(name: str) -> List[Tuple[str, Any]]:
        sig = inspect.signature(getattr(CheckpointManager, name))
        return [
            (p.name, p.default)
            for p in sig.parameters.values()
            if p.name != "self" and p.kind is not p.KEYWORD_ONLY
        ]

    empty = inspect.Parameter.empty
    assert params("__init__") == [("repo_root", None), ("session_id", None)]
    assert params("validate_checkpoint_state") == [("test_command", None)]
    assert params("create_checkpoint") == [
        ("session_id", empty),
        ("description", empty),
        ("phase", empty),
        ("checkpoint_type", CheckpointType.MANUAL),
        ("state_snapshot", None),
        ("commit_first", True),
    ]
    assert params("list_checkpoints") == [("session_id", empty)]
    assert params("get_checkpoint") == [("session_id", empty), ("checkpoint_id", empty)]
    assert params("rollback_to_checkpoint") == [
        ("session_id", empty),
        ("checkpoint_id", empty),
        ("hard_reset", False),
    ]
    assert params("get_checkpoint_summary") == [("session_id", empty)]
    assert params("delete_checkpoint") == [
        ("session_id", empty),
        ("checkpoint_id", empty),
        ("delete_tag", True),
    ]
    assert params("undo_rollback") == [("session_id", empty)]


def test_the_package_is_typed() -> None:
    package = Path(checkpoint_manager.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()
    assert checkpoint_manager.__version__.count(".") == 2


# -- creating, in every mode -----------------------------------------------------------------


def test_positional_arguments_and_string_enums(repo: Repo, sid: str) -> None:
    manager = CheckpointManager(str(repo.path))
    repo.write("notes.txt", "n\n")
    cp = manager.create_checkpoint(
        sid, "positional", "validate", "safe_state", {"tests_passing": 3}, True
    )
    assert (cp.phase, cp.checkpoint_type) == (CheckpointPhase.VALIDATE, CheckpointType.SAFE_STATE)
    assert cp.state_snapshot == StateSnapshot(tests_passing=3)
    assert cp.mode is CheckpointMode.COMMIT and cp.commit_sha == repo.head()


def test_ids_may_be_uuid_objects_and_the_session_may_come_from_the_manager(repo: Repo) -> None:
    session = uuid.uuid4()
    manager = CheckpointManager(session_id=session)
    cp = manager.create_checkpoint(None, "from the manager's session", CheckpointPhase.PLAN)
    assert manager.list_checkpoints(session) == [cp]
    assert manager.get_checkpoint(None, uuid.UUID(cp.checkpoint_id)) == cp
    assert repo.log_file(str(session)).exists()


def test_a_manager_works_from_a_subfolder(
    repo: Repo, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path / "src")
    manager = CheckpointManager()
    assert manager.repo_root == repo.path
    manager.create_checkpoint(sid, "from src/", CheckpointPhase.PLAN)
    assert repo.log_file(sid).exists()


def test_commit_first_false_refuses_uncommitted_changes(repo: Repo, sid: str) -> None:
    repo.write("src/app.py", "print('dirty')\n")
    refusal = "uncommitted change.*commit_first=True commits them"
    with pytest.raises(ValueError, match=refusal) as info:
        CheckpointManager().create_checkpoint(
            sid, "tag only", CheckpointPhase.PLAN, commit_first=False
        )
    assert "--no-commit" not in str(info.value)
    assert repo.git("tag") == ""


def test_snapshot_mode_leaves_branch_index_and_files_untouched(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    head = repo.head()
    repo.write("src/app.py", "print('staged')\n")
    repo.git("add", "src/app.py")
    repo.write("src/app.py", "print('unstaged')\n")
    repo.write("scratch.txt", "untracked\n")
    status = repo.status()

    cp = manager.create_checkpoint(sid, "mid-edit", CheckpointPhase.IMPLEMENT, snapshot=True)

    assert cp.mode is CheckpointMode.SNAPSHOT and cp.tags == []
    assert cp.snapshot is not None and cp.snapshot.branch == "refs/heads/main"
    assert cp.snapshot.base_commit == head and not cp.snapshot.safety
    assert repo.head() == head and repo.status() == status
    assert repo.git("tag") == ""
    assert repo.ref(f"refs/checkpoints/{sid}/{cp.checkpoint_id}") == cp.commit_sha

    # Anything can happen next; a hard rollback brings back exactly what was captured.
    repo.write("src/app.py", "print('lost?')\n")
    repo.write("later.txt", "made after the snapshot\n")
    repo.commit_all("later work")
    assert manager.rollback_to_checkpoint(sid, cp.checkpoint_id, hard_reset=True) is True
    assert repo.head() == head
    assert repo.read("src/app.py") == "print('unstaged')\n"
    assert repo.git("show", ":src/app.py") == "print('staged')"
    assert repo.read("scratch.txt") == "untracked\n"
    assert not repo.exists("later.txt")
    assert repo.status() == status

    # ... and undo returns to the state before the rollback.
    assert manager.undo_rollback(sid) is True
    assert repo.read("later.txt") == "made after the snapshot\n"
    assert repo.git("log", "-1", "--format=%s") == "later work"


def test_the_snapshot_size_cap_follows_the_command_line_s_rules(
    repo: Repo, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("big.bin", "x" * 2048)

    def skipped(manager: CheckpointManager) -> List[Tuple[str, str, Optional[int]]]:
        cp = manager.create_checkpoint(sid, "cap", CheckpointPhase.PLAN, snapshot=True)
        assert cp.snapshot is not None
        return [(s.path, s.reason, s.size) for s in cp.snapshot.skipped]

    assert skipped(CheckpointManager()) == []  # the default cap is 100 MiB
    assert skipped(CheckpointManager(max_file_size=1024)) == [("big.bin", "too_large", 2048)]
    monkeypatch.setenv("CHECKPOINT_MANAGER_MAX_FILE_SIZE", "1024")
    assert skipped(CheckpointManager()) == [("big.bin", "too_large", 2048)]
    assert skipped(CheckpointManager(max_file_size=0)) == []  # 0: no cap
    monkeypatch.setenv("CHECKPOINT_MANAGER_MAX_FILE_SIZE", "lots")
    with pytest.raises(CheckpointValueError, match="CHECKPOINT_MANAGER_MAX_FILE_SIZE"):
        skipped(CheckpointManager())
    with pytest.raises(CheckpointValueError, match="lock_timeout"):
        CheckpointManager(lock_timeout=-1, max_file_size=0).list_checkpoints(sid)


def test_a_commit_over_the_size_cap_warns_nothing_and_keeps_the_commit_notice(
    repo: Repo, sid: str
) -> None:
    # The checkpoint's `skipped` says what was left out; the once-per-repository notice that
    # checkpoint commits skip hooks is the command line's, so it is neither said nor used up.
    repo.write("big.bin", "x" * 2048)
    repo.write("a.txt", "1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cp = CheckpointManager(max_file_size=1024).create_checkpoint(
            sid, "capped", CheckpointPhase.PLAN
        )
    assert [(s.path, s.reason, s.size) for s in cp.skipped] == [("big.bin", "too_large", 2048)]
    assert not repo.exists(".git/checkpoint-manager/commit-notice-shown")


def test_snapshot_and_commit_first_false_are_exclusive(repo: Repo, sid: str) -> None:
    with pytest.raises(ValueError, match="choose one"):
        CheckpointManager().create_checkpoint(
            sid, "x", CheckpointPhase.PLAN, commit_first=False, snapshot=True
        )


# -- reading, deleting, repairing ------------------------------------------------------------


def test_an_unknown_session_lists_nothing_and_summarises_to_zero(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    assert manager.list_checkpoints(sid) == []
    assert manager.get_checkpoint_summary(sid) == CheckpointSummary()


def test_delete_checkpoint_removes_the_record_and_the_tag(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    first = manager.create_checkpoint(sid, "first", CheckpointPhase.PLAN)
    repo.write("b.txt", "b\n")
    second = manager.create_checkpoint(sid, "second", CheckpointPhase.PLAN)

    assert manager.delete_checkpoint(sid, first.checkpoint_id) is True
    assert repo.ref(f"refs/tags/checkpoint-{first.checkpoint_id}") == ""
    assert manager.delete_checkpoint(sid, second.checkpoint_id, delete_tag=False) is True
    assert repo.ref(f"refs/tags/checkpoint-{second.checkpoint_id}") == second.commit_sha
    assert manager.list_checkpoints(sid) == []
    with pytest.raises(FileNotFoundError):
        manager.get_checkpoint(sid, first.checkpoint_id)
    with pytest.raises(FileNotFoundError):
        manager.delete_checkpoint(sid, first.checkpoint_id)


def test_repair_rebuilds_a_lost_log_from_git(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    cp = manager.create_checkpoint(sid, "kept in git", CheckpointPhase.PLAN)
    repo.log_file(sid).unlink()
    report = manager.repair_checkpoints(sid)
    assert report.restored == [cp.checkpoint_id] and report.total_checkpoints == 1
    assert manager.list_checkpoints(sid) == [cp]


def test_safety_snapshots_are_listed_only_with_include_safety(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    repo.write("src/app.py", "print('v2')\n")
    cp = manager.create_checkpoint(sid, "mine", CheckpointPhase.PLAN, snapshot=True)
    repo.write("src/app.py", "print('v3')\n")
    assert manager.rollback_to_checkpoint(sid, cp.checkpoint_id, hard_reset=True) is True
    assert [c.checkpoint_id for c in manager.list_checkpoints(sid)] == [cp.checkpoint_id]
    everything = manager.list_checkpoints(sid, include_safety=True)
    assert len(everything) == 2
    safety = everything[0]
    assert safety.snapshot is not None and safety.snapshot.safety
    assert safety.checkpoint_type is CheckpointType.PRE_RISKY_OPERATION
    summary = manager.get_checkpoint_summary(sid)
    assert summary.total_checkpoints == 1 and summary.latest_checkpoint == cp.commit_sha
    assert manager.get_checkpoint(sid, safety.checkpoint_id) == safety


def test_a_deleted_log_is_rebuilt_with_a_warning(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    cp = manager.create_checkpoint(sid, "kept in git", CheckpointPhase.PLAN)
    repo.log_file(sid).unlink()
    with pytest.warns(UserWarning, match="rebuilt it from git"):
        assert manager.list_checkpoints(sid) == [cp]


# -- validation ------------------------------------------------------------------------------


def test_validate_reports_changes_and_runs_the_test_command(repo: Repo) -> None:
    manager = CheckpointManager()
    clean = manager.validate_checkpoint_state()
    assert clean.is_valid and not clean.has_uncommitted_changes and clean.tests_passing is None
    repo.write("src/app.py", "print('changed')\n")
    dirty = manager.validate_checkpoint_state(test_command="true")
    assert dirty.is_valid and dirty.has_uncommitted_changes and dirty.tests_passing is True
    assert "src/app.py" in dirty.git_status and dirty.warnings
    failing = manager.validate_checkpoint_state(test_command="exit 1")
    assert not failing.is_valid and failing.tests_passing is False and failing.errors
    assert clean.test_output is None and dirty.test_output == ""


def test_validate_returns_the_test_output_and_stops_at_the_timeout(repo: Repo) -> None:
    manager = CheckpointManager()
    failing = manager.validate_checkpoint_state(test_command="echo 'FAILED: test_x'; exit 1")
    assert failing.tests_passing is False and failing.test_output == "FAILED: test_x\n"
    started = time.monotonic()
    slow = manager.validate_checkpoint_state(test_command="sleep 30", test_timeout=0.5)
    assert time.monotonic() - started < 10
    assert slow.tests_passing is False and any("timed out" in e for e in slow.errors)
    with pytest.raises(CheckpointValueError):
        manager.validate_checkpoint_state(test_command="true", test_timeout=0)


def test_outside_a_repository_validate_says_so_and_the_rest_raises_value_error(
    tmp_path: Path, sid: str
) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    manager = CheckpointManager(folder)
    result = manager.validate_checkpoint_state()
    assert not result.is_valid and "not a git work tree" in result.errors[0]
    with pytest.raises(ValueError, match="not inside a git work tree"):
        manager.create_checkpoint(sid, "x", CheckpointPhase.PLAN)
    # Once the folder becomes a repository, the same manager finds it.
    make_repo(folder)
    assert manager.create_checkpoint(sid, "x", CheckpointPhase.PLAN).commit_sha
    assert manager.repo_root == folder


def test_a_repository_without_identity_still_gets_commits(tmp_path: Path, sid: str) -> None:
    repo = make_repo(tmp_path / "anon", identity=False, initial_commit=False)
    repo.write("a.txt", "a\n")
    cp = CheckpointManager(repo.path).create_checkpoint(sid, "first ever", CheckpointPhase.PLAN)
    assert repo.head() == cp.commit_sha


# -- errors: one exception class per kind, each the built-in the spec promises ---------------


def test_invalid_input_is_value_error(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    for call in (
        lambda: manager.list_checkpoints("../../etc"),
        lambda: manager.get_checkpoint(sid, "not-a-uuid"),
        lambda: manager.create_checkpoint(sid, "x", "planning"),
        lambda: manager.create_checkpoint(sid, "x", CheckpointPhase.PLAN, "urgent"),
        lambda: manager.create_checkpoint(
            sid, "x", CheckpointPhase.PLAN, state_snapshot={"bogus": 1}
        ),
    ):
        with pytest.raises(CheckpointValueError) as info:
            call()
        assert isinstance(info.value, ValueError) and info.value.exit_code == 3
    assert not repo.exists(".flow/maestro/sessions/../../etc")


def test_wrong_types_are_type_errors(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    with pytest.raises(TypeError):
        manager.list_checkpoints(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        manager.create_checkpoint(sid, "x", CheckpointType.MANUAL)  # type: ignore[arg-type]


def test_unknown_session_or_checkpoint_is_file_not_found(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    with pytest.raises(CheckpointNotFoundError, match="has no checkpoints") as info:
        manager.rollback_to_checkpoint(sid, str(uuid.uuid4()))
    assert isinstance(info.value, FileNotFoundError) and info.value.exit_code == 4
    manager.create_checkpoint(sid, "one", CheckpointPhase.PLAN)
    with pytest.raises(FileNotFoundError, match="nothing to undo"):
        manager.undo_rollback(sid)


def test_git_failure_is_a_subprocess_error_with_git_s_message(repo: Repo, sid: str) -> None:
    (repo.path / ".git" / "index").write_text("not an index")
    with pytest.raises(GitCommandError, match="index file") as info:
        CheckpointManager().create_checkpoint(sid, "x", CheckpointPhase.PLAN)
    assert isinstance(info.value, subprocess.SubprocessError) and info.value.exit_code == 5


def test_a_busy_lock_is_a_timeout_error(repo: Repo, sid: str) -> None:
    lock = repo.path / ".git" / "checkpoint-manager" / "repo.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        manager = CheckpointManager(lock_timeout=0.2)
        with pytest.raises(LockTimeoutError, match="lock is held") as info:
            manager.create_checkpoint(sid, "x", CheckpointPhase.PLAN)
        assert isinstance(info.value, TimeoutError) and info.value.exit_code == 6
    assert manager.create_checkpoint(sid, "x", CheckpointPhase.PLAN).commit_sha


def test_an_unwritable_log_is_an_os_error(repo: Repo, sid: str) -> None:
    # A file where the session's folder belongs: no permission trick, so it holds as root too.
    sessions = repo.path / ".flow" / "maestro" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / sid).write_text("in the way")
    with pytest.raises(CheckpointIOError) as info:
        CheckpointManager().create_checkpoint(sid, "x", CheckpointPhase.PLAN)
    assert isinstance(info.value, OSError) and info.value.exit_code == 1


def test_every_error_is_a_checkpoint_manager_error() -> None:
    for cls in (
        CheckpointValueError,
        CheckpointNotFoundError,
        GitCommandError,
        LockTimeoutError,
        CheckpointIOError,
    ):
        assert issubclass(cls, CheckpointManagerError)


def test_checkpoints_round_trip_through_their_dict_form(repo: Repo, sid: str) -> None:
    manager = CheckpointManager()
    cp = manager.create_checkpoint(
        sid,
        "round trip",
        CheckpointPhase.CLEANUP,
        state_snapshot=StateSnapshot(files_created=1),
        snapshot=True,
    )
    assert Checkpoint.from_dict(cp.to_dict()) == cp
    assert repo.log(sid)["checkpoints"][0] == cp.to_dict()


def test_caps_come_from_git_config_and_include_forces_paths_in(repo: Repo, sid: str) -> None:
    repo.git("config", "checkpoint-manager.maxUntrackedDirFiles", "3")
    repo.git("config", "checkpoint-manager.maxFileSize", "1k")
    for i in range(4):
        repo.write(f"node_modules/pkg/file{i}.js", f"{i}\n")
    repo.write("big.bin", "x" * 2048)
    manager = CheckpointManager()
    cp = manager.create_checkpoint(sid, "capped", CheckpointPhase.PLAN, snapshot=True)
    assert cp.snapshot is not None
    assert [(s.path, s.reason, s.size, s.files) for s in cp.snapshot.skipped] == [
        ("node_modules/", "too_many_files", None, 4),
        ("big.bin", "too_large", 2048, None),
    ]
    cp = manager.create_checkpoint(
        sid, "all in", CheckpointPhase.PLAN, snapshot=True, include=["node_modules", Path("big.bin")]
    )
    assert cp.snapshot is not None and cp.snapshot.skipped == []
    held = repo.git("ls-tree", "-r", "--name-only", cp.commit_sha).splitlines()
    assert "big.bin" in held and "node_modules/pkg/file3.js" in held
    with pytest.raises(CheckpointValueError, match="outside the work tree"):
        manager.create_checkpoint(sid, "no", CheckpointPhase.PLAN, snapshot=True, include=["/"])
    repo.git("config", "checkpoint-manager.maxFileSize", "big")
    with pytest.raises(CheckpointValueError, match="checkpoint-manager.maxFileSize"):
        manager.create_checkpoint(sid, "bad", CheckpointPhase.PLAN, snapshot=True)
