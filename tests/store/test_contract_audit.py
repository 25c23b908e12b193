"""The AuditStore contract, run against every implementation."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from mcp_bastion.audit.record import seal
from mcp_bastion.store.interface import GENESIS, AuditStore, Batch, RecordBlock, Sealer, StoredRecord

pytestmark = pytest.mark.anyio


def _sealer(n: int, seen: list[tuple[int, str]]) -> Sealer:
    def sealer(head_seq: int, head_hash: str) -> Sequence[StoredRecord]:
        seen.append((head_seq, head_hash))
        out: list[StoredRecord] = []
        seq, prev = head_seq, head_hash
        for i in range(n):
            rec = seal({"kind": "event", "i": i}, seq + 1, prev).stored
            out.append(rec)
            seq, prev = rec.seq, rec.hash
        return out

    return sealer


async def _all(store: AuditStore, after: int = 0, batch: int = 5000) -> list[StoredRecord]:
    return [r async for b in store.scan(after_seq=after, batch=batch) for r in b]


async def test_append_head_scan(audit_store: AuditStore) -> None:
    assert await audit_store.head() == (0, GENESIS)
    seen: list[tuple[int, str]] = []
    first = await audit_store.append(_sealer(3, seen), durable=True)
    assert [r.seq for r in first] == [1, 2, 3]
    assert seen == [(0, GENESIS)]
    second = await audit_store.append(_sealer(2, seen), durable=False)
    assert seen[-1] == (3, first[-1].hash)
    assert await audit_store.head() == (5, second[-1].hash)
    rows = await _all(audit_store, batch=2)
    assert rows == [*first, *second]
    assert all(isinstance(r.body, bytes) for r in rows)
    assert await _all(audit_store, after=3) == list(second)
    assert await audit_store.append(_sealer(0, seen), durable=True) == []
    assert await audit_store.head() == (5, second[-1].hash)


async def test_truncate_and_prune(audit_store: AuditStore) -> None:
    recs = await audit_store.append(_sealer(6, []), durable=True)
    assert await audit_store.truncate_after(4, recs[3].hash) == 2
    assert await audit_store.head() == (4, recs[3].hash)
    assert [r.seq for r in await _all(audit_store)] == [1, 2, 3, 4]
    assert await audit_store.prune_before(3) == 2
    assert [r.seq for r in await _all(audit_store)] == [3, 4]
    more = await audit_store.append(_sealer(1, []), durable=True)
    assert more[0].seq == 5


async def test_concurrent_appends_form_one_sequence(audit_store: AuditStore) -> None:
    async def writer() -> None:
        for _ in range(5):
            await audit_store.append(_sealer(3, []), durable=False)

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(writer)
    rows = await _all(audit_store)
    assert [r.seq for r in rows] == list(range(1, 91))
    prev = GENESIS
    for r in rows:
        assert f'"prev":"{prev}"'.encode() in r.body
        prev = r.hash
    assert await audit_store.head() == (90, prev)


def _unpack(batch: Batch) -> list[StoredRecord]:
    return batch.records() if isinstance(batch, RecordBlock) else list(batch)


async def test_scan_into_bounds_and_order(audit_store: AuditStore) -> None:
    recs = await audit_store.append(_sealer(12, []), durable=True)
    seen: list[list[int]] = []
    await audit_store.scan_into(
        lambda b: seen.append([r.seq for r in _unpack(b)]), after_seq=2, until_seq=9, batch=3
    )
    assert seen == [[3, 4, 5], [6, 7, 8], [9]]
    everything: list[StoredRecord] = []
    await audit_store.scan_into(lambda b: everything.extend(_unpack(b)))
    assert everything == list(recs)
    assert all(isinstance(r.body, bytes) and isinstance(r.hash, str) for r in everything)
