"""Repair a torn tail and rotate old records into verifiable archive segments.

``repair`` only ever cuts a *torn* tail (the last records not even JSON, nothing valid
after them): it truncates the store to the last good record and appends a ``repair``
record saying what was removed, so the cut is itself in the chain. Anything that looks
like tampering is refused: that is evidence, not damage.

``rotate`` moves the records before the newest checkpoint into a JSONL archive file
(which starts at seq 1 or at the previous rotation's checkpoint, so it verifies on its
own), prunes them from the store and appends a ``retention`` record naming the archive.
The live log then starts at that checkpoint, whose signature vouches for everything
before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio

from mcp_bastion.errors import AuditError, AuditIntegrityError
from mcp_bastion.store.interface import AuditStore

from .export import export_jsonl, iter_records
from .log import AuditLog
from .record import AuditRecord
from .verify import VerifyReport, verify_log

__all__ = ["RepairResult", "RotateResult", "repair", "rotate"]


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What ``repair`` did: ``removed`` records after ``kept_seq``; the repair record's seq."""

    removed: int
    kept_seq: int
    repair_seq: int


async def repair(store: AuditStore, log: AuditLog, report: VerifyReport | None = None) -> RepairResult | None:
    """Cut a torn tail; return ``None`` when the log verifies as it is.

    Raises ``AuditIntegrityError`` when the log is damaged in any other way.
    """
    report = report or await verify_log(store, deep=True)
    if report.ok:
        return None
    problem = report.problem
    assert problem is not None
    if problem.kind != "torn":
        raise AuditIntegrityError(
            f"refusing to repair: record {problem.seq} is {problem.kind} ({problem.detail})",
            public_message="audit log damaged; not repairable",
        )
    head_seq, _ = await store.head()
    removed = await store.truncate_after(report.last_seq, report.last_hash)
    record = await log.append_fields(
        {
            "kind": "repair",
            "reason": "torn tail",
            "removed_from": problem.seq,
            "removed_to": max(head_seq, problem.seq),
            "removed": removed,
        },
        durable=True,
    )
    return RepairResult(removed=removed, kept_seq=report.last_seq, repair_seq=record.seq)


@dataclass(frozen=True, slots=True)
class RotateResult:
    """The archive written and the seq the live log now starts at."""

    archive: Path
    archived: int
    starts_at: int


async def rotate(store: AuditStore, log: AuditLog, archive_dir: Path) -> RotateResult | None:
    """Archive and prune everything before the newest checkpoint; ``None`` if nothing to do."""
    records: list[AuditRecord] = []
    newest_checkpoint = 0
    async for record in iter_records(store):
        records.append(record)
        if record.kind == "checkpoint":
            newest_checkpoint = record.seq
    if not records or newest_checkpoint <= records[0].seq:
        return None
    report = await verify_log(store)
    if not report.ok:
        raise AuditError("refusing to rotate a log that does not verify")
    segment = [r for r in records if r.seq < newest_checkpoint]
    path = archive_dir / f"audit-{segment[0].seq:012d}-{segment[-1].seq:012d}.jsonl"

    def write() -> None:
        archive_dir.mkdir(parents=True, exist_ok=True)
        export_jsonl(segment, path)  # on disk (fsync'd) before anything is deleted

    await anyio.to_thread.run_sync(write)
    await store.prune_before(newest_checkpoint)
    await log.append_fields(
        {
            "kind": "retention",
            "pruned_before": newest_checkpoint,
            "archive": path.name,
            "archive_last_hash": segment[-1].hash,
        },
        durable=True,
    )
    return RotateResult(archive=path, archived=len(segment), starts_at=newest_checkpoint)
