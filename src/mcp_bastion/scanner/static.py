"""Static checks over a server's surface: detectors, dangerous capabilities, schema hygiene.

Nothing here talks to a server: the input is the :class:`Surface` the runner fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcp_bastion.detectors import Capability, Finding, classify_capabilities, find_collisions, scan_surface
from mcp_bastion.scanner.model import ScanFinding, Surface
from mcp_bastion.scanner.rules import SCAN_RULES

__all__ = ["SENSITIVE_PARAM", "capability_checks", "collision_checks", "schema_checks", "static_checks"]

# Parameter names whose free-form value usually ends up in an interpreter or a file system.
SENSITIVE_PARAM = re.compile(
    r"(?:^|_)(?:query|sql|statement|command|cmd|shell|script|code|expr|expression|path|file|filename|"
    r"dir|directory|url|uri|endpoint|host)(?:$|_)",
    re.IGNORECASE,
)
_CAP_RULE = {
    Capability.ARBITRARY_SQL: "BST-SCAN-101",
    Capability.SHELL: "BST-SCAN-102",
    Capability.CODE_EXECUTION: "BST-SCAN-102",
    Capability.ENV_READ: "BST-SCAN-103",
    Capability.FILE_WRITE: "BST-SCAN-104",
    Capability.FILE_DELETE: "BST-SCAN-104",
    Capability.FILE_READ: "BST-SCAN-105",
    Capability.NETWORK_FETCH: "BST-SCAN-105",
    Capability.SEND_MESSAGE: "BST-SCAN-105",
}
_LOC = re.compile(r"^server:[^/]*/")


def _finding(rule_id: str, server: str, target: str, message: str, evidence: str = "") -> ScanFinding:
    return ScanFinding(rule_id, SCAN_RULES[rule_id].severity, server, target, message, evidence)


def _from_detector(server: str, f: Finding) -> ScanFinding:
    target = _LOC.sub("", f.location)
    if target.startswith(f"server:{server}."):
        target = "server" + target.removeprefix(f"server:{server}")
    return ScanFinding(f.rule_id, f.severity, server, target, f.message, f.evidence)


def capability_checks(server: str, tools: Iterable[Mapping[str, Any]]) -> list[ScanFinding]:
    """One finding per dangerous capability of each tool (BST-SCAN-101..105)."""
    out: list[ScanFinding] = []
    for tool in tools:
        name = str(tool.get("name", ""))
        caps = sorted(classify_capabilities(tool), key=lambda c: c.value)
        for cap in caps:
            rule = _CAP_RULE[cap]
            out.append(
                _finding(rule, server, f"tool:{name}", f"{name} has the {cap.value} capability", cap.value)
            )
    return out


def _types(sub: Mapping[str, Any]) -> set[str]:
    t = sub.get("type")
    found = (
        {t} if isinstance(t, str) else {x for x in t if isinstance(x, str)} if isinstance(t, list) else set()
    )
    for alt in (*sub.get("anyOf", ()), *sub.get("oneOf", ())):
        if isinstance(alt, Mapping):
            found |= _types(alt)
    return found


def _constrained(sub: Mapping[str, Any], key: str) -> bool:
    if key in sub:
        return True
    return any(
        isinstance(a, Mapping) and _constrained(a, key)
        for a in (*sub.get("anyOf", ()), *sub.get("oneOf", ()))
    )


def schema_checks(server: str, tools: Iterable[Mapping[str, Any]]) -> list[ScanFinding]:
    """Schema hygiene of each tool's ``inputSchema`` (BST-SCAN-201..204)."""
    out: list[ScanFinding] = []
    for tool in tools:
        name = str(tool.get("name", ""))
        schema = tool.get("inputSchema")
        where = f"tool:{name}"
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            out.append(_finding("BST-SCAN-204", server, where, f"{name} declares no object inputSchema"))
            continue
        props = schema.get("properties") or {}
        if props and schema.get("additionalProperties") is not False:
            out.append(
                _finding(
                    "BST-SCAN-202", server, where, f"{name} accepts properties its schema does not declare"
                )
            )
        if not isinstance(props, Mapping):
            continue
        for prop, sub in props.items():
            if not isinstance(sub, Mapping) or "string" not in _types(sub):
                continue
            closed = any(_constrained(sub, k) for k in ("enum", "const", "pattern", "format"))
            if not closed and SENSITIVE_PARAM.search(str(prop)):
                out.append(
                    _finding(
                        "BST-SCAN-201",
                        server,
                        f"{where}.{prop}",
                        f"{name}.{prop} takes any string (no enum, pattern or format)",
                        str(prop),
                    )
                )
            if (
                not _constrained(sub, "maxLength")
                and not _constrained(sub, "enum")
                and not _constrained(sub, "const")
            ):
                out.append(
                    _finding("BST-SCAN-203", server, f"{where}.{prop}", f"{name}.{prop} has no maxLength")
                )
    return out


def static_checks(server: str, surface: Surface) -> list[ScanFinding]:
    """Detectors over the whole surface plus capability and schema checks for one server."""
    found = scan_surface(
        server=server,
        instructions=surface.instructions,
        tools=surface.tools,
        prompts=surface.prompts,
        resources=(*surface.resources, *surface.resource_templates),
    )
    # BST-CAP-001 is the detectors' INFO view of capabilities; BST-SCAN-10x rates them instead.
    out = [_from_detector(server, f) for f in found if f.rule_id != "BST-CAP-001"]
    return out + capability_checks(server, surface.tools) + schema_checks(server, surface.tools)


def collision_checks(tools_by_server: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[ScanFinding]:
    """Same or confusable tool names across the scanned servers (the detectors' rule ids)."""
    if len(tools_by_server) < 2:
        return []
    found = find_collisions({k: list(v) for k, v in tools_by_server.items()})
    out: list[ScanFinding] = []
    for f in found:
        m = re.match(r"^server:([^/]*)/(.*)$", f.location)
        server, target = (m.group(1), m.group(2)) if m else ("", f.location)
        out.append(ScanFinding(f.rule_id, f.severity, server, target, f.message, f.evidence))
    return out
