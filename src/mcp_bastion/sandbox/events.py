"""Audit events of the sandbox: one per spawn, exit, crash and restart, and per egress decision."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["EventKind", "EventSink", "SpawnEvent", "file_sha256"]

EventKind = Literal["spawn", "exit", "restart", "crash", "egress"]


@dataclass(frozen=True)
class SpawnEvent:
    """What was started, how, and what happened to it; handed to ``on_event`` callbacks.

    ``sha256`` is the digest of the script an interpreter runs (``python server.py``) or
    else of the resolved executable. ``profile`` is the profile as JSON-ready data.
    ``returncode`` is set on ``exit``/``crash``; ``attempt`` counts restarts. An ``egress``
    event is one decision of the server's egress proxy (``network: egress``); its ``detail``
    is ``{"decision": "allowed"|"refused", "reason", "host", "port", "address"}``.
    """

    kind: EventKind
    command: tuple[str, ...]
    resolved_executable: str
    sha256: str
    profile: dict[str, Any]
    pid: int | None
    isolation_used: str
    time: float
    returncode: int | None = None
    attempt: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[SpawnEvent], None]


@functools.lru_cache(maxsize=256)
def _digest(path: str, _size: int, _mtime_ns: int, _inode: int) -> str:
    sha = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_sha256(path: str) -> str:
    """SHA-256 of the file at ``path`` (after symlinks), cached by size/mtime/inode."""
    real = Path(path).resolve()
    st = real.stat()
    return _digest(str(real), st.st_size, st.st_mtime_ns, st.st_ino)
