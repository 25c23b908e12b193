"""The server over the live PostgreSQL back end: reads, a hostile write, simulate -> operate."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent

from gridops.server import Role, ServerSettings, build_server
from gridops.service import GridService, init_db

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

KEY = b"postgres-server-test-key-00000000"
DROP = "x'); DROP TABLE records;--"


async def test_server_on_postgres(postgres_schema: tuple[str, str]) -> None:
    base, schema = postgres_schema
    url = f"{base}?schema={schema}"
    init_db(url, days=1)
    service = GridService.open(url)
    try:
        settings = ServerSettings(master_key=KEY, identity=Role.SUPERVISOR, subject="pg")
        async with Client(build_server(service, settings)) as client:
            asset = await client.call_tool("get_asset", {"asset_id": "line:5"})
            inserted = await client.call_tool("insert_record", {"name": "pg", "address": DROP})
            found = await client.call_tool("query_records", {"name_contains": "pg"})
            report = await client.call_tool("run_report", {"name": "outages_by_region"})
            topology = await client.call_tool("get_topology", {})
            assert topology.structured_content is not None
            switch = next(s for s in topology.structured_content["switches"] if s["closed"])
            switch_id = int(switch["asset_id"].split(":")[1])
            simulated = await client.call_tool(
                "simulate_switching", {"switch_id": switch_id, "action": "open"}
            )
            assert simulated.structured_content is not None, simulated.content
            args: dict[str, Any] = {
                "switch_id": switch_id,
                "action": "open",
                "simulation_token": simulated.structured_content["simulation_token"],
                "reason": "postgres e2e",
            }
            done = await client.call_tool("operate_switch", args)
        for result in (asset, inserted, found, report, done):
            assert not result.is_error, [b.text for b in result.content if isinstance(b, TextContent)]
        assert found.structured_content is not None
        assert [r["address"] for r in found.structured_content["records"]] == [DROP]
        assert done.structured_content is not None
        assert service.state_version() == simulated.structured_content["state_version"] + 1
    finally:
        service.close()
