"""The Exchange: one MCP message crossing a trust boundary, with who and where.

A message is parsed once by the SDK's transport into a typed ``JSONRPCMessage``; guards
read that object (``method``, ``params``, ``result``) and never re-parse it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.types import ANONYMOUS, Direction, Principal, SessionId, UpstreamName

__all__ = ["Exchange"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """A JSON-RPC message at a trust boundary.

    ``request`` is set on a response or error travelling server-to-client: the exchange of
    the request it answers, so output guards know which tool produced it. ``metadata``
    carries transport facts guards may need (protocol version, raw size, remote address).
    """

    direction: Direction
    message: JSONRPCMessage
    principal: Principal = ANONYMOUS
    upstream: UpstreamName | None = None
    session: SessionId | None = None
    request: Exchange | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    received_at: float = field(default_factory=time.time)

    @property
    def method(self) -> str | None:
        """The JSON-RPC method of a request or notification (None for responses)."""
        msg = self.message
        if isinstance(msg, JSONRPCRequest | JSONRPCNotification):
            return msg.method
        return None

    @property
    def params(self) -> dict[str, Any]:
        """The params of a request or notification; ``{}`` when absent."""
        msg = self.message
        if isinstance(msg, JSONRPCRequest | JSONRPCNotification):
            return msg.params or {}
        return {}

    @property
    def result(self) -> dict[str, Any] | None:
        """The result of a successful response, else None."""
        msg = self.message
        return msg.result if isinstance(msg, JSONRPCResponse) else None

    @property
    def is_request(self) -> bool:
        return isinstance(self.message, JSONRPCRequest)

    @property
    def is_notification(self) -> bool:
        return isinstance(self.message, JSONRPCNotification)

    @property
    def is_error(self) -> bool:
        return isinstance(self.message, JSONRPCError)

    @property
    def tool_name(self) -> str | None:
        """For tools/call (or its response), the tool name as the client sent it."""
        origin = self.request if self.request is not None else self
        if origin.method == "tools/call":
            name = origin.params.get("name")
            return name if isinstance(name, str) else None
        return None

    def with_message(self, message: JSONRPCMessage) -> Exchange:
        """A copy carrying a replacement message (what a MODIFY verdict produces)."""
        return replace(self, message=message)
