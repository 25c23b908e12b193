"""Helpers for tests that run ``bastion gateway`` as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASTION = str(Path(sys.executable).with_name("bastion"))
ROOT = Path(__file__).resolve().parents[2]
ECHO = str(ROOT / "bench" / "_echo_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_gateway(config: Path, port: int, log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``bastion gateway --config CONFIG``, wait until PORT accepts, stop it afterwards."""
    sink = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([BASTION, "gateway", "--config", str(config)], stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    detail = log.read_text(errors="replace")[-2000:] if log is not None else ""
                    raise RuntimeError(f"gateway did not start: {detail}") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not None and hasattr(sink, "close"):
            sink.close()
