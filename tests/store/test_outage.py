"""A store that is down fails fast with StoreUnavailableError and recovers on its own.

Outages are real: a closed loopback port; a private ``redis-server`` stopped and
restarted on the same port; PostgreSQL reached through a loopback TCP relay that is shut
(every connection cut) and reopened; an SQLite file whose directory disappears.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from mcp_bastion.audit import AuditEvent, AuditLog
from mcp_bastion.audit.verify import verify_log
from mcp_bastion.errors import StoreUnavailableError
from mcp_bastion.store.postgres import PostgresDatabase, PostgresStateStore
from mcp_bastion.store.postgres_audit import PostgresAuditStore
from mcp_bastion.store.redis import RedisRateLimitStore, RedisStateStore, connect
from mcp_bastion.store.sqlite import SQLiteDatabase, SQLiteStateStore

pytestmark = pytest.mark.anyio
HANG_GUARD = 15  # seconds: a store that hangs instead of failing fails the test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_closed_port_postgres_and_redis_fail_fast() -> None:
    port = _free_port()  # bound then closed: nothing listens there
    pg = PostgresDatabase(f"postgresql://postgres@127.0.0.1:{port}/test")
    rd = connect(f"redis://127.0.0.1:{port}/0")
    try:
        with anyio.fail_after(HANG_GUARD):
            with pytest.raises(StoreUnavailableError):
                await PostgresStateStore(pg).get("k")
            with pytest.raises(StoreUnavailableError):
                await RedisStateStore(rd).get("k")
            with pytest.raises(StoreUnavailableError):
                await RedisRateLimitStore(rd).take("k", capacity=1, refill_per_second=1)
    finally:
        await pg.close()
        await rd.aclose()


@pytest.fixture
def redis_server(tmp_path: Path, redis_url: str) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server binary not installed")
    port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    yield port, procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _start_redis(port: int, tmp: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("redis-server")
    assert exe is not None
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("private redis-server did not start")


async def test_redis_outage_and_recovery(
    redis_server: tuple[int, list[subprocess.Popen[bytes]]], tmp_path: Path
) -> None:
    port, procs = redis_server
    procs.append(_start_redis(port, tmp_path))
    client = connect(f"redis://127.0.0.1:{port}/0")
    state = RedisStateStore(client, prefix="outage:")
    limits = RedisRateLimitStore(client, prefix="outage:")
    try:
        await state.set("k", b"v", ttl_seconds=60)
        assert (await limits.take("b", capacity=5, refill_per_second=1))[0]
        procs[0].terminate()
        procs[0].wait()
        with anyio.fail_after(HANG_GUARD):
            with pytest.raises(StoreUnavailableError):
                await state.get("k")
            with pytest.raises(StoreUnavailableError):
                await limits.take("b", capacity=5, refill_per_second=1)
        procs.append(_start_redis(port, tmp_path))  # a fresh, empty server on the same port
        with anyio.fail_after(HANG_GUARD):
            assert await state.get("k") is None  # recovered without a new client
            await state.set("k", b"again", ttl_seconds=60)
            assert await state.get("k") == b"again"
            assert (await limits.take("b", capacity=5, refill_per_second=1))[0]
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def _relay(target_port: int) -> AsyncIterator[tuple[int, asyncio.Event, asyncio.Event]]:
    """A loopback TCP relay to ``target_port``; set ``down`` to cut it, ``up`` to restore."""
    port = _free_port()
    down, up = asyncio.Event(), asyncio.Event()
    writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            writer.close()
            return
        writers.update({writer, up_writer})
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def supervise() -> None:
        while True:
            server = await asyncio.start_server(handle, "127.0.0.1", port)
            await down.wait()
            server.close()
            for w in list(writers):
                w.transport.abort()  # every live connection is cut, as when a server dies
            writers.clear()
            await server.wait_closed()
            down.clear()
            await up.wait()
            up.clear()

    task = asyncio.create_task(supervise())
    await asyncio.sleep(0.05)
    try:
        yield port, down, up
    finally:
        task.cancel()
        for w in list(writers):
            w.transport.abort()


async def test_postgres_outage_and_recovery_with_audit_log(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    async with _relay(5432) as (port, down, up):
        relayed = url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
        pg = PostgresDatabase(relayed, schema=schema)
        state = PostgresStateStore(pg)
        audit = PostgresAuditStore(pg)
        log = AuditLog(audit)
        event = AuditEvent(principal="p", method="tools/call", tool="t", verdict="allow")
        try:
            await state.set("k", b"v", ttl_seconds=60)
            first = await log.append(event, durable=True)
            down.set()
            await asyncio.sleep(0.1)
            with anyio.fail_after(HANG_GUARD):
                with pytest.raises(StoreUnavailableError):
                    await state.get("k")
                with pytest.raises(StoreUnavailableError):
                    await log.append(event, durable=True)  # the world-changing call must not proceed
            up.set()
            with anyio.fail_after(HANG_GUARD):
                while True:  # the pool reconnects in the background; calls fail fast meanwhile
                    try:
                        assert await state.get("k") == b"v"
                        break
                    except StoreUnavailableError:
                        await asyncio.sleep(0.2)
                second = await log.append(event, durable=True)
            assert second.seq == first.seq + 1  # the failed append left nothing behind
            assert (await verify_log(audit)).ok
        finally:
            await log.close()
            await pg.close()


async def test_sqlite_directory_gone_and_back(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = SQLiteDatabase(folder / "s.db")
    store = SQLiteStateStore(db)
    try:
        await store.set("k", b"v", ttl_seconds=60)
        await db.close()
        shutil.rmtree(folder)
        db = SQLiteDatabase(folder / "s.db")
        store = SQLiteStateStore(db)
        with pytest.raises(StoreUnavailableError):
            await store.get("k")
        folder.mkdir()
        assert await store.get("k") is None  # recovered: reconnects on the next call
        await store.set("k", b"w", ttl_seconds=60)
        assert await store.get("k") == b"w"
    finally:
        await db.close()
