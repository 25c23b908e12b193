"""Fuzz throughput: cases per second in process (SDK server, no pipes) and over sandboxed stdio.

``python -m bench fuzz [--cases N] [--seed S]``. Targets: the vulnerable seed server (in
process and over stdio) and gridops over stdio when ``--gridops-data DIR`` is given (a
data dir with a ready database, e.g. one made by ``bastion gridops serve --data-dir DIR``).
"""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "vulnerable" / "seed_server.py"
SEED_TOOLS = ("insert_record", "query_records", "execute_sql", "get_env_variable")
GRID_TOOLS = (
    "get_topology",
    "get_asset",
    "query_records",
    "insert_record",
    "run_report",
    "simulate_switching",
)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print and save the JSON report."""
    parser = argparse.ArgumentParser(prog="bench fuzz")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gridops-data", type=Path, default=None)
    args, _ = parser.parse_known_args(argv)
    import anyio

    from bench._report import report
    from mcp_bastion.config.sandbox import SandboxProfile
    from mcp_bastion.fuzzer import FuzzOptions, fuzz, memory_channel, stdio_channel

    logging.disable(logging.CRITICAL)  # the SDK's rich tracebacks for rejected messages dominate otherwise
    options = FuzzOptions(cases=args.cases, seed=args.seed, timeout_s=10)
    rows: list[dict[str, Any]] = []

    def row(name: str, rep: Any) -> None:
        doc = rep.to_json()
        rows.append(
            {
                "target": name,
                "cases": rep.cases_run,
                "seconds": round(rep.seconds, 2),
                "cases_per_s": doc["cases_per_second"],
                "issues": len(rep.issues),
                "restarts": rep.restarts,
            }
        )

    with tempfile.TemporaryDirectory() as tmp:
        server = runpy.run_path(str(SEED))["build_server"](Path(tmp) / "seed.db")
        row("seed, in process", anyio.run(fuzz, memory_channel(server), options, SEED_TOOLS))
    stdio = stdio_channel([sys.executable, str(SEED)], SandboxProfile(), cwd=str(ROOT))
    row("seed, stdio sandboxed", anyio.run(fuzz, stdio, options, SEED_TOOLS))
    if args.gridops_data is not None:
        data = str(args.gridops_data.resolve())
        bastion = str(Path(sys.executable).parent / "bastion")
        grid = stdio_channel(
            [bastion, "gridops", "serve", "--data-dir", data],
            SandboxProfile(write_paths=[data]),
            cwd=str(ROOT),
        )
        row("gridops, stdio sandboxed", anyio.run(fuzz, grid, options, GRID_TOOLS))
    report("fuzz", rows, meta={"cases": args.cases, "seed": args.seed})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
