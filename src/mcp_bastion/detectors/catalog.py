"""Render the rule catalogue (``docs/detectors.md``'s rule section) from the rule registry."""

from __future__ import annotations

import mcp_bastion.detectors  # noqa: F401  -- importing the package registers every rule
from mcp_bastion.detectors.types import RULES

__all__ = ["render_rules_markdown"]

_CATEGORY_TITLES = {
    "tool-poisoning": "Tool poisoning (tool metadata)",
    "prompt-injection": "Prompt injection (outputs, resources, and tool metadata)",
    "unicode": "Hidden characters (everywhere)",
    "secrets": "Secrets (outputs, arguments, audit)",
    "pii": "Personal data (opt-in per kind)",
    "capability": "Dangerous capabilities (tool definitions)",
    "system": "Scanner notes",
}


def render_rules_markdown() -> str:
    """The rule catalogue as Markdown: one section per category, one entry per rule."""
    lines: list[str] = []
    for category, title in _CATEGORY_TITLES.items():
        rules = sorted((r for r in RULES.values() if r.category == category), key=lambda r: r.id)
        if not rules:
            continue
        lines += [f"### {title}", ""]
        for entry in rules:
            tags = ", ".join(t for t in (entry.cwe, entry.owasp) if t) or "none"
            lines += [
                f"#### `{entry.id}` {entry.title}",
                "",
                f"Severity: **{entry.severity.value}**; tags: {tags}.",
                "",
            ]
            lines += [entry.doc, ""]
    return "\n".join(lines).rstrip() + "\n"
