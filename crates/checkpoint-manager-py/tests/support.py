"""Helpers shared by the tests: a git repository driven and inspected through git itself."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import jsonschema

REPO_ROOT = Path(__file__).resolve().parents[3]
"""The checkpoint-manager repository (tests/ -> checkpoint-manager-py -> crates -> root)."""

SCHEMA = REPO_ROOT / "schemas" / "checkpoints.schema.json"

SESSIONS = Path(".flow/maestro/sessions")

# Fixture commits get fixed dates; the tool's own commits keep the real clock.
FIXED_DATES = {
    "GIT_AUTHOR_DATE": "2024-01-07T12:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-07T12:00:00Z",
}


class Repo:
    """A git repository in a temp dir, with helpers to drive and inspect it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True) -> str:
        """Runs git in the repository and returns its stdout without the final newline."""
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**os.environ, **FIXED_DATES},
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.rstrip("\n")

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def read(self, name: str) -> str:
        return (self.path / name).read_text()

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def ref(self, name: str) -> str:
        """Returns the commit a ref (or tag) points at, or "" when it does not exist."""
        return self.git("rev-parse", "-q", "--verify", f"{name}^{{commit}}", check=False)

    def status(self) -> List[str]:
        """`git status --porcelain` lines."""
        out = self.git("status", "--porcelain", "--untracked-files=all")
        return out.splitlines() if out else []

    def log_file(self, session_id: str) -> Path:
        return self.path / SESSIONS / session_id / "checkpoints.json"

    def log(self, session_id: str) -> Dict[str, Any]:
        log: Dict[str, Any] = json.loads(self.log_file(session_id).read_text())
        return log

    def log_files(self) -> List[Path]:
        return sorted((self.path / SESSIONS).glob("*/checkpoints.json"))


def make_repo(path: Path, *, identity: bool = True, initial_commit: bool = True) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.git("init", "-q", "-b", "main")
    if identity:
        repo.git("config", "user.name", "Test User")
        repo.git("config", "user.email", "test@example.com")
    if initial_commit:
        repo.write("README.md", "# project\n")
        repo.write("src/app.py", "print('v1')\n")
        repo.commit_all("initial commit")
    return repo


def cli_binary() -> str:
    """The `checkpoint-manager` binary to compare `python -m checkpoint_manager` with:
    $CHECKPOINT_MANAGER_BIN, else the workspace's debug build; "" when there is none."""
    explicit = os.environ.get("CHECKPOINT_MANAGER_BIN")
    if explicit:
        return explicit
    built = REPO_ROOT / "target" / "debug" / "checkpoint-manager"
    return str(built) if built.exists() else ""


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs `python -m checkpoint_manager ARGS` with this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "checkpoint_manager", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@functools.lru_cache(maxsize=None)
def schema_validator() -> jsonschema.Draft202012Validator:
    """A validator of the committed schema that also checks formats (`uuid`)."""
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
