"""SandboxedStdio as an ``mcp.Client`` transport, and the output bounds of ``open_stdio``."""

from __future__ import annotations

import json
import sys

import anyio
import pytest
from mcp import Client
from mcp_types import TextContent
from structlog.testing import capture_logs

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox import MessageTooLargeError, SandboxedStdio, open_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_mcp_client_over_sandboxed_stdio(hostile_command: list[str]) -> None:
    transport = SandboxedStdio(hostile_command, SandboxProfile())
    async with Client(transport) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"alive", "read_ssh_key", "connect_tcp"} <= tools
        result = await client.call_tool("alive", {})
        block = result.content[0]
        assert isinstance(block, TextContent)
        # pid 2: the server is the first process bubblewrap starts in its own pid namespace.
        assert json.loads(block.text) == {"ok": True, "detail": "pid 2"}


async def test_oversized_stdout_message_ends_the_connection() -> None:
    # One 64 KiB line with no newline yet: more than the 4 KiB bound allows.
    command = [
        sys.executable,
        "-c",
        "import sys,time; sys.stdout.write('x' * 65536); sys.stdout.flush(); time.sleep(30)",
    ]
    profile = SandboxProfile(max_output_bytes=4096)
    with anyio.fail_after(30):
        async with open_stdio(command, profile=profile) as (read, _write):
            first = await read.receive()
            assert isinstance(first, MessageTooLargeError)
            with pytest.raises(anyio.EndOfStream):
                await read.receive()


async def test_stderr_goes_to_the_log_with_a_bound() -> None:
    command = [sys.executable, "-c", "import sys; [print('noise', i, file=sys.stderr) for i in range(20000)]"]
    profile = SandboxProfile(max_output_bytes=8192)
    with capture_logs() as logs, anyio.fail_after(30):
        async with open_stdio(command, profile=profile) as (read, _write):
            with pytest.raises(anyio.EndOfStream):
                await read.receive()
    lines = [entry for entry in logs if entry["event"] == "sandbox.stderr"]
    assert lines[0]["line"] == "noise 0"
    assert 0 < sum(len(entry["line"]) + 1 for entry in lines) <= 8192
    assert any(entry["event"] == "sandbox.stderr_truncated" for entry in logs)


async def test_transport_is_single_use(hostile_command: list[str]) -> None:
    transport = SandboxedStdio(hostile_command, SandboxProfile())
    async with transport:
        with pytest.raises(RuntimeError):
            await transport.__aenter__()
