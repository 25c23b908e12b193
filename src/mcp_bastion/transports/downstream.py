"""What a downstream transport tells the core about one client message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mcp_types import JSONRPCMessage, JSONRPCRequest
from mcp_types.version import LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

from mcp_bastion.types import ANONYMOUS, Principal, SessionId

__all__ = ["Downstream", "MessageHandler"]


@dataclass(frozen=True, slots=True)
class Downstream:
    """The client side of one message: who, which session, which protocol era."""

    principal: Principal = ANONYMOUS
    session: SessionId | None = None
    protocol_version: str = LATEST_HANDSHAKE_VERSION
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    ask: Callable[[JSONRPCRequest], Awaitable[JSONRPCMessage]] | None = field(default=None, compare=False)
    """Sends a request to the client and returns its answer, where the transport can (stdio)."""

    @property
    def modern(self) -> bool:
        return self.protocol_version in MODERN_PROTOCOL_VERSIONS


MessageHandler = Callable[[JSONRPCMessage, Downstream], Awaitable[JSONRPCMessage | None]]
