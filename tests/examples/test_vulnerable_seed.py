"""Each attack of the security guide succeeds against the vulnerable seed server and fails against gridops."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from gridops.server import Role, ServerSettings, TokenSettings, build_server
from gridops.service import GridService

pytestmark = pytest.mark.anyio

KEY = b"examples-test-master-key-00000000"
DROP = "x'); DROP TABLE records;--"
SECRET = "planted-secret-value-8c1f"
SEED_SERVER = Path(__file__).resolve().parents[2] / "examples" / "vulnerable" / "seed_server.py"


def text_of(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def tables(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def vulnerable(seed_server: ModuleType, tmp_path: Path) -> tuple[MCPServer[Any], Path]:
    db = tmp_path / "seed.db"
    server: MCPServer[Any] = seed_server.build_server(db)
    return server, db


@pytest.fixture(scope="module")
def grid_service(gridops_db: Path) -> Iterator[GridService]:
    svc = GridService.open(f"sqlite:///{gridops_db}")
    yield svc
    svc.close()


def gridops(service: GridService, role: Role = Role.ENGINEER) -> MCPServer[Any]:
    return build_server(service, ServerSettings(master_key=KEY, identity=role, subject="tester"))


# -- SQL injection through insert_record ---------------------------------------------


async def test_injection_drops_table_on_vulnerable(vulnerable: tuple[MCPServer[Any], Path]) -> None:
    server, db = vulnerable
    assert "records" in tables(db)
    async with Client(server) as client:
        result = await client.call_tool("insert_record", {"name": "x", "address": DROP})
    assert not result.is_error
    assert "records" not in tables(db)  # the attack worked


async def test_injection_stored_literally_on_gridops(grid_service: GridService, gridops_db: Path) -> None:
    before = tables(gridops_db)
    async with Client(gridops(grid_service)) as client:
        inserted = await client.call_tool("insert_record", {"name": "x", "address": DROP})
        found = await client.call_tool("query_records", {"name_contains": "x", "limit": 100})
    assert not inserted.is_error, text_of(inserted)
    assert found.structured_content is not None
    assert any(r["address"] == DROP for r in found.structured_content["records"])
    assert tables(gridops_db) == before
    assert "records" in before


# -- arbitrary SQL --------------------------------------------------------------------


async def test_execute_sql_reads_schema_on_vulnerable(vulnerable: tuple[MCPServer[Any], Path]) -> None:
    server, _ = vulnerable
    async with Client(server) as client:
        result = await client.call_tool("execute_sql", {"query": "SELECT name, sql FROM sqlite_master"})
    assert not result.is_error
    assert "CREATE TABLE records" in text_of(result)


async def test_no_arbitrary_sql_on_gridops(grid_service: GridService) -> None:
    async with Client(gridops(grid_service, Role.SUPERVISOR)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        direct = await client.call_tool("execute_sql", {"query": "SELECT name, sql FROM sqlite_master"})
        via_report = await client.call_tool("run_report", {"name": "sqlite_master"})
    assert "execute_sql" not in names
    assert direct.is_error
    assert via_report.is_error
    for result in (direct, via_report):
        assert "CREATE TABLE" not in text_of(result)


# -- environment secrets --------------------------------------------------------------


async def test_env_secret_leaks_from_vulnerable_child(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(SEED_SERVER)],
        env={"PLANTED_API_KEY": SECRET, "VULN_DB_PATH": str(tmp_path / "seed.db")},
    )
    async with Client(params) as client:
        result = await client.call_tool("get_env_variable", {"name": "PLANTED_API_KEY"})
    assert text_of(result) == SECRET  # the attack worked


async def test_no_env_access_on_gridops(grid_service: GridService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTED_API_KEY", SECRET)
    async with Client(gridops(grid_service, Role.SUPERVISOR)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("get_env_variable", {"name": "PLANTED_API_KEY"})
    assert "get_env_variable" not in names
    assert result.is_error
    assert SECRET not in text_of(result)


# -- records without identity ---------------------------------------------------------


async def test_records_read_anonymously_on_vulnerable(vulnerable: tuple[MCPServer[Any], Path]) -> None:
    server, db = vulnerable
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO records (name, address) VALUES ('Private Person', '1 Secret Lane')")
    async with Client(server) as client:  # no token, no identity of any kind
        result = await client.call_tool("query_records", {})
    assert "1 Secret Lane" in text_of(result)


async def test_records_need_identity_on_gridops(grid_service: GridService) -> None:
    # The same anonymous call against gridops built for bearer auth: there is no token, so
    # there are no roles, so the records stay unread.
    settings = ServerSettings(
        master_key=KEY, auth=TokenSettings(issuer="http://127.0.0.1:1", resource="http://127.0.0.1:1/mcp")
    )
    async with Client(build_server(grid_service, settings)) as client:
        result = await client.call_tool("query_records", {})
    assert result.is_error
    assert "permission denied" in text_of(result)
    assert result.structured_content is None
