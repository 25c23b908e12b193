"""Scan time for a generated 100-tool server: static scan over stdio (sandboxed), active scan, and
the static checks alone in process.

``python -m bench scan [--tools N] [--repeat N]``; the server is this file with ``--serve N``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

THIS = str(Path(__file__).resolve())


def _serve(n: int) -> None:
    from mcp.server.mcpserver import MCPServer

    server: MCPServer[Any] = MCPServer("bench-scan-100")
    for i in range(n):
        # A mix like real servers: read tools with tight schemas, some with free-form strings.
        def tool(name: str = "", query: str = "", limit: int = 10) -> str:
            return f"{name[:20]}:{len(query)}:{limit}"

        kind = ("get", "list", "search", "update")[i % 4]
        server.add_tool(tool, name=f"{kind}_item_{i}", description=f"{kind.title()} items of group {i}.")
    server.run("stdio")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print and save the JSON report."""
    parser = argparse.ArgumentParser(prog="bench scan")
    parser.add_argument("--tools", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", type=int, default=0)
    args, _ = parser.parse_known_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    import anyio

    from bench._report import report
    from mcp_bastion.scanner import ScanOptions, parse_target, scan
    from mcp_bastion.scanner.static import static_checks

    target = parse_target(f"stdio:{sys.executable} {THIS} --serve {args.tools}")
    rows: list[dict[str, Any]] = []
    static_s: list[float] = []
    surface = None
    findings = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rep = anyio.run(scan, [target], ScanOptions())
        static_s.append(time.perf_counter() - t0)
        surface = rep.servers[0].surface
        findings = len(rep.findings)
    assert surface is not None, rep.servers[0].error
    rows.append(
        {
            "mode": "static, stdio sandboxed (spawn+list+checks)",
            "tools": len(surface.tools),
            "seconds_median": round(statistics.median(static_s), 3),
            "findings": findings,
        }
    )
    t0 = time.perf_counter()
    for _ in range(20):
        static_checks("bench", surface)
    rows.append(
        {
            "mode": "static checks only, in process",
            "tools": len(surface.tools),
            "seconds_median": round((time.perf_counter() - t0) / 20, 4),
            "findings": len(static_checks("bench", surface)),
        }
    )
    t0 = time.perf_counter()
    rep = anyio.run(scan, [target], ScanOptions(active=True))
    rows.append(
        {
            "mode": "active, stdio sandboxed",
            "tools": len(surface.tools),
            "seconds_median": round(time.perf_counter() - t0, 3),
            "findings": len(rep.findings),
        }
    )
    report("scan", rows, meta={"tools": args.tools, "repeat": args.repeat})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
