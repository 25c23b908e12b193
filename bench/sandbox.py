"""Sandbox overhead: start-up time and per-call latency, sandboxed vs unsandboxed, in one run.

Start-up: from ``open_stdio`` entry (process spawn) to the answers of ``initialize`` and
``tools/list``. Per-call: ``tools/call`` of a trivial tool over one session. Modes are
interleaved (none, bubblewrap, landlock, none, ...) so machine load hits them alike;
ratios and added milliseconds are computed against ``isolation: none`` in the same run.

Egress (bubblewrap only): spawn-to-first-message with ``network: egress`` (the proxy and the
in-sandbox forwarder start too) against ``network: none``, and the proxy's own tunnel
set-up (CONNECT, 200, first byte from a loopback listener) against a direct connect.

``python -m bench sandbox [--starts N] [--calls N]``; the server is this file with ``--serve``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Literal

Mode = Literal["none", "bubblewrap", "landlock"]
THIS = str(Path(__file__).resolve())


def _serve() -> None:
    from mcp.server.mcpserver import MCPServer

    server: MCPServer[Any] = MCPServer("bench-sandbox")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    server.run("stdio")


async def _one(mode: Mode, calls: int) -> tuple[float, list[float]]:
    from mcp import ClientSession

    from mcp_bastion.config.sandbox import SandboxProfile
    from mcp_bastion.sandbox import open_stdio

    profile = SandboxProfile(isolation=mode)
    started = time.perf_counter()
    async with (
        open_stdio([sys.executable, THIS, "--serve"], profile=profile) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.list_tools()
        startup = time.perf_counter() - started
        latencies: list[float] = []
        for index in range(calls):
            begin = time.perf_counter()
            await session.call_tool("echo", {"text": f"ping {index}"})
            latencies.append(time.perf_counter() - begin)
    return startup, latencies


# A minimal stdio peer: one JSON-RPC notification at once, then wait for stdin to close.
_TINY = (
    'import sys; sys.stdout.write(\'{"jsonrpc":"2.0","method":"notifications/ready"}\\n\');'
    " sys.stdout.flush(); sys.stdin.read()"
)


async def _first_message(mode: Mode) -> float:
    """Spawn-to-first-message of a tiny program: the sandbox's own cost, without MCP imports."""
    from mcp_bastion.config.sandbox import SandboxProfile
    from mcp_bastion.sandbox import open_stdio

    started = time.perf_counter()
    async with open_stdio(
        [sys.executable, "-I", "-S", "-c", _TINY], profile=SandboxProfile(isolation=mode)
    ) as (
        read,
        _write,
    ):
        await read.receive()
        return time.perf_counter() - started


async def _first_message_egress() -> float:
    """Spawn-to-first-message under bubblewrap with ``network: egress``."""
    from mcp_bastion.config.sandbox import EgressPolicy, SandboxProfile
    from mcp_bastion.sandbox import open_stdio

    profile = SandboxProfile(network="egress", egress=EgressPolicy(allow=["localhost:9"]))
    started = time.perf_counter()
    async with open_stdio([sys.executable, "-I", "-S", "-c", _TINY], profile=profile) as (read, _write):
        await read.receive()
        return time.perf_counter() - started


