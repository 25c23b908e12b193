"""Write tools: records and work orders; hostile text is stored literally, the schema stays intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "x'); DROP TABLE records;--",
    "Robert'); DROP TABLE Students;--",
    "' OR '1'='1",
    '"; DELETE FROM records; --',
    "1; UPDATE grid_state SET version = 0",
    "%_!' ESCAPE '",
    "{{7*7}} ${jndi:ldap://x} <script>alert(1)</script>",
    "Ünïcødé ☃ 東京",
]


def text_of(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def tables(db_path: Path) -> list[str]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_payload_stored_literally(server_for: Any, db_path: Path, payload: str) -> None:
    before = tables(db_path)
    async with Client(server_for("engineer", subject="eve")) as client:
        inserted = await client.call_tool("insert_record", {"name": payload[:100], "address": payload})
        assert not inserted.is_error, text_of(inserted)
        found = await client.call_tool("query_records", {"name_contains": payload[:100], "limit": 100})
    assert found.structured_content is not None
    records = found.structured_content["records"]
    assert any(r["name"] == payload[:100] and r["address"] == payload for r in records)
    assert all(r["created_by"] == "eve" for r in records if r["address"] == payload)
    assert tables(db_path) == before
    assert "records" in before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"name": "", "address": "a"}, "at least 1"),
        ({"name": "n" * 101, "address": "a"}, "at most 100"),
        ({"name": "n", "address": "a" * 201}, "at most 200"),
        ({"name": "line\nbreak", "address": "a"}, "pattern"),
        ({"name": "nul\x00byte", "address": "a"}, "pattern"),
        ({"name": "bidi \u202e override", "address": "a"}, "control or invisible"),
        ({"name": "n", "address": "a", "created_by": "admin"}, "Extra inputs"),
        ({"name": 5, "address": "a"}, "string"),
    ],
)
async def test_insert_record_rejects_bad_input(server_for: Any, args: dict[str, Any], fragment: str) -> None:
    async with Client(server_for("engineer")) as client:
        result = await client.call_tool("insert_record", args)
    assert result.is_error
    assert fragment in text_of(result)


async def test_create_work_order(server_for: Any) -> None:
    async with Client(server_for("operator", subject="olga")) as client:
        created = await client.call_tool(
            "create_work_order",
            {
                "asset_id": "line:5",
                "title": "Inspect joint",
                "description": "Hot spot seen\non IR scan",
                "priority": "high",
            },
        )
        assert not created.is_error, text_of(created)
        listed = await client.call_tool(
            "run_report", {"name": "open_work_orders", "params": {"priority": "high"}}
        )
    assert listed.structured_content is not None
    content = listed.structured_content
    rows = [dict(zip(content["columns"], row, strict=True)) for row in content["rows"]]
    assert any(r["title"] == "Inspect joint" and r["created_by"] == "olga" for r in rows)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            {"asset_id": "line:5", "title": "t", "description": "d", "priority": "urgent"},
            "'low', 'medium', 'high' or 'critical'",
        ),
        ({"asset_id": "line:5", "title": "t" * 121, "description": "d"}, "at most 120"),
        ({"asset_id": "line:5", "title": "t", "description": "d" * 2001}, "at most 2000"),
        ({"asset_id": "line:99999", "title": "t", "description": "d"}, "unknown asset"),
    ],
)
async def test_create_work_order_rejects(server_for: Any, args: dict[str, Any], fragment: str) -> None:
    async with Client(server_for("engineer")) as client:
        result = await client.call_tool("create_work_order", args)
    assert result.is_error
    assert fragment in text_of(result)
