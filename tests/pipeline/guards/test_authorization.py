"""Authorization guard against the real vulnerable example server (in-process MCP client).

Each attack is shown working when the chain has no authorization guard and refused when
it has one: arbitrary SQL, environment read, unauthorized record access, unknown tools,
and list results showing tools the caller may not call.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client
from mcp_types import JSONRPCRequest, JSONRPCResponse

from mcp_bastion.config import AuthorizationSettings, parse_config
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards.authorization import AuthorizationGuard, factory
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.types import ANONYMOUS, AuthMethod, Direction, Principal, UpstreamName

pytestmark = pytest.mark.anyio

SEED = Path(__file__).resolve().parents[3] / "examples" / "vulnerable" / "seed_server.py"
OPERATOR = Principal("olga", frozenset({"operator"}), auth_method=AuthMethod.JWT)
VIEWER = Principal("vic", frozenset({"viewer"}), auth_method=AuthMethod.JWT)
SUPERVISOR = Principal("sue", frozenset({"supervisor"}), auth_method=AuthMethod.JWT)


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vulnerable_seed_server_authz", SEED)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def vulnerable(tmp_path: Path) -> AsyncIterator[tuple[Client, Catalog]]:
    server = _seed_module().build_server(tmp_path / "seed.db")
    async with Client(server) as client:
        listed = await client.list_tools()
        catalog = Catalog()
        catalog.set_tools("vuln", [t.model_dump(by_alias=True, exclude_none=True) for t in listed.tools])
        yield client, catalog


def _call(principal: Principal, tool: str, arguments: dict[str, Any]) -> Exchange:
    message = JSONRPCRequest(
        jsonrpc="2.0", id=7, method="tools/call", params={"name": tool, "arguments": arguments}
    )
    return Exchange(Direction.CLIENT_TO_SERVER, message, principal, UpstreamName("vuln"))


async def _through(chain: Chain, client: Client, exchange: Exchange) -> str | None:
    """Forward the call to the real server only if the chain allows it; the text it returned."""
    result = await chain.run(exchange)
    if not result.allowed:
        return None
    params = result.exchange.params
    reply = await client.call_tool(params["name"], params.get("arguments"))
    return " ".join(getattr(c, "text", "") for c in reply.content)


def _guard(catalog: Catalog) -> AuthorizationGuard:
    ctx = BuildContext(config=parse_config({}), catalog=catalog)
    return factory(AuthorizationSettings(), ctx)


async def test_arbitrary_sql_is_refused(vulnerable: tuple[Client, Catalog]) -> None:
    client, catalog = vulnerable
    attack = _call(SUPERVISOR, "execute_sql", {"query": "SELECT name FROM sqlite_master"})
    assert "records" in (await _through(Chain([]), client, attack) or "")
    assert await _through(Chain([_guard(catalog)]), client, attack) is None


async def test_environment_read_is_refused(
    vulnerable: tuple[Client, Catalog], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog = vulnerable
    monkeypatch.setenv("BASTION_TEST_CANARY", "canary-7f3a")
    attack = _call(SUPERVISOR, "get_env_variable", {"name": "BASTION_TEST_CANARY"})
    assert os.environ["BASTION_TEST_CANARY"] in (await _through(Chain([]), client, attack) or "")
    chain = Chain([_guard(catalog)])
    outcome = await chain.run(attack)
    assert outcome.verdict.decision is Decision.DENY
    assert outcome.verdict.rule_ids == ("BST-POL-010",)
    assert await _through(chain, client, attack) is None


@pytest.mark.parametrize("principal", [ANONYMOUS, VIEWER])
async def test_records_refused_to_unauthorized(
    vulnerable: tuple[Client, Catalog], principal: Principal
) -> None:
    client, catalog = vulnerable
    await client.call_tool("insert_record", {"name": "Ada", "address": "1 Grid Lane"})
    attack = _call(principal, "query_records", {})
    assert "Ada" in (await _through(Chain([]), client, attack) or "")
    assert await _through(Chain([_guard(catalog)]), client, attack) is None
    assert "Ada" in (
        await _through(Chain([_guard(catalog)]), client, _call(OPERATOR, "query_records", {})) or ""
    )


async def test_unknown_tool_is_refused(vulnerable: tuple[Client, Catalog]) -> None:
    _, catalog = vulnerable
    outcome = await Chain([_guard(catalog)]).run(_call(SUPERVISOR, "not_listed", {}))
    assert outcome.verdict.decision is Decision.DENY
    assert outcome.verdict.reason == "unknown tool"


async def test_tools_list_is_filtered(vulnerable: tuple[Client, Catalog]) -> None:
    _, catalog = vulnerable
    surface = catalog.surface("vuln")
    assert surface is not None
    raw = [dict(t) for t in surface.tools.values()]
    request = Exchange(
        Direction.CLIENT_TO_SERVER, JSONRPCRequest(jsonrpc="2.0", id=1, method="tools/list"), VIEWER
    )
    reply = JSONRPCResponse(jsonrpc="2.0", id=1, result={"tools": raw})

    async def listed(chain: Chain, principal: Principal) -> set[str]:
        exchange = Exchange(
            Direction.SERVER_TO_CLIENT, reply, principal, UpstreamName("vuln"), request=request
        )
        result = (await chain.run(exchange)).exchange.result or {}
        return {t["name"] for t in result["tools"]}

    everything = {"insert_record", "query_records", "execute_sql", "get_env_variable"}
    assert await listed(Chain([]), VIEWER) == everything
    guarded = Chain([_guard(catalog)])
    assert await listed(guarded, VIEWER) == set()
    assert await listed(guarded, OPERATOR) == {"insert_record", "query_records"}


async def test_list_request_needs_a_role() -> None:
    guard = _guard(Catalog())
    message = JSONRPCRequest(jsonrpc="2.0", id=1, method="tools/list")
    anon = await guard.check(Exchange(Direction.CLIENT_TO_SERVER, message, ANONYMOUS))
    viewer = await guard.check(Exchange(Direction.CLIENT_TO_SERVER, message, VIEWER))
    assert anon.decision is Decision.DENY
    assert viewer.decision is Decision.ALLOW


async def test_filter_list_api() -> None:
    guard = _guard(Catalog())
    tools = [
        {"name": "get_asset", "annotations": {"readOnlyHint": True}},
        {"name": "operate_switch", "annotations": {"destructiveHint": True}},
    ]
    assert [t["name"] for t in guard.filter_list(VIEWER, "gridops", tools)] == ["get_asset"]
    assert len(guard.filter_list(OPERATOR, "gridops", tools)) == 2
