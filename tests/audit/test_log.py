"""AuditLog: ordering, durability visibility, checkpoints, witness, failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.audit.verify import load_witness, verify_log
from mcp_bastion.canonical import canonical_json, digest
from mcp_bastion.errors import AuditError
from mcp_bastion.store.memory import MemoryAuditStore
from mcp_bastion.store.sqlite import SQLiteDatabase
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

pytestmark = pytest.mark.anyio
EVENT = AuditEvent(
    principal="alice",
    session="s-1",
    upstream="grid",
    method="tools/call",
    tool="set_breaker",
    arguments={"breaker": "B7", "close": False},
    verdict="allow",
    guard="policy",
    reason="operator role",
    result_digest="sha256:" + "1" * 64,
    latency_ms=12.3456,
)


async def test_record_schema_and_hash() -> None:
    async with AuditLog(MemoryAuditStore()) as log:
        record = await log.append(EVENT, durable=True)
    d = dict(record.data)
    assert set(d) == {
        "v", "kind", "id", "time", "principal", "session", "upstream", "method", "tool", "resource",
        "arguments", "arguments_digest", "verdict", "guard", "reason", "result_digest", "latency_ms",
        "seq", "prev",
    }  # fmt: skip
    assert (d["v"], d["kind"], d["seq"], d["latency_ms"]) == (1, "event", 1, 12.346)
    assert d["arguments_digest"] == digest({"breaker": "B7", "close": False})
    assert uuid.UUID(str(d["id"])).version == 7
    assert str(d["time"]).endswith("Z")
    # hash = SHA-256 of the canonical JSON of the record without its hash field
    assert record.hash == "sha256:" + hashlib.sha256(canonical_json(d)).hexdigest()
    assert record.to_json()["hash"] == record.hash


async def test_caller_digest_kept_and_bad_arguments_fail_in_the_caller() -> None:
    async with AuditLog(MemoryAuditStore()) as log:
        given = AuditEvent(
            principal="a", method="m", verdict="allow", arguments="[redacted]", arguments_digest="x"
        )
        assert (await log.append(given, durable=False)).data["arguments_digest"] == "x"
        with pytest.raises(TypeError):
            await log.append(
                AuditEvent(principal="a", method="m", verdict="allow", arguments={1j}), durable=False
            )
        with pytest.raises(ValueError, match="finite"):
            await log.append(
                AuditEvent(principal="a", method="m", verdict="allow", latency_ms=float("nan")), durable=False
            )
        assert (await log.append(EVENT, durable=False)).seq == 2  # the writer is unharmed


async def test_concurrent_appends_get_distinct_consecutive_seqs(tmp_path: Path) -> None:
    store = SQLiteAuditStore(SQLiteDatabase(tmp_path / "a.db"))
    async with AuditLog(store, max_batch=16) as log:
        records = await asyncio.gather(*(log.append(EVENT, durable=i % 3 == 0) for i in range(200)))
    assert sorted(r.seq for r in records) == list(range(1, 201))
    assert (await verify_log(store)).ok
    await store.close()


async def test_durable_append_is_committed_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = SQLiteAuditStore(SQLiteDatabase(path))
    log = AuditLog(store, linger=0.05)
    record = await log.append(EVENT, durable=True)
    # Another connection (as another process would) sees the committed record at once.
    with sqlite3.connect(path) as other:
        row = other.execute("SELECT hash FROM audit_log WHERE seq = ?", (record.seq,)).fetchone()
    assert row == (record.hash,)
    await log.close()
    await store.close()


async def test_checkpoints_every_n_and_on_demand_with_witness(tmp_path: Path) -> None:
    signer = CheckpointSigner(Ed25519PrivateKey.generate())
    witness = tmp_path / "witness.jsonl"
    store = MemoryAuditStore()
    async with AuditLog(store, signer=signer, checkpoint_every=5, witness=witness) as log:
        for _ in range(12):
            await log.append(EVENT, durable=False)
        extra = await log.checkpoint()
    kinds = [json.loads(r.body)["kind"] async for b in store.scan() for r in b]
    assert [i + 1 for i, k in enumerate(kinds) if k == "checkpoint"] == [5, 10, 15]
    assert extra.seq == 15
    assert extra.data["checkpoint"]["seq"] == 14
    assert sorted(load_witness(witness)) == [5, 10, 15]
    report = await verify_log(store, verifier=signer.verifier(), witness=load_witness(witness))
    assert report.ok
    assert report.signatures_checked == 3


async def test_checkpoint_needs_a_key_and_closed_log_refuses() -> None:
    log = AuditLog(MemoryAuditStore())
    with pytest.raises(AuditError, match="signing key"):
        await log.checkpoint()
    await log.close()
    with pytest.raises(AuditError, match="closed"):
        await log.append(EVENT, durable=True)


async def test_cancelled_writer_fails_waiters_instead_of_hanging(tmp_path: Path) -> None:
    store = SQLiteAuditStore(SQLiteDatabase(tmp_path / "a.db"))
    log = AuditLog(store, linger=10.0)  # a non-durable record would wait 10 s to fill a batch
    waiter = asyncio.ensure_future(log.append(EVENT, durable=False))
    await asyncio.sleep(0.05)
    assert log._writer is not None
    log._writer.cancel()
    with pytest.raises(AuditError, match="writer stopped"):
        await asyncio.wait_for(waiter, 5)
    assert (await log.append(EVENT, durable=True)).seq == 1  # a new writer starts on demand
    await log.close()
    await store.close()
