"""Supervisor: restart after a crash with backoff and a limit; health checks; audit events."""

from __future__ import annotations

import json
import sys
import time

import anyio
import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent

from mcp_bastion.config.sandbox import RestartPolicy, SandboxProfile
from mcp_bastion.errors import UpstreamError
from mcp_bastion.sandbox import SpawnEvent, Supervisor
from mcp_bastion.sandbox.process import ReadStream, WriteStream

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

FAST = RestartPolicy(max_restarts=2, backoff_initial_s=0.01, backoff_max_s=0.02)


def _profile(restart: RestartPolicy = FAST) -> SandboxProfile:
    return SandboxProfile(restart=restart)


async def _alive_pid(session: ClientSession) -> str:
    result = await session.call_tool("alive", {})
    block = result.content[0]
    assert isinstance(block, TextContent)
    detail: str = json.loads(block.text)["detail"]
    return detail


async def test_crash_is_restarted_and_serving_resumes(hostile_command: list[str]) -> None:
    events: list[SpawnEvent] = []
    supervisor = Supervisor(hostile_command, _profile(), on_event=events.append)
    incarnations: list[str] = []

    async def serve(read: ReadStream, write: WriteStream) -> None:
        async with ClientSession(read, write) as session:
            await session.initialize()
            incarnations.append(await _alive_pid(session))
            if len(incarnations) == 1:
                with pytest.raises(MCPError):
                    await session.call_tool("crash", {"code": 3})
                await anyio.sleep(30)  # the supervisor cancels this when it sees the crash

    with anyio.fail_after(60):
        await supervisor.run(serve)
    assert len(incarnations) == 2
    assert supervisor.restarts == 1
    kinds = [event.kind for event in events]
    assert kinds == ["spawn", "exit", "crash", "restart", "spawn", "exit"]
    crash = events[2]
    assert crash.returncode is not None
    assert events[4].attempt == 1
    # Wall-clock times, in order (a monotonic clock here would be meaningless in an audit log).
    assert [event.time for event in events] == sorted(event.time for event in events)
    assert abs(events[-1].time - time.time()) < 600


async def test_restart_limit_raises_upstream_error() -> None:
    events: list[SpawnEvent] = []
    supervisor = Supervisor([sys.executable, "-c", "raise SystemExit(7)"], _profile(), on_event=events.append)

    async def serve(read: ReadStream, write: WriteStream) -> None:
        async with ClientSession(read, write) as session:
            await session.initialize()

    with anyio.fail_after(60), pytest.raises(UpstreamError):
        await supervisor.run(serve)
    assert [event.kind for event in events].count("spawn") == 3  # first start + max_restarts
    assert [event.kind for event in events].count("crash") == 3


async def test_unresponsive_server_fails_its_health_check_and_is_restarted(
    hostile_command: list[str],
) -> None:
    policy = RestartPolicy(
        max_restarts=1,
        backoff_initial_s=0.01,
        backoff_max_s=0.01,
        health_interval_s=0.3,
        health_timeout_s=1.0,
    )
    events: list[SpawnEvent] = []
    supervisor = Supervisor(hostile_command, _profile(policy), on_event=events.append)
    calls = 0

    async def serve(read: ReadStream, write: WriteStream) -> None:
        nonlocal calls
        calls += 1
        async with ClientSession(read, write) as session:
            await session.initialize()
            if calls == 1:
                await session.call_tool("freeze", {})  # never answers; the health check notices
            await anyio.sleep(1.0)  # several health pings pass while the server is well
            await _alive_pid(session)

    with anyio.fail_after(60):
        await supervisor.run(serve)
    assert calls == 2
    assert [event.kind for event in events].count("crash") == 1


def test_backoff_doubles_and_is_capped() -> None:
    policy = RestartPolicy(backoff_initial_s=0.5, backoff_max_s=3.0)
    supervisor = Supervisor(["true"], SandboxProfile(restart=policy))
    assert [supervisor.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
