"""bastion.yaml: the configuration schema (pydantic v2, strict, frozen) and its loader."""

from __future__ import annotations

from mcp_bastion.config.audit import AuditLogConfig
from mcp_bastion.config.defaults import DEFAULT_STATE_DIR, default_config
from mcp_bastion.config.guards import (
    DEFAULT_GUARD_ORDER,
    ArgumentConstraint,
    ArgumentsSettings,
    AuditSettings,
    AuthenticationSettings,
    AuthorizationSettings,
    Bucket,
    DescriptionsSettings,
    GuardSettings,
    LimitsSettings,
    NotificationsSettings,
    OutputSettings,
    PinningSettings,
    RateLimitSettings,
    ToolConstraints,
    default_guards,
)
from mcp_bastion.config.identities import ApiKey, Identities, JwtIdentity, LocalIdentity
from mcp_bastion.config.listeners import HttpListener, Listeners, StdioListener
from mcp_bastion.config.load import format_validation_error, load_config, parse_config
from mcp_bastion.config.model import BastionConfig, PolicyConfig, Stores, TokenConfig
from mcp_bastion.config.observability import Observability
from mcp_bastion.config.upstreams import Upstream

__all__ = [
    "DEFAULT_GUARD_ORDER",
    "DEFAULT_STATE_DIR",
    "ApiKey",
    "ArgumentConstraint",
    "ArgumentsSettings",
    "AuditLogConfig",
    "AuditSettings",
    "AuthenticationSettings",
    "AuthorizationSettings",
    "BastionConfig",
    "Bucket",
    "DescriptionsSettings",
    "GuardSettings",
    "HttpListener",
    "Identities",
    "JwtIdentity",
    "LimitsSettings",
    "Listeners",
    "LocalIdentity",
    "NotificationsSettings",
    "Observability",
    "OutputSettings",
    "PinningSettings",
    "PolicyConfig",
    "RateLimitSettings",
    "StdioListener",
    "Stores",
    "TokenConfig",
    "ToolConstraints",
    "Upstream",
    "default_config",
    "default_guards",
    "format_validation_error",
    "load_config",
    "parse_config",
]
