"""Two processes taking from one shared bucket never over-grant (Redis, PostgreSQL, SQLite)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

# Each child waits for the go file, then takes 60 times from one bucket of 40 (no refill)
# and prints how many it was granted.
CHILD = """
import asyncio, sys, time
from pathlib import Path
from mcp_bastion.store.factory import open_store

async def main(url, key, go):
    store, close = open_store("rate_limits", url)
    while not Path(go).exists():
        time.sleep(0.01)
    granted = 0
    for _ in range(60):
        allowed, _ = await store.take(key, capacity=40, refill_per_second=0)
        granted += allowed
    await close()
    print(granted)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
"""


def _race(url: str, tmp_path: Path) -> list[int]:
    key = f"shared-{uuid.uuid4().hex}"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, url, key, str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    go.touch()
    counts = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        counts.append(int(out.strip()))
    return counts


@pytest.mark.timeout(90)
def test_redis_bucket_shared_by_two_processes(redis_url: str, tmp_path: Path) -> None:
    import redis

    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        assert sum(_race(f"{redis_url}?prefix={prefix}", tmp_path)) == 40
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.timeout(90)
def test_postgres_bucket_shared_by_two_processes(postgres_schema: tuple[str, str], tmp_path: Path) -> None:
    url, schema = postgres_schema
    assert sum(_race(f"{url}?schema={schema}", tmp_path)) == 40


@pytest.mark.timeout(90)
def test_sqlite_bucket_shared_by_two_processes(tmp_path: Path) -> None:
    assert sum(_race(f"sqlite:///{tmp_path / 'b.db'}", tmp_path)) == 40
