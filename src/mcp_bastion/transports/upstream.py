"""UpstreamConnection: one multiplexed, message-level client connection to an MCP server.

The gateway speaks to every upstream over the SDK's client transports (stdio through
``mcp_bastion.sandbox``, Streamable HTTP through ``mcp.client.streamable_http``), which
yield typed ``SessionMessage`` streams. This class does the handshake once
(``initialize``, protocol 2025-11-25, which every current server supports), then forwards
requests from any number of downstream clients with their ids remapped, and routes the
answers back. It does not re-issue calls through a high-level client session: the parsed
request is forwarded as it is (only its id changes), which is what keeps the gateway's
cost near zero.

Failure: if the upstream process dies or the HTTP transport fails, every pending request
gets an ``UpstreamError`` at once, the connection is marked down, and the next request
reconnects (no more often than ``reconnect_interval``).

Server-to-client requests: ``ping`` is answered here and ``roots/list`` with no roots (an
upstream never learns the client's file system). Any other (elicitation, sampling) goes to
the ``on_server_request`` handler of the downstream request it belongs to: the one named
by the transport (``related_request_id``, which Streamable HTTP and in-memory transports
carry), else the only interactive request in flight on this connection. When neither
identifies exactly one, or the request has no handler, it is refused with a JSON-RPC
error (fail closed: the gateway cannot tell whose user to ask). While a handler waits on
the client, the owning request's timeout is paused; it restarts when the answer is sent.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import Any, Final

import anyio
from anyio.abc import TaskGroup
from mcp.client._transport import TransportStreams
from mcp.shared.message import ClientMessageMetadata, ServerMessageMetadata, SessionMessage
from mcp_types import (
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)

from mcp_bastion import __version__
from mcp_bastion.errors import UpstreamError
from mcp_bastion.transports.jsonrpc import METHOD_NOT_FOUND, error_response

__all__ = [
    "UPSTREAM_PROTOCOL_VERSION",
    "Opener",
    "ServerRequestHandler",
    "UpstreamConnection",
    "UpstreamReply",
]

logger = logging.getLogger(__name__)

UPSTREAM_PROTOCOL_VERSION: Final = "2025-11-25"
_VERSION_HEADERS: Final = {"mcp-protocol-version": UPSTREAM_PROTOCOL_VERSION}

Opener = Callable[[], AbstractAsyncContextManager[TransportStreams]]
UpstreamReply = JSONRPCResponse | JSONRPCError
NotificationHandler = Callable[[str, JSONRPCNotification], Awaitable[None]]
ServerRequestHandler = Callable[[JSONRPCRequest], Awaitable[UpstreamReply]]
"""Answers one server-to-client request (the reply carries the request's id)."""


class _Pending:
    __slots__ = ("asking", "deadline", "event", "on_server_request", "reply", "time_limit")

    def __init__(self, on_server_request: ServerRequestHandler | None, time_limit: float) -> None:
        self.event = anyio.Event()
        self.reply: UpstreamReply | None = None
        self.on_server_request = on_server_request
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.asking = 0  # server requests of this call waiting on the client


class UpstreamConnection:
    """A message-level connection to one upstream server, shared by all downstream clients.

    Use inside ``async with``; the background reader runs in the connection's own task group.
    Concurrency: ``request`` may be called from many tasks at once.
    """

    def __init__(
        self,
        name: str,
        opener: Opener,
        *,
        request_timeout: float = 60.0,
        connect_timeout: float = 20.0,
        reconnect_interval: float = 1.0,
        on_notification: NotificationHandler | None = None,
    ) -> None:
        self.name = name
        self._opener = opener
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_interval = reconnect_interval
        self._on_notification = on_notification
        self._ids = itertools.count(1)
        self._pending: dict[RequestId, _Pending] = {}
        self._write: Any = None
        self._connected = anyio.Event()
        self._connect_lock = anyio.Lock()
        self._tg: TaskGroup | None = None
        self._conn_scope: anyio.CancelScope | None = None
        self._last_attempt = 0.0
        self._last_error = ""
        self.initialize_result: dict[str, Any] | None = None
        self.generation = 0  # bumps on every successful (re)connect

    async def __aenter__(self) -> UpstreamConnection:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(None, None, None)
        self._tg = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def instructions(self) -> str | None:
        result = self.initialize_result or {}
        value = result.get("instructions")
        return value if isinstance(value, str) else None

    @property
    def capabilities(self) -> dict[str, Any]:
        caps = (self.initialize_result or {}).get("capabilities")
        return caps if isinstance(caps, dict) else {}

    async def ensure_connected(self) -> None:
        """Connect (and handshake) if not connected; raise ``UpstreamError`` on failure."""
        if self._connected.is_set():
            return
        async with self._connect_lock:
            if self._connected.is_set():
                return
            wait = self._last_attempt + self._reconnect_interval - time.monotonic()
            if wait > 0:
                raise UpstreamError(
                    f"upstream {self.name} is down ({self._last_error}); retrying shortly",
                    public_message=f"upstream server '{self.name}' is unavailable",
                )
            self._last_attempt = time.monotonic()
            assert self._tg is not None, "use UpstreamConnection inside 'async with'"
            ready = anyio.Event()
            failure: list[BaseException] = []
            self._tg.start_soon(self._run_connection, ready, failure)
            with anyio.move_on_after(self._connect_timeout):
                await ready.wait()
            if not self._connected.is_set():
                reason = type(failure[0]).__name__ if failure else "connect timeout"
                self._last_error = reason
                if self._conn_scope is not None:
                    self._conn_scope.cancel()
                raise UpstreamError(
                    f"upstream {self.name} failed to connect: {reason}",
                    public_message=f"upstream server '{self.name}' is unavailable",
                )

    async def _run_connection(self, ready: anyio.Event, failure: list[BaseException]) -> None:
        scope = anyio.CancelScope()
        self._conn_scope = scope
        try:
            with scope:
                async with self._opener() as (read, write):
                    self._write = write
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._reader, read, tg.cancel_scope)
                        await self._handshake()
                        self.generation += 1
                        self._connected.set()
                        ready.set()
        except Exception as exc:  # noqa: BLE001 - any upstream failure must not take the gateway down
            failure.append(exc)
            self._last_error = type(exc).__name__
            logger.warning("upstream %s connection ended: %s", self.name, type(exc).__name__)
        finally:
            self._mark_down("connection closed")
            ready.set()

    def _mark_down(self, reason: str) -> None:
        self._connected = anyio.Event()
        self._write = None
        pending, self._pending = self._pending, {}
        for slot in pending.values():
            slot.event.set()  # reply stays None: the waiter raises UpstreamError
        if pending:
            logger.warning("upstream %s down (%s): failed %d pending", self.name, reason, len(pending))

    async def _handshake(self) -> None:
        init = JSONRPCRequest(
            jsonrpc="2.0",
            id=0,
            method="initialize",
            params={
                "protocolVersion": UPSTREAM_PROTOCOL_VERSION,
                # The gateway relays these to its clients (or refuses them per call when
                # the client cannot be asked); roots are answered empty by the gateway.
                "capabilities": {"elicitation": {"form": {}}, "sampling": {}},
                "clientInfo": {"name": "mcp-bastion", "version": __version__},
            },
        )
        reply = await self._roundtrip(init, time_limit=self._connect_timeout, headers=None)
        if isinstance(reply, JSONRPCError):
            raise UpstreamError(f"upstream {self.name} refused initialize: {reply.error.message}")
        self.initialize_result = reply.result
        await self._send(JSONRPCNotification(jsonrpc="2.0", method="notifications/initialized"))

    async def _reader(self, read: Any, scope: anyio.CancelScope) -> None:
        async for item in read:
            if isinstance(item, Exception):
                logger.warning("upstream %s sent an unreadable message: %s", self.name, type(item).__name__)
                continue
            message = item.message
            if isinstance(message, JSONRPCResponse | JSONRPCError):
                slot = self._pending.pop(message.id, None) if message.id is not None else None
                if slot is not None:
                    slot.reply = message
                    slot.event.set()
            elif isinstance(message, JSONRPCNotification):
                if self._on_notification is not None:
                    await self._on_notification(self.name, message)
            elif isinstance(message, JSONRPCRequest):
                await self._answer_server_request(message, item.metadata)
        # The transport closed: the upstream is gone.
        scope.cancel()

    async def _answer_server_request(self, request: JSONRPCRequest, metadata: object) -> None:
        reply: JSONRPCMessage
        if request.method == "ping":
            reply = JSONRPCResponse(jsonrpc="2.0", id=request.id, result={})
        elif request.method == "roots/list":
            reply = JSONRPCResponse(jsonrpc="2.0", id=request.id, result={"roots": []})
        else:
            owner = self._owner_of(metadata)
            if owner is not None and owner.on_server_request is not None and self._tg is not None:
                owner.asking += 1
                self._tg.start_soon(self._relay_server_request, owner, request)
                return
            reply = error_response(
                request.id, METHOD_NOT_FOUND, f"mcp-bastion cannot relay '{request.method}' here"
            )
        await self._send(reply)

    def _owner_of(self, metadata: object) -> _Pending | None:
        """The in-flight request a server request belongs to (None when it is ambiguous)."""
        if isinstance(metadata, ServerMessageMetadata) and metadata.related_request_id is not None:
            return self._pending.get(metadata.related_request_id)
        interactive = [slot for slot in self._pending.values() if slot.on_server_request is not None]
        return interactive[0] if len(interactive) == 1 else None

    async def _relay_server_request(self, owner: _Pending, request: JSONRPCRequest) -> None:
        assert owner.on_server_request is not None
        try:
            reply: JSONRPCMessage = await owner.on_server_request(request)
        except Exception:  # a failing relay answers the upstream; it never kills the reader
            logger.exception("relaying %s from upstream %s failed", request.method, self.name)
            reply = error_response(request.id, METHOD_NOT_FOUND, "the client could not be asked")
        finally:
            owner.asking -= 1
            owner.deadline = time.monotonic() + owner.time_limit
        with suppress(UpstreamError):
            await self._send(reply)

    async def _send(self, message: JSONRPCMessage, headers: dict[str, str] | None = _VERSION_HEADERS) -> None:
        write = self._write
        if write is None:
            raise UpstreamError(
                f"upstream {self.name} is not connected",
                public_message=f"upstream server '{self.name}' is unavailable",
            )
        metadata = ClientMessageMetadata(headers=dict(headers)) if headers else None
        try:
            await write.send(SessionMessage(message=message, metadata=metadata))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise UpstreamError(
                f"upstream {self.name} stream closed",
                public_message=f"upstream server '{self.name}' is unavailable",
            ) from exc

    async def _roundtrip(
        self,
        request: JSONRPCRequest,
        *,
        time_limit: float,
        headers: dict[str, str] | None = _VERSION_HEADERS,
        on_server_request: ServerRequestHandler | None = None,
    ) -> UpstreamReply:
        upstream_id = next(self._ids)
        slot = _Pending(on_server_request, time_limit)
        self._pending[upstream_id] = slot
        try:
            await self._send(request.model_copy(update={"id": upstream_id}), headers)
            while not slot.event.is_set():
                # The deadline moves while the client is being asked (see the module docstring).
                remaining = slot.time_limit if slot.asking else slot.deadline - time.monotonic()
                if remaining <= 0:
                    await self._cancel_upstream(upstream_id)
                    raise UpstreamError(
                        f"upstream {self.name} timed out on {request.method}",
                        public_message=f"upstream server '{self.name}' timed out",
                    )
                with anyio.move_on_after(remaining):
                    await slot.event.wait()
        finally:
            self._pending.pop(upstream_id, None)
        if slot.reply is None:
            raise UpstreamError(
                f"upstream {self.name} went away during {request.method}",
                public_message=f"upstream server '{self.name}' is unavailable",
            )
        return slot.reply.model_copy(update={"id": request.id})

    async def _cancel_upstream(self, upstream_id: int) -> None:
        note = JSONRPCNotification(
            jsonrpc="2.0",
            method="notifications/cancelled",
            params={"requestId": upstream_id, "reason": "timeout at mcp-bastion"},
        )
        with suppress(UpstreamError):
            await self._send(note)

    async def request(
        self,
        request: JSONRPCRequest,
        *,
        time_limit: float | None = None,
        on_server_request: ServerRequestHandler | None = None,
    ) -> UpstreamReply:
        """Forward ``request`` (its id is remapped and restored) and return the upstream's answer.

        ``on_server_request`` answers the server-to-client requests (elicitation, sampling)
        the upstream sends while handling this request; without it they are refused.
        """
        await self.ensure_connected()
        return await self._roundtrip(
            request, time_limit=time_limit or self._request_timeout, on_server_request=on_server_request
        )

    async def call(self, method: str, params: dict[str, Any] | None = None) -> UpstreamReply:
        """Convenience for the gateway's own requests (listing on first contact)."""
        return await self.request(JSONRPCRequest(jsonrpc="2.0", id=0, method=method, params=params))

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.ensure_connected()
        await self._send(JSONRPCNotification(jsonrpc="2.0", method=method, params=params))
