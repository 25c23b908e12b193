"""Fixtures of the end-to-end tests: a grid database copy, a data dir, and a live HTTP server."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from gridops.cli import token_settings_for
from gridops.config import DataPaths, load_or_create_master_key
from gridops.server import ServerSettings, build_http_app, build_server
from gridops.service import GridService, init_db


def shared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's template database, shared by every test directory (built on first use)."""
    path = tmp_path_factory.getbasetemp() / "gridops-template" / "grid.db"
    marker = path.with_suffix(".ready")
    if not marker.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        init_db(f"sqlite:///{path}", days=2, force=path.exists())
        marker.touch()
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding a copy of the grid database (``grid.db``) and, later, the key."""
    target = tmp_path_factory.mktemp("data")
    template = shared_template(tmp_path_factory)
    for suffix in ("", "-wal", "-shm"):
        src = template.with_name(template.name + suffix)
        if src.exists():
            shutil.copy(src, target / ("gridops.db" + suffix))
    return target


@pytest.fixture(scope="module")
def db_url(data_dir: Path) -> str:
    """The URL of the data directory's database."""
    return DataPaths(data_dir).default_db_url


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LiveServer:
    """A Grid Ops server on a real loopback HTTP port."""

    url: str
    port: int
    data_dir: Path


@pytest.fixture(scope="module")
def live_http(data_dir: Path, db_url: str) -> Iterator[LiveServer]:
    """``bastion gridops serve --transport http`` wiring, run by uvicorn in a thread."""
    port = free_port()
    key = load_or_create_master_key(DataPaths(data_dir).key_file)
    service = GridService.open(db_url)
    server = build_server(service, ServerSettings(master_key=key, auth=token_settings_for("127.0.0.1", port)))
    config = uvicorn.Config(
        build_http_app(server, "127.0.0.1", port), host="127.0.0.1", port=port, log_level="warning"
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, name="gridops-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the HTTP server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}/mcp", port=port, data_dir=data_dir)
    finally:
        runner.should_exit = True
        thread.join(timeout=15)
        service.close()
