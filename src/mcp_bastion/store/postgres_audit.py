"""PostgreSQL audit store: one chain shared by every gateway process.

Multi-writer design: one sequence under a lock. ``append`` locks the single head row
(``SELECT ... FOR UPDATE`` on ``bastion_audit_head``), reads the last (seq, hash) in the
same transaction, seals, COPYs the records in and moves the head; the row lock
serialises writers in every process, so the chain stays one linear, verifiable
sequence. (A row lock rather than ``pg_advisory_xact_lock``: it is scoped to the schema,
and it is the row whose value we need anyway.) Non-durable batches commit with
``synchronous_commit = off``; durable ones wait for the WAL flush.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from .interface import Sealer, StoredRecord
from .postgres import PostgresDatabase

__all__ = ["PostgresAuditStore"]


class PostgresAuditStore:
    """The ``AuditStore`` contract on a ``PostgresDatabase``."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def append(self, seal: Sealer, *, durable: bool) -> Sequence[StoredRecord]:
        async with self.db.connection() as conn, conn.transaction():
            if not durable:
                await conn.execute("SET LOCAL synchronous_commit = off")
            cur = await conn.execute("SELECT seq, hash FROM bastion_audit_head WHERE id = 1 FOR UPDATE")
            row = await cur.fetchone()
            assert row is not None  # created with the tables
            sealed = seal(int(row[0]), str(row[1]))
            if sealed:
                async with cur.copy("COPY bastion_audit_log (seq, hash, body) FROM STDIN") as copy:
                    for record in sealed:
                        await copy.write_row(record)
                await conn.execute(
                    "UPDATE bastion_audit_head SET seq = %s, hash = %s WHERE id = 1",
                    (sealed[-1].seq, sealed[-1].hash),
                )
            return sealed

    async def head(self) -> tuple[int, str]:
        async with self.db.connection() as conn:
            cur = await conn.execute("SELECT seq, hash FROM bastion_audit_head WHERE id = 1")
            row = await cur.fetchone()
            assert row is not None
            return int(row[0]), str(row[1])

    async def scan(self, *, after_seq: int = 0, batch: int = 5000) -> AsyncIterator[Sequence[StoredRecord]]:
        cursor = after_seq
        while True:
            async with self.db.connection() as conn:
                cur = await conn.execute(
                    "SELECT seq, hash, body FROM bastion_audit_log WHERE seq > %s ORDER BY seq LIMIT %s",
                    (cursor, batch),
                )
                rows = [StoredRecord(int(s), str(h), bytes(b)) for s, h, b in await cur.fetchall()]
            if not rows:
                return
            yield rows
            cursor = rows[-1].seq

    async def scan_into(
        self,
        consume: Callable[[Sequence[StoredRecord]], None],
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        batch: int = 5000,
    ) -> None:
        async for rows in self.scan(after_seq=after_seq, batch=batch):
            inside = rows if until_seq is None else [r for r in rows if r.seq <= until_seq]
            if inside:
                consume(inside)
            if len(inside) < len(rows):
                return

    async def truncate_after(self, seq: int, head_hash: str) -> int:
        async with self.db.connection() as conn, conn.transaction():
            await conn.execute("SELECT seq FROM bastion_audit_head WHERE id = 1 FOR UPDATE")
            cur = await conn.execute("DELETE FROM bastion_audit_log WHERE seq > %s", (seq,))
            await conn.execute(
                "UPDATE bastion_audit_head SET seq = %s, hash = %s WHERE id = 1", (seq, head_hash)
            )
            return cur.rowcount

    async def prune_before(self, seq: int) -> int:
        async with self.db.connection() as conn:
            cur = await conn.execute("DELETE FROM bastion_audit_log WHERE seq < %s", (seq,))
            return cur.rowcount

    async def close(self) -> None:
        await self.db.close()
