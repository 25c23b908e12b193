"""Catalog: what each upstream exposes, as last listed through the chain.

The gateway (or ``wrap``) records every upstream's ``tools/list``, ``prompts/list`` and
``resources/templates/list`` results here after the chain passed them, and guards read
tool definitions from it (input/output schemas for validation, annotations and
capability class for authorization). Lookups are synchronous dict reads: guards call
them on the hot path. Updates replace a whole list at once, so a reader never sees half
a list. An unknown upstream or tool returns ``None``; guards deny unknown tools.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

__all__ = ["Catalog", "UpstreamSurface"]


@dataclass(frozen=True, slots=True)
class UpstreamSurface:
    """One upstream's listed surface; items are the raw JSON dicts from the wire."""

    instructions: str | None = None
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    prompts: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    resource_templates: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))


class Catalog:
    """Thread-safe registry of upstream surfaces (copy-on-write)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._surfaces: dict[str, UpstreamSurface] = {}

    def surface(self, upstream: str) -> UpstreamSurface | None:
        return self._surfaces.get(upstream)

    def tool(self, upstream: str, name: str) -> Mapping[str, Any] | None:
        surface = self._surfaces.get(upstream)
        return None if surface is None else surface.tools.get(name)

    def upstreams(self) -> list[str]:
        return list(self._surfaces)

    def set_instructions(self, upstream: str, instructions: str | None) -> None:
        self._update(upstream, instructions=instructions)

    def set_tools(self, upstream: str, tools: Sequence[Mapping[str, Any]]) -> None:
        self._update(upstream, tools=_by_key(tools, "name"))

    def set_prompts(self, upstream: str, prompts: Sequence[Mapping[str, Any]]) -> None:
        self._update(upstream, prompts=_by_key(prompts, "name"))

    def set_resource_templates(self, upstream: str, templates: Sequence[Mapping[str, Any]]) -> None:
        self._update(upstream, resource_templates=_by_key(templates, "uriTemplate"))

    def _update(self, upstream: str, **changes: Any) -> None:
        with self._lock:
            current = self._surfaces.get(upstream, UpstreamSurface())
            self._surfaces[upstream] = replace(current, **changes)


def _by_key(items: Sequence[Mapping[str, Any]], key: str) -> Mapping[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        name = item.get(key)
        if isinstance(name, str):
            out[name] = item
    return MappingProxyType(out)
