"""Authentication guard: an anonymous caller reaches the vulnerable server's records without
the guard and is refused with it; scopes are enforced on bearer principals."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import JSONRPCRequest

from mcp_bastion.config import AuthenticationSettings, parse_config
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards.authentication import AuthenticationGuard, anonymous_allowed, factory
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.types import ANONYMOUS, AuthMethod, Direction, Principal, UpstreamName

pytestmark = pytest.mark.anyio

SEED = Path(__file__).resolve().parents[3] / "examples" / "vulnerable" / "seed_server.py"
API_KEY_CONFIG = {
    "listeners": {"http": {"port": 9123}},
    "identities": {"api_keys": [{"sha256": "0" * 64, "subject": "ci", "roles": ["viewer"]}]},
}


def _call(principal: Principal) -> Exchange:
    message = JSONRPCRequest(
        jsonrpc="2.0", id=1, method="tools/call", params={"name": "query_records", "arguments": {}}
    )
    return Exchange(Direction.CLIENT_TO_SERVER, message, principal, UpstreamName("vuln"))


async def test_anonymous_caller_is_refused(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("vulnerable_seed_server_authn", SEED)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    async with Client(module.build_server(tmp_path / "seed.db")) as client:
        await client.call_tool("insert_record", {"name": "Ada", "address": "1 Grid Lane"})
        guard = factory(
            AuthenticationSettings(), BuildContext(config=parse_config(API_KEY_CONFIG), catalog=Catalog())
        )
        for chain, leaked in ((Chain([]), True), (Chain([guard]), False)):
            outcome = await chain.run(_call(ANONYMOUS))
            if outcome.allowed:
                reply = await client.call_tool("query_records", {})
                assert "Ada" in str(reply.structured_content)
            assert outcome.allowed == leaked
        assert (await Chain([guard]).run(_call(ANONYMOUS))).verdict.rule_ids == ("BST-AUTHN-001",)


async def test_authenticated_principals_pass() -> None:
    guard = AuthenticationGuard(AuthenticationSettings(), allow_anonymous=False)
    for method in (AuthMethod.JWT, AuthMethod.API_KEY, AuthMethod.LOCAL):
        principal = Principal("p", frozenset({"viewer"}), auth_method=method)
        assert (await guard.check(_call(principal))).decision is Decision.ALLOW


async def test_anonymous_allowed_only_when_configured() -> None:
    open_config = parse_config({"listeners": {"http": {"port": 9123, "require_auth": False}}})
    assert anonymous_allowed(open_config)
    assert not anonymous_allowed(parse_config(API_KEY_CONFIG))
    assert not anonymous_allowed(parse_config({}))  # stdio only: the local identity is always set
    guard = factory(AuthenticationSettings(), BuildContext(config=open_config, catalog=Catalog()))
    assert (await guard.check(_call(ANONYMOUS))).decision is Decision.ALLOW


async def test_required_scopes() -> None:
    guard = AuthenticationGuard(AuthenticationSettings(required_scopes=("mcp:call",)), allow_anonymous=False)
    bare = Principal("p", auth_method=AuthMethod.JWT)
    scoped = Principal("p", auth_method=AuthMethod.JWT, scopes=frozenset({"mcp:call", "x"}))
    assert (await guard.check(_call(bare))).decision is Decision.DENY
    assert (await guard.check(_call(scoped))).decision is Decision.ALLOW
