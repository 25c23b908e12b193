"""Read-only tools over the in-memory transport: allowed for viewers, strict about input."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

pytestmark = pytest.mark.anyio

WINDOW = {"start": "2026-10-31T00:00:00Z", "end": "2026-10-31T06:00:00Z"}
LEAKS = ("SELECT", "INSERT", "sqlite", "Traceback", "/tmp", ".db", 'File "')


def text_of(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


async def call(server: MCPServer[Any], tool: str, args: dict[str, Any]) -> CallToolResult:
    async with Client(server) as client:
        return await client.call_tool(tool, args)


READS: list[tuple[str, dict[str, Any], str]] = [
    ("get_topology", {}, "regions"),
    ("get_topology", {"region": "substation-1"}, "buses"),
    ("get_asset", {"asset_id": "line:5"}, "max_i_ka"),
    ("query_measurements", {"asset_id": "load:3", **WINDOW, "limit": 10}, "asset_id"),
    ("list_outages", {"status": "resolved", "limit": 5}, "outages"),
    ("analyze_load_pattern", {"asset_id": "load:3", **WINDOW}, "load_factor"),
    ("predict_outage_risk", {"asset_id": "line:5", "wind_speed_ms": 30, "storm": True}, "score"),
    ("query_records", {"name_contains": "a", "limit": 5}, "records"),
    ("run_report", {"name": "top_loaded_lines", "params": {"limit": 3}}, "rows"),
]


@pytest.mark.parametrize(
    ("tool", "args", "key"), READS, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(READS)]
)
async def test_viewer_may_read(server_for: Any, tool: str, args: dict[str, Any], key: str) -> None:
    result = await call(server_for("viewer"), tool, args)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert key in result.structured_content


async def test_measurements_are_bounded_and_ordered(server_for: Any) -> None:
    result = await call(
        server_for("viewer"), "query_measurements", {"asset_id": "load:3", **WINDOW, "limit": 7}
    )
    content = result.structured_content
    assert content is not None
    points = content["points"]
    assert len(points) == 7
    assert content["truncated"] is True
    stamps = [p["ts"] for p in points]
    assert stamps == sorted(stamps)
    assert stamps[0] == "2026-10-31T00:00:00Z"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("get_asset", {"asset_id": "line:" + "9" * 30}, "at most 20"),
    ("get_asset", {"asset_id": 5}, "string"),
    ("get_asset", {"asset_id": "line:5", "role": "supervisor"}, "Extra inputs"),
    ("get_asset", {"asset_id": "line:5;DROP--"}, "pattern"),
    ("get_asset", {}, "Field required"),
    ("get_topology", {"region": "../../etc/passwd"}, "pattern"),
    ("list_outages", {"status": "closed"}, "'open' or 'resolved'"),
    ("list_outages", {"limit": 0}, "greater than or equal"),
    ("query_measurements", {"asset_id": "load:3", **WINDOW, "limit": 5000}, "less than or equal"),
    (
        "query_measurements",
        {"asset_id": "load:3", "start": "2026-10-01T00:00:00Z", "end": "2026-10-31T00:00:00Z"},
        "7 days",
    ),
    (
        "query_measurements",
        {"asset_id": "load:3", "start": "2026-10-31T06:00:00Z", "end": "2026-10-31T00:00:00Z"},
        "after start",
    ),
    ("query_measurements", {"asset_id": "load:3", "start": "yesterday", "end": "today"}, "datetime"),
    (
        "analyze_load_pattern",
        {"asset_id": "load:3", "start": "2026-09-01T00:00:00Z", "end": "2026-10-31T00:00:00Z"},
        "7 days",
    ),
    ("predict_outage_risk", {"asset_id": "line:5", "temperature_c": 80}, "less than or equal"),
    ("predict_outage_risk", {"asset_id": "line:5", "ice": "very"}, "bool"),
    ("query_records", {"name_contains": "x" * 101}, "at most 100"),
    ("query_records", {"offset": -1}, "greater than or equal"),
    ("run_report", {"name": "sqlite_master"}, "unknown report"),
    ("run_report", {"name": "SELECT * FROM records"}, "pattern"),
    ("run_report", {"name": "top_loaded_lines", "params": {f"p{i}": i for i in range(17)}}, "at most 16"),
]


@pytest.mark.parametrize(
    ("tool", "args", "fragment"), BAD, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD)]
)
async def test_bad_input_rejected(server_for: Any, tool: str, args: dict[str, Any], fragment: str) -> None:
    result = await call(server_for("supervisor"), tool, args)
    assert result.is_error
    message = text_of(result)
    assert fragment in message
    # Validation errors echo the caller's own value; anything else must not leak.
    for value in args.values():
        message = message.replace(repr(value), "")
    assert not any(leak in message for leak in LEAKS), message


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("get_asset", {"asset_id": "line:99999"}),
        ("get_topology", {"region": "nowhere"}),
        ("query_measurements", {"asset_id": "line:5", **WINDOW}),
        ("run_report", {"name": "top_loaded_lines", "params": {"limit": 999}}),
    ],
)
async def test_domain_errors_are_clear_and_clean(server_for: Any, tool: str, args: dict[str, Any]) -> None:
    result = await call(server_for("viewer"), tool, args)
    assert result.is_error
    message = text_of(result)
    assert message
    assert "internal error" not in message
    assert not any(leak in message for leak in LEAKS), message


async def test_report_catalogue_is_described(server_for: Any) -> None:
    async with Client(server_for("viewer")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    run_report = tools["run_report"]
    assert run_report.description is not None
    assert "top_loaded_lines" in run_report.description
    assert "no arbitrary query tool" in run_report.description
    assert "top_loaded_lines" in run_report.input_schema["properties"]["name"]["enum"]
