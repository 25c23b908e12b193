"""Every rule is documented, and docs/detectors.md shows the rules exactly as the code does."""

from __future__ import annotations

from pathlib import Path

from mcp_bastion.detectors import RULES
from mcp_bastion.detectors.catalog import BEGIN, END, render_rules_markdown, splice

DOC = Path(__file__).resolve().parents[2] / "docs" / "detectors.md"


def test_rules_have_ids_tags_and_documentation() -> None:
    own = {
        rid: r
        for rid, r in RULES.items()
        if rid.split("-")[1] in {"TP", "PI", "SE", "PII", "CAP", "UNI", "SYS"}
    }
    assert len(own) >= 25
    for rule_id, entry in own.items():
        assert entry.id == rule_id
        assert entry.doc.strip() and entry.title
        if entry.category != "system":
            assert entry.cwe.startswith("CWE-") and entry.owasp.startswith("LLM"), rule_id


def test_docs_match_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert splice(text) == text, "run: python -m mcp_bastion.detectors.catalog docs/detectors.md"
    for rule_id in RULES:
        if rule_id in render_rules_markdown():
            assert f"`{rule_id}`" in text
