"""The scanner's own rules: stable ids, titles, default severities, CWE tags.

Detector findings (``BST-TP-*``, ``BST-PI-*``, ``BST-SEC-*``, ...) keep their detector ids;
their documentation is :data:`mcp_bastion.detectors.RULES`. :func:`describe` looks up both.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_bastion.detectors import RULES as DETECTOR_RULES
from mcp_bastion.detectors import Severity

__all__ = ["SCAN_RULES", "ScanRule", "describe"]


@dataclass(frozen=True, slots=True)
class ScanRule:
    """Metadata of one scanner rule (used by the SARIF ``rules`` array and the docs)."""

    id: str
    title: str
    severity: Severity
    cwe: str
    help: str


_H, _M, _L, _C, _I = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.CRITICAL, Severity.INFO

SCAN_RULES: dict[str, ScanRule] = {
    r.id: r
    for r in (
        ScanRule(
            "BST-SCAN-001", "Server could not be scanned", _H, "", "Unknown is not safe: fix reachability."
        ),
        ScanRule("BST-SCAN-101", "Arbitrary SQL capability", _H, "CWE-89", "Offer named queries instead."),
        ScanRule("BST-SCAN-102", "Shell or code execution capability", _H, "CWE-78", "Remove or gate it."),
        ScanRule(
            "BST-SCAN-103", "Environment read capability", _H, "CWE-526", "Never expose the environment."
        ),
        ScanRule(
            "BST-SCAN-104", "File write or delete capability", _M, "CWE-73", "Confine to one directory."
        ),
        ScanRule(
            "BST-SCAN-105", "File read, network or messaging capability", _L, "CWE-200", "Review scope."
        ),
        ScanRule(
            "BST-SCAN-201", "Unconstrained free-form sensitive string", _M, "CWE-20", "Add enum/pattern."
        ),
        ScanRule(
            "BST-SCAN-202",
            "Schema allows additional properties",
            _L,
            "CWE-20",
            "additionalProperties: false.",
        ),
        ScanRule("BST-SCAN-203", "String parameter without maxLength", _L, "CWE-1284", "Bound every string."),
        ScanRule(
            "BST-SCAN-204", "Missing or non-object inputSchema", _M, "CWE-20", "Declare an object schema."
        ),
        ScanRule("BST-SCAN-301", "Tool added since the baseline", _M, "CWE-494", "Review, then re-baseline."),
        ScanRule("BST-SCAN-302", "Tool removed since the baseline", _I, "", "Review, then re-baseline."),
        ScanRule("BST-SCAN-303", "Tool definition changed (rug pull)", _H, "CWE-494", "Review the new text."),
        ScanRule("BST-SCAN-304", "Instructions, prompts or resources changed", _M, "CWE-494", "Review them."),
        ScanRule("BST-SCAN-401", "SQL injection (confirmed by canary)", _C, "CWE-89", "Bind parameters."),
        ScanRule("BST-SCAN-402", "Arbitrary SQL executed (confirmed)", _C, "CWE-89", "Remove free-form SQL."),
        ScanRule(
            "BST-SCAN-403", "Environment disclosure (canary)", _C, "CWE-526", "Never return env values."
        ),
        ScanRule(
            "BST-SCAN-404", "Missing authorization on a write tool", _H, "CWE-862", "Authorize per call."
        ),
        ScanRule("BST-SCAN-405", "Command injection (canary file)", _C, "CWE-78", "No shell; argv lists."),
        ScanRule("BST-SCAN-406", "Path traversal", _H, "CWE-22", "Resolve and confine paths."),
        ScanRule("BST-SCAN-501", "No authentication on the HTTP endpoint", _H, "CWE-306", "Require a token."),
        ScanRule("BST-SCAN-502", "Missing RFC 9728 resource metadata", _M, "CWE-287", "Serve the metadata."),
        ScanRule("BST-SCAN-503", "Origin not validated (DNS rebinding)", _H, "CWE-346", "Check Origin."),
        ScanRule("BST-SCAN-504", "Predictable session ids", _M, "CWE-330", "128 random bits per id."),
        ScanRule("BST-SCAN-505", "Plain http off loopback", _H, "CWE-319", "Use https."),
        ScanRule("BST-SCAN-506", "JSON-RPC batches accepted", _L, "CWE-770", "Reject arrays."),
        ScanRule("BST-SCAN-507", "Oversize request bodies accepted", _M, "CWE-770", "Cap body size."),
        ScanRule("BST-SCAN-508", "Stack trace in an error response", _M, "CWE-209", "Generic errors only."),
    )
}


def describe(rule_id: str) -> tuple[str, str, str]:
    """(title, help text, CWE) of a scanner or detector rule; the id itself when unknown."""
    if rule_id in SCAN_RULES:
        r = SCAN_RULES[rule_id]
        return r.title, r.help, r.cwe
    if rule_id in DETECTOR_RULES:
        d = DETECTOR_RULES[rule_id]
        return d.title, d.doc.strip().splitlines()[0] if d.doc.strip() else d.title, d.cwe
    return rule_id, rule_id, ""
