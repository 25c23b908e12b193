"""Real stdio: ``bastion gridops serve --transport stdio`` as a child process, both protocol eras."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import TextContent
from typer.testing import CliRunner

from mcp_bastion.cli.main import app as bastion_cli

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

BASTION = str(Path(sys.executable).with_name("bastion"))


def serve_params(db_url: str, data_dir: Path, identity: str, subject: str = "local") -> StdioServerParameters:
    args = ["gridops", "serve", "--transport", "stdio", "--db", db_url, "--data-dir", str(data_dir)]
    return StdioServerParameters(command=BASTION, args=[*args, "--identity", identity, "--subject", subject])


async def test_stdio_operator_session_legacy_era(db_url: str, data_dir: Path) -> None:
    async with Client(serve_params(db_url, data_dir, "operator", "op"), mode="legacy") as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "operate_switch" in tools
        topology = await client.call_tool("get_topology", {})
        assert topology.structured_content is not None, topology.content
        closed = [s for s in topology.structured_content["switches"] if s["closed"]]
        switch_id = int(closed[5]["asset_id"].split(":")[1])
        simulated = await client.call_tool("simulate_switching", {"switch_id": switch_id, "action": "open"})
        assert simulated.structured_content is not None, simulated.content
        done = await client.call_tool(
            "operate_switch",
            {
                "switch_id": switch_id,
                "action": "open",
                "simulation_token": simulated.structured_content["simulation_token"],
                "reason": "stdio e2e",
            },
        )
        assert not done.is_error, done.content
        denied = await client.call_tool("insert_record", {"name": "n", "address": "a"})
    assert denied.is_error
    assert any("(you have: operator)" in b.text for b in denied.content if isinstance(b, TextContent))


async def test_stdio_engineer_session_modern_era(db_url: str, data_dir: Path) -> None:
    async with Client(serve_params(db_url, data_dir, "engineer", "eng")) as client:
        assert client.protocol_version == "2026-07-28"
        inserted = await client.call_tool(
            "insert_record", {"name": "x'); DROP TABLE records;--", "address": "a"}
        )
        assert not inserted.is_error, inserted.content
        found = await client.call_tool("query_records", {"name_contains": "DROP TABLE"})
        resource = await client.read_resource("grid://assets/line:5")
    assert found.structured_content is not None
    assert found.structured_content["records"][0]["name"] == "x'); DROP TABLE records;--"
    assert resource.contents


def test_bastion_call_stdio_target_default_viewer(db_url: str, data_dir: Path) -> None:
    target = f"stdio:{BASTION} gridops serve --db {db_url} --data-dir {data_dir}"
    result = CliRunner().invoke(
        bastion_cli,
        [
            "call",
            target,
            "create_work_order",
            "asset_id=line:5",
            "title=t",
            "description=d",
            "--write-path",
            str(data_dir),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "(you have: viewer)" in result.stderr
