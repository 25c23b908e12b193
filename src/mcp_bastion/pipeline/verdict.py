"""Verdict: what a guard (and so the chain) decides about one Exchange."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mcp_types import JSONRPCMessage

from mcp_bastion.errors import SERVER_ERROR

__all__ = ["Decision", "Verdict"]

# JSON-RPC code for a policy denial: implementation-defined server error range.
DENIED = SERVER_ERROR


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    MODIFY = "modify"  # the message was redacted/sanitised; forward ``message`` instead
    ASK = "ask"  # needs a human approval; treated as deny until approved


@dataclass(frozen=True, slots=True)
class Verdict:
    """A guard's decision. ``reason`` is safe to show the caller; ``detail`` is for the audit log."""

    decision: Decision
    guard: str = ""
    reason: str = ""
    code: int = DENIED
    message: JSONRPCMessage | None = None
    rule_ids: tuple[str, ...] = ()
    detail: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision in (Decision.ALLOW, Decision.MODIFY)

    @classmethod
    def allow(cls, guard: str = "") -> Verdict:
        return cls(Decision.ALLOW, guard=guard)

    @classmethod
    def deny(
        cls,
        guard: str,
        reason: str,
        *,
        code: int = DENIED,
        rule_ids: tuple[str, ...] = (),
        detail: str = "",
    ) -> Verdict:
        return cls(Decision.DENY, guard=guard, reason=reason, code=code, rule_ids=rule_ids, detail=detail)

    @classmethod
    def modify(
        cls, guard: str, message: JSONRPCMessage, reason: str, *, rule_ids: tuple[str, ...] = ()
    ) -> Verdict:
        return cls(Decision.MODIFY, guard=guard, reason=reason, message=message, rule_ids=rule_ids)

    @classmethod
    def ask(cls, guard: str, reason: str, *, rule_ids: tuple[str, ...] = ()) -> Verdict:
        return cls(Decision.ASK, guard=guard, reason=reason, rule_ids=rule_ids)
