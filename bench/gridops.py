"""Per-tool latency of the Grid Ops server: in-memory client and real Streamable HTTP (loopback).

``python -m bench gridops`` (or ``python -m bench.gridops [--db URL] [--iterations N]``).
Builds a small database in a temporary directory unless ``--db`` names an initialised one.
Each tool is called through one connected client, sequentially, after a warm-up call.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench._report import report, summarize_latencies
from gridops.cli import token_settings_for
from gridops.server import JwtIssuer, Role, ServerSettings, build_http_app, build_server
from gridops.service import GridService, init_db

__all__ = ["main"]

WINDOW = {"start": "2026-10-31T00:00:00Z", "end": "2026-11-01T00:00:00Z"}


def _calls(switch_id: int) -> list[tuple[str, dict[str, Any], int]]:
    """(tool, arguments, iteration weight): power flows are ~100x slower, so fewer of them."""
    return [
        ("get_asset", {"asset_id": "line:5"}, 10),
        ("query_measurements", {"asset_id": "load:3", **WINDOW, "limit": 96}, 10),
        ("simulate_switching", {"switch_id": switch_id, "action": "open"}, 1),
    ]


async def _measure(client: Client, tool: str, args: dict[str, Any], n: int) -> list[float]:
    first = await client.call_tool(tool, args)  # warm-up (caches, first power flow)
    if first.is_error:
        raise RuntimeError(f"{tool} failed: {first.content}")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await client.call_tool(tool, args)
        samples.append(time.perf_counter() - start)
    return samples


async def _run_all(
    connect: Callable[[], Any], calls: list[tuple[str, dict[str, Any], int]], base: int
) -> dict[str, list[float]]:
    async with connect() as client:
        return {tool: await _measure(client, tool, args, base * weight) for tool, args, weight in calls}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _http(
    service: GridService, key: bytes, run: Callable[[str, str], Awaitable[dict[str, list[float]]]]
) -> Any:
    port = _free_port()
    tokens = token_settings_for("127.0.0.1", port)
    server = build_server(service, ServerSettings(master_key=key, auth=tokens))
    config = uvicorn.Config(
        build_http_app(server, "127.0.0.1", port), host="127.0.0.1", port=port, log_level="error"
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not runner.started:
        if time.monotonic() > deadline:
            raise RuntimeError("HTTP server did not start")
        time.sleep(0.05)
    try:
        token = JwtIssuer(key, tokens).mint("bench", [Role.OPERATOR], 3600)
        return anyio.run(run, tokens.resource, token)
    finally:
        runner.should_exit = True
        thread.join(timeout=15)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table and JSON, save bench/results/gridops.json."""
    parser = argparse.ArgumentParser(prog="bench.gridops")
    parser.add_argument("--db", help="an initialised grid database URL (default: a fresh temporary one)")
    parser.add_argument("--iterations", type=int, default=20, help="base iterations (x10 for fast tools)")
    args = parser.parse_args(argv)
    base = max(1, min(args.iterations, 500))
    with tempfile.TemporaryDirectory(prefix="bench-gridops-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'grid.db'}"
        if not args.db:
            init_db(url, days=2)
        service = GridService.open(url)
        try:
            closed = [s for s in service.get_topology()["switches"] if s["closed"]]
            calls = _calls(int(closed[0]["asset_id"].split(":")[1]))
            key = secrets.token_bytes(32)
            local = build_server(
                service, ServerSettings(master_key=key, identity=Role.OPERATOR, subject="bench")
            )
            # Per-request INFO logs (the SDK's and the HTTP client's) would swamp the table.
            logging.getLogger().setLevel(logging.WARNING)
            for name in ("mcp", "httpx2", "httpx"):
                logging.getLogger(name).setLevel(logging.WARNING)
            in_memory = anyio.run(_run_all, lambda: Client(local), calls, base)

            async def over_http(endpoint: str, token: str) -> dict[str, list[float]]:
                async with httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {token}"}, timeout=60
                ) as http:
                    return await _run_all(
                        lambda: Client(streamable_http_client(endpoint, http_client=http)), calls, base
                    )

            http = _http(service, key, over_http)
        finally:
            service.close()
    rows = [
        {"transport": transport, "tool": tool, **summarize_latencies(samples)}
        for transport, results in (("in-memory", in_memory), ("http", http))
        for tool, samples in results.items()
    ]
    report(
        "gridops",
        rows,
        meta={"db": "given" if args.db else "temporary sqlite, 2 days", "base_iterations": base},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
