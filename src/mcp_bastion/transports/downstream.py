"""What a downstream transport tells the core about one client message, and asks of its client."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import anyio
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCRequest, JSONRPCResponse
from mcp_types.version import LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

from mcp_bastion.transports.jsonrpc import INTERNAL_ERROR, error_response
from mcp_bastion.types import ANONYMOUS, Principal, SessionId

__all__ = ["Downstream", "MessageHandler", "PendingAsks"]


@dataclass(frozen=True, slots=True)
class Downstream:
    """The client side of one message: who, which session, which protocol era."""

    principal: Principal = ANONYMOUS
    session: SessionId | None = None
    protocol_version: str = LATEST_HANDSHAKE_VERSION
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    ask: Callable[[JSONRPCRequest], Awaitable[JSONRPCMessage]] | None = field(default=None, compare=False)
    """Sends a request to the client and returns its answer, where the transport can."""

    @property
    def modern(self) -> bool:
        return self.protocol_version in MODERN_PROTOCOL_VERSIONS


MessageHandler = Callable[[JSONRPCMessage, Downstream], Awaitable[JSONRPCMessage | None]]


class PendingAsks:
    """Requests the gateway sent a client, each waiting for its answer.

    A request goes out under a fresh unguessable id (``bastion-...``); the client's
    response is matched by ``(scope, id)``, where ``scope`` is whatever must also match
    (the HTTP session: another session cannot answer it). An answer to nothing asked is
    dropped. No answer within ``timeout`` seconds becomes an error for the asker.
    Concurrency: one event loop; any number of asks at once.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._waiters: dict[tuple[str, str], asyncio.Future[JSONRPCMessage]] = {}

    async def ask(
        self, request: JSONRPCRequest, send: Callable[[JSONRPCRequest], Awaitable[None]], *, scope: str = ""
    ) -> JSONRPCMessage:
        """Send ``request`` with ``send`` under a fresh id; the client's answer or a timeout error."""
        ask_id = f"bastion-{secrets.token_urlsafe(9)}"
        waiter: asyncio.Future[JSONRPCMessage] = asyncio.get_running_loop().create_future()
        self._waiters[(scope, ask_id)] = waiter
        try:
            await send(request.model_copy(update={"id": ask_id}))
            with anyio.move_on_after(self._timeout):
                return await waiter
            return error_response(ask_id, INTERNAL_ERROR, "the client did not answer in time")
        finally:
            self._waiters.pop((scope, ask_id), None)

    def answer(self, message: JSONRPCResponse | JSONRPCError, *, scope: str = "") -> None:
        """Hand a client's response to the ask waiting for it (if any)."""
        if message.id is None:
            return
        waiter = self._waiters.pop((scope, str(message.id)), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)
