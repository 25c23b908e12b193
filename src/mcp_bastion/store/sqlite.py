# ruff: noqa: S608  # SQL text is built from module constants only; every value is a bound parameter
"""SQLite stores (the embedded default): pins, approvals, short-lived state, rate limits.

One ``SQLiteDatabase`` per file owns one connection and one worker thread; every call
runs there, so calls are serialised within the process and the event loop never blocks
on disk. The file is in WAL mode; writes take ``BEGIN IMMEDIATE`` so several processes
sharing the file serialise on SQLite's write lock (``busy_timeout`` bounds the wait).
Any ``sqlite3`` failure becomes ``StoreUnavailableError`` and drops the connection; the
next call reopens it, so the store recovers on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from mcp_bastion.errors import StoreUnavailableError

from ._rows import APPROVAL_COLUMNS, PIN_COLUMNS, approval_from_row, approval_params, pin_from_row, pin_params
from .bucket import refill_and_take
from .interface import Approval, ApprovalStatus, Pin

__all__ = [
    "SQLiteApprovalStore",
    "SQLiteDatabase",
    "SQLitePinStore",
    "SQLiteRateLimitStore",
    "SQLiteStateStore",
]

T = TypeVar("T")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS pins ({PIN_COLUMNS}, PRIMARY KEY (upstream, key));
CREATE TABLE IF NOT EXISTS approvals ({APPROVAL_COLUMNS}, PRIMARY KEY (id));
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, created_at);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, stamp REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL,
    hash TEXT NOT NULL);
"""


class SQLiteDatabase:
    """One SQLite file, one connection, one worker thread."""

    def __init__(self, path: str | Path, *, busy_timeout_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_ms = int(busy_timeout_seconds * 1000)
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bastion-sqlite")

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (BEGIN IMMEDIATE for writes).
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
            try:
                conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):  # already broken: we discard it anyway
                self._conn.close()
            self._conn = None

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._connect())
        except sqlite3.Error as exc:
            self._drop()
            raise StoreUnavailableError(f"sqlite store unavailable: {type(exc).__name__}") from exc

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the database thread; sqlite errors -> StoreUnavailableError."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, fn)
        except RuntimeError as exc:  # executor shut down: the store was closed
            raise StoreUnavailableError("sqlite store is closed") from exc

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Start ``fn`` on the database thread now; await the result later (for prefetching)."""
        if self._closed:
            raise StoreUnavailableError("sqlite store is closed")
        return asyncio.get_running_loop().run_in_executor(self._executor, self._call, fn)

    @staticmethod
    def write(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._drop)
        self._executor.shutdown(wait=True)


class SQLitePinStore:
    """Pins in the ``pins`` table; ``put`` is an upsert."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def load(self, upstream: str) -> Mapping[str, Pin]:
        def q(c: sqlite3.Connection) -> list[Pin]:
            rows = c.execute(f"SELECT {PIN_COLUMNS} FROM pins WHERE upstream = ?", (upstream,)).fetchall()
            return [pin_from_row(r) for r in rows]

        return {p.key: p for p in await self.db.run(q)}

    async def put(self, pin: Pin) -> None:
        def q(c: sqlite3.Connection) -> None:
            c.execute(
                f"INSERT OR REPLACE INTO pins ({PIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", pin_params(pin)
            )

        await self.db.run(q)

    async def list_all(self) -> Sequence[Pin]:
        def q(c: sqlite3.Connection) -> list[Pin]:
            rows = c.execute(f"SELECT {PIN_COLUMNS} FROM pins ORDER BY upstream, key").fetchall()
            return [pin_from_row(r) for r in rows]

        return await self.db.run(q)


class SQLiteApprovalStore:
    """Approvals in the ``approvals`` table; ``decide`` is one conditional UPDATE."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def create(self, approval: Approval) -> None:
        def q(c: sqlite3.Connection) -> bool:
            cur = c.execute(
                f"INSERT OR IGNORE INTO approvals ({APPROVAL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                approval_params(approval),
            )
            return cur.rowcount == 1

        if not await self.db.run(q):
            raise ValueError("approval id already exists")

    async def get(self, approval_id: str) -> Approval | None:
        def q(c: sqlite3.Connection) -> Approval | None:
            row = c.execute(
                f"SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?", (approval_id,)
            ).fetchone()
            return None if row is None else approval_from_row(row)

        return await self.db.run(q)

    async def decide(self, approval_id: str, status: ApprovalStatus, decided_by: str) -> Approval | None:
        if status is ApprovalStatus.PENDING:
            raise ValueError("a decision cannot move an approval back to pending")

        def q(c: sqlite3.Connection) -> Approval | None:
            row = c.execute(
                "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ? "
                f"WHERE id = ? AND status = 'pending' RETURNING {APPROVAL_COLUMNS}",
                (status.value, decided_by, time.time(), approval_id),
            ).fetchone()
            return None if row is None else approval_from_row(row)

        return await self.db.run(q)

    async def list_pending(self) -> Sequence[Approval]:
        def q(c: sqlite3.Connection) -> list[Approval]:
            rows = c.execute(
                f"SELECT {APPROVAL_COLUMNS} FROM approvals WHERE status = 'pending' ORDER BY created_at, id"
            ).fetchall()
            return [approval_from_row(r) for r in rows]

        return await self.db.run(q)


class SQLiteStateStore:
    """Short-lived values with an absolute expiry (wall clock, shared by processes on one host)."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def get(self, key: str) -> bytes | None:
        def q(c: sqlite3.Connection) -> bytes | None:
            row = c.execute(
                "SELECT value FROM state WHERE key = ? AND expires > ?", (key, time.time())
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self.db.run(q)

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        def q(c: sqlite3.Connection) -> None:
            now = time.time()
            c.execute(
                "INSERT OR REPLACE INTO state (key, value, expires) VALUES (?, ?, ?)",
                (key, bytes(value), now + ttl_seconds),
            )

        await self.db.run(q)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        def q(c: sqlite3.Connection) -> bool:
            now = time.time()
            # One statement: insert, or take over the row only if it has expired.
            row = c.execute(
                "INSERT INTO state (key, value, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
                "WHERE state.expires <= ? RETURNING key",
                (key, bytes(value), now + ttl_seconds, now),
            ).fetchone()
            if row is not None:
                c.execute("DELETE FROM state WHERE expires <= ?", (now,))  # keep the table small
            return row is not None

        return await self.db.run(q)

    async def delete(self, key: str) -> None:
        def q(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM state WHERE key = ?", (key,))

        await self.db.run(q)


class SQLiteRateLimitStore:
    """Token buckets in the ``buckets`` table, read-modify-write under the write lock."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def take(
        self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
    ) -> tuple[bool, float]:
        def tx(c: sqlite3.Connection) -> tuple[bool, float]:
            row = c.execute("SELECT tokens, stamp FROM buckets WHERE key = ?", (key,)).fetchone()
            result = refill_and_take(
                None if row is None else row[0],
                None if row is None else row[1],
                time.time(),
                capacity=capacity,
                refill_per_second=refill_per_second,
                cost=cost,
            )
            c.execute(
                "INSERT OR REPLACE INTO buckets (key, tokens, stamp) VALUES (?, ?, ?)",
                (key, result.tokens, result.stamp),
            )
            return result.allowed, result.retry_after

        return await self.db.run(lambda c: SQLiteDatabase.write(c, tx))
