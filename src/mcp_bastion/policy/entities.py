"""Cedar entities and requests built from our values (Principal, tool definitions).

Entity ids are passed in Cedar's structured form (``{"type": ..., "id": ...}``) so names
with quotes or newlines never need escaping. Attribute values are plain Cedar values
(String, Long, Bool, Set<String>); a ``ResourceRef`` is hashable so decisions can be cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_bastion.policy.capabilities import DANGEROUS
from mcp_bastion.types import Principal

__all__ = [
    "CedarValue",
    "ResourceRef",
    "capability_class",
    "principal_entities",
    "prompt_resource",
    "resource_resource",
    "server_resource",
    "shallow_arguments",
    "tool_resource",
]

CedarValue = str | int | bool | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A Cedar resource: entity type, id, attributes and its server (parent)."""

    type: str
    id: str
    attrs: tuple[tuple[str, CedarValue], ...] = ()
    server: str | None = None

    def attr(self, name: str) -> CedarValue | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return None

    def entities(self) -> list[dict[str, Any]]:
        attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in self.attrs}
        parents = [] if self.server is None else [{"type": "Server", "id": self.server}]
        out: list[dict[str, Any]] = [
            {"uid": {"type": self.type, "id": self.id}, "attrs": attrs, "parents": parents}
        ]
        if self.server is not None and self.type != "Server":
            out.append({"uid": {"type": "Server", "id": self.server}, "attrs": {}, "parents": []})
        return out


def capability_class(read_only: bool, destructive: bool, dangerous: bool) -> str:
    """``dangerous`` > ``read`` > ``write`` (explicitly non-destructive) > ``destructive``."""
    if dangerous:
        return "dangerous"
    if read_only:
        return "read"
    return "destructive" if destructive else "write"


def _hint(annotations: Mapping[str, Any], key: str, default: bool) -> bool:
    value = annotations.get(key)
    return value if isinstance(value, bool) else default


def tool_resource(upstream: str, tool: Mapping[str, Any], capabilities: Iterable[str]) -> ResourceRef:
    """``Tool::"<upstream>/<name>"`` with annotation hints (MCP defaults) and capabilities."""
    name = str(tool.get("name", ""))
    raw = tool.get("annotations")
    annotations: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    read_only = _hint(annotations, "readOnlyHint", False)
    destructive = _hint(annotations, "destructiveHint", True) and not read_only
    caps = tuple(sorted(set(capabilities)))
    dangerous = bool(DANGEROUS.intersection(caps))
    attrs: tuple[tuple[str, CedarValue], ...] = (
        ("server", upstream),
        ("name", name),
        ("read_only", read_only),
        ("destructive", destructive),
        ("idempotent", _hint(annotations, "idempotentHint", False)),
        ("open_world", _hint(annotations, "openWorldHint", True)),
        ("capabilities", caps),
        ("dangerous", dangerous),
        ("capability_class", capability_class(read_only, destructive, dangerous)),
    )
    return ResourceRef("Tool", f"{upstream}/{name}", attrs, upstream)


def server_resource(upstream: str) -> ResourceRef:
    return ResourceRef("Server", upstream)


def prompt_resource(upstream: str, name: str) -> ResourceRef:
    return ResourceRef("Prompt", f"{upstream}/{name}", (("server", upstream), ("name", name)), upstream)


def resource_resource(upstream: str, uri: str) -> ResourceRef:
    return ResourceRef("Resource", f"{upstream}/{uri}", (("server", upstream), ("uri", uri)), upstream)


def principal_entities(principal: Principal) -> list[dict[str, Any]]:
    """The ``User`` entity (roles as parents) and its ``Role`` entities."""
    roles = sorted(principal.roles)
    user = {
        "uid": {"type": "User", "id": principal.subject},
        "attrs": {
            "tenant": principal.tenant or "",
            "auth_method": principal.auth_method.value,
            "scopes": sorted(principal.scopes),
        },
        "parents": [{"type": "Role", "id": r} for r in roles],
    }
    return [user, *({"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []} for r in roles)]


def shallow_arguments(arguments: Mapping[str, Any], max_bytes: int) -> dict[str, str | int | bool]:
    """Top-level scalar arguments for the Cedar context; ``{}`` when larger than ``max_bytes``.

    Nested values and floats (Cedar has no float) are left out; the arguments guard
    validates the full value.
    """
    out: dict[str, str | int | bool] = {}
    for key, value in arguments.items():
        if isinstance(value, bool | str) or (isinstance(value, int) and -(2**63) <= value < 2**63):
            out[str(key)] = value
    if len(json.dumps(out, ensure_ascii=False)) > max_bytes:
        return {}
    return out
