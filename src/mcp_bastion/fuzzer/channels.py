"""Byte channels to a fuzz target: a sandboxed stdio process, or an SDK server in this process.

Both speak newline-delimited JSON-RPC as bytes, so the same cases and checks run against
either. The in-process channel reproduces what the SDK's stdio transport does with a line
(UTF-8 decoded with replacement, ``jsonrpc_message_adapter.validate_json``, errors passed to
the session as exceptions), without the process and pipe costs.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import anyio
import mcp_types
from mcp.shared.message import SessionMessage

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox.raw import RawStdio, open_raw_stdio

__all__ = ["Channel", "ChannelFactory", "memory_channel", "process_tree_rss", "stdio_channel"]


class Channel(Protocol):
    """One connection to the target, as bytes."""

    @property
    def alive(self) -> bool:
        """False once the target died or closed its output."""
        ...

    async def send(self, data: bytes) -> None:
        """Write bytes; raises ``anyio.BrokenResourceError`` when the target is gone."""

    async def readline(self) -> bytes | None:
        """The next output line, or None at the end of the stream."""

    def rss_bytes(self) -> int | None:
        """Resident memory of the target, when known."""


ChannelFactory = Callable[[], AbstractAsyncContextManager[Channel]]


def _rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def process_tree_rss(root: int) -> int | None:
    """Sum of VmRSS over ``root`` and its descendants (Linux ``/proc``); None elsewhere."""
    if not Path("/proc").is_dir():
        return None
    children: dict[int, list[int]] = {}
    for path in Path("/proc").iterdir():
        entry = path.name
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_of(pid)
        todo += children.get(pid, [])
    return total


class _StdioChannel:
    def __init__(self, raw: RawStdio) -> None:
        self.raw = raw

    @property
    def alive(self) -> bool:
        return self.raw.alive

    async def send(self, data: bytes) -> None:
        await self.raw.send(data)

    async def readline(self) -> bytes | None:
        return await self.raw.readline()

    def rss_bytes(self) -> int | None:
        return process_tree_rss(self.raw.pid)


def stdio_channel(command: Sequence[str], profile: SandboxProfile, cwd: str | None = None) -> ChannelFactory:
    """A factory of sandboxed stdio connections to ``command``."""

    @asynccontextmanager
    async def open_() -> AsyncIterator[Channel]:
        async with open_raw_stdio(command, profile=profile, cwd=cwd) as raw:
            yield _StdioChannel(raw)

    return open_


class _MemoryChannel:
    def __init__(self) -> None:
        self.inbound, self.server_read = anyio.create_memory_object_stream[SessionMessage | Exception](
            math.inf
        )
        self.server_write, self.outbound = anyio.create_memory_object_stream[SessionMessage](math.inf)
        self.dead = False

    @property
    def alive(self) -> bool:
        return not self.dead

    async def send(self, data: bytes) -> None:
        if self.dead:
            raise anyio.BrokenResourceError
        for line in data.decode("utf-8", "replace").splitlines(keepends=True):
            try:
                message = mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except Exception as exc:  # noqa: BLE001 - exactly what the SDK's stdio reader passes on
                await self.inbound.send(exc)
                continue
            await self.inbound.send(SessionMessage(message))

    async def readline(self) -> bytes | None:
        try:
            message = await self.outbound.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None
        return message.message.model_dump_json(by_alias=True, exclude_unset=True).encode()

    def rss_bytes(self) -> int | None:
        return _rss_of(os.getpid()) or None


def memory_channel(server: Any) -> ChannelFactory:
    """A factory of in-process connections to an SDK server (``MCPServer`` or low-level ``Server``)."""
    low = getattr(server, "_lowlevel_server", server)

    @asynccontextmanager
    async def open_() -> AsyncIterator[Channel]:
        chan = _MemoryChannel()

        async def run() -> None:
            try:
                await low.run(chan.server_read, chan.server_write, low.create_initialization_options())
            except Exception:  # noqa: BLE001 - a server that raises out of run() has crashed
                chan.dead = True
            finally:
                chan.dead = True
                chan.server_write.close()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                yield chan
            finally:
                chan.inbound.close()
                with contextlib.suppress(Exception):
                    tg.cancel_scope.cancel()

    return open_
