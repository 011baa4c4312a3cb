"""Fixtures: hermetic temporary git repositories.

Every test runs with no global or system git config and a private HOME, so the machine's git
settings and identity never leak in; repositories live in pytest's temp dirs and get a
repository-local identity where commits are made.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from support import Repo, make_repo


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


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """A repository with one commit and an identity, and the current folder inside it (the
    spec's examples build `CheckpointManager()` with the repository auto-detected)."""
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo.path)
    yield repo
