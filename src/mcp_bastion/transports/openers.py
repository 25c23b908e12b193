"""Openers: how an UpstreamConnection reaches its server (stdio in the sandbox, or HTTP).

An opener is a zero-argument callable returning the async context manager of the SDK's
``(read_stream, write_stream)`` pair; ``UpstreamConnection`` calls it on every (re)connect.
stdio servers are started only by :mod:`mcp_bastion.sandbox`. HTTP upstreams use one
:class:`~mcp_bastion.transports.http_upstream.UpstreamHTTP` (keep-alive pool, TLS context)
per upstream for the process lifetime (never one per call), carrying the upstream's OWN
credentials; the downstream client's token is never forwarded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcp.client._transport import TransportStreams

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.transports.http_upstream import UpstreamHTTP, http_upstream
from mcp_bastion.transports.upstream import Opener

__all__ = ["http_opener", "stdio_opener"]


def stdio_opener(
    command: Sequence[str],
    *,
    profile: SandboxProfile,
    cwd: str | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Opener:
    """Start ``command`` in the sandbox with ``profile`` on every connect."""
    from mcp_bastion.sandbox import open_stdio

    argv = tuple(command)

    def opener() -> Any:
        return open_stdio(argv, profile=profile, cwd=cwd, on_event=on_event)

    return opener


def http_opener(url: str, *, headers: Mapping[str, str] | None = None, timeout_s: float = 30.0) -> Opener:
    """Connect to a Streamable HTTP upstream with its own (static) credentials."""
    client = UpstreamHTTP(url, headers=headers, timeout_s=timeout_s, read_timeout_s=max(timeout_s, 300.0))

    @asynccontextmanager
    async def opener() -> AsyncIterator[TransportStreams]:
        async with http_upstream(url, client) as streams:
            yield streams

    return opener
