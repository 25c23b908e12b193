"""Row <-> value conversions shared by the SQL stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .interface import Approval, ApprovalStatus, Pin, PinStatus

__all__ = [
    "APPROVAL_COLUMNS",
    "PIN_COLUMNS",
    "approval_from_row",
    "approval_params",
    "pin_from_row",
    "pin_params",
]

PIN_COLUMNS = "upstream, key, digest, status, snapshot, approved_digest, approved_snapshot, updated_at"
APPROVAL_COLUMNS = (
    "id, principal, upstream, method, target, arguments_digest, summary, status, created_at, "
    "decided_by, decided_at"
)


def pin_params(pin: Pin) -> tuple[Any, ...]:
    return (
        pin.upstream,
        pin.key,
        pin.digest,
        pin.status.value,
        pin.snapshot,
        pin.approved_digest,
        pin.approved_snapshot,
        pin.updated_at,
    )


def pin_from_row(row: Sequence[Any]) -> Pin:
    return Pin(
        upstream=row[0],
        key=row[1],
        digest=row[2],
        status=PinStatus(row[3]),
        snapshot=row[4],
        approved_digest=row[5],
        approved_snapshot=row[6],
        updated_at=float(row[7]),
    )


def approval_params(a: Approval) -> tuple[Any, ...]:
    return (
        a.id,
        a.principal,
        a.upstream,
        a.method,
        a.target,
        a.arguments_digest,
        json.dumps(dict(a.summary), sort_keys=True),
        a.status.value,
        a.created_at,
        a.decided_by,
        a.decided_at,
    )


def approval_from_row(row: Sequence[Any]) -> Approval:
    return Approval(
        id=row[0],
        principal=row[1],
        upstream=row[2],
        method=row[3],
        target=row[4],
        arguments_digest=row[5],
        summary=json.loads(row[6]),
        status=ApprovalStatus(row[7]),
        created_at=float(row[8]),
        decided_by=row[9],
        decided_at=None if row[10] is None else float(row[10]),
    )
