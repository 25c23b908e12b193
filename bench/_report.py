"""Shared output for benchmarks: one JSON document (stdout + bench/results/) and a Rich table."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["percentile", "report", "summarize_latencies"]

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summarize_latencies(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/mean in milliseconds, and the count."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": float(len(ms)),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
    }


def report(name: str, rows: list[dict[str, Any]], *, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Print ``rows`` as a table to stderr and as JSON to stdout; save JSON under bench/results/."""
    doc = {
        "bench": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "meta": meta or {},
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    console = Console(stderr=True)
    if rows:
        table = Table(title=name)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*[_fmt(row.get(col)) for col in columns])
        console.print(table)
    print(json.dumps(doc))
    return doc


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)
