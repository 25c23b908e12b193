"""The root of bastion.yaml: ``BastionConfig`` and its small sections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from mcp_bastion.config._base import ConfigPath, StrictModel
from mcp_bastion.config.audit import AuditLogConfig
from mcp_bastion.config.guards import GuardSettings, default_guards, unique_names
from mcp_bastion.config.identities import Identities
from mcp_bastion.config.listeners import Listeners
from mcp_bastion.config.observability import Observability
from mcp_bastion.config.upstreams import UPSTREAM_NAME_PATTERN, Upstream

__all__ = ["BastionConfig", "PolicyConfig", "Stores", "TokenConfig"]

_STORE_URL = r"^(memory://|sqlite:///|postgresql://|postgres://|redis://|rediss://)\S*$"


class PolicyConfig(StrictModel):
    """Cedar policy: ``dir`` holds ``*.cedar`` (and optionally ``schema.cedarschema``)."""

    dir: ConfigPath | None = None
    """``None`` = the default policy packaged with mcp-bastion."""
    cache_decisions: bool = True
    """Cache decisions per (roles, tenant, action, tool) when the policy ignores the context."""


class Stores(StrictModel):
    """Where state lives. URLs: ``memory://``, ``sqlite:///PATH``, ``postgresql://...``, ``redis://...``."""

    rate_limits: str = Field(default="memory://", pattern=_STORE_URL)
    state: str = Field(default="memory://", pattern=_STORE_URL)
    pins: str = Field(default="sqlite:///bastion.db", pattern=_STORE_URL)
    approvals: str = Field(default="sqlite:///bastion.db", pattern=_STORE_URL)
    audit: str = Field(default="sqlite:///bastion.db", pattern=_STORE_URL)

    @field_validator("rate_limits", "state", "pins", "approvals", "audit")
    @classmethod
    def _absolute_sqlite(cls, value: str, info: ValidationInfo) -> str:
        # A relative SQLite path is relative to bastion.yaml, like every other path in it.
        base = (info.context or {}).get("base_dir")
        if value.startswith("sqlite:///") and isinstance(base, Path):
            path = Path(value.removeprefix("sqlite:///")).expanduser()
            if not path.is_absolute() and str(path) != ":memory:":
                return f"sqlite:///{base / path}"
        return value


class TokenConfig(StrictModel):
    """Development tokens (``bastion token create``): a local signing key."""

    key_file: ConfigPath
    """Created with mode 0600 on first use. Ed25519 private key (PEM) or HS256 secret."""
    algorithm: Literal["Ed25519", "HS256"] = "Ed25519"
    """``Ed25519`` (RFC 9864; verified with ``identities.jwt.ed25519_public_key_file`` =
    ``<key_file>.pub``) or ``HS256`` (verified with ``hs256_key_file`` = ``key_file``)."""
    issuer: str = "bastion-dev"
    audience: str | None = None
    """Default: the HTTP listener's resource URI."""
    default_ttl_s: int = Field(default=3600, gt=0, le=30 * 24 * 3600)


class BastionConfig(StrictModel):
    """The whole configuration of a gateway or wrapper."""

    version: Literal[1] = 1
    listeners: Listeners = Listeners()
    upstreams: dict[str, Upstream] = Field(default_factory=dict)
    identities: Identities = Identities()
    policy: PolicyConfig = PolicyConfig()
    guards: tuple[GuardSettings, ...] = Field(default_factory=default_guards)
    guard_timeout_s: float = Field(default=2.0, gt=0, le=60)
    stores: Stores = Stores()
    token: TokenConfig | None = None
    observability: Observability = Observability()
    audit_log: AuditLogConfig = AuditLogConfig()

    @field_validator("upstreams")
    @classmethod
    def _names(cls, value: dict[str, Upstream]) -> dict[str, Upstream]:
        for name in value:
            if re.fullmatch(UPSTREAM_NAME_PATTERN, name) is None:
                raise ValueError(f"upstream name {name!r} must match {UPSTREAM_NAME_PATTERN} (no '.' or '/')")
        return value

    @field_validator("guards")
    @classmethod
    def _unique(cls, value: tuple[GuardSettings, ...]) -> tuple[GuardSettings, ...]:
        return unique_names(value)

    @model_validator(mode="after")
    def _cross(self) -> Self:
        http = self.listeners.http
        if (
            http is not None
            and http.require_auth
            and self.identities.jwt is None
            and not self.identities.api_keys
        ):
            raise ValueError("listeners.http requires auth but identities has neither jwt nor api_keys")
        return self

    @property
    def resource_uri(self) -> str | None:
        """This gateway's resource URI (the JWT audience), when it listens on HTTP."""
        return None if self.listeners.http is None else self.listeners.http.resource_uri

    @property
    def jwt_audience(self) -> str | None:
        jwt = self.identities.jwt
        if jwt is not None and jwt.audience is not None:
            return jwt.audience
        return self.resource_uri

    def guard(self, name: str) -> GuardSettings | None:
        """The settings of guard ``name`` if it is enabled (listed)."""
        for g in self.guards:
            if g.name == name:
                return g
        return None
