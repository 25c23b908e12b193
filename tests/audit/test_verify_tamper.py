"""Every kind of tampering is found and the first bad record is named.

Each attack is also shown to matter: the same edit on a copy of the log is what the
verifier reports, and the untouched log verifies.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.audit.repair import repair
from mcp_bastion.audit.verify import ChainChecker, VerifyReport, load_witness, verify_log
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


# --- The fast path (block and row forms) against the deep path --------------------------
#
# ``bastion audit verify`` reads SQLite in packed blocks (``RecordBlock``) and checks them
# without parsing; a run it cannot pack (odd column types, a newline in a body, a gap)
# comes as rows. Every form must name the same first bad record as ``--deep``.


async def _verify_via(
    path: Path, mode: str, signer: CheckpointSigner | None = None, checkpoint_every: int | None = None
) -> VerifyReport:
    """Verify through one path: ``block:N`` (SQLite blocks of N), ``rows:N`` or ``deep``."""
    store = SQLiteAuditStore(SQLiteDatabase(path))
    try:
        verifier = signer.verifier() if signer else None
        checker = ChainChecker(verifier, deep=mode == "deep", checkpoint_every=checkpoint_every)
        head = await store.head()
        kind, _, size = mode.partition(":")
        if kind == "rows":
            async for rows in store.scan(batch=int(size)):
                checker.feed([r for r in rows if r.seq <= head[0]])
        else:
            await store.scan_into(checker.feed, until_seq=head[0], batch=int(size or 2000))
        return checker.finish(head)
    finally:
        await store.close()


MODES = ("block:2000", "block:10", "block:7", "block:1", "rows:5000", "rows:3", "deep")


def _rehash(conn: sqlite3.Connection, slot: int, body: bytes) -> None:
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    conn.execute("UPDATE audit_log SET body = ?, hash = ? WHERE seq = ?", (body, digest, slot))


def _edit_body(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE audit_log SET body = ? WHERE seq = 17",
        (canonical_json(_body(conn, 17) | {"verdict": "deny"}),),
    )


def _edit_body_and_hash(conn: sqlite3.Connection) -> None:
    _put(conn, 17, _body(conn, 17) | {"principal": "somebody-else"})


def _edit_hash_only(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET hash = ? WHERE seq = 17", ("sha256:" + "f" * 64,))


def _edit_hash_length(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET hash = hash || '0' WHERE seq = 17")


def _move_seq(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET seq = 1000 WHERE seq = 17")


def _swap_seqs(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET seq = -1 WHERE seq = 16")
    conn.execute("UPDATE audit_log SET seq = 16 WHERE seq = 17")
    conn.execute("UPDATE audit_log SET seq = 17 WHERE seq = -1")


def _newline_in_body(conn: sqlite3.Connection) -> None:
    # Same JSON, one newline added; rehashed. Blocks are newline-separated: this one
    # cannot be packed, and the run is handed over as rows.
    _rehash(conn, 17, canonical_json(_body(conn, 17)).replace(b'{"', b'{\n"', 1))


def _nul_in_body(conn: sqlite3.Connection) -> None:
    _rehash(conn, 17, canonical_json(_body(conn, 17) | {"reason": "x"}).replace(b'"x"', b'"\x00"'))


def _text_body_same_bytes(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET body = CAST(body AS TEXT) WHERE seq = 17")


def _text_body_changed(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE audit_log SET body = ? WHERE seq = 17",
        (canonical_json(_body(conn, 17) | {"verdict": "deny"}).decode(),),
    )


def _blob_hash_same_bytes(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_log SET hash = CAST(hash AS BLOB) WHERE seq = 17")


def _checkpoint_edited(conn: sqlite3.Connection) -> None:
    _put(conn, 20, _body(conn, 20) | {"time": "2000-01-01T00:00:00.000000Z"})


def _null_column(column: str) -> Callable[[sqlite3.Connection], None]:
    def tamper(conn: sqlite3.Connection) -> None:
        # An attacker can drop NOT NULL too (the new schema is read by the next connection).
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_schema SET sql = replace(replace(sql, 'body BLOB NOT NULL', 'body BLOB'), "
            "'hash TEXT NOT NULL', 'hash TEXT') WHERE name = 'audit_log'"
        )
        conn.execute("PRAGMA writable_schema = OFF")
        with _db(Path(conn.execute("PRAGMA database_list").fetchone()[2])) as fresh:
            fresh.execute(f"UPDATE audit_log SET {column} = NULL WHERE seq = 17")

    return tamper


TAMPERING = {
    "body changed": (_edit_body, (17, "modified")),
    "body and hash changed": (_edit_body_and_hash, (17, "modified")),
    "hash column changed, body not": (_edit_hash_only, (17, "modified")),
    "hash column lengthened, body not": (_edit_hash_length, (17, "modified")),
    "seq column moved, body not": (_move_seq, (17, "deleted")),
    "seq columns swapped, bodies not": (_swap_seqs, (16, "reordered")),
    "newline in a rehashed body": (_newline_in_body, (17, "modified")),
    "NUL in a rehashed body": (_nul_in_body, (17, "modified")),
    "checkpoint changed and rehashed": (_checkpoint_edited, (20, "modified")),
    "body changed, stored as text": (_text_body_changed, (17, "modified")),
    "body NULL": (_null_column("body"), (17, "modified")),
    "hash NULL": (_null_column("hash"), (17, "modified")),
    "body stored as text, bytes unchanged": (_text_body_same_bytes, None),
    "hash stored as blob, bytes unchanged": (_blob_hash_same_bytes, None),
}


@pytest.mark.parametrize("name", TAMPERING)
async def test_every_path_names_the_same_first_bad_record(
    log_path: Path, signer: CheckpointSigner, name: str
) -> None:
    tamper, expected = TAMPERING[name]
    for mode in MODES:  # the untouched log verifies through every path, with the same counts
        report = await _verify_via(log_path, mode, signer)
        assert report.ok, (mode, report.problem)
        assert (report.records, report.checkpoints, report.signatures_checked) == (N + 4, 4, 4), mode
    with _db(log_path) as conn:
        tamper(conn)
    for mode in MODES:
        problem = (await _verify_via(log_path, mode, signer)).problem
        assert (None if problem is None else (problem.seq, problem.kind)) == expected, (mode, problem)


def _first_link_checker(rows: list[tuple[int, str, bytes]], prev: str) -> bool:
    """A fast path that trusts the *first* ``prev`` in a record's bytes (the attack's target)."""
    for _, digest, body in rows:
        at = body.find(b'"prev":"sha256:') + 8
        if digest != "sha256:" + hashlib.sha256(body).hexdigest() or body[at : at + 71].decode() != prev:
            return False
        prev = digest
    return True


async def test_link_planted_in_client_arguments_is_not_trusted(
    tmp_path: Path, signer: CheckpointSigner
) -> None:
    """A client plants, in its own arguments, the hash of a record it will forge later.

    Arguments sort before ``prev``, so the planted link is the first one in the bytes. A
    verifier that read the first link would accept the forged record in place of the
    genuine one; the fast path reads only the top-level (last) link.
    """
    path = tmp_path / "audit.db"
    store = SQLiteAuditStore(SQLiteDatabase(path))

    def event(principal: str, verdict: str, arguments: object) -> AuditEvent:
        return AuditEvent(principal, "tools/call", verdict, tool="open_breaker", arguments=arguments)

    async with AuditLog(store, signer=signer, checkpoint_every=10) as log:
        for i in range(11):  # records 1..12, a checkpoint at 10
            await log.append(event("alice", "allow", {"i": i}), durable=False)
        head_seq, head_hash = await store.head()
        # What the insider wants record 13 to say instead of the truth, sealed in advance.
        template = json.loads((await store.scan(after_seq=head_seq - 1).__anext__())[0].body)
        forged = template | {
            "seq": head_seq + 1,
            "prev": head_hash,
            "arguments": {"i": 99},
            "verdict": "allow",
        }
        forged_body = canonical_json(forged)
        forged_hash = "sha256:" + hashlib.sha256(forged_body).hexdigest()
        await log.append(event("mallory", "allow", {"breaker": "BR-7"}), durable=True)  # record 13
        planted = {"a": 1, "prev": forged_hash, "principal": "alice"}  # as a top-level link looks
        await log.append(event("mallory", "allow", planted), durable=False)  # record 14
        for i in range(10):  # past the next signed checkpoint
            await log.append(event("alice", "allow", {"i": i}), durable=False)
    await store.close()
    with _db(path) as conn:
        conn.execute("UPDATE audit_log SET body = ?, hash = ? WHERE seq = 13", (forged_body, forged_hash))
        rows = conn.execute(
            "SELECT seq, hash, body FROM audit_log WHERE seq IN (13, 14) ORDER BY seq"
        ).fetchall()
    assert _first_link_checker(rows, head_hash)  # the forged record passes a first-link reader...
    for mode in (*MODES, "default"):  # ...and none of ours
        report = await (_verify(path, signer) if mode == "default" else _verify_via(path, mode, signer))
        assert report.problem is not None, mode
        assert (report.problem.seq, report.problem.kind) == (13, "modified"), mode


def _as_event(data: dict[str, object], template: dict[str, object]) -> dict[str, object]:
    return template | {k: data[k] for k in ("id", "time", "seq", "prev")}


async def test_checkpoints_turned_into_events_are_caught_given_the_cadence(
    log_path: Path, signer: CheckpointSigner
) -> None:
    """A rewrite that keeps no checkpoint to forge: each one becomes an ordinary event."""
    for mode in MODES:
        report = await _verify_via(log_path, mode, signer, checkpoint_every=10)
        assert report.ok, (mode, report.problem)
    with _db(log_path) as conn:
        template = _body(conn, 1)
        prev = _put(conn, 3, _body(conn, 3) | {"verdict": "deny"})
        for seq in range(4, N + 5):
            data = _body(conn, seq)
            if data["kind"] == "checkpoint":
                data = _as_event(data, template)
            data["prev"] = prev
            prev = _put(conn, seq, data)
        conn.execute("UPDATE audit_head SET hash = ?", (prev,))
    report = await _verify(log_path, signer)
    assert report.ok, report.problem  # the attack works when the verifier does not know the cadence
    assert report.checkpoints == 0
    for mode in MODES:
        problem = (await _verify_via(log_path, mode, signer, checkpoint_every=10)).problem
        assert problem is not None, mode
        assert (problem.seq, problem.kind) == (10, "bad_checkpoint"), mode
