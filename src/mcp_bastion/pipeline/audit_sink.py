"""Audit sinks: where the verdict events of the chain go.

``AuditSink`` contract: ``write(event, durable=...)`` returns once the event is recorded;
with ``durable=True`` only once it is on stable storage (fsync or a durable commit), so a
world-changing call's result is released only after its record survives a power cut.
Safe for concurrent tasks. Failure raises :class:`~mcp_bastion.errors.AuditError` (or
``StoreUnavailableError`` from a store): the caller must then not release the result
(fail closed). Two sinks:

- :class:`JsonlSink`: one JSON object per line, appended to a file created ``0600``;
  flushed after every event, ``fsync``'d for durable ones;
- :class:`AuditLogSink`: the tamper-evident, hash-chained :class:`mcp_bastion.audit.AuditLog`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio.to_thread

from mcp_bastion.audit import AuditEvent, AuditLog
from mcp_bastion.errors import AuditError

__all__ = ["AuditLogSink", "AuditSink", "JsonlSink", "VerdictEvent"]


@dataclass(frozen=True, slots=True)
class VerdictEvent:
    """One chain verdict about one exchange, as recorded (arguments already redacted).

    ``arguments_digest`` is the digest of the *original* arguments, so a record can be
    matched to an approval or a complaint without the record holding the values.
    """

    time: float
    principal: str
    direction: str
    method: str | None
    decision: str
    guard: str
    reason: str = ""
    rule_ids: tuple[str, ...] = ()
    detail: str = ""
    session: str | None = None
    upstream: str | None = None
    request_id: str | int | None = None
    tool: str | None = None
    resource: str | None = None
    arguments: Any = None
    arguments_digest: str | None = None
    result_digest: str | None = None
    latency_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies and dominated the cost of a record.
        out = {name: getattr(self, name) for name in _EVENT_FIELDS}
        out["rule_ids"] = list(self.rule_ids)
        out["latency_ms"] = round(self.latency_ms, 3)
        return out


_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(VerdictEvent))


@runtime_checkable
class AuditSink(Protocol):
    """Where events go; see the module docstring for the contract."""

    async def write(self, event: VerdictEvent, *, durable: bool) -> None: ...

    async def close(self) -> None: ...


class JsonlSink:
    """Append-only JSON lines; ``fsync`` for durable events (in a worker thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def _append(self, line: bytes, durable: bool) -> None:
        with self._lock:
            fd = self._open()
            view = memoryview(line)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)

    async def write(self, event: VerdictEvent, *, durable: bool) -> None:
        try:
            line = json.dumps(event.to_json(), sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise AuditError(f"audit event is not JSON: {type(exc).__name__}") from exc
        data = line.encode("utf-8")
        try:
            if durable:
                # fsync takes milliseconds: keep it off the event loop.
                await anyio.to_thread.run_sync(self._append, data, True)
            else:
                self._append(data, False)
        except OSError as exc:
            raise AuditError(f"audit sink write failed: {exc.strerror}") from exc

    async def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class AuditLogSink:
    """Adapter onto the tamper-evident :class:`~mcp_bastion.audit.AuditLog`.

    The log's event schema has no rule IDs or detail field: they are appended to ``reason``
    (``"... [rules: BST-PIN-001; detail: ...]"``) so nothing the chain decided is lost.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def write(self, event: VerdictEvent, *, durable: bool) -> None:
        await self.log.append(_to_audit_event(event), durable=durable)

    async def close(self) -> None:
        await self.log.close()


def _to_audit_event(event: VerdictEvent) -> AuditEvent:
    reason = event.reason
    extra = [x for x in (_join("rules", event.rule_ids), _join("detail", (event.detail,))) if x]
    if extra:
        reason = f"{reason} [{'; '.join(extra)}]".strip()
    return AuditEvent(
        principal=event.principal,
        method=event.method or "",
        verdict=event.decision,
        session=event.session,
        upstream=event.upstream,
        tool=event.tool,
        resource=event.resource,
        arguments=event.arguments,
        arguments_digest=event.arguments_digest,
        guard=event.guard,
        reason=reason or None,
        result_digest=event.result_digest,
        latency_ms=event.latency_ms,
    )


def _join(label: str, values: tuple[str, ...]) -> str:
    present = [v for v in values if v]
    return f"{label}: {', '.join(present)}" if present else ""
