"""The scanner's data: one server's surface, one finding, one report (JSON schema version 1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mcp_bastion.detectors import Severity

__all__ = ["SCHEMA_VERSION", "ScanFinding", "ScanReport", "ServerResult", "Surface", "severity_at_least"]

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class ScanFinding:
    """One problem found in one server: a stable rule id, where, and a short excerpt.

    ``target`` names the tool, prompt, resource or transport aspect (``tool:execute_sql``,
    ``resource:grid://assets/{id}``, ``transport``, ``server``); ``evidence`` never holds a
    secret (detector evidence is already redacted, probes report canaries, never values they
    did not plant).
    """

    rule_id: str
    severity: Severity
    server: str
    target: str
    message: str
    evidence: str = ""

    def to_json(self) -> dict[str, str]:
        """The finding as in the JSON report."""
        out = asdict(self)
        out["severity"] = self.severity.value
        return out


@dataclass(frozen=True, slots=True)
class Surface:
    """What a server says about itself: instructions, tools, prompts, resources (as JSON dicts)."""

    instructions: str | None
    tools: tuple[dict[str, Any], ...]
    prompts: tuple[dict[str, Any], ...] = ()
    resources: tuple[dict[str, Any], ...] = ()
    resource_templates: tuple[dict[str, Any], ...] = ()
    server_info: dict[str, Any] = field(default_factory=dict)
    protocol_version: str = ""


@dataclass(frozen=True, slots=True)
class ServerResult:
    """The outcome of scanning one server: its surface, or why it could not be scanned."""

    name: str
    target: str
    surface: Surface | None
    error: str | None = None
    active: bool = False

    def to_json(self) -> dict[str, Any]:
        """The server entry of the JSON report."""
        out: dict[str, Any] = {
            "name": self.name,
            "target": self.target,
            "reachable": self.surface is not None,
        }
        if self.error is not None:
            out["error"] = self.error
        if self.surface is not None:
            s = self.surface
            out |= {
                "server_info": s.server_info,
                "protocol_version": s.protocol_version,
                "tools": sorted(str(t.get("name", "")) for t in s.tools),
                "prompts": sorted(str(p.get("name", "")) for p in s.prompts),
                "resources": sorted(str(r.get("uri", "")) for r in s.resources),
                "resource_templates": sorted(str(r.get("uriTemplate", "")) for r in s.resource_templates),
            }
        out["active"] = self.active
        return out


@dataclass(frozen=True, slots=True)
class ScanReport:
    """Every scanned server and every finding, ordered by severity (worst first)."""

    servers: tuple[ServerResult, ...]
    findings: tuple[ScanFinding, ...]

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document (``docs/scanner.md`` describes it)."""
        return {
            "version": SCHEMA_VERSION,
            "servers": [s.to_json() for s in self.servers],
            "findings": [f.to_json() for f in self.findings],
        }

    def worst(self) -> Severity | None:
        """The highest severity among the findings, or None when there are none."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


def severity_at_least(findings: tuple[ScanFinding, ...] | list[ScanFinding], floor: Severity) -> bool:
    """True when any finding is at ``floor`` or worse."""
    return any(f.severity.rank >= floor.rank for f in findings)
