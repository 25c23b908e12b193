"""``listeners.http.tls_cert_file``/``tls_key_file``: the gateway serves HTTPS (real process)."""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from tests.gateway.procs import ECHO, free_port, running_gateway
from tests.tlsutil import self_signed

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    cert, key = self_signed(tmp_path)
    port = free_port()
    api_key = "tls-test-key-0123456789"
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    db = f"sqlite:///{tmp_path}/s.db"
    config = tmp_path / "bastion.yaml"
    config.write_text(
        f"""version: 1
listeners:
  http: {{host: 127.0.0.1, port: {port}, tls_cert_file: "{cert}", tls_key_file: "{key}"}}
identities:
  api_keys: [{{sha256: {digest}, subject: t, roles: [viewer]}}]
upstreams:
  echo:
    command: [{sys.executable}, {ECHO}, --transport, stdio]
    sandbox: {{read_paths: ["{Path(ECHO).parent}"]}}
stores: {{pins: "{db}", approvals: "{db}", audit: "{db}"}}
""",
        encoding="utf-8",
    )
    with running_gateway(config, port, tmp_path / "gateway.log"):
        yield port, cert, api_key


async def test_gateway_serves_https_with_configured_certificate(tls_gateway: tuple[int, Path, str]) -> None:
    port, cert, api_key = tls_gateway
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
    async with httpx2.AsyncClient(verify=ssl.create_default_context(cafile=str(cert))) as https:
        r = await https.post(f"https://127.0.0.1:{port}/mcp", json=init, headers={"X-API-Key": api_key})
        assert r.status_code == 200 and r.json()["result"]["serverInfo"]["name"] == "mcp-bastion"
        meta = await https.get(f"https://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp")
        assert meta.json()["resource"] == f"https://127.0.0.1:{port}/mcp"
    async with httpx2.AsyncClient() as plain:
        with pytest.raises(httpx2.HTTPError):
            await plain.post(f"http://127.0.0.1:{port}/mcp", json=init)
