"""Helpers shared by the guards of this package: JSON-RPC codes and tool resolution.

JSON-RPC error codes used by guard denials (see docs/configuration.md):

==========  =========================================================================
``-32700``  parse error: invalid UTF-8 or JSON (raw-body check)
``-32600``  invalid request: body too large, batch, nesting too deep (raw-body check)
``-32601``  method not found: unknown or disallowed method (limits)
``-32602``  invalid params: structural limits, unknown tool, arguments fail schema or
            constraints (limits, authorization, arguments)
``-32000``  denied: authentication, authorization (policy), injection blocked
``-32029``  rate limited; ``data.retry_after`` holds seconds (ratelimit)
==========  =========================================================================
"""

from __future__ import annotations

from mcp_bastion.messages import Exchange

__all__ = [
    "DENIED",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "RATE_LIMITED",
    "qualified",
    "split_tool",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
DENIED = -32000
RATE_LIMITED = -32029


def split_tool(exchange: Exchange, name: str | None = None) -> tuple[str, str] | None:
    """``(upstream, tool)`` of a tools/call exchange (or of ``name``), namespaced or not.

    The gateway sets ``exchange.upstream`` and forwards the upstream-local name; a name
    still carrying the ``upstream.`` prefix is accepted too. Without an upstream the name
    must be ``upstream.tool``.
    """
    if name is None:
        name = exchange.tool_name
    if not name:
        return None
    upstream = exchange.upstream
    if upstream is not None:
        prefix = f"{upstream}."
        return (upstream, name[len(prefix) :]) if name.startswith(prefix) else (upstream, name)
    head, sep, tail = name.partition(".")
    return (head, tail) if sep and head and tail else None


def qualified(upstream: str, tool: str) -> str:
    """The configuration key of a tool: ``upstream.tool``."""
    return f"{upstream}.{tool}"
