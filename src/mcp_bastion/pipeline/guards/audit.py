"""Audit: every chain verdict becomes an event in an :class:`~mcp_bastion.pipeline.audit_sink.AuditSink`.

Not a decision maker: as a guard in the chain it always allows (it is there so the
composition root finds it by name, and so ``bastion.yaml`` configures it like the
others). The gateway calls :meth:`AuditRecorder.record` after each chain run, with the
chain's result and the time taken:

- for a denied request: the request exchange and the denial;
- for a forwarded request: once, with the server-to-client exchange of its result
  (``exchange.request`` links the request, whose method, tool and arguments are recorded);
- for a dropped notification: the notification.

Durability rule: the record of a ``tools/call`` that is not declared read-only
(``annotations.readOnlyHint`` true) must be durable before the result is released; the
gateway awaits ``record(..., durable=True)`` before it sends the response, and a failed
write raises (the gateway then answers with an error instead of the result). See
:meth:`AuditRecorder.durable_for`.

Arguments are recorded redacted with :func:`mcp_bastion.detectors.redact_value` (secrets
always; the configured PII kinds) next to the digest of the original arguments; results
are recorded as their digest only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.audit import AuditLog
from mcp_bastion.canonical import digest
from mcp_bastion.config.guards import AuditSettings
from mcp_bastion.detectors import redact_value
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.audit_sink import AuditLogSink, AuditSink, JsonlSink, VerdictEvent
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext
from mcp_bastion.pipeline.verdict import Verdict

__all__ = ["EXTRA_AUDIT_LOG", "EXTRA_AUDIT_SINK", "AuditRecorder", "Outcome", "factory"]

NAME = "audit"
EXTRA_AUDIT_SINK = "audit_sink"
"""``BuildContext.extras`` key: an :class:`AuditSink` to use (wins over the settings)."""
EXTRA_AUDIT_LOG = "audit_log"
"""``BuildContext.extras`` key: the :class:`~mcp_bastion.audit.AuditLog` used when no JSONL path is set."""

_ARGUMENT_METHODS = frozenset({"tools/call", "prompts/get"})
_RESOURCE_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})
_ALLOW = Verdict.allow(NAME)


class Outcome(Protocol):
    """What a chain run produced (``ChainResult`` satisfies it; ``verdicts`` is optional)."""

    @property
    def verdict(self) -> Verdict: ...

    @property
    def exchange(self) -> Exchange: ...


class AuditRecorder:
    """Turns chain results into :class:`VerdictEvent` and writes them to a sink."""

    name = NAME

    def __init__(
        self,
        sink: AuditSink,
        *,
        catalog: Catalog | None = None,
        pii: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sink = sink
        self._catalog = catalog
        self._pii = pii
        self._clock = clock

    async def check(self, exchange: Exchange) -> Verdict:
        """Always allow: recording happens in :meth:`record`, after the chain decided."""
        return _ALLOW

    async def record(self, exchange: Exchange, outcome: Outcome, *, latency_ms: float, durable: bool) -> None:
        """Record one chain result; with ``durable`` return only once it is on stable storage."""
        await self.sink.write(self.event(exchange, outcome, latency_ms=latency_ms), durable=durable)

    def durable_for(self, exchange: Exchange) -> bool:
        """Whether the record of ``exchange`` must be durable before its result is released.

        True for every ``tools/call`` except those whose catalog definition says
        ``readOnlyHint: true`` (a hint can only make the audit laxer for calls the upstream
        itself calls harmless; policy still decides whether they run).
        """
        origin = exchange.request or exchange
        if origin.method != "tools/call":
            return False
        name = origin.tool_name
        if self._catalog is None or origin.upstream is None or name is None:
            return True
        tool = self._catalog.tool(origin.upstream, name) or {}
        annotations = tool.get("annotations")
        return not (isinstance(annotations, Mapping) and annotations.get("readOnlyHint") is True)

    def event(self, exchange: Exchange, outcome: Outcome, *, latency_ms: float) -> VerdictEvent:
        """The event for one chain result (pure apart from the clock)."""
        origin = exchange.request or exchange
        params = origin.params
        method = origin.method
        verdict = outcome.verdict
        verdicts: tuple[Verdict, ...] = getattr(outcome, "verdicts", (verdict,))
        arguments, arguments_digest = self._arguments(method, params)
        released = outcome.exchange.result if verdict.allowed else None
        return VerdictEvent(
            time=self._clock(),
            principal=exchange.principal.subject,
            direction=exchange.direction.value,
            method=method,
            decision=verdict.decision.value,
            guard=verdict.guard,
            reason=verdict.reason,
            rule_ids=_rule_ids(verdict, verdicts),
            detail="; ".join(f"{v.guard}: {v.detail}" for v in _all(verdict, verdicts) if v.detail)[:2000],
            session=exchange.session,
            upstream=origin.upstream or exchange.upstream,
            request_id=_request_id(origin),
            tool=_str(params.get("name")) if method in _ARGUMENT_METHODS else None,
            resource=_str(params.get("uri")) if method in _RESOURCE_METHODS else None,
            arguments=arguments,
            arguments_digest=arguments_digest,
            result_digest=_result_digest(outcome.exchange, released),
            latency_ms=latency_ms,
        )

    def sandbox_event(self, upstream: str, event: Any) -> VerdictEvent:
        """The record of one sandbox event (spawn, exit, crash, restart, egress decision).

        ``event`` is a ``mcp_bastion.sandbox.SpawnEvent`` (typed loosely: the pipeline does
        not import the sandbox). Recorded as principal ``system:mcp-bastion``, direction
        ``sandbox``, method ``sandbox/<kind>``; a refused egress connection is a ``deny``.
        The environment is not recorded (only the profile's variable names).
        """
        kind = str(getattr(event, "kind", "unknown"))
        detail = dict(getattr(event, "detail", {}) or {})
        refused = kind == "egress" and detail.get("decision") == "refused"
        profile = dict(getattr(event, "profile", {}) or {})
        if isinstance(profile.get("env"), Mapping):
            profile["env"] = sorted(profile["env"])  # names only: values may be secrets
        facts = {
            "command": list(getattr(event, "command", ())),
            "resolved_executable": getattr(event, "resolved_executable", None),
            "sha256": getattr(event, "sha256", None),
            "isolation": getattr(event, "isolation_used", None),
            "pid": getattr(event, "pid", None),
            "returncode": getattr(event, "returncode", None),
            "attempt": getattr(event, "attempt", 0),
            "profile": profile,
            "detail": detail,
        }
        redacted, _ = redact_value(facts, pii=self._pii)
        return VerdictEvent(
            time=self._clock(),
            principal="system:mcp-bastion",
            direction="sandbox",
            method=f"sandbox/{kind}",
            decision="deny" if refused else "allow",
            guard="sandbox",
            reason=str(detail.get("reason", kind))[:200],
            upstream=upstream,
            arguments=redacted,
            arguments_digest=digest(facts),
        )

    def _arguments(self, method: str | None, params: Mapping[str, Any]) -> tuple[Any, str | None]:
        if method in _ARGUMENT_METHODS:
            original = params.get("arguments")
        elif method is not None and (method.startswith("notifications/") or method in _RESOURCE_METHODS):
            original = dict(params)
        else:
            return None, None
        if original is None:
            return None, None
        redacted, _ = redact_value(original, pii=self._pii)
        return redacted, digest(original)

    async def close(self) -> None:
        await self.sink.close()


def _all(final: Verdict, verdicts: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
    """Every verdict of the run; the final one too when the chain made it up (timeout, MODIFY summary)."""
    return verdicts if any(v is final for v in verdicts) else (*verdicts, final)


def _rule_ids(final: Verdict, verdicts: tuple[Verdict, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in _all(final, verdicts):
        for rule in v.rule_ids:
            seen.setdefault(rule, None)
    return tuple(seen)


def _request_id(exchange: Exchange) -> str | int | None:
    message = exchange.message
    if isinstance(message, JSONRPCRequest | JSONRPCResponse | JSONRPCError):
        return message.id
    return None


def _result_digest(exchange: Exchange, released: Mapping[str, Any] | None) -> str | None:
    if released is not None:
        return digest(dict(released))
    if isinstance(exchange.message, JSONRPCError):
        return digest(exchange.message.error.model_dump(mode="json"))
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def factory(settings: AuditSettings, ctx: BuildContext) -> AuditRecorder:
    """Build the recorder: ``extras["audit_sink"]``, else ``jsonl_path``, else ``extras["audit_log"]``."""
    sink = ctx.extras.get(EXTRA_AUDIT_SINK)
    if sink is not None:
        if not isinstance(sink, AuditSink):
            raise ConfigError(f"guards: extras[{EXTRA_AUDIT_SINK!r}] is not an audit sink")
        return AuditRecorder(sink, catalog=ctx.catalog)
    if settings.jsonl_path is not None:
        return AuditRecorder(JsonlSink(settings.jsonl_path), catalog=ctx.catalog)
    log = ctx.extras.get(EXTRA_AUDIT_LOG)
    if isinstance(log, AuditLog):
        return AuditRecorder(AuditLogSink(log), catalog=ctx.catalog)
    raise ConfigError("guards: audit needs jsonl_path or the audit log (stores.audit) to write to")
