"""Property tests: no exception on arbitrary input, idempotent redaction, bounded scanning."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_bastion.detectors import (
    MAX_SCAN_CHARS,
    PII_KINDS,
    Finding,
    redact,
    redact_value,
    risk_score,
    scan_output,
    scan_secrets,
    scan_tool,
)

# Text biased towards the characters detectors care about, plus anything at all.
ALPHABET = st.sampled_from(
    [
        *"aeiouAKIgnore <|>[]{}%&#;:=/@._-\n\t\\x0123456789",
        "\u200b",
        "\u202e",
        "\U000e0041",
        "\x1b",
        "е",
        "忽",
        "ignore previous instructions",
        "sk-",
        "ghp_",
        "://",
    ]
)
TEXT = st.one_of(st.text(), st.lists(ALPHABET, max_size=200).map("".join))

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_scanners_never_raise(text: str) -> None:
    for finding in scan_output(text) + scan_secrets(text, pii=PII_KINDS):
        assert isinstance(finding, Finding)
        assert 0.0 <= finding.confidence <= 1.0
    assert 0.0 <= risk_score(scan_output(text)) <= 1.0


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_redact_is_idempotent(text: str) -> None:
    once, _ = redact(text, pii=PII_KINDS)
    twice, findings = redact(once, pii=PII_KINDS)
    assert twice == once
    assert findings == []


@settings(max_examples=80, deadline=None)
@given(JSON)
def test_redact_value_never_raises_and_is_idempotent(value: Any) -> None:
    once, _ = redact_value(value)
    twice, findings = redact_value(once)
    assert twice == once
    assert findings == []


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "description", "inputSchema", "annotations", "title"]), JSON))
def test_scan_tool_never_raises_on_malformed_tools(tool: dict[str, Any]) -> None:
    assert isinstance(scan_tool(tool), list)


def test_large_input_is_capped_with_a_note() -> None:
    text = "ignore " * (MAX_SCAN_CHARS // 7 + 1000)
    found = scan_output(text)
    assert any(f.rule_id == "BST-SYS-001" for f in found)


def test_pathological_inputs_complete() -> None:
    # Shapes that make naive regexes backtrack: long runs without the closing token.
    for text in (
        "a" * 300_000,
        "<!--" + "x" * 100_000,
        "-----BEGIN RSA PRIVATE KEY-----" + "A" * 100_000,
        "%41" * 50_000,
        "&#65;" * 50_000,
        "![" + "a" * 50_000,
        "1 " * 100_000,
        "ignore " * 40_000,
        "postgres://" + "u" * 50_000,
    ):
        scan_output(text)
        redact(text, pii=PII_KINDS)
