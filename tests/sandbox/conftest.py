"""Fixtures for the sandbox tests: the hostile server command and a loopback TCP listener."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp_types import TextContent

HOSTILE = str(Path(__file__).with_name("hostile_server.py"))


@pytest.fixture
def hostile_command() -> list[str]:
    """The hostile test server, run by this interpreter (the project venv)."""
    return [sys.executable, HOSTILE]


@contextmanager
def greeting_listener(greeting: bytes) -> Iterator[int]:
    """A loopback TCP listener that sends ``greeting`` to each connection; yields its port."""
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
                conn.sendall(greeting)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    """A loopback TCP listener that greets each connection with ``hello``; yields its port."""
    with greeting_listener(b"hello") as port:
        yield port


@pytest.fixture
def other_listener() -> Iterator[int]:
    """A second loopback listener, never listed in an egress allow-list: greets with ``other``."""
    with greeting_listener(b"other") as port:
        yield port


async def call_json(session: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    """Call a hostile-server tool and decode its JSON text answer (asserting it succeeded)."""
    result = await session.call_tool(tool, args)
    assert not result.is_error, result
    block = result.content[0]
    assert isinstance(block, TextContent)
    data: dict[str, Any] = json.loads(block.text)
    return data
