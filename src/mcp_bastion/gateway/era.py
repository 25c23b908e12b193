"""Protocol-era shaping between 2026-07-28 clients and 2025-11-25 upstreams (pure functions)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from mcp_types import PROTOCOL_VERSION_META_KEY, JSONRPCRequest
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_bastion.transports.downstream import Downstream

__all__ = ["CACHEABLE", "era_of", "for_era", "strip_envelope"]

LIST_METHODS: Final = frozenset({"tools/list", "prompts/list", "resources/list", "resources/templates/list"})

_ENVELOPE_PREFIX: Final = "io.modelcontextprotocol/"


def strip_envelope(params: dict[str, Any]) -> dict[str, Any]:
    """Drop the 2026-07-28 per-request envelope from ``_meta`` before forwarding upstream.

    Upstreams are spoken to in 2025-11-25, where the envelope is refused; the gateway has
    already read what it needs from it (protocol version) at the transport.
    """
    meta = params.get("_meta")
    if not isinstance(meta, dict) or not any(k.startswith(_ENVELOPE_PREFIX) for k in meta):
        return params
    kept = {k: v for k, v in meta.items() if not k.startswith(_ENVELOPE_PREFIX)}
    stripped = {k: v for k, v in params.items() if k != "_meta"}
    if kept:
        stripped["_meta"] = kept
    return stripped


def era_of(message: JSONRPCRequest, downstream: Downstream) -> Downstream:
    """A 2026-07-28 request names its version in its envelope (stdio has no header for it)."""
    meta = (message.params or {}).get("_meta")
    version = meta.get(PROTOCOL_VERSION_META_KEY) if isinstance(meta, dict) else None
    if (
        isinstance(version, str)
        and version in MODERN_PROTOCOL_VERSIONS
        and version != downstream.protocol_version
    ):
        return replace(downstream, protocol_version=version)
    return downstream


CACHEABLE: Final = frozenset({*LIST_METHODS, "server/discover", "resources/read"})


def for_era(result: dict[str, Any], method: str, downstream: Downstream) -> dict[str, Any]:
    """Shape a 2025-11-25 result for the client's era (2026-07-28 adds required fields).

    Cacheable results get ``ttlMs: 0`` and ``cacheScope: private``: lists are filtered per
    principal and re-checked for drift on every request, so no client may cache them.
    """
    if not downstream.modern:
        return result
    shaped = dict(result)
    shaped.setdefault("resultType", "complete")
    if method in CACHEABLE:
        shaped["ttlMs"] = 0
        shaped["cacheScope"] = "private"
    return shaped
