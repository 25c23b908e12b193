"""``SandboxedStdio``: an ``mcp.client`` Transport, so ``mcp.Client(SandboxedStdio(...))`` works."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from types import TracebackType

from mcp.client._transport import TransportStreams

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox.events import EventSink
from mcp_bastion.sandbox.host import HostCapabilities
from mcp_bastion.sandbox.process import open_stdio

__all__ = ["SandboxedStdio"]


class SandboxedStdio:
    """A stdio server started under a sandbox profile, usable wherever the SDK takes a Transport.

    One instance is one connection: entering starts the server, exiting stops it.
    """

    def __init__(
        self,
        command: Sequence[str],
        profile: SandboxProfile | None = None,
        *,
        cwd: str | None = None,
        on_event: EventSink | None = None,
        host: HostCapabilities | None = None,
    ) -> None:
        self.command = tuple(command)
        self.profile = profile if profile is not None else SandboxProfile()
        self.cwd = cwd
        self.on_event = on_event
        self.host = host
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> TransportStreams:
        if self._stack is not None:
            raise RuntimeError("SandboxedStdio is already open")
        stack = AsyncExitStack()
        try:
            streams = await stack.enter_async_context(
                open_stdio(
                    self.command, profile=self.profile, cwd=self.cwd, on_event=self.on_event, host=self.host
                )
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return streams

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)
        return None
