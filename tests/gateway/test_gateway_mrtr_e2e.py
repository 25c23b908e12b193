"""Elicitation through real processes: ``bastion gateway`` over HTTP and ``bastion wrap`` over stdio.

The upstream (``asking_server.py``) runs sandboxed over stdio and asks its client mid-call.
A 2026-07-28 client gets ``input_required`` rounds (the SDK client drives them through its
elicitation callback); a 2025-11-25 client gets the request relayed (over HTTP on its
POST's SSE stream, over stdio directly).
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult
from tests.gateway.procs import BASTION, free_port, running_gateway

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

ASKING = str(Path(__file__).with_name("asking_server.py"))
ROOT = Path(__file__).resolve().parents[2]
KEY = "operator-key-0123456789abcdef"


async def say_yes(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"ok": True})


def _upstream_block() -> str:
    return f"""upstreams:
  ask:
    command: [{sys.executable}, {ASKING}]
    env: {{PYTHONPATH: "{ROOT}"}}
"""


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("mrtr")
    port = free_port()
    state_keys = tmp / "state.keys"
    state_keys.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    state_keys.chmod(0o600)
    config = tmp / "bastion.yaml"
    config.write_text(
        f"""version: 1
listeners:
  http: {{host: 127.0.0.1, port: {port}, state_key_file: "{state_keys}"}}
identities:
  api_keys:
    - {{sha256: {hashlib.sha256(KEY.encode()).hexdigest()}, subject: op, roles: [operator]}}
{_upstream_block()}stores:
  pins: sqlite:///{tmp}/state.db
  approvals: sqlite:///{tmp}/state.db
  audit: sqlite:///{tmp}/state.db
""",
        encoding="utf-8",
    )
    with running_gateway(config, port, tmp / "gateway.log"):
        yield f"http://127.0.0.1:{port}/mcp"


async def test_modern_http_client_answers_elicitation_through_the_gateway(gateway_url: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"X-API-Key": KEY}, timeout=60) as http,
        Client(streamable_http_client(gateway_url, http_client=http), elicitation_callback=say_yes) as client,
    ):
        result = await client.call_tool("ask.two_step", {})
        assert not result.is_error, result.content
        assert result.content[0].text == "accept/accept"  # type: ignore[union-attr]


async def test_legacy_http_client_answers_on_the_sse_stream(gateway_url: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"X-API-Key": KEY}, timeout=60) as http,
        Client(
            streamable_http_client(gateway_url, http_client=http), mode="legacy", elicitation_callback=say_yes
        ) as client,
    ):
        result = await client.call_tool("ask.two_step", {})
        assert not result.is_error, result.content
        assert result.content[0].text == "accept/accept"  # type: ignore[union-attr]


async def test_injected_question_never_reaches_the_client(gateway_url: str) -> None:
    asked: list[Any] = []

    async def record(context: Any, params: Any) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept", content={"ok": True})

    async with (
        httpx2.AsyncClient(headers={"X-API-Key": KEY}, timeout=60) as http,
        Client(streamable_http_client(gateway_url, http_client=http), elicitation_callback=record) as client,
    ):
        with pytest.raises(MCPError, match="possible prompt injection"):
            await client.call_tool("ask.poisoned_ask", {})
    assert asked == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_wrap_relays_elicitation_in_both_eras(tmp_path: Path, mode: str) -> None:
    config = tmp_path / "bastion.yaml"
    config.write_text(
        f"""version: 1
identities:
  local: {{subject: tester, roles: [operator]}}
{_upstream_block()}stores:
  pins: sqlite:///{tmp_path}/state.db
  approvals: sqlite:///{tmp_path}/state.db
  audit: sqlite:///{tmp_path}/state.db
""",
        encoding="utf-8",
    )
    params = StdioServerParameters(
        command=BASTION,
        args=["wrap", "--policy", str(config), "--", sys.executable, ASKING],
        env={"PYTHONPATH": str(ROOT)},
        cwd=str(tmp_path),
    )
    async with Client(params, mode=mode, elicitation_callback=say_yes) as client:
        result = await client.call_tool("confirm", {"action": "reboot"})
        assert not result.is_error, result.content
        assert result.content[0].text == "confirmed reboot"  # type: ignore[union-attr]
