# ruff: noqa: S608  # SQL text is built from module constants only; every value is a bound parameter
"""PostgreSQL stores (``psycopg`` 3, async, pooled): pins, approvals, state, rate limits.

One ``PostgresDatabase`` per URL (and schema) owns an ``AsyncConnectionPool``. Checkouts
wait at most ``timeout`` seconds and each new connection at most ``connect_timeout``, so
an unreachable server raises ``StoreUnavailableError`` within about two seconds; the pool
checks a connection before lending it and reconnects in the background, so the store
recovers on its own when the server is back. Times (TTL, token refill) are the server's
clock, shared by every gateway process. Tables are created on first use, serialised by
an advisory lock so that several processes starting together do not collide.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import psycopg_pool

from mcp_bastion.errors import StoreError, StoreUnavailableError

from ._rows import APPROVAL_COLUMNS, PIN_COLUMNS, approval_from_row, approval_params, pin_from_row, pin_params
from .bucket import refill_and_take
from .interface import GENESIS, Approval, ApprovalStatus, Pin

__all__ = [
    "PostgresApprovalStore",
    "PostgresDatabase",
    "PostgresPinStore",
    "PostgresRateLimitStore",
    "PostgresStateStore",
]

_DDL = f"""
CREATE TABLE IF NOT EXISTS bastion_pins (
    upstream text NOT NULL, key text NOT NULL, digest text NOT NULL, status text NOT NULL,
    snapshot text NOT NULL, approved_digest text, approved_snapshot text,
    updated_at double precision NOT NULL, PRIMARY KEY (upstream, key));
CREATE TABLE IF NOT EXISTS bastion_approvals (
    id text PRIMARY KEY, principal text NOT NULL, upstream text NOT NULL, method text NOT NULL,
    target text NOT NULL, arguments_digest text NOT NULL, summary text NOT NULL, status text NOT NULL,
    created_at double precision NOT NULL, decided_by text, decided_at double precision);
CREATE INDEX IF NOT EXISTS bastion_approvals_status ON bastion_approvals (status, created_at);
CREATE TABLE IF NOT EXISTS bastion_state (
    key text PRIMARY KEY, value bytea NOT NULL, expires double precision NOT NULL);
CREATE TABLE IF NOT EXISTS bastion_buckets (
    key text PRIMARY KEY, tokens double precision NOT NULL, stamp double precision NOT NULL);
CREATE TABLE IF NOT EXISTS bastion_audit_log (
    seq bigint PRIMARY KEY, hash text NOT NULL, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bastion_audit_head (
    id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL);
INSERT INTO bastion_audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT (id) DO NOTHING;
"""

_NOW = "extract(epoch from clock_timestamp())::float8"
_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout, OSError)


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database (optionally one schema)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 2.0,
        connect_timeout: int = 2,
    ) -> None:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": connect_timeout}
        if schema is not None:
            kwargs["options"] = f"-csearch_path={schema}"
        self.pool = psycopg_pool.AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs=kwargs,
            open=False,
            check=psycopg_pool.AsyncConnectionPool.check_connection,
            name="bastion",
        )
        self._opened = False
        self._ready = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Lend a connection; driver failures become ``StoreUnavailableError``/``StoreError``."""
        try:
            if not self._opened:
                await self.pool.open(wait=False)
                self._opened = True
            async with self.pool.connection() as conn:
                if not self._ready:
                    async with conn.transaction():
                        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('mcp_bastion.ddl'))")
                        await conn.execute(_DDL)
                    self._ready = True
                yield conn
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError(f"postgres store unavailable: {type(exc).__name__}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"postgres store error: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._opened:
            await self.pool.close()
            self._opened = False


class PostgresPinStore:
    """Pins in ``bastion_pins``; ``put`` is an upsert."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def load(self, upstream: str) -> Mapping[str, Pin]:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {PIN_COLUMNS} FROM bastion_pins WHERE upstream = %s", (upstream,)
            )
            return {p.key: p for p in map(pin_from_row, await cur.fetchall())}

    async def put(self, pin: Pin) -> None:
        async with self.db.connection() as conn:
            await conn.execute(
                f"INSERT INTO bastion_pins ({PIN_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (upstream, key) DO UPDATE SET digest = EXCLUDED.digest, "
                "status = EXCLUDED.status, "
                "snapshot = EXCLUDED.snapshot, approved_digest = EXCLUDED.approved_digest, "
                "approved_snapshot = EXCLUDED.approved_snapshot, updated_at = EXCLUDED.updated_at",
                pin_params(pin),
            )

    async def list_all(self) -> Sequence[Pin]:
        async with self.db.connection() as conn:
            cur = await conn.execute(f"SELECT {PIN_COLUMNS} FROM bastion_pins ORDER BY upstream, key")
            return [pin_from_row(r) for r in await cur.fetchall()]


class PostgresApprovalStore:
    """Approvals in ``bastion_approvals``; ``decide`` is one conditional UPDATE."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def create(self, approval: Approval) -> None:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                f"INSERT INTO bastion_approvals ({APPROVAL_COLUMNS}) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (id) DO NOTHING",
                approval_params(approval),
            )
            if cur.rowcount != 1:
                raise ValueError("approval id already exists")

    async def get(self, approval_id: str) -> Approval | None:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {APPROVAL_COLUMNS} FROM bastion_approvals WHERE id = %s", (approval_id,)
            )
            row = await cur.fetchone()
            return None if row is None else approval_from_row(row)

    async def decide(self, approval_id: str, status: ApprovalStatus, decided_by: str) -> Approval | None:
        if status is ApprovalStatus.PENDING:
            raise ValueError("a decision cannot move an approval back to pending")
        async with self.db.connection() as conn:
            cur = await conn.execute(
                "UPDATE bastion_approvals SET status = %s, decided_by = %s, decided_at = %s "
                f"WHERE id = %s AND status = 'pending' RETURNING {APPROVAL_COLUMNS}",
                (status.value, decided_by, time.time(), approval_id),
            )
            row = await cur.fetchone()
            return None if row is None else approval_from_row(row)

    async def list_pending(self) -> Sequence[Approval]:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {APPROVAL_COLUMNS} FROM bastion_approvals "
                "WHERE status = 'pending' ORDER BY created_at, id"
            )
            return [approval_from_row(r) for r in await cur.fetchall()]


