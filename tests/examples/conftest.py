"""Fixtures of the example tests: the vulnerable server module and a gridops database copy."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from gridops.service import init_db

SEED_SERVER = Path(__file__).resolve().parents[2] / "examples" / "vulnerable" / "seed_server.py"


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
def gridops_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the gridops database."""
    template = shared_template(tmp_path_factory)
    target = tmp_path_factory.mktemp("gridops")
    for suffix in ("", "-wal", "-shm"):
        src = template.with_name(template.name + suffix)
        if src.exists():
            shutil.copy(src, target / (template.name + suffix))
    return target / template.name


@pytest.fixture(scope="module")
def seed_server() -> ModuleType:
    """``examples/vulnerable/seed_server.py`` loaded from its path (it is not an installed module)."""
    spec = importlib.util.spec_from_file_location("vulnerable_seed_server", SEED_SERVER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
