"""Content detectors: tool poisoning, prompt injection, secrets and PII, dangerous capabilities.

Pure functions over text and tool definitions; no I/O, no network, nothing downloaded at
run time. Every finding carries a stable rule id (``BST-TP-001``...), a severity, a
confidence, and CWE / OWASP-LLM tags; :data:`RULES` holds each rule's documentation
(``docs/detectors.md`` is rendered from it). A gateway guard typically calls
:func:`scan_surface` on ``tools/list`` results, :func:`scan_output` and :func:`redact_value`
on results, and gates tools by :func:`classify_capabilities`; :func:`risk_score` turns
findings into one number and :data:`FLAG_THRESHOLD` says when to act.
"""

from __future__ import annotations

from mcp_bastion.detectors.capabilities import classify_capabilities
from mcp_bastion.detectors.collisions import find_collisions
from mcp_bastion.detectors.injection import scan_output
from mcp_bastion.detectors.poisoning import scan_surface, scan_tool
from mcp_bastion.detectors.score import FLAG_THRESHOLD, is_flagged, risk_score
from mcp_bastion.detectors.secrets import PII_KINDS, redact, redact_value, scan_secrets
from mcp_bastion.detectors.textutil import MAX_SCAN_CHARS
from mcp_bastion.detectors.types import RULES, Capability, Finding, Rule, Severity

__all__ = [
    "FLAG_THRESHOLD",
    "MAX_SCAN_CHARS",
    "PII_KINDS",
    "RULES",
    "Capability",
    "Finding",
    "Rule",
    "Severity",
    "classify_capabilities",
    "find_collisions",
    "is_flagged",
    "redact",
    "redact_value",
    "risk_score",
    "scan_output",
    "scan_secrets",
    "scan_surface",
    "scan_tool",
]
