"""Argument-injection detectors: TPR/FPR per family on the tune and held-out splits, and throughput.

``python -m bench injection [--repeat N]``. Corpora are the committed files under
``tests/detectors/data`` (``sqli_*.txt``, ``shell_*.txt``): one row per value with its split
(``tune``/``holdout``, assigned by a hash of the base payload so every variant of one payload
lands on the same side), family and variant. A value counts as detected when the detector
returns a match with confidence >= 0.9 (the arguments guard's default).

Throughput is CPU time (``time.process_time``) of one process, i.e. values/s and MB/s on one
core, over the whole corpus (benign + malicious), over benign values alone (the common case
in production) and over 8 KiB values cut from the benign corpus (the analysis cap).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._report import report
from mcp_bastion.detectors.shell import detect_shell_injection
from mcp_bastion.detectors.sqli import InjectionMatch, detect_sqli

__all__ = ["main"]

DATA = Path(__file__).resolve().parent.parent / "tests" / "detectors" / "data"
THRESHOLD = 0.9
Detector = Callable[[str], InjectionMatch | None]
Row = tuple[str, str, str, str]  # split, family, variant, value


def load(name: str) -> list[Row]:
    """Rows of one committed corpus file."""
    rows: list[Row] = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            split, family, variant, encoded = line.split("\t", 3)
            rows.append((split, family, variant, json.loads(encoded)))
    return rows


def rates(kind: str, detect: Detector, malicious: list[Row], benign: list[Row]) -> list[dict[str, Any]]:
    """One row per (split, family) for attacks and per split for benign values."""
    hits: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for split, family, variant, value in malicious:
        match = detect(value)
        found = int(match is not None and match.confidence >= THRESHOLD)
        for key in ((split, family), (split, "ALL attacks"), (split, f"variant:{variant}")):
            hits[key][0] += found
            hits[key][1] += 1
    rows: list[dict[str, Any]] = []
    for (split, family), (found, total) in sorted(hits.items()):
        rows.append({"kind": kind, "split": split, "family": family, "n": total, "detected": found,
                     "TPR": found / total, "FPR": None})  # fmt: skip
    for split in ("tune", "holdout"):
        values = [row[3] for row in benign if row[0] == split]
        flagged = 0
        for value in values:
            match = detect(value)
            flagged += int(match is not None and match.confidence >= THRESHOLD)
        rows.append({"kind": kind, "split": split, "family": "benign", "n": len(values), "detected": flagged,
                     "TPR": None, "FPR": flagged / len(values)})  # fmt: skip
    return rows


def throughput(detect: Detector, values: list[str], repeat: int) -> dict[str, float]:
    """values/s and MB/s (UTF-8) of ``detect`` over ``values``, CPU time of this process."""
    size = sum(len(v.encode("utf-8")) for v in values) * repeat
    start = time.process_time()
    for _ in range(repeat):
        for value in values:
            detect(value)
    elapsed = max(time.process_time() - start, 1e-9)
    count = len(values) * repeat
    return {
        "values_per_s": count / elapsed,
        "MB_per_s": size / elapsed / 1e6,
        "us_per_value": elapsed / count * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench injection")
    parser.add_argument("--repeat", type=int, default=5, help="passes over each corpus for throughput")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    detectors: dict[str, Detector] = {"sql": detect_sqli, "shell": detect_shell_injection}
    prefixes = {"sql": "sqli", "shell": "shell"}
    # 8 KiB values cut from the benign corpus joined into one text (names, prose, code, URLs).
    prose = " ".join(row[3] for row in load("sqli_benign.txt"))
    long_values = [prose[i : i + 8192] for i in range(0, min(len(prose) - 8192, 8192 * 20), 8192)]
    meta: dict[str, Any] = {"threshold": THRESHOLD, "repeat": args.repeat}
    for kind, detect in detectors.items():
        malicious = load(f"{prefixes[kind]}_malicious.txt")
        benign = load(f"{prefixes[kind]}_benign.txt")
        rows += rates(kind, detect, malicious, benign)
        every = [row[3] for row in malicious + benign]
        for corpus, values in (("all", every), ("benign", [row[3] for row in benign]), ("8KiB", long_values)):
            figures = throughput(detect, values, args.repeat)
            rows.append({"kind": kind, "split": "throughput", "family": corpus, "n": len(values), **figures})
            meta[f"{kind}_{corpus}"] = figures
    report("injection", rows, meta=meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
