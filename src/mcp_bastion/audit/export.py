"""Export and read back audit records: JSONL (the archive form) and CEF (for SIEMs); filters.

JSONL: one record per line, the canonical JSON of the record *with* its ``hash``. A
reader rebuilds the hashed body by dropping ``hash`` and re-canonicalising, so an
exported file verifies on its own (``bastion audit verify --jsonl FILE``). A line that
is cut short (a torn write) is handed to the verifier as an unparseable record.

CEF (ArcSight Common Event Format, version 0): see docs/audit.md for the field mapping.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mcp_bastion.canonical import canonical_json
from mcp_bastion.store.interface import AuditStore, StoredRecord

from .record import AuditRecord

__all__ = [
    "RecordFilter",
    "export_jsonl",
    "iter_records",
    "read_jsonl",
    "to_cef",
    "to_jsonl",
]

_SEVERITY = {"deny": 7, "ask": 5, "modify": 4, "allow": 3}


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Search criteria; ``None`` matches anything. Times are RFC 3339 UTC strings."""

    principal: str | None = None
    tool: str | None = None
    verdict: str | None = None
    since: str | None = None
    until: str | None = None
    kind: str | None = None

    def matches(self, data: dict[str, Any]) -> bool:
        if self.principal is not None and data.get("principal") != self.principal:
            return False
        if self.tool is not None and data.get("tool") != self.tool:
            return False
        if self.verdict is not None and data.get("verdict") != self.verdict:
            return False
        if self.kind is not None and data.get("kind") != self.kind:
            return False
        when = str(data.get("time", ""))
        if self.since is not None and when < _norm(self.since):
            return False
        return not (self.until is not None and when >= _norm(self.until))


def _norm(value: str) -> str:
    """Accept ``2026-11-22``, ``2026-11-22T03:00`` or full RFC 3339 (naive means UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def iter_records(
    store: AuditStore, flt: RecordFilter | None = None, *, after_seq: int = 0
) -> AsyncIterator[AuditRecord]:
    """Records in order, parsed, optionally filtered."""
    async for batch in store.scan(after_seq=after_seq):
        for stored in batch:
            record = AuditRecord.from_stored(stored)
            if flt is None or flt.matches(dict(record.data)):
                yield record


def to_jsonl(record: AuditRecord) -> str:
    return canonical_json(record.to_json()).decode("utf-8") + "\n"


def _cef_header(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|")


def _cef_ext(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")


def to_cef(record: AuditRecord, *, product_version: str = "0.1.0") -> str:
    """One CEF:0 line for ``record``."""
    d = record.data
    kind = record.kind
    verdict = str(d.get("verdict") or kind)
    target = d.get("tool") or d.get("resource") or ""
    name = f"{d.get('method', kind)} {target}".strip()
    ext: list[tuple[str, object]] = [
        ("rt", _epoch_ms(str(d.get("time", "")))),
        ("externalId", d.get("id")),
        ("suser", d.get("principal")),
        ("act", verdict),
        ("reason", d.get("reason")),
        ("request", d.get("resource")),
        ("cs1Label", "session"),
        ("cs1", d.get("session")),
        ("cs2Label", "upstream"),
        ("cs2", d.get("upstream")),
        ("cs3Label", "tool"),
        ("cs3", d.get("tool")),
        ("cs4Label", "guard"),
        ("cs4", d.get("guard")),
        ("cs5Label", "recordHash"),
        ("cs5", record.hash),
        ("cs6Label", "argumentsDigest"),
        ("cs6", d.get("arguments_digest")),
        ("cn1Label", "seq"),
        ("cn1", record.seq),
        ("cfp1Label", "latencyMs"),
        ("cfp1", d.get("latency_ms")),
    ]
    extension = " ".join(f"{k}={_cef_ext(v)}" for k, v in ext if v is not None)
    header = [
        "CEF:0",
        "mcp-bastion",
        "gateway",
        product_version,
        f"{kind}:{verdict}",
        name,
        str(_SEVERITY.get(verdict, 1)),
    ]
    return "|".join(_cef_header(h) for h in header) + "|" + extension + "\n"


def _epoch_ms(rfc3339: str) -> int | None:
    try:
        return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def export_jsonl(records: Sequence[AuditRecord], path: Path) -> None:
    """Write ``records`` to ``path`` as JSONL and fsync it (archives must be on disk)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(to_jsonl(r) for r in records)
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(stream: IO[bytes], *, batch: int = 5000) -> Iterator[Sequence[StoredRecord]]:
    """Rebuild stored records from JSONL lines (torn or foreign lines become unparseable)."""
    out: list[StoredRecord] = []
    for line in stream:
        out.append(_parse_line(line))
        if len(out) >= batch:
            yield out
            out = []
    if out:
        yield out


def _parse_line(line: bytes) -> StoredRecord:
    try:
        data = json.loads(line)
        digest = data.pop("hash")
        seq = data["seq"]
        if not isinstance(seq, int) or not isinstance(digest, str) or not line.endswith(b"\n"):
            raise ValueError("not a record line")
    except (ValueError, KeyError, TypeError, AttributeError):
        return StoredRecord(0, "", line)  # the verifier reports it as unparseable / torn
    return StoredRecord(seq, digest, canonical_json(data))
