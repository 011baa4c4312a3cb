"""Fixtures: hermetic temporary git repositories.

Every test runs with no global or system git config and a private HOME, so the machine's git
settings and identity never leak in; repositories live in pytest's temp dirs and get a
repository-local identity where commits are made.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, List

import pytest

from support import Repo, make_repo, schema_validator

VALIDATED_LOGS: List[Path] = []


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True)
def every_log_matches_the_schema(tmp_path: Path) -> Iterator[None]:
    """After each test, every checkpoints.json it produced is validated against the committed
    schemas/checkpoints.schema.json with a real JSON Schema validator."""
    yield
    validator = schema_validator()
    for log in sorted(tmp_path.rglob(".flow/maestro/sessions/*/checkpoints.json")):
        errors = [e.message for e in validator.iter_errors(json.loads(log.read_text()))]
        assert errors == [], f"{log} does not match the schema"
        VALIDATED_LOGS.append(log)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"{len(VALIDATED_LOGS)} checkpoint logs validated against schemas/checkpoints.schema.json"
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """A repository with one commit and an identity, and the current folder inside it (the
    spec's examples build `CheckpointManager()` with the repository auto-detected)."""
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo.path)
    yield repo
