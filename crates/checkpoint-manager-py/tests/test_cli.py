"""`python -m checkpoint_manager`: the spec's CLI usage, its exit codes, and the proof that it is
the binary's command line (same output, byte for byte, and same exit codes)."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import List

import pytest

from checkpoint_manager.__main__ import main
from support import Repo, cli_binary, run_module

SUBCOMMANDS = [
    "create",
    "list",
    "get",
    "rollback",
    "undo",
    "summary",
    "delete",
    "validate",
    "repair",
]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def test_the_spec_s_cli_usage(repo: Repo) -> None:
    sid = str(uuid.uuid4())
    # python checkpoint_manager.py create --session-id <uuid> --description ... --phase plan ...
    created = json.loads(
        ok(
            run_module(
                "create",
                "--session-id",
                sid,
                "--description",
                "Planning complete",
                "--phase",
                "plan",
                "--checkpoint-type",
                "phase_complete",
                cwd=repo.path,
            )
        ).stdout
    )
    cid = created["checkpoint_id"]
    assert created["phase"] == "plan" and created["checkpoint_type"] == "phase_complete"
    assert repo.ref(f"refs/tags/checkpoint-{cid}") == created["commit_sha"] == repo.head()

    listed = ok(run_module("list", "--session-id", sid, "--output", "pretty", cwd=repo.path)).stdout
    # Pretty output names checkpoints by their short id (issue 10): 8 digits.
    assert cid[:8] in listed and "Planning complete" in listed and "1 checkpoint(s)" in listed

    got = json.loads(
        ok(run_module("get", "--session-id", sid, "--checkpoint-id", cid, cwd=repo.path)).stdout
    )
    assert got == created

    repo.write("src/app.py", "print('later')\n")
    repo.commit_all("later")
    rolled = json.loads(
        ok(
            run_module(
                "rollback",
                "--session-id",
                sid,
                "--checkpoint-id",
                cid,
                "--hard-reset",
                cwd=repo.path,
            )
        ).stdout
    )
    assert rolled["success"] is True and rolled["mode"] == "hard"
    assert repo.head() == created["commit_sha"] and repo.read("src/app.py") == "print('v1')\n"

    validated = json.loads(ok(run_module("validate", cwd=repo.path)).stdout)
    assert validated["is_valid"] is True


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["list"], 2, "--session-id"),
        (["no-such-command"], 2, "unrecognized subcommand"),
        (["list", "--session-id", "not-a-uuid"], 3, "invalid session id"),
        (
            ["get", "--session-id", str(uuid.uuid4()), "--checkpoint-id", str(uuid.uuid4())],
            4,
            "has no checkpoints",
        ),
    ],
)
def test_exit_codes(repo: Repo, args: List[str], code: int, message: str) -> None:
    result = run_module(*args, cwd=repo.path)
    assert result.returncode == code
    assert message in result.stderr and result.stdout == ""


def test_git_busy_and_io_exit_codes(repo: Repo) -> None:
    sid = str(uuid.uuid4())
    create = ["create", "--session-id", sid, "--description", "x", "--phase", "plan"]

    lock = repo.path / ".git" / "checkpoint-manager" / "repo.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = run_module("--lock-timeout", "0.1", *create, cwd=repo.path)
    assert busy.returncode == 6, busy.stderr

    blocked = repo.path / ".flow" / "maestro" / "sessions" / sid
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the session folder belongs")
    assert run_module(*create, cwd=repo.path).returncode == 1
    blocked.unlink()

    (repo.path / ".git" / "index").write_text("not an index")
    git = run_module(*create, cwd=repo.path)
    assert git.returncode == 5 and "index file" in git.stderr


def test_main_returns_the_exit_code_in_process(
    repo: Repo, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", "--session-id", str(uuid.uuid4())]) == 0
    assert json.loads(capfd.readouterr().out)["total_checkpoints"] == 0
    assert main(["list", "--session-id", "nope"]) == 3


def test_the_installed_script_is_the_same_command(repo: Repo) -> None:
    script = Path(sys.executable).parent / "checkpoint-manager"
    if not script.exists():
        pytest.skip("the package was installed without its script")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("checkpoint-manager ")


def invocations(sid: str, cid: str) -> List[List[str]]:
    return [
        ["--help"],
        ["--version"],
        *[[name, "--help"] for name in SUBCOMMANDS],
        ["-h"],
        [],
        ["no-such-command"],
        ["create", "--session-id", sid],
        ["list", "--session-id", "not-a-uuid"],
        ["list", "--session-id", sid],
        ["list", "--session-id", sid, "--output", "pretty"],
        ["get", "--session-id", sid, "--checkpoint-id", cid],
        ["get", "--session-id", sid, "--checkpoint-id", str(uuid.UUID(int=1, version=4))],
        ["summary", "--session-id", sid, "--output", "pretty"],
        ["validate"],
        ["validate", "--test-command", "exit 1"],
        ["schema"],
        *[["completions", shell] for shell in ("bash", "zsh", "fish", "powershell")],
        ["completions", "tcsh"],
        ["man"],
    ]


def test_python_m_is_the_binary_byte_for_byte(repo: Repo) -> None:
    binary = cli_binary()
    if not binary:
        pytest.skip("no checkpoint-manager binary built (set CHECKPOINT_MANAGER_BIN)")
    sid = str(uuid.uuid4())
    created = ok(
        run_module(
            "create", "--session-id", sid, "--description", "d", "--phase", "plan", cwd=repo.path
        )
    )
    cid = json.loads(created.stdout)["checkpoint_id"]

    for args in invocations(sid, cid):
        ours = run_module(*args, cwd=repo.path)
        theirs = subprocess.run(
            [binary, *args], cwd=repo.path, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        assert (ours.returncode, ours.stdout, ours.stderr) == (
            theirs.returncode,
            theirs.stdout,
            theirs.stderr,
        ), args
