"""Audit log throughput on embedded SQLite: appends (group commit) and verification.

Rows:

- ``append non-durable`` / ``append durable`` / ``append mixed (10% durable)``: records/s
  appended by ``--concurrency`` tasks sharing one ``AuditLog`` (group commit). Durable
  appends return only after the WAL is fsync'd, so the durability rule holds in those rows.
- ``append durable, one caller``: sequential durable appends (one fsync each): the
  latency a lone world-changing call pays.
- ``verify`` (fast path) and ``verify --deep`` (every record parsed): records/s read back
  from the same SQLite file and checked, signatures included.

Each row also gives records per CPU-second of this process (``cpu_rate``): the machine
is shared, and wall-clock rates drop when other work runs; ``loadavg`` is in ``meta``.
``python -m bench audit [--records N] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench._report import report, summarize_latencies
from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.audit.verify import verify_log
from mcp_bastion.store.sqlite import SQLiteDatabase
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

EVENT = AuditEvent(
    principal="operator@example.org",
    session="4f1c2a9e-session",
    upstream="gridops",
    method="tools/call",
    tool="get_asset",
    arguments={"asset_id": "TR-0042", "fields": ["rating_mva", "loading_percent"], "limit": 10},
    verdict="allow",
    guard=None,
    reason=None,
    result_digest="sha256:" + "ab" * 32,
    latency_ms=3.217,
)


async def _append(log: AuditLog, total: int, concurrency: int, durable_every: int) -> tuple[float, float]:
    per_task = total // concurrency

    async def worker(t: int) -> None:
        for i in range(per_task):
            await log.append(EVENT, durable=durable_every > 0 and (i + t) % durable_every == 0)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(t) for t in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


def _row(name: str, n: int, wall: float, cpu: float, **extra: Any) -> dict[str, Any]:
    return {"case": name, "records": n, "rate": n / wall, "cpu_rate": n / cpu if cpu else None, **extra}


async def run(records: int, concurrency: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    signer = CheckpointSigner(Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteAuditStore(SQLiteDatabase(Path(tmp) / "audit.db"))
        log = AuditLog(store, signer=signer, checkpoint_every=1000)
        n = records - records % concurrency
        for name, every in (
            ("append non-durable", 0),
            ("append durable", 1),
            ("append mixed (10% durable)", 10),
        ):
            wall, cpu = await _append(log, n, concurrency, every)
            rows.append(_row(name, n, wall, cpu, concurrency=concurrency))
        lone: list[float] = []
        for _ in range(200):
            start = time.perf_counter()
            await log.append(EVENT, durable=True)
            lone.append(time.perf_counter() - start)
        latency = {k: v for k, v in summarize_latencies(lone).items() if k != "n"}
        rows.append(_row("append durable, one caller", len(lone), sum(lone), 0.0, **latency))
        await log.close()
        for name, deep in (("verify", False), ("verify --deep", True)):
            wall, cpu = time.perf_counter(), time.process_time()
            result = await verify_log(store, verifier=signer.verifier(), deep=deep)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if not result.ok:
                raise SystemExit(f"bench log does not verify: {result.problem}")
            rows.append(_row(name, result.records, wall, cpu, signatures=result.signatures_checked))
        await store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench audit", description=__doc__)
    parser.add_argument("--records", type=int, default=60_000, help="records per append case")
    parser.add_argument("--concurrency", type=int, default=256, help="tasks appending at once")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.records, args.concurrency))
    goals = {"append": 20_000, "verify": 200_000}
    report(
        "audit",
        rows,
        meta={
            "goals_records_per_s": goals,
            "loadavg_1m_5m_15m": os.getloadavg(),
            "cpus": os.cpu_count(),
            "store": "sqlite (WAL; durable = synchronous=FULL)",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
