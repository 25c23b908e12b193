"""Values shared by every detector: severity, finding, capability, and the rule registry.

A rule is a plain function registered with :func:`rule`; its docstring is its
documentation (``docs/detectors.md`` is rendered from the registry by
:func:`mcp_bastion.detectors.catalog.render_markdown`). The registry only holds metadata;
detection stays in pure functions with no I/O.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from mcp_bastion.errors import DetectorError

__all__ = ["RULES", "Capability", "Finding", "Rule", "Severity", "rule"]


class Severity(StrEnum):
    """How bad a finding is if it is true; ordered from INFO to CRITICAL."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for INFO up to 4 for CRITICAL, for comparisons."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule saw: where, how sure, and a short (redacted) excerpt."""

    rule_id: str
    severity: Severity
    confidence: float
    message: str
    location: str
    evidence: str = ""
    cwe: str = ""
    owasp: str = ""


class Capability(StrEnum):
    """A dangerous thing a tool can do, recognised from its name, description and schema."""

    ARBITRARY_SQL = "arbitrary_sql"
    CODE_EXECUTION = "code_execution"
    SHELL = "shell"
    ENV_READ = "env_read"
    FILE_READ = "file_read"
    FILE_WRITE = "file_write"
    FILE_DELETE = "file_delete"
    NETWORK_FETCH = "network_fetch"
    SEND_MESSAGE = "send_message"


@dataclass(frozen=True, slots=True)
class Rule:
    """Metadata of one detector rule; ``doc`` is the docstring of the function that implements it."""

    id: str
    title: str
    severity: Severity
    cwe: str
    owasp: str
    category: str
    doc: str

    def finding(
        self,
        message: str,
        location: str,
        *,
        confidence: float,
        evidence: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        """A :class:`Finding` of this rule, tagged with its CWE and OWASP-LLM ids."""
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            confidence=round(max(0.0, min(1.0, confidence)), 3),
            message=message,
            location=location,
            evidence=evidence,
            cwe=self.cwe,
            owasp=self.owasp,
        )


RULES: dict[str, Rule] = {}

_F = TypeVar("_F", bound=Callable[..., object])


def rule(
    rule_id: str, title: str, severity: Severity, *, cwe: str, owasp: str, category: str
) -> Callable[[_F], _F]:
    """Register the decorated function as the implementation (and documentation) of ``rule_id``."""

    def register(func: _F) -> _F:
        if rule_id in RULES:
            raise DetectorError(f"duplicate rule id {rule_id}")
        doc = inspect.getdoc(func)
        if not doc:
            raise DetectorError(f"rule {rule_id} has no docstring")
        RULES[rule_id] = Rule(rule_id, title, severity, cwe, owasp, category, doc)
        return func

    return register
