"""Baselines: a digest of every tool, prompt, resource and the instructions, to detect drift.

A tool whose definition changes after review (a "rug pull") is the attack pinning exists
for; ``--save-baseline`` records digests, ``--baseline`` compares (BST-SCAN-301..304).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcp_bastion.scanner.model import ScanFinding, ServerResult, Surface
from mcp_bastion.scanner.rules import SCAN_RULES

__all__ = ["BASELINE_VERSION", "BaselineError", "drift", "load_baseline", "save_baseline", "surface_digests"]

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be read or has the wrong shape."""


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def surface_digests(surface: Surface) -> dict[str, Any]:
    """``{"instructions": sha, "tools": {name: sha}, "prompts": {...}, "resources": {...}}``."""
    return {
        "instructions": _digest(surface.instructions or ""),
        "tools": {str(t.get("name", "")): _digest(t) for t in surface.tools},
        "prompts": {str(p.get("name", "")): _digest(p) for p in surface.prompts},
        "resources": {
            str(r.get("uri") or r.get("uriTemplate") or ""): _digest(r)
            for r in (*surface.resources, *surface.resource_templates)
        },
    }


def save_baseline(path: Path, servers: tuple[ServerResult, ...] | list[ServerResult]) -> None:
    """Write the digests of every reachable server to ``path``."""
    doc = {
        "version": BASELINE_VERSION,
        "servers": {s.name: surface_digests(s.surface) for s in servers if s.surface is not None},
    }
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    """The ``servers`` mapping of a baseline file; raises :class:`BaselineError`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: not a readable JSON file") from exc
    if not isinstance(doc, Mapping) or doc.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{path}: not a version {BASELINE_VERSION} baseline")
    servers = doc.get("servers")
    if not isinstance(servers, Mapping) or not all(isinstance(v, Mapping) for v in servers.values()):
        raise BaselineError(f"{path}: servers must be an object of objects")
    return {str(k): dict(v) for k, v in servers.items()}


def _f(rule: str, server: str, target: str, message: str) -> ScanFinding:
    return ScanFinding(rule, SCAN_RULES[rule].severity, server, target, message)


def drift(server: str, surface: Surface, baseline: Mapping[str, Any] | None) -> list[ScanFinding]:
    """Findings for what changed in ``surface`` since ``baseline`` (None: server not in it)."""
    if baseline is None:
        return [_f("BST-SCAN-301", server, "server", f"{server} is not in the baseline")]
    now = surface_digests(surface)
    out: list[ScanFinding] = []
    old_tools = baseline.get("tools") or {}
    for name, sha in sorted(now["tools"].items()):
        if name not in old_tools:
            out.append(_f("BST-SCAN-301", server, f"tool:{name}", f"new tool {name}"))
        elif old_tools[name] != sha:
            out.append(_f("BST-SCAN-303", server, f"tool:{name}", f"{name} changed since the baseline"))
    out += [
        _f("BST-SCAN-302", server, f"tool:{name}", f"{name} is gone")
        for name in sorted(set(old_tools) - set(now["tools"]))
    ]
    if baseline.get("instructions") != now["instructions"]:
        out.append(_f("BST-SCAN-304", server, "server.instructions", "the server instructions changed"))
    for kind in ("prompts", "resources"):
        old = baseline.get(kind) or {}
        for key in sorted(set(old) | set(now[kind])):
            if old.get(key) != now[kind].get(key):
                out.append(
                    _f(
                        "BST-SCAN-304",
                        server,
                        f"{kind[:-1]}:{key}",
                        f"{kind[:-1]} {key} added/changed/removed",
                    )
                )
    return out
