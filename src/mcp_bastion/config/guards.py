"""Per-guard settings. ``guards`` in bastion.yaml is an ordered list; order is chain order.

Each entry names its guard (``name: limits``) and carries that guard's settings; a guard
not listed does not run. The list is a discriminated union on ``name``, so a misspelt
setting of one guard is an error naming that guard.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from mcp_bastion.config._base import ConfigPath, StrictModel

__all__ = [
    "DEFAULT_GUARD_ORDER",
    "ArgumentConstraint",
    "ArgumentsSettings",
    "AuditSettings",
    "AuthenticationSettings",
    "AuthorizationSettings",
    "Bucket",
    "DescriptionsSettings",
    "GuardSettings",
    "LimitsSettings",
    "NotificationsSettings",
    "OutputSettings",
    "PinningSettings",
    "RateLimitSettings",
    "ToolConstraints",
]


class AuthenticationSettings(StrictModel):
    """Deny exchanges without an authenticated principal when the listener requires auth."""

    name: Literal["authentication"] = "authentication"
    required_scopes: tuple[str, ...] = ()
    """Scopes every caller must hold (in addition to ``identities.jwt.required_scopes``)."""


class LimitsSettings(StrictModel):
    """Structural limits on every message and the method allow-list."""

    name: Literal["limits"] = "limits"
    max_body_bytes: int = Field(default=1_048_576, ge=256)
    max_depth: int = Field(default=32, ge=2, le=1000)
    max_string_length: int = Field(default=262_144, ge=16)
    max_array_length: int = Field(default=10_000, ge=1)
    deny_methods: tuple[str, ...] = ()
    """Known MCP methods to refuse anyway (e.g. ``sampling/createMessage``)."""


class AuthorizationSettings(StrictModel):
    """Cedar authorization of every request and filtering of list results."""

    name: Literal["authorization"] = "authorization"
    filter_lists: bool = True
    max_context_bytes: int = Field(default=4096, ge=0)
    """Arguments larger than this (canonical JSON) are not put into the Cedar context."""


class ArgumentConstraint(StrictModel):
    """Extra constraints on one argument (strings only for length and pattern)."""

    max_length: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    """A regular expression the whole value must match (``re.fullmatch``)."""
    block_sqli: bool | None = None
    block_shell: bool | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value


class ToolConstraints(StrictModel):
    """Constraints on one tool's arguments, beyond its inputSchema."""

    no_extra_properties: bool = True
    max_string_length: int | None = Field(default=None, ge=0)
    arguments: dict[str, ArgumentConstraint] = Field(default_factory=dict)


class ArgumentsSettings(StrictModel):
    """Validation of ``tools/call`` arguments and injection blocking."""

    name: Literal["arguments"] = "arguments"
    validate_schema: bool = True
    block_sqli: bool = True
    block_shell: bool = True
    min_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    no_extra_properties: bool = False
    """Refuse arguments the inputSchema does not declare, for every tool."""
    tools: dict[str, ToolConstraints] = Field(default_factory=dict)
    """Keyed ``<upstream>.<tool>`` (e.g. ``gridops.get_asset``)."""

    @field_validator("tools")
    @classmethod
    def _qualified(cls, value: dict[str, ToolConstraints]) -> dict[str, ToolConstraints]:
        for key in value:
            if key.count(".") < 1 or key.startswith(".") or key.endswith("."):
                raise ValueError(f"tool key {key!r} must be '<upstream>.<tool>'")
        return value


class Bucket(StrictModel):
    """A token bucket: ``capacity`` tokens, refilled at ``refill_per_second``."""

    capacity: float = Field(gt=0)
    refill_per_second: float = Field(gt=0)


class RateLimitSettings(StrictModel):
    """Token buckets per principal and per (principal, tool)."""

    name: Literal["ratelimit"] = "ratelimit"
    per_principal: Bucket | None = Bucket(capacity=120, refill_per_second=2.0)
    per_tool: Bucket | None = Bucket(capacity=60, refill_per_second=1.0)
    tools: dict[str, Bucket] = Field(default_factory=dict)
    """Per-tool overrides of ``per_tool``, keyed ``<upstream>.<tool>``."""


class PinningSettings(StrictModel):
    """Rug-pull protection: pin each upstream's surface on first contact."""

    name: Literal["pinning"] = "pinning"
    pin_on_first_contact: bool = True


class NotificationsSettings(StrictModel):
    """Validation of server-to-client notifications."""

    name: Literal["notifications"] = "notifications"
    max_bytes: int = Field(default=65_536, ge=64)
    rate: Bucket = Bucket(capacity=50, refill_per_second=10)
    server_requests: tuple[Literal["elicitation/create", "sampling/createMessage"], ...] = (
        "elicitation/create",
        "sampling/createMessage",
    )
    """Server-to-client requests relayed to clients (others are refused); ``[]`` relays none."""


class OutputSettings(StrictModel):
    """Checks on results travelling server-to-client."""

    name: Literal["output"] = "output"
    max_bytes: int = Field(default=4_194_304, ge=256)
    validate_structured: bool = True
    detectors: Literal["block", "redact", "warn", "off"] = "redact"
    credential_tools: tuple[str, ...] = ()
    """Tools (``<upstream>.<tool>``) whose results hand the caller a credential on purpose
    (e.g. ``gridops.simulate_switching``'s single-use simulation token): secrets are not
    redacted from their results. Prompt-injection checks still apply."""

    @field_validator("credential_tools")
    @classmethod
    def _qualified_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for key in value:
            if key.count(".") < 1 or key.startswith(".") or key.endswith("."):
                raise ValueError(f"tool {key!r} must be '<upstream>.<tool>'")
        return value


class DescriptionsSettings(StrictModel):
    """Scanning of tool/prompt descriptions for poisoning."""

    name: Literal["descriptions"] = "descriptions"
    mode: Literal["block", "warn"] = "block"


class AuditSettings(StrictModel):
    """Every verdict becomes an event."""

    name: Literal["audit"] = "audit"
    jsonl_path: ConfigPath | None = None
    """Append-only JSON-lines sink; ``None`` = the audit store from ``stores``."""


GuardSettings = Annotated[
    AuthenticationSettings
    | LimitsSettings
    | RateLimitSettings
    | AuthorizationSettings
    | ArgumentsSettings
    | PinningSettings
    | DescriptionsSettings
    | NotificationsSettings
    | OutputSettings
    | AuditSettings,
    Field(discriminator="name"),
]

DEFAULT_GUARD_ORDER: tuple[str, ...] = (
    "authentication",
    "limits",
    "ratelimit",
    "pinning",
    "authorization",
    "arguments",
    "descriptions",
    "notifications",
    "output",
    "audit",
)


def default_guards() -> tuple[GuardSettings, ...]:
    """Every guard, with its defaults, in the default order."""
    return (
        AuthenticationSettings(),
        LimitsSettings(),
        RateLimitSettings(),
        PinningSettings(),
        AuthorizationSettings(),
        ArgumentsSettings(),
        DescriptionsSettings(),
        NotificationsSettings(),
        OutputSettings(),
        AuditSettings(),
    )


def unique_names(guards: tuple[GuardSettings, ...]) -> tuple[GuardSettings, ...]:
    """Reject a guard listed twice (order would be ambiguous)."""
    seen: set[str] = set()
    for g in guards:
        if g.name in seen:
            raise ValueError(f"guard {g.name!r} is listed more than once")
        seen.add(g.name)
    return guards