class PostgresStateStore:
    """Short-lived values in ``bastion_state`` with an expiry on the server's clock."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def get(self, key: str) -> bytes | None:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                f"SELECT value FROM bastion_state WHERE key = %s AND expires > {_NOW}", (key,)
            )
            row = await cur.fetchone()
            return None if row is None else bytes(row[0])

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        async with self.db.connection() as conn:
            await conn.execute(
                f"INSERT INTO bastion_state (key, value, expires) VALUES (%s, %s, {_NOW} + %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires",
                (key, bytes(value), ttl_seconds),
            )

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        async with self.db.connection() as conn:
            # One statement: insert, or take over the row only if it has expired.
            cur = await conn.execute(
                f"INSERT INTO bastion_state (key, value, expires) VALUES (%s, %s, {_NOW} + %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires "
                f"WHERE bastion_state.expires <= {_NOW} RETURNING key",
                (key, bytes(value), ttl_seconds),
            )
            stored = await cur.fetchone() is not None
            if stored:
                await conn.execute(f"DELETE FROM bastion_state WHERE expires <= {_NOW}")
            return stored

    async def delete(self, key: str) -> None:
        async with self.db.connection() as conn:
            await conn.execute("DELETE FROM bastion_state WHERE key = %s", (key,))


class PostgresRateLimitStore:
    """Token buckets in ``bastion_buckets``: row lock, refill on the server's clock, update."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def take(
        self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
    ) -> tuple[bool, float]:
        async with self.db.connection() as conn, conn.transaction():
            # Create the bucket first so that concurrent first takes serialise on its row.
            await conn.execute(
                f"INSERT INTO bastion_buckets (key, tokens, stamp) VALUES (%s, %s, {_NOW}) "
                "ON CONFLICT (key) DO NOTHING",
                (key, capacity),
            )
            cur = await conn.execute(
                f"SELECT tokens, stamp, {_NOW} FROM bastion_buckets WHERE key = %s FOR UPDATE", (key,)
            )
            row = await cur.fetchone()
            assert row is not None  # inserted above, never deleted
            result = refill_and_take(
                float(row[0]),
                float(row[1]),
                float(row[2]),
                capacity=capacity,
                refill_per_second=refill_per_second,
                cost=cost,
            )
            await conn.execute(
                "UPDATE bastion_buckets SET tokens = %s, stamp = %s WHERE key = %s",
                (result.tokens, result.stamp, key),
            )
            return result.allowed, result.retry_after
