"""The `checkpoint-manager mcp` server driven by the official Python MCP SDK's stdio client
(issue 11): initialize, list the tools, create, list, roll back and undo, with the files checked
on disk, and a failing call that comes back as a tool error while the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Dict, Tuple

import pytest

from support import Repo, cli_binary

try:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
except ImportError:  # the SDK needs Python 3.10+; CI installs it through the test extra
    pytest.skip("the mcp package is not installed (it needs Python 3.10+)", allow_module_level=True)


def field(value: Any, snake: str, camel: str) -> Any:
    """A field of an SDK result: snake_case in mcp 2, camelCase in mcp 1."""
    return getattr(value, snake) if hasattr(value, snake) else getattr(value, camel)


def result_of(call: Any) -> Tuple[bool, Dict[str, Any], str]:
    """(is_error, structured content, text) of a tools/call result."""
    text = call.content[0].text if call.content else ""
    structured = field(call, "structured_content", "structuredContent")
    return bool(field(call, "is_error", "isError")), dict(structured or {}), str(text)


async def exchange(binary: str, repo: Repo) -> None:
    server = StdioServerParameters(
        command=binary, args=["mcp", "--repo", str(repo.path)], env=dict(os.environ)
    )
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert field(init, "server_info", "serverInfo").name == "checkpoint-manager"

            tools = await session.list_tools()
            assert sorted(t.name for t in tools.tools) == [
                "checkpoint_create",
                "checkpoint_diff",
                "checkpoint_get",
                "checkpoint_list",
                "checkpoint_restore",
                "checkpoint_rollback",
                "checkpoint_summary",
                "checkpoint_undo",
            ]

            repo.write("src/app.py", "print('v2')\n")
            error, created, text = result_of(
                await session.call_tool("checkpoint_create", {"description": "before v3"})
            )
            assert not error, text
            assert json.loads(text) == created
            sid = created["session_id"]
            cid = created["checkpoint"]["checkpoint_id"]
            assert created["checkpoint"]["mode"] == "snapshot"

            repo.write("src/app.py", "print('v3')\n")
            repo.write("scratch.txt", "made after the checkpoint\n")

            error, listed, _ = result_of(await session.call_tool("checkpoint_list", {}))
            assert not error and listed["session_id"] == sid
            assert [c["checkpoint_id"] for c in listed["checkpoints"]] == [cid]

            error, rolled, text = result_of(
                await session.call_tool(
                    "checkpoint_rollback", {"checkpoint_id": cid, "hard_reset": True}
                )
            )
            assert not error, text
            assert (repo.path / "src/app.py").read_text() == "print('v2')\n"
            assert not (repo.path / "scratch.txt").exists()

            error, undone, text = result_of(await session.call_tool("checkpoint_undo", {}))
            assert not error, text
            assert undone["session_id"] == sid
            assert (repo.path / "src/app.py").read_text() == "print('v3')\n"
            assert (repo.path / "scratch.txt").read_text() == "made after the checkpoint\n"

            error, _, text = result_of(
                await session.call_tool("checkpoint_get", {"checkpoint_id": "not-a-uuid"})
            )
            assert error
            assert text.startswith('invalid checkpoint id "not-a-uuid"') and "\n" not in text

            # Issue 10: what changed since the checkpoint (v2 -> v3, scratch.txt added).
            error, diffed, text = result_of(
                await session.call_tool(
                    "checkpoint_diff", {"from_checkpoint_id": cid, "patch": True}
                )
            )
            assert not error, text
            files = {f["path"]: f for f in diffed["diff"]["files"]}
            assert sorted(files) == ["scratch.txt", "src/app.py"]
            assert files["scratch.txt"]["status"] == "added"
            assert files["src/app.py"]["status"] == "modified"
            assert "+print('v3')" in files["src/app.py"]["patch"]
            # Issue 10: a restore of chosen paths, then undone.
            error, restored, text = result_of(
                await session.call_tool(
                    "checkpoint_restore", {"checkpoint_id": cid, "paths": ["src/app.py"]}
                )
            )
            assert not error, text
            assert restored["restore"]["restored_paths"] == ["src/app.py"]
            assert (repo.path / "src/app.py").read_text() == "print('v2')\n"
            assert (repo.path / "scratch.txt").read_text() == "made after the checkpoint\n"
            error, _, text = result_of(await session.call_tool("checkpoint_undo", {}))
            assert not error, text
            assert (repo.path / "src/app.py").read_text() == "print('v3')\n"

            error, summary, _ = result_of(await session.call_tool("checkpoint_summary", {}))
            # The one checkpoint created; safety snapshots are not in the spec's summary.
            assert not error and summary["summary"]["total_checkpoints"] == 1, summary


def test_the_python_mcp_client_checkpoints_rolls_back_and_undoes(repo: Repo) -> None:
    binary = cli_binary()
    if not binary:
        pytest.skip("no checkpoint-manager binary built (set CHECKPOINT_MANAGER_BIN)")
    asyncio.run(exchange(binary, repo))
