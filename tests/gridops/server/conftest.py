"""Fixtures of the Grid Ops server tests: a small real grid database and servers per role.

One template database (2 days of measurements) is built per test session and copied for
each module, so tests that operate switches do not see each other's changes. The
``stressed`` database is the same grid under a heavy-load scenario (the latest load
readings scaled up, like an evening peak in a cold spell) in which closing one normally-open
tie switch is clean and closing another violates limits; both found by real power flows.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer

from gridops.server import Role, ServerSettings, build_server
from gridops.service import GridService, init_db

KEY = b"test-master-key-for-gridops-tests!"
ServerFactory = Callable[..., MCPServer[Any]]


def shared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's template database, shared by every test directory (built on first use)."""
    path = tmp_path_factory.getbasetemp() / "gridops-template" / "grid.db"
    marker = path.with_suffix(".ready")
    if not marker.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        init_db(f"sqlite:///{path}", days=2, force=path.exists())
        marker.touch()
    return path


@pytest.fixture(scope="session")
def grid_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised SQLite grid database (built once per session, never modified)."""
    return shared_template(tmp_path_factory)


def copy_db(template: Path, target_dir: Path) -> Path:
    """Copy the template database (and any WAL side files) into ``target_dir``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = template.with_name(template.name + suffix)
        if src.exists():
            shutil.copy(src, target_dir / (template.name + suffix))
    return target_dir / template.name


@pytest.fixture(scope="module")
def db_path(grid_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's private copy of the grid database."""
    return copy_db(grid_template, tmp_path_factory.mktemp("grid"))


@pytest.fixture(scope="module")
def service(db_path: Path) -> Iterator[GridService]:
    """A GridService over this module's database."""
    svc = GridService.open(f"sqlite:///{db_path}")
    yield svc
    svc.close()


@dataclass(frozen=True)
class StressedTemplate:
    """The heavy-load database and two tie switches whose closing is clean / violating."""

    path: Path
    clean: int
    violating: int


@dataclass(frozen=True)
class Scenario:
    """A fresh service over the heavy-load database, and the two tie switches."""

    service: GridService
    clean: int
    violating: int


def _scale_loads(path: Path, factor: float) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE measurements SET p_mw = p_mw * ? "
            "WHERE ts = (SELECT MAX(ts) FROM measurements) AND asset_id LIKE 'load:%'",
            (factor,),
        )
    conn.close()


@pytest.fixture(scope="session")
def stressed_template(grid_template: Path, tmp_path_factory: pytest.TempPathFactory) -> StressedTemplate:
    """Scale the latest load readings until one tie switch closes cleanly and another does not."""
    for factor in (3.0, 3.5, 2.5, 4.0, 5.0):
        path = copy_db(grid_template, tmp_path_factory.mktemp("stressed"))
        _scale_loads(path, factor)
        svc = GridService.open(f"sqlite:///{path}")
        try:
            ties = [
                int(s["asset_id"].split(":")[1]) for s in svc.get_topology()["switches"] if not s["closed"]
            ]
            outcomes = {sid: svc.simulate_switching(sid, "close") for sid in ties}
        finally:
            svc.close()
        clean = [sid for sid, r in outcomes.items() if r.feasible and not r.violations]
        violating = [sid for sid, r in outcomes.items() if r.violations]
        if clean and violating:
            return StressedTemplate(path, clean[0], violating[0])
    pytest.fail("no load factor gave both a clean and a violating tie switch")


@pytest.fixture
def stressed(stressed_template: StressedTemplate, tmp_path: Path) -> Iterator[Scenario]:
    """A fresh copy of the heavy-load scenario for one test (switching changes it)."""
    path = copy_db(stressed_template.path, tmp_path / "stressed")
    svc = GridService.open(f"sqlite:///{path}")
    yield Scenario(svc, stressed_template.clean, stressed_template.violating)
    svc.close()


def make_server(service: GridService, role: Role | str, subject: str = "alice", **kw: Any) -> MCPServer[Any]:
    """A server whose local identity is ``subject`` holding ``role``."""
    return build_server(service, ServerSettings(master_key=KEY, identity=Role(role), subject=subject, **kw))


@pytest.fixture
def server_for(service: GridService) -> ServerFactory:
    """``server_for(role, subject=...)``: a server over this module's service."""

    def factory(role: Role | str, subject: str = "alice", **kw: Any) -> MCPServer[Any]:
        return make_server(service, role, subject, **kw)

    return factory
