"""Two gateway processes on one Redis share their rate-limit buckets (live Redis)."""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest
from tests.gateway.procs import ECHO, free_port, running_gateway

pytestmark = [pytest.mark.anyio, pytest.mark.e2e, pytest.mark.redis]

KEY = "shared-bucket-key-0123456789"


@pytest.fixture
def two_gateways(tmp_path: Path, redis_url: str) -> Iterator[list[int]]:
    prefix = f"bastion-test-{uuid.uuid4().hex[:8]}:"
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for i, port in enumerate(ports):
            db = f"sqlite:///{tmp_path}/state{i}.db"
            config = tmp_path / f"gw{i}.yaml"
            config.write_text(
                f"""version: 1
listeners:
  http: {{host: 127.0.0.1, port: {port}}}
identities:
  api_keys: [{{sha256: {hashlib.sha256(KEY.encode()).hexdigest()}, subject: shared, roles: [viewer]}}]
upstreams:
  echo:
    command: [{sys.executable}, {ECHO}, --transport, stdio]
    sandbox: {{read_paths: ["{Path(ECHO).parent}"]}}
stores:
  rate_limits: "{redis_url}?prefix={prefix}"
  pins: "{db}"
  approvals: "{db}"
  audit: "{db}"
guards:
  - name: authentication
  - name: limits
  - name: ratelimit
    per_principal: {{capacity: 5, refill_per_second: 0.001}}
    per_tool: null
  - name: pinning
  - name: authorization
  - name: arguments
  - name: output
""",
                encoding="utf-8",
            )
            stack.enter_context(running_gateway(config, port, tmp_path / f"gw{i}.log"))
        yield ports


async def test_buckets_are_shared_across_processes(two_gateways: list[int]) -> None:
    headers = {"X-API-Key": KEY, "mcp-protocol-version": "2026-07-28"}
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo.echo", "arguments": {"text": "x"}},
    }
    outcomes = []
    async with httpx2.AsyncClient(timeout=60) as http:
        for i in range(10):
            port = two_gateways[i % 2]
            r = await http.post(f"http://127.0.0.1:{port}/mcp", json=call, headers=headers)
            body = r.json()
            outcomes.append("result" in body)
            if "error" in body:
                assert body["error"]["data"]["guard"] == "ratelimit", body
    assert sum(outcomes) == 5  # one bucket of 5 for the principal, whichever process serves it
    assert outcomes[:5] == [True] * 5
