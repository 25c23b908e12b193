"""Real Streamable HTTP: bearer tokens minted by the CLI, audience checks, roles from the token."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

from gridops.cli import app as gridops_cli
from gridops.config import DataPaths, load_or_create_master_key
from gridops.server import JwtIssuer, Role, TokenSettings
from mcp_bastion.cli.main import app as bastion_cli

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def mint(live: Any, role: str, subject: str | None = None, port: int | None = None) -> str:
    args = ["token", "--role", role, "--port", str(port or live.port), "--data-dir", str(live.data_dir)]
    if subject:
        args += ["--subject", subject]
    result = CliRunner().invoke(gridops_cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def text_of(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


async def call(live: Any, token: str, tool: str, args: dict[str, Any], mode: str = "auto") -> CallToolResult:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(live.url, http_client=http), mode=mode) as client,
    ):
        return await client.call_tool(tool, args)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_viewer_reads_over_http(live_http: Any, mode: str) -> None:
    result = await call(live_http, mint(live_http, "viewer"), "get_asset", {"asset_id": "line:5"}, mode)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["asset_id"] == "line:5"


async def test_roles_come_from_the_token(live_http: Any) -> None:
    denied = await call(
        live_http, mint(live_http, "viewer", "vera"), "insert_record", {"name": "n", "address": "a"}
    )
    assert denied.is_error
    assert "(you have: viewer)" in text_of(denied)
    allowed = await call(
        live_http, mint(live_http, "engineer", "erik"), "insert_record", {"name": "n", "address": "a"}
    )
    assert not allowed.is_error, text_of(allowed)
    assert allowed.structured_content is not None
    assert allowed.structured_content["created_by"] == "erik"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_simulate_and_operate_over_http(live_http: Any, mode: str) -> None:
    token = mint(live_http, "operator", f"olga-{mode}")
    topology = await call(live_http, token, "get_topology", {}, mode)
    assert topology.structured_content is not None
    closed = [s for s in topology.structured_content["switches"] if s["closed"]]
    switch_id = int(closed[0 if mode == "legacy" else 1]["asset_id"].split(":")[1])
    simulated = await call(
        live_http, token, "simulate_switching", {"switch_id": switch_id, "action": "open"}, mode
    )
    assert simulated.structured_content is not None, text_of(simulated)
    args = {
        "switch_id": switch_id,
        "action": "open",
        "simulation_token": simulated.structured_content["simulation_token"],
        "reason": "e2e over HTTP",
    }
    stolen = await call(live_http, mint(live_http, "operator", "mallory"), "operate_switch", args, mode)
    assert stolen.is_error
    assert "another user" in text_of(stolen)
    done = await call(live_http, token, "operate_switch", args, mode)
    assert not done.is_error, text_of(done)
    assert done.structured_content is not None
    assert done.structured_content["actor"] == f"olga-{mode}"


async def test_no_token_is_401(live_http: Any) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(live_http.url, json=INIT, headers=HEADERS)
    assert response.status_code == 401
    assert "resource_metadata" in response.headers.get("www-authenticate", "")


async def test_control_valid_token_passes_raw_request(live_http: Any) -> None:
    # The control for the refusals: the same raw request with a valid token is served.
    headers = {**HEADERS, "Authorization": f"Bearer {mint(live_http, 'viewer')}"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(live_http.url, json=INIT, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["other-audience", "garbage", "expired"])
async def test_bad_tokens_are_refused(live_http: Any, kind: str) -> None:
    if kind == "other-audience":
        token = mint(live_http, "supervisor", port=live_http.port + 1)
    elif kind == "garbage":
        token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    else:
        key = load_or_create_master_key(DataPaths(live_http.data_dir).key_file)
        settings = TokenSettings(issuer=f"http://127.0.0.1:{live_http.port}", resource=live_http.url)
        token = JwtIssuer(key, settings).mint("old", [Role.SUPERVISOR], 60, now=1_000_000)
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(live_http.url, json=INIT, headers=headers)
    assert response.status_code == 401


async def test_foreign_host_header_refused(live_http: Any) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {mint(live_http, 'viewer')}", "Host": "evil.example"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(live_http.url, json=INIT, headers=headers)
    assert response.status_code in {400, 403, 421}


def test_bastion_call_cli(live_http: Any) -> None:
    token = mint(live_http, "viewer")
    runner = CliRunner()
    ok = runner.invoke(bastion_cli, ["call", live_http.url, "get_asset", "asset_id=line:5", "--token", token])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["asset_id"] == "line:5"
    as_json = runner.invoke(bastion_cli, ["call", live_http.url, "get_topology", "--json", "--token", token])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["isError"] is False
    denied = runner.invoke(
        bastion_cli, ["call", live_http.url, "insert_record", "name=x", "address=y", "--token", token]
    )
    assert denied.exit_code == 1
    assert "permission denied" in denied.stderr
    no_token = runner.invoke(bastion_cli, ["call", live_http.url, "get_topology"])
    assert no_token.exit_code == 2
