"""Same or confusable tool names across servers (rule BST-TP-007)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_bastion.detectors.textutil import skeleton
from mcp_bastion.detectors.types import RULES, Finding, Severity, rule

__all__ = ["find_collisions"]


@rule(
    "BST-TP-007",
    "Tool name collision across servers",
    Severity.MEDIUM,
    cwe="CWE-694",
    owasp="LLM03",
    category="tool-poisoning",
)
def find_collisions(tools_by_server: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Finding]:
    """Two servers offering tools with the same or confusable names.

    A model picks tools by name; a second server that registers ``send_email`` (or
    ``send-email``, ``sendEmail``, ``ѕend_email`` with a Cyrillic "ѕ") can capture calls
    meant for the first. Names are compared by a skeleton: NFKC, casefold, Cyrillic/Greek
    lookalikes mapped to Latin, ``0``/``1``/``i`` mapped to ``o``/``l``/``l``, and separators
    removed. Identical names are MEDIUM; names that differ but share a skeleton are HIGH
    (someone made them look alike). One finding per tool involved, naming the others.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for server, tools in tools_by_server.items():
        for tool in tools:
            name = str(tool.get("name", ""))
            if name:
                groups.setdefault(skeleton(name), []).append((server, name))
    this = RULES["BST-TP-007"]
    out: list[Finding] = []
    for members in groups.values():
        servers = {server for server, _ in members}
        if len(servers) < 2:
            continue
        names = {name for _, name in members}
        confusable = len(names) > 1
        for server, name in members:
            others = sorted(f"{s}/{n}" for s, n in members if s != server)
            out.append(
                this.finding(
                    f"{'confusable' if confusable else 'same'} name as {', '.join(others)}",
                    f"server:{server}/tool:{name}.name",
                    confidence=0.9 if confusable else 0.95,
                    evidence=name,
                    severity=Severity.HIGH if confusable else Severity.MEDIUM,
                )
            )
    return out
