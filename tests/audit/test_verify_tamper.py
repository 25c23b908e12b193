"""Every kind of tampering is found and the first bad record is named.

Each attack is also shown to matter: the same edit on a copy of the log is what the
verifier reports, and the untouched log verifies.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.audit.repair import repair
from mcp_bastion.audit.verify import VerifyReport, load_witness, verify_log
from mcp_bastion.canonical import canonical_json
from mcp_bastion.errors import AuditIntegrityError
from mcp_bastion.store.sqlite import SQLiteDatabase
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

pytestmark = pytest.mark.anyio
ATTACKER = CheckpointSigner(Ed25519PrivateKey.generate())
N = 45  # events; with checkpoint_every=10 the log holds 49 records (checkpoints at 10, 20, 30, 40)


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner(Ed25519PrivateKey.generate())


@pytest.fixture
async def log_path(tmp_path: Path, signer: CheckpointSigner) -> Path:
    path = tmp_path / "audit.db"
    store = SQLiteAuditStore(SQLiteDatabase(path))
    async with AuditLog(store, signer=signer, checkpoint_every=10, witness=tmp_path / "witness.jsonl") as log:
        for i in range(N):
            event = AuditEvent(
                principal=f"user{i % 3}",
                method="tools/call",
                tool="get_asset",
                verdict="allow",
                arguments={"i": i},
            )
            await log.append(event, durable=i % 4 == 0)
    await store.close()
    return path


async def _verify(
    path: Path, signer: CheckpointSigner | None = None, witness: Path | None = None
) -> VerifyReport:
    store = SQLiteAuditStore(SQLiteDatabase(path))
    try:
        return await verify_log(
            store,
            verifier=signer.verifier() if signer else None,
            witness=load_witness(witness) if witness else None,
        )
    finally:
        await store.close()


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _body(conn: sqlite3.Connection, seq: int) -> dict[str, object]:
    row = conn.execute("SELECT body FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    return dict(json.loads(row[0]))


def _put(conn: sqlite3.Connection, slot: int, data: dict[str, object]) -> str:
    body = canonical_json(data)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    conn.execute("UPDATE audit_log SET body = ?, hash = ? WHERE seq = ?", (body, digest, slot))
    return digest


def _forge(data: dict[str, object], seq: int, prev: str) -> None:
    """Re-sign a checkpoint with the attacker's own key, claiming the real key's id."""
    real = dict(data["checkpoint"])  # type: ignore[call-overload]
    data["checkpoint"] = ATTACKER.sign(seq - 1, prev) | {"key_id": real["key_id"]}


def _rechain_from(conn: sqlite3.Connection, start: int, prev: str) -> str:
    """What a thorough attacker does after an edit: rehash (and re-sign) everything later, and the head."""
    for (seq,) in conn.execute("SELECT seq FROM audit_log WHERE seq >= ? ORDER BY seq", (start,)).fetchall():
        data = _body(conn, seq)
        data["prev"] = prev
        data["seq"] = seq
        if data["kind"] == "checkpoint":
            _forge(data, seq, prev)
        prev = _put(conn, seq, data)
    conn.execute("UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_log), hash = ?", (prev,))
    return prev


async def test_untouched_log_verifies(log_path: Path, signer: CheckpointSigner) -> None:
    report = await _verify(log_path, signer, log_path.parent / "witness.jsonl")
    assert report.ok, report.problem
    assert (report.records, report.checkpoints, report.signatures_checked) == (N + 4, 4, 4)


async def test_modified_field(log_path: Path) -> None:
    with _db(log_path) as conn:
        data = _body(conn, 17)
        data["verdict"] = "deny"
        conn.execute("UPDATE audit_log SET body = ? WHERE seq = 17", (canonical_json(data),))
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (17, "modified")


async def test_modified_field_with_its_hash_recomputed(log_path: Path) -> None:
    with _db(log_path) as conn:
        data = _body(conn, 17)
        data["principal"] = "somebody-else"
        _put(conn, 17, data)
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (17, "modified")


async def test_deleted_record(log_path: Path) -> None:
    with _db(log_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 23")
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (23, "deleted")


async def test_inserted_forged_record(log_path: Path) -> None:
    with _db(log_path) as conn:
        # Make room at 12: renumber 12.. up by one (bodies untouched), forge 12 chained to 11.
        conn.execute("UPDATE audit_log SET seq = -seq - 1 WHERE seq >= 12")
        conn.execute("UPDATE audit_log SET seq = -seq WHERE seq < 0")
        forged = _body(conn, 11) | {"seq": 12, "principal": "mallory", "verdict": "allow"}
        forged["prev"] = conn.execute("SELECT hash FROM audit_log WHERE seq = 11").fetchone()[0]
        body = canonical_json(forged)
        conn.execute(
            "INSERT INTO audit_log (seq, hash, body) VALUES (12, ?, ?)",
            ("sha256:" + hashlib.sha256(body).hexdigest(), body),
        )
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (12, "inserted")


async def test_inserted_record_after_the_head(log_path: Path) -> None:
    with _db(log_path) as conn:
        last_seq, last_hash = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
        forged = _body(conn, last_seq) | {"seq": last_seq + 1, "prev": last_hash, "principal": "mallory"}
        body = canonical_json(forged)
        conn.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?)",
            (last_seq + 1, "sha256:" + hashlib.sha256(body).hexdigest(), body),
        )
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (N + 5, "inserted")


async def test_reordered_records(log_path: Path) -> None:
    with _db(log_path) as conn:
        a = conn.execute("SELECT hash, body FROM audit_log WHERE seq = 5").fetchone()
        b = conn.execute("SELECT hash, body FROM audit_log WHERE seq = 6").fetchone()
        conn.execute("UPDATE audit_log SET hash = ?, body = ? WHERE seq = 5", b)
        conn.execute("UPDATE audit_log SET hash = ?, body = ? WHERE seq = 6", a)
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (5, "reordered")


async def test_truncated_tail(log_path: Path) -> None:
    with _db(log_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq > 40")
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (41, "truncated")


async def test_truncated_tail_with_head_rewritten_caught_by_witness(log_path: Path) -> None:
    with _db(log_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq > 25")
        conn.execute("UPDATE audit_head SET seq = 25, hash = (SELECT hash FROM audit_log WHERE seq = 25)")
    # Without the witness the shortened log is self-consistent: the attack works...
    assert (await _verify(log_path)).ok
    # ...with the witness of the checkpoints published at 30 and 40 it is caught.
    problem = (await _verify(log_path, witness=log_path.parent / "witness.jsonl")).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (26, "truncated")


async def test_forged_checkpoint_signature(log_path: Path, signer: CheckpointSigner) -> None:
    with _db(log_path) as conn:
        data = _body(conn, 20)
        assert data["kind"] == "checkpoint"
        _forge(data, 20, str(data["prev"]))
        _rechain_from(conn, 21, _put(conn, 20, data))
    # The chain itself is consistent again: only the signature check catches it.
    assert (await _verify(log_path)).ok
    problem = (await _verify(log_path, signer)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (20, "bad_checkpoint")


async def test_rewritten_history_breaks_the_next_signed_checkpoint(
    log_path: Path, signer: CheckpointSigner
) -> None:
    with _db(log_path) as conn:
        data = _body(conn, 3)
        data["verdict"] = "deny"
        _rechain_from(conn, 4, _put(conn, 3, data))
    assert (await _verify(log_path)).ok  # a full rewrite fools the hash chain alone
    problem = (await _verify(log_path, signer)).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (10, "bad_checkpoint")


async def test_torn_tail_reported_and_repaired(log_path: Path, signer: CheckpointSigner) -> None:
    with _db(log_path) as conn:
        last_seq, _ = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
        row = conn.execute("SELECT body FROM audit_log WHERE seq = ?", (last_seq,)).fetchone()
        conn.execute("UPDATE audit_log SET body = ? WHERE seq = ?", (row[0][: len(row[0]) // 2], last_seq))
    report = await _verify(log_path, signer)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (last_seq, "torn")
    store = SQLiteAuditStore(SQLiteDatabase(log_path))
    async with AuditLog(store, signer=signer, checkpoint_every=10) as log:
        result = await repair(store, log)
    await store.close()
    assert result is not None
    assert (result.removed, result.kept_seq, result.repair_seq) == (1, last_seq - 1, last_seq)
    report = await _verify(log_path, signer)
    assert report.ok, report.problem
    with _db(log_path) as conn:
        repaired = _body(conn, last_seq)
    assert (repaired["kind"], repaired["removed"], repaired["removed_from"]) == ("repair", 1, last_seq)


async def test_repair_refuses_tampering(log_path: Path, signer: CheckpointSigner) -> None:
    with _db(log_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 30")
    store = SQLiteAuditStore(SQLiteDatabase(log_path))
    async with AuditLog(store, signer=signer) as log:
        with pytest.raises(AuditIntegrityError, match="deleted"):
            await repair(store, log)
    await store.close()
    problem = (await _verify(log_path)).problem
    assert problem is not None
    assert problem.kind == "deleted"  # nothing was cut
