"""One number per scanned item: the noisy-OR of severity-weighted confidences."""

from __future__ import annotations

from collections.abc import Sequence

from mcp_bastion.detectors.types import Finding, Severity

__all__ = ["FLAG_THRESHOLD", "SEVERITY_WEIGHT", "is_flagged", "risk_score"]

SEVERITY_WEIGHT = {
    Severity.INFO: 0.0,
    Severity.LOW: 0.3,
    Severity.MEDIUM: 0.6,
    Severity.HIGH: 0.85,
    Severity.CRITICAL: 1.0,
}

# An item is "flagged" (quarantined, blocked or marked, as policy says) at or above this score.
FLAG_THRESHOLD = 0.5


def risk_score(findings: Sequence[Finding]) -> float:
    """``1 - prod(1 - weight(severity) * confidence)`` over ``findings``, in 0..1.

    INFO findings (notes, capability labels, colour codes) weigh nothing; one HIGH finding
    at confidence 0.6 or more crosses :data:`FLAG_THRESHOLD` on its own; weaker evidence
    needs company.
    """
    miss = 1.0
    for finding in findings:
        miss *= 1.0 - SEVERITY_WEIGHT[finding.severity] * max(0.0, min(1.0, finding.confidence))
    return round(1.0 - miss, 4)


def is_flagged(findings: Sequence[Finding]) -> bool:
    """Whether ``findings`` reach :data:`FLAG_THRESHOLD`."""
    return risk_score(findings) >= FLAG_THRESHOLD
