"""SQLite audit store: the embedded default for the hash-chained audit log.

Records live in ``audit_log (seq, hash, body)``; the committed head in ``audit_head``.
``append`` runs ``BEGIN IMMEDIATE`` (SQLite's single write lock, shared by every process
using the file), reads the head, seals, inserts and commits. Durable appends commit with
``synchronous=FULL`` (the WAL is fsync'd before COMMIT returns); other batches with
``NORMAL`` (in the OS cache at once, on disk at the next sync): a later durable commit
syncs the WAL up to itself, so durability follows the chain order.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence

from mcp_bastion.errors import StoreUnavailableError

from .interface import GENESIS, Batch, RecordBlock, Sealer, StoredRecord
from .sqlite import SQLiteDatabase

__all__ = ["SQLiteAuditStore"]

# CAST: a tampered row may hold TEXT where we wrote a BLOB (the columns are untyped);
# ifnull: or NULL, once NOT NULL is dropped from the schema (the verifier sees b"").
_ROWS = (
    "SELECT seq, ifnull(CAST(hash AS TEXT), ''), ifnull(CAST(body AS BLOB), x'') FROM audit_log "
    "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
)
# One row for a seq range: how many records, their first and last seq, how many are
# "regular" (a text hash of the usual length, a blob body), the bodies joined by newlines
# and the hashes joined. The aggregate walks the table's rowid B-tree over the range, in
# seq order: SQLite visits a rowid range in order, and the verifier fails closed if it
# ever did not (the chain links would not match). A block is only made of a run that is
# gapless and regular, and whose bodies hold no newline (else the split would not give
# one piece per record): see RecordBlock.
_BLOCK = (
    "SELECT count(*), min(seq), max(seq), "
    "sum(typeof(hash) = 'text' AND length(hash) = 71 AND typeof(body) = 'blob'), "  # 71: HASH_TEXT_LEN
    "CAST(group_concat(body, x'0a') AS BLOB), group_concat(hash, '') "
    "FROM audit_log WHERE seq > ? AND seq <= ?"
)

_NEXT = "SELECT min(seq) FROM audit_log WHERE seq > ? AND seq <= ?"
_SCAN_MMAP = 1 << 40  # SQLite caps it at its compile-time maximum (2 GB by default)


class SQLiteAuditStore:
    """The ``AuditStore`` contract on a ``SQLiteDatabase``."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def append(self, seal: Sealer, *, durable: bool) -> Sequence[StoredRecord]:
        mode = "FULL" if durable else "NORMAL"

        def tx(c: sqlite3.Connection) -> Sequence[StoredRecord]:
            row = c.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            sealed = seal(*(row or (0, GENESIS)))
            if sealed:
                c.executemany(
                    "INSERT INTO audit_log (seq, hash, body) VALUES (?, ?, ?)",
                    [(r.seq, r.hash, r.body) for r in sealed],
                )
                c.execute(
                    "INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, ?, ?)",
                    (sealed[-1].seq, sealed[-1].hash),
                )
            return sealed

        def run(c: sqlite3.Connection) -> Sequence[StoredRecord]:
            c.execute(f"PRAGMA synchronous={mode}")
            return SQLiteDatabase.write(c, tx)

        return await self.db.run(run)

    async def head(self) -> tuple[int, str]:
        def q(c: sqlite3.Connection) -> tuple[int, str]:
            row = c.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

        return await self.db.run(q)

    async def scan(self, *, after_seq: int = 0, batch: int = 5000) -> AsyncIterator[Sequence[StoredRecord]]:
        def fetch(start: int) -> Callable[[sqlite3.Connection], list[StoredRecord]]:
            def q(c: sqlite3.Connection) -> list[StoredRecord]:
                rows = c.execute(_ROWS, (start, 2**63 - 1, batch)).fetchall()
                return list(map(StoredRecord._make, rows))

            return q

        # The next batch is read on the database thread while the caller checks this one.
        pending = self.db.submit(fetch(after_seq))
        while True:
            rows = await pending
            if not rows:
                return
            pending = self.db.submit(fetch(rows[-1].seq))
            yield rows

    async def scan_into(
        self,
        consume: Callable[[Batch], None],
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        batch: int = 2000,
    ) -> None:
        limit = 2**63 - 1 if until_seq is None else until_seq

        def read(start: int) -> Callable[[sqlite3.Connection], Batch | None]:
            def q(c: sqlite3.Connection) -> Batch | None:
                end = min(limit, start + batch)
                n, low, high, regular, joined, hashes = c.execute(_BLOCK, (start, end)).fetchone()
                if not n:  # nothing in (start, end]: go on from the next record, if any
                    (after,) = c.execute(_NEXT, (end, limit)).fetchone()
                    return None if after is None else read(after - 1)(c)
                if regular == n and high - low + 1 == n:
                    bodies = joined.split(b"\n")
                    if len(bodies) == n:  # else some body holds a newline: no packing for it
                        return RecordBlock(low, bodies, hashes)
                return list(map(StoredRecord._make, c.execute(_ROWS, (start, end, batch))))

            return q

        # The next batch is read on the database thread (SQLite runs the whole aggregate
        # without the GIL) while ``consume`` checks this one on another thread. Reads go
        # through a memory map for the scan (no read() call and copy per page); a file
        # truncated under the map would kill the process (SIGBUS): a failed verification.
        await self.db.run(lambda c: c.execute(f"PRAGMA mmap_size={_SCAN_MMAP}").fetchall())
        pending = self.db.submit(read(after_seq))
        try:
            while (got := await pending) is not None:
                last = got.last_seq if isinstance(got, RecordBlock) else got[-1].seq
                pending = self.db.submit(read(last))
                await asyncio.to_thread(consume, got)
        finally:
            pending.cancel()
            with contextlib.suppress(StoreUnavailableError):  # a broken connection is reopened unmapped
                await self.db.run(lambda c: c.execute("PRAGMA mmap_size=0").fetchall())

    async def truncate_after(self, seq: int, head_hash: str) -> int:
        def tx(c: sqlite3.Connection) -> int:
            removed = c.execute("DELETE FROM audit_log WHERE seq > ?", (seq,)).rowcount
            c.execute("INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", (seq, head_hash))
            return int(removed)

        return await self.db.run(lambda c: SQLiteDatabase.write(c, tx))

    async def prune_before(self, seq: int) -> int:
        def tx(c: sqlite3.Connection) -> int:
            return int(c.execute("DELETE FROM audit_log WHERE seq < ?", (seq,)).rowcount)

        return await self.db.run(lambda c: SQLiteDatabase.write(c, tx))

    async def close(self) -> None:
        await self.db.close()
