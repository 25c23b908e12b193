"""``python -m bench``: run every benchmark module listed in ``BENCHES`` that is present."""

from __future__ import annotations

import importlib
import importlib.util
import sys

# Each module exposes ``main(argv: list[str] | None = None) -> int``.
BENCHES = [
    "bench.gridops",
    "bench.gateway",
    "bench.pipeline",
    "bench.injection",
    "bench.audit",
    "bench.detectors",
    "bench.sandbox",
    "bench.scan",
    "bench.fuzz",
]


def main() -> int:
    # ``python -m bench [NAME ...] [--option ...]``: options go to every selected bench.
    args = sys.argv[1:]
    split = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    selected, options = args[:split] or BENCHES, args[split:]
    status = 0
    for name in selected:
        module_name = name if name.startswith("bench.") else f"bench.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        status |= int(module.main(options))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
