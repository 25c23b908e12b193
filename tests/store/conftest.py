"""Fixtures giving one store of each kind per back end, for the contract suites."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_bastion.store import memory
from mcp_bastion.store.postgres import (
    PostgresApprovalStore,
    PostgresDatabase,
    PostgresPinStore,
    PostgresRateLimitStore,
    PostgresStateStore,
)
from mcp_bastion.store.postgres_audit import PostgresAuditStore
from mcp_bastion.store.redis import RedisRateLimitStore, RedisStateStore, connect
from mcp_bastion.store.sqlite import (
    SQLiteApprovalStore,
    SQLiteDatabase,
    SQLitePinStore,
    SQLiteRateLimitStore,
    SQLiteStateStore,
)
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

SQL_CLASSES: dict[str, tuple[type[Any], type[Any]]] = {
    "pins": (SQLitePinStore, PostgresPinStore),
    "approvals": (SQLiteApprovalStore, PostgresApprovalStore),
    "state": (SQLiteStateStore, PostgresStateStore),
    "rate_limits": (SQLiteRateLimitStore, PostgresRateLimitStore),
    "audit": (SQLiteAuditStore, PostgresAuditStore),
}
MEMORY_CLASSES: dict[str, Callable[[], Any]] = {
    "pins": memory.MemoryPinStore,
    "approvals": memory.MemoryApprovalStore,
    "state": memory.MemoryStateStore,
    "rate_limits": memory.MemoryRateLimitStore,
    "audit": memory.MemoryAuditStore,
}


async def _open(
    kind: str, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Any]:
    if backend == "memory":
        yield MEMORY_CLASSES[kind]()
    elif backend == "sqlite":
        db = SQLiteDatabase(tmp_path / "store.db")
        yield SQL_CLASSES[kind][0](db)
        await db.close()
    elif backend == "postgres":
        url, schema = request.getfixturevalue("postgres_schema")
        pg = PostgresDatabase(url, schema=schema, max_size=16)
        yield SQL_CLASSES[kind][1](pg)
        await pg.close()
    elif backend == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"
        client = connect(url)
        cls = RedisStateStore if kind == "state" else RedisRateLimitStore
        yield cls(client, prefix=prefix)
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    else:
        raise AssertionError(backend)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def pin_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for store in _open("pins", request.param, request, tmp_path):
        yield store


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def approval_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for store in _open("approvals", request.param, request, tmp_path):
        yield store


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
async def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for store in _open("state", request.param, request, tmp_path):
        yield store


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
async def rate_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for store in _open("rate_limits", request.param, request, tmp_path):
        yield store


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def audit_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for store in _open("audit", request.param, request, tmp_path):
        yield store
