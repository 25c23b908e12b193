"""kill -9 under load loses no acknowledged durable record; two writer processes keep one chain."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_bastion.audit.verify import verify_log
from mcp_bastion.store.factory import open_store

pytestmark = pytest.mark.anyio
WRITER = Path(__file__).with_name("audit_writer_proc.py")


def _spawn(url: str, name: str, count: int, tasks: int, *, wait: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, name, str(count), str(tasks), *(["wait"] if wait else [])],
        stdin=subprocess.PIPE if wait else None,
        stdout=subprocess.PIPE,
        text=True,
    )


async def _records(url: str) -> dict[int, dict[str, object]]:
    store, close = open_store("audit", url)
    try:
        out: dict[int, dict[str, object]] = {}
        async for batch in store.scan():
            for r in batch:
                out[r.seq] = json.loads(r.body)
        return out
    finally:
        await close()


async def _verify_ok(url: str) -> int:
    store, close = open_store("audit", url)
    try:
        report = await verify_log(store, deep=True)
    finally:
        await close()
    assert report.ok, report.problem
    return report.records


@pytest.mark.timeout(120)
async def test_kill_9_under_load_loses_no_acknowledged_durable_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    proc = _spawn(url, "crashy", 200_000, 16)
    assert proc.stdout is not None
    acked: list[tuple[int, bool]] = []
    for line in proc.stdout:
        _, seq, durable = line.split()
        acked.append((int(seq), durable == "1"))
        if len(acked) >= 1500:
            break
    os.kill(proc.pid, signal.SIGKILL)
    # Acknowledgements already written to the pipe before the kill count too.
    for line in proc.stdout:
        if line.startswith("ACK"):
            _, seq, durable = line.split()
            acked.append((int(seq), durable == "1"))
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = await _records(url)
    durable_acked = [seq for seq, durable in acked if durable]
    assert durable_acked
    missing = [seq for seq in durable_acked if seq not in stored]
    assert missing == []
    assert all(stored[seq]["principal"] == "crashy" for seq, _ in acked)
    assert await _verify_ok(url) == len(stored) >= len(acked)


async def _two_writers(url: str) -> None:
    procs = [_spawn(url, f"gw{n}", 600, 6, wait=True) for n in (1, 2)]
    for proc in procs:  # both connected before either writes: they must interleave
        assert proc.stdout is not None
        assert proc.stdout.readline() == "READY\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    acks: dict[str, list[int]] = {}
    for n, proc in zip((1, 2), procs, strict=True):
        out, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0
        lines = out.split("\n")
        assert "DONE" in lines
        acks[f"gw{n}"] = [int(line.split()[1]) for line in lines if line.startswith("ACK")]
    stored = await _records(url)
    assert sorted(stored) == list(range(1, 1201))
    for name, seqs in acks.items():
        assert len(seqs) == 600
        assert all(stored[s]["principal"] == name for s in seqs)
    # Both processes really interleaved in one chain.
    owners = [stored[s]["principal"] for s in sorted(stored)]
    assert sum(1 for a, b in itertools.pairwise(owners) if a != b) > 2
    assert await _verify_ok(url) == 1200


@pytest.mark.timeout(120)
async def test_two_processes_share_one_sqlite_chain(tmp_path: Path) -> None:
    await _two_writers(f"sqlite:///{tmp_path / 'shared.db'}")


@pytest.mark.timeout(120)
async def test_two_processes_share_one_postgres_chain(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    await _two_writers(f"{url}?schema={schema}")
