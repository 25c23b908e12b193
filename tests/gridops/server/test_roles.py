"""The authorization matrix, enforced on every tool for every role, and the principal sources."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent

from gridops.server.roles import MATRIX, Principal, Role, authorize, current_principal, parse_roles

pytestmark = pytest.mark.anyio

BOGUS_TOKEN = "A" * 40 + "." + "B" * 43
SAMPLE_ARGS: dict[str, dict[str, Any]] = {
    "get_topology": {},
    "get_asset": {"asset_id": "bus:1"},
    "query_measurements": {
        "asset_id": "load:3",
        "start": "2026-10-31T00:00:00Z",
        "end": "2026-10-31T01:00:00Z",
    },
    "list_outages": {},
    "analyze_load_pattern": {
        "asset_id": "load:3",
        "start": "2026-10-31T00:00:00Z",
        "end": "2026-10-31T06:00:00Z",
    },
    "predict_outage_risk": {"asset_id": "line:5"},
    "query_records": {},
    "run_report": {"name": "open_work_orders"},
    "insert_record": {"name": "Role test", "address": "1 Matrix Road"},
    "create_work_order": {"asset_id": "line:5", "title": "Inspect", "description": "Role matrix test"},
    "simulate_switching": {"switch_id": 1, "action": "open"},
    "operate_switch": {"switch_id": 1, "action": "open", "simulation_token": BOGUS_TOKEN, "reason": "matrix"},
}
PSEUDO_ACTIONS = {"read_resource", "get_prompt", "override_violations"}


async def test_every_tool_has_a_matrix_entry(server_for: Any) -> None:
    async with Client(server_for("viewer")) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
    assert listed == set(MATRIX) - PSEUDO_ACTIONS
    assert listed == set(SAMPLE_ARGS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("tool", sorted(SAMPLE_ARGS))
async def test_matrix_enforced(server_for: Any, tool: str, role: Role) -> None:
    async with Client(server_for(role)) as client:
        result = await client.call_tool(tool, SAMPLE_ARGS[tool])
    message = "\n".join(b.text for b in result.content if isinstance(b, TextContent))
    if role in MATRIX[tool]:
        assert "permission denied" not in message
        if tool != "operate_switch":
            assert not result.is_error, message
        else:
            assert "invalid simulation token" in message
    else:
        assert result.is_error
        assert f"permission denied: {tool} requires role" in message
        assert f"(you have: {role.value})" in message


def test_supervisor_may_do_everything() -> None:
    assert all(Role.SUPERVISOR in roles for roles in MATRIX.values())


def test_viewer_may_only_read() -> None:
    viewer = {action for action, roles in MATRIX.items() if Role.VIEWER in roles}
    assert viewer == {
        "get_topology", "get_asset", "query_measurements", "list_outages", "analyze_load_pattern",
        "predict_outage_risk", "query_records", "run_report", "read_resource", "get_prompt",
    }  # fmt: skip


def test_unknown_action_is_denied() -> None:
    boss = Principal("boss", frozenset(Role), "local")
    assert not boss.may("drop_database")


def test_parse_roles_ignores_unknown() -> None:
    assert parse_roles(["viewer", "root", 3, "operator"]) == {Role.VIEWER, Role.OPERATOR}


def test_no_token_and_no_local_identity_means_no_roles() -> None:
    nobody = current_principal(None)
    assert nobody.roles == frozenset()
    from mcp.server.mcpserver.exceptions import ToolError

    with pytest.raises(ToolError, match="permission denied"):
        authorize(nobody, "get_topology")


async def test_bearer_mode_without_token_is_denied(service: Any) -> None:
    # A server built for bearer auth, reached in-process (no HTTP, so no token): fail closed.
    from gridops.server import ServerSettings, TokenSettings, build_server

    settings = ServerSettings(
        master_key=b"k" * 32,
        identity=Role.SUPERVISOR,  # ignored in bearer mode
        auth=TokenSettings(issuer="http://127.0.0.1:1", resource="http://127.0.0.1:1/mcp"),
    )
    async with Client(build_server(service, settings)) as client:
        result = await client.call_tool("get_topology", {})
    assert result.is_error
    assert "(you have: none)" in "".join(b.text for b in result.content if isinstance(b, TextContent))