async def _tunnels(count: int) -> tuple[list[float], list[float]]:
    """(direct, proxied) times to a first byte from a loopback listener, interleaved."""
    import tempfile

    import anyio
    from anyio.abc import SocketAttribute, SocketStream

    from mcp_bastion.config.sandbox import EgressPolicy
    from mcp_bastion.sandbox.egress import EgressProxy

    async def greet(stream: SocketStream) -> None:
        async with stream:
            await stream.send(b"x")

    direct: list[float] = []
    proxied: list[float] = []
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = int(listener.extra(SocketAttribute.local_port))
    proxy = EgressProxy(EgressPolicy(allow=[f"127.0.0.1:{port}"]))
    with tempfile.TemporaryDirectory() as directory:
        async with listener, anyio.create_task_group() as tg, proxy.serve_unix(f"{directory}/p.sock") as path:
            tg.start_soon(listener.serve, greet)
            for _ in range(count):
                begin = time.perf_counter()
                async with await anyio.connect_tcp("127.0.0.1", port) as conn:
                    await conn.receive()
                direct.append(time.perf_counter() - begin)
                begin = time.perf_counter()
                async with await anyio.connect_unix(path) as conn:
                    await conn.send(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
                    answer = b""
                    while not answer.endswith(b"\r\n\r\nx"):
                        answer += await conn.receive()
                proxied.append(time.perf_counter() - begin)
            tg.cancel_scope.cancel()
    return direct, proxied


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print and save the report. Returns a process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench sandbox")
    parser.add_argument("--starts", type=int, default=8, help="start-ups per mode")
    parser.add_argument("--calls", type=int, default=200, help="tools/call per start-up after the first")
    parser.add_argument("--spawns", type=int, default=30, help="tiny-program spawns per mode")
    parser.add_argument("--tunnels", type=int, default=200, help="egress tunnels (direct and proxied)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve()
        return 0

    import anyio

    from bench._report import report, summarize_latencies
    from mcp_bastion.log import configure_logging
    from mcp_bastion.sandbox import HostCapabilities

    configure_logging(level="WARNING")  # stdout carries the report; spawn logs would interleave

    host = HostCapabilities.probe()
    modes: list[Mode] = ["none"]
    if host.bwrap:
        modes.append("bubblewrap")
    if host.landlock_abi >= 4:
        modes.append("landlock")
    startups: dict[Mode, list[float]] = {mode: [] for mode in modes}
    latencies: dict[Mode, list[float]] = {mode: [] for mode in modes}
    for mode in modes:  # warm the page cache and the import caches once, unmeasured
        anyio.run(_one, mode, 5)
    firsts: dict[Mode, list[float]] = {mode: [] for mode in modes}
    for _ in range(args.spawns):
        for mode in modes:
            firsts[mode].append(anyio.run(_first_message, mode))
    for _ in range(args.starts):
        for mode in modes:
            startup, calls = anyio.run(_one, mode, args.calls)
            startups[mode].append(startup)
            latencies[mode].extend(calls)

    base_start = statistics.median(startups["none"])
    base_first = statistics.median(firsts["none"])
    base_call = summarize_latencies(latencies["none"])
    rows: list[dict[str, Any]] = []
    for mode in modes:
        start = statistics.median(startups[mode])
        call = summarize_latencies(latencies[mode])
        rows.append(
            {
                "mode": mode,
                "spawn_p50_ms": statistics.median(firsts[mode]) * 1000,
                "added_spawn_ms": (statistics.median(firsts[mode]) - base_first) * 1000,
                "added_spawn_min_ms": (min(firsts[mode]) - min(firsts["none"])) * 1000,
                "startup_p50_ms": start * 1000,
                "startup_min_ms": min(startups[mode]) * 1000,
                "added_startup_ms": (start - base_start) * 1000,
                "startup_ratio": start / base_start,
                "call_p50_ms": call["p50_ms"],
                "call_p99_ms": call["p99_ms"],
                "call_p50_ratio": call["p50_ms"] / base_call["p50_ms"],
            }
        )
    meta = {
        "spawns_per_mode": args.spawns,
        "starts_per_mode": args.starts,
        "calls_per_start": args.calls,
        "bwrap": host.bwrap,
        "landlock_abi": host.landlock_abi,
        "pids_cgroup": host.pids_cgroup is not None,
        "goal": "added start-up <= 50 ms; no measurable per-call cost",
    }
    if host.bwrap:
        bwrap_first = []
        egress_first = []
        for _ in range(args.spawns):
            bwrap_first.append(anyio.run(_first_message, "bubblewrap"))
            egress_first.append(anyio.run(_first_message_egress))
        direct, proxied = anyio.run(_tunnels, args.tunnels)
        rows.append(
            {
                "mode": "bubblewrap+egress",
                "spawn_p50_ms": statistics.median(egress_first) * 1000,
                "added_spawn_ms": (statistics.median(egress_first) - statistics.median(bwrap_first)) * 1000,
                "added_spawn_min_ms": (min(egress_first) - min(bwrap_first)) * 1000,
            }
        )
        meta["egress_added_spawn_vs"] = "bubblewrap with network none, interleaved in the same run"
        meta["tunnel_direct_p50_ms"] = statistics.median(direct) * 1000
        meta["tunnel_proxied_p50_ms"] = statistics.median(proxied) * 1000
        meta["tunnel_added_p50_ms"] = (statistics.median(proxied) - statistics.median(direct)) * 1000
        meta["tunnels"] = args.tunnels
    report("sandbox", rows, meta=meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
