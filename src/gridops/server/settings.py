"""How one Grid Ops server instance is configured (identity source, keys, token lifetimes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gridops.server.auth import TokenSettings
from gridops.server.roles import Principal, Role

__all__ = ["ServerSettings"]


@dataclass(frozen=True)
class ServerSettings:
    """Settings of :func:`gridops.server.build_server`.

    ``auth`` set: the server requires bearer tokens (HTTP) and ignores the local identity.
    ``auth`` unset: every request acts as the local identity (``subject`` with ``identity``),
    the stdio and in-process case.
    """

    master_key: bytes = field(repr=False)
    identity: Role = Role.VIEWER
    subject: str = "local"
    auth: TokenSettings | None = None
    simulation_ttl_seconds: int = 120
    name: str = "gridops"
    # Injected for tests of token expiry; production uses the wall clock.
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if len(self.master_key) < 32:
            raise ValueError("master_key must hold at least 32 bytes")
        if not 10 <= self.simulation_ttl_seconds <= 3600:
            raise ValueError("simulation_ttl_seconds must be between 10 and 3600")

    def local_principal(self) -> Principal | None:
        """The configured identity, or ``None`` when identities come from bearer tokens."""
        if self.auth is not None:
            return None
        return Principal(subject=self.subject, roles=frozenset({self.identity}), authenticated_by="local")
