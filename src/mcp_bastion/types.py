"""Identifiers and small value types shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NewType

__all__ = [
    "ANONYMOUS",
    "AuthMethod",
    "Direction",
    "Principal",
    "SessionId",
    "ToolName",
    "UpstreamName",
]

SessionId = NewType("SessionId", str)
UpstreamName = NewType("UpstreamName", str)
ToolName = NewType("ToolName", str)


class Direction(StrEnum):
    """Which way a message crosses the trust boundary."""

    CLIENT_TO_SERVER = "client_to_server"
    SERVER_TO_CLIENT = "server_to_client"


class AuthMethod(StrEnum):
    """How the principal was established."""

    JWT = "jwt"
    API_KEY = "api_key"
    LOCAL = "local"  # stdio: configured local identity
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: subject, roles, tenant and the verified claims."""

    subject: str
    roles: frozenset[str] = frozenset()
    tenant: str | None = None
    auth_method: AuthMethod = AuthMethod.ANONYMOUS
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def authenticated(self) -> bool:
        return self.auth_method is not AuthMethod.ANONYMOUS


ANONYMOUS = Principal(subject="anonymous")
