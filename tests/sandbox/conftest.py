"""Fixtures for the sandbox tests: the hostile server command and a loopback TCP listener."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

HOSTILE = str(Path(__file__).with_name("hostile_server.py"))


@pytest.fixture
def hostile_command() -> list[str]:
    """The hostile test server, run by this interpreter (the project venv)."""
    return [sys.executable, HOSTILE]


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    """A loopback TCP listener that greets each connection with ``hello``; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(timeout=2)
    server.close()
