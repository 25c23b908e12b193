"""Property tests: any text a caller sends is stored literally or refused cleanly, never a crash."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, TextContent

from gridops.server import Role, ServerSettings, build_server
from gridops.service import GridService

KEY = b"hypothesis-master-key-00000000000"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEAKS = ("SELECT", "INSERT", "Traceback", "sqlite3", "internal error")

# Text biased towards SQL and markup metacharacters, plus any Unicode.
hostile = st.text(
    alphabet=st.one_of(st.sampled_from(list("'\";-%_!\\/*()=<>{}$`\n\t\x00")), st.characters()),
    max_size=130,
)


Call = Callable[[str, str, dict[str, Any]], CallToolResult]


@pytest.fixture(scope="module")
def call(service: GridService) -> Iterator[Call]:
    """``call(role, tool, args)``: one connected in-memory client per role, shared by all examples."""
    with anyio.from_thread.start_blocking_portal() as portal, ExitStack() as stack:
        clients = {}
        for role in ("viewer", "engineer"):
            server = build_server(
                service, ServerSettings(master_key=KEY, identity=Role(role), subject="prop")
            )
            clients[role] = stack.enter_context(portal.wrap_async_context_manager(Client(server)))

        def invoke(role: str, tool: str, args: dict[str, Any]) -> CallToolResult:
            result: CallToolResult = portal.call(clients[role].call_tool, tool, args)
            return result

        yield invoke


def _text(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def _tables(db_path: Path) -> list[str]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


@SETTINGS
@given(name=hostile, address=hostile)
def test_insert_record_literal_or_refused(call: Call, db_path: Path, name: str, address: str) -> None:
    before = _tables(db_path)
    result = call("engineer", "insert_record", {"name": name, "address": address})
    message = _text(result)
    if result.is_error:
        assert message.startswith("Error executing tool insert_record:")
        assert not any(leak in message.replace(repr(name), "").replace(repr(address), "") for leak in LEAKS)
    else:
        assert result.structured_content is not None
        record_id = result.structured_content["id"]
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            stored = conn.execute("SELECT name, address FROM records WHERE id = ?", (record_id,)).fetchone()
        assert stored == (name, address)
    assert _tables(db_path) == before


@SETTINGS
@given(asset_id=st.one_of(hostile, st.from_regex(r"(bus|line|load|switch):[0-9]{1,12}", fullmatch=True)))
def test_get_asset_never_crashes(call: Call, asset_id: str) -> None:
    result = call("viewer", "get_asset", {"asset_id": asset_id})
    if result.is_error:
        message = _text(result).replace(repr(asset_id), "")
        assert not any(leak in message for leak in LEAKS), message
    else:
        assert result.structured_content is not None
        assert result.structured_content["asset_id"] == asset_id


@SETTINGS
@given(needle=hostile, limit=st.integers(-5, 150), offset=st.integers(-5, 200_000))
def test_query_records_never_crashes(call: Call, needle: str, limit: int, offset: int) -> None:
    result = call("viewer", "query_records", {"name_contains": needle, "limit": limit, "offset": offset})
    if result.is_error:
        assert not any(leak in _text(result).replace(repr(needle), "") for leak in LEAKS)
    else:
        assert 1 <= limit <= 100
        assert result.structured_content is not None
        assert all(needle in r["name"] for r in result.structured_content["records"])
