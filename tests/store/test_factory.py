"""open_store / open_stores map URLs to the right implementations, lazily and closably."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_bastion.errors import ConfigError, StoreUnavailableError
from mcp_bastion.store.factory import open_store, open_stores
from mcp_bastion.store.memory import MemoryAuditStore, MemoryPinStore
from mcp_bastion.store.postgres import PostgresRateLimitStore
from mcp_bastion.store.redis import RedisRateLimitStore, RedisStateStore
from mcp_bastion.store.sqlite import SQLitePinStore
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

pytestmark = pytest.mark.anyio


async def test_urls_map_to_implementations(tmp_path: Path) -> None:
    stores = open_stores(
        {
            "default": f"sqlite:///{tmp_path / 'b.db'}",
            "state": "redis://127.0.0.1:6379/0?prefix=t-factory:",
            "rate_limits": "postgresql://postgres@127.0.0.1:5432/test?schema=nope",
        }
    )
    try:
        assert isinstance(stores.pins, SQLitePinStore)
        assert isinstance(stores.audit, SQLiteAuditStore)
        assert stores.pins.db is stores.approvals.db  # type: ignore[attr-defined]
        assert stores.audit.db is not stores.pins.db
        assert isinstance(stores.state, RedisStateStore)
        assert stores.state.prefix == "t-factory:st:"
        assert isinstance(stores.rate_limits, PostgresRateLimitStore)
        await stores.pins.list_all()  # opens lazily, works
    finally:
        await stores.aclose()
    assert (tmp_path / "b.db").exists()


async def test_memory_default_and_single_store(tmp_path: Path) -> None:
    stores = open_stores({})
    assert isinstance(stores.pins, MemoryPinStore)
    assert isinstance(stores.audit, MemoryAuditStore)
    await stores.aclose()
    store, close = open_store("rate_limits", "redis://127.0.0.1:1/0")
    assert isinstance(store, RedisRateLimitStore)
    with pytest.raises(StoreUnavailableError):
        await store.take("k", capacity=1, refill_per_second=1)
    await close()


def test_bad_urls_and_kinds() -> None:
    with pytest.raises(ConfigError):
        open_store("pins", "redis://127.0.0.1:6379/0")  # redis holds only state and rate limits
    with pytest.raises(ConfigError):
        open_store("pins", "mysql://x")
    with pytest.raises(ConfigError):
        open_store("pins", "sqlite://relative-without-third-slash")
    with pytest.raises(ConfigError):
        open_stores({"pinz": "memory://"})
