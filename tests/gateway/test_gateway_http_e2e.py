"""``bastion gateway`` over real HTTP, with gridops and the vulnerable server as sandboxed stdio upstreams."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.gateway.procs import BASTION, free_port, running_gateway

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "examples" / "vulnerable" / "seed_server.py")
DEEP_CALL_PREFIX = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
KEYS = {"viewer": "viewer-key-0123456789abcdef", "operator": "operator-key-0123456789abcdef"}


@dataclass(frozen=True)
class RunningGateway:
    url: str
    port: int
    seed_db: Path

    def headers(self, role: str) -> dict[str, str]:
        return {"X-API-Key": KEYS[role]}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    tmp = tmp_path_factory.mktemp("gw")
    work = tmp / "work"
    work.mkdir()
    port = free_port()
    grid_db = work / "grid.db"
    subprocess.run(
        [BASTION, "gridops", "init-db", "--db", f"sqlite:///{grid_db}"], check=True, capture_output=True
    )
    seed_db = work / "seed.db"
    keys = "\n".join(
        f"    - {{sha256: {hashlib.sha256(k.encode()).hexdigest()}, subject: {role}-user, roles: [{role}]}}"
        for role, k in KEYS.items()
    )
    config = tmp / "bastion.yaml"
    config.write_text(
        f"""version: 1
listeners:
  http: {{host: 127.0.0.1, port: {port}}}
identities:
  api_keys:
{keys}
upstreams:
  gridops:
    command: [{BASTION}, gridops, serve, --transport, stdio, --db, "sqlite:///{grid_db}",
              --identity, supervisor, --data-dir, "{work}"]
    sandbox: {{write_paths: ["{work}"]}}
  seed:
    command: [{sys.executable}, {SEED}]
    env: {{VULN_DB_PATH: "{seed_db}"}}
    sandbox: {{write_paths: ["{work}"]}}
guards:
  - name: authentication
  - name: limits
  - name: ratelimit
  - name: pinning
  - name: authorization
  - name: arguments
  - name: descriptions
  - name: notifications
  - name: output
    credential_tools: [gridops.simulate_switching]
  - name: audit
stores:
  pins: sqlite:///{tmp}/state.db
  approvals: sqlite:///{tmp}/state.db
  audit: sqlite:///{tmp}/state.db
""",
        encoding="utf-8",
    )
    with running_gateway(config, port, tmp / "gateway.log"):
        yield RunningGateway(f"http://127.0.0.1:{port}/mcp", port, seed_db)


@asynccontextmanager
async def client(gw: RunningGateway, role: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=gw.headers(role), timeout=60) as http,
        Client(streamable_http_client(gw.url, http_client=http), mode=mode) as c,
    ):
        yield c


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_normal_gridops_use_works_through_the_gateway(gateway: RunningGateway, mode: str) -> None:
    async with client(gateway, "operator", mode) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"gridops.get_asset", "gridops.simulate_switching", "gridops.operate_switch"} <= names
        assert "seed.execute_sql" not in names and "seed.get_env_variable" not in names
        asset = await c.call_tool("gridops.get_asset", {"asset_id": "bus:0"})
        assert not asset.is_error, asset.content
        switch = 0 if mode == "legacy" else 2
        sim = await c.call_tool("gridops.simulate_switching", {"switch_id": switch, "action": "open"})
        assert not sim.is_error, sim.content
        assert sim.structured_content is not None
        token = sim.structured_content["simulation_token"]
        assert not token.startswith("[REDACTED")  # a credential tool: the token reaches the caller
        done = await c.call_tool(
            "gridops.operate_switch",
            {
                "switch_id": switch,
                "action": "open",
                "simulation_token": token,
                "reason": "e2e through gateway",
            },
        )
        assert not done.is_error, done.content


async def test_viewer_cannot_call_operator_tools(gateway: RunningGateway) -> None:
    async with client(gateway, "viewer") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "gridops.get_asset" in names
        assert "seed.query_records" not in names
        with pytest.raises(MCPError, match="permission denied"):
            await c.call_tool("seed.query_records", {})


async def test_unauthenticated_caller_gets_401_with_resource_metadata(gateway: RunningGateway) -> None:
    async with httpx2.AsyncClient() as http:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-11-25"},
        }
        r = await http.post(gateway.url, json=init)
        assert r.status_code == 401
        challenge = r.headers["www-authenticate"]
        assert 'resource_metadata="' in challenge
        meta_url = challenge.split('resource_metadata="')[1].split('"')[0]
        meta = (await http.get(meta_url)).json()
        assert meta["resource"] == gateway.url
        wrong = await http.post(gateway.url, json=init, headers={"X-API-Key": "guess"})
        assert wrong.status_code == 401


async def test_stolen_session_and_foreign_origin_are_refused(gateway: RunningGateway) -> None:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    async with httpx2.AsyncClient() as http:
        r = await http.post(gateway.url, json=init, headers=gateway.headers("operator"))
        sid = r.headers["mcp-session-id"]
        mine = await http.post(
            gateway.url, json=listing, headers={**gateway.headers("operator"), "mcp-session-id": sid}
        )
        assert mine.status_code == 200 and "tools" in mine.json()["result"]
        stolen = await http.post(
            gateway.url, json=listing, headers={**gateway.headers("viewer"), "mcp-session-id": sid}
        )
        assert stolen.status_code == 404
        evil = await http.post(
            gateway.url, json=init, headers={**gateway.headers("operator"), "Origin": "http://evil.example"}
        )
        assert evil.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[" + b'{"jsonrpc":"2.0","id":1,"method":"ping"}' + b"]", 400, -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"A" * 2_000_000 + b'"}}', 413, -32600),
        (DEEP_CALL_PREFIX + b'{"a":' * 60 + b"1" + b"}" * 61, 400, -32600),
        (DEEP_CALL_PREFIX + b'{"a":' * 3000 + b"1" + b"}" * 3001, 400, -32600),
    ],
    ids=["batch", "oversize", "deep", "very-deep"],
)
async def test_hostile_bodies_get_jsonrpc_errors(
    gateway: RunningGateway, body: bytes, status: int, code: int | None
) -> None:
    headers = {
        **gateway.headers("operator"),
        "content-type": "application/json",
        "mcp-protocol-version": "2026-07-28",
    }
    async with httpx2.AsyncClient() as http:
        r = await http.post(gateway.url, content=body, headers=headers)
    assert r.status_code == status, r.text
    payload = r.json()
    assert payload["jsonrpc"] == "2.0" and "error" in payload
    if code is not None:
        assert payload["error"]["code"] == code
    assert "Traceback" not in r.text
