"""Gateway overhead: tools/call latency and throughput, direct vs through mcp-bastion.

One run, same machine, same client (the SDK's ``mcp.Client``), ratios computed in-run:

- HTTP: echo server (Streamable HTTP, JSON responses) direct vs ``bastion gateway`` in front
  of it (API-key auth, default Cedar policy, every guard on; rate-limit buckets sized so the
  benchmark is not throttled; audit to SQLite).
- stdio: echo server over stdio direct vs ``bastion wrap -- <echo server>`` (sandboxed).

Both protocol eras over HTTP (2025-11-25 and 2026-07-28). Every process is local; all
traffic is on loopback. ``python -m bench gateway [--calls N] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bench._report import report, summarize_latencies

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BASTION = str(Path(sys.executable).with_name("bastion"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


@contextmanager
def process(argv: list[str], env: dict[str, str] | None = None) -> Any:
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def bench_config(tmp: Path, *, upstream_url: str | None, port: int, key_hash: str) -> Path:
    """A bastion.yaml with every default guard on, buckets sized for a benchmark.

    Without ``upstream_url`` the upstream is a stdio template for ``bastion wrap`` whose
    sandbox may read this checkout (where the echo server script lives).
    """
    upstream = (
        f"    url: {upstream_url}\n"
        if upstream_url
        else f'    command: [placeholder]\n    sandbox: {{read_paths: ["{ROOT}"]}}\n'
    )
    text = f"""version: 1
listeners:
  http:
    host: 127.0.0.1
    port: {port}
identities:
  api_keys:
    - sha256: {key_hash}
      subject: bench
      roles: [operator]
  local:
    subject: bench
    roles: [operator]
upstreams:
  echo:
{upstream}stores:
  pins: sqlite:///{tmp}/bastion.db
  approvals: sqlite:///{tmp}/bastion.db
  audit: sqlite:///{tmp}/bastion.db
guards:
  - name: authentication
  - name: limits
  - name: ratelimit
    per_principal: {{capacity: 1000000, refill_per_second: 1000000}}
    per_tool: {{capacity: 1000000, refill_per_second: 1000000}}
  - name: pinning
  - name: authorization
  - name: arguments
  - name: descriptions
  - name: notifications
  - name: output
  - name: audit
"""
    path = tmp / "bastion.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def measure(
    open_client: Callable[[], Any], tool: str, calls: int, concurrency: int
) -> dict[str, float]:
    """Sequential latency over ``calls`` calls, then throughput with ``concurrency`` clients."""
    latencies: list[float] = []
    async with open_client() as client:
        for _ in range(20):
            await client.call_tool(tool, {"text": "warm"})
        for i in range(calls):
            t0 = time.perf_counter()
            result = await client.call_tool(tool, {"text": f"hello {i}"})
            latencies.append(time.perf_counter() - t0)
            if result.is_error:
                raise RuntimeError(f"{tool} failed: {result.content}")
    per_client = max(1, calls // concurrency)
    done = 0

    async def worker() -> None:
        nonlocal done
        async with open_client() as client:
            for i in range(per_client):
                await client.call_tool(tool, {"text": f"t{i}"})
                done += 1

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    elapsed = time.perf_counter() - t0
    stats = summarize_latencies(latencies)
    stats["throughput_per_s"] = done / elapsed
    return stats


def http_client_factory(url: str, headers: dict[str, str], mode: str) -> Callable[[], Any]:
    @asynccontextmanager
    async def open_client() -> AsyncIterator[Client]:
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            transport = streamable_http_client(url, http_client=http)
            async with Client(transport, mode=mode) as client:
                yield client

    return open_client


def stdio_client_factory(command: str, args: list[str], env: dict[str, str]) -> Callable[[], Any]:
    @asynccontextmanager
    async def open_client() -> AsyncIterator[Client]:
        params = StdioServerParameters(command=command, args=args, env=env, cwd=str(ROOT))
        async with Client(params, mode="legacy") as client:
            yield client

    return open_client


def row(name: str, direct: dict[str, float], gateway: dict[str, float]) -> dict[str, Any]:
    return {
        "case": name,
        "direct_p50_ms": direct["p50_ms"],
        "gateway_p50_ms": gateway["p50_ms"],
        "added_p50_ms": gateway["p50_ms"] - direct["p50_ms"],
        "direct_p99_ms": direct["p99_ms"],
        "gateway_p99_ms": gateway["p99_ms"],
        "direct_calls_s": direct["throughput_per_s"],
        "gateway_calls_s": gateway["throughput_per_s"],
        "throughput_ratio": gateway["throughput_per_s"] / direct["throughput_per_s"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench gateway")
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-stdio", action="store_true")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    key = secrets.token_urlsafe(24)
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        echo_port, gw_port = free_port(), free_port()
        cfg = bench_config(
            tmp, upstream_url=f"http://127.0.0.1:{echo_port}/mcp", port=gw_port, key_hash=key_hash
        )
        with (
            process([PY, "-m", "bench._echo_server", "--port", str(echo_port)], env),
            process([BASTION, "gateway", "--config", str(cfg)], env),
        ):
            wait_port(echo_port)
            wait_port(gw_port)
            for mode in ("legacy", "2026-07-28"):
                direct = anyio.run(
                    measure,
                    http_client_factory(f"http://127.0.0.1:{echo_port}/mcp", {}, mode),
                    "echo",
                    args.calls,
                    args.concurrency,
                )
                through = anyio.run(
                    measure,
                    http_client_factory(f"http://127.0.0.1:{gw_port}/mcp", {"X-API-Key": key}, mode),
                    "echo.echo",
                    args.calls,
                    args.concurrency,
                )
                rows.append(row(f"http {mode}", direct, through))
        if not args.skip_stdio:
            wrap_cfg_dir = tmp / "wrap"
            wrap_cfg_dir.mkdir()
            wrap_cfg = bench_config(wrap_cfg_dir, upstream_url=None, port=gw_port, key_hash=key_hash)
            server = [str(ROOT / "bench" / "_echo_server.py"), "--transport", "stdio"]
            direct = anyio.run(measure, stdio_client_factory(PY, server, env), "echo", args.calls, 1)
            wrapped = anyio.run(
                measure,
                stdio_client_factory(BASTION, ["wrap", "--policy", str(wrap_cfg), "--", PY, *server], env),
                "echo",
                args.calls,
                1,
            )
            rows.append(row("stdio legacy", direct, wrapped))
    report("gateway", rows, meta={"calls": args.calls, "concurrency": args.concurrency})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
