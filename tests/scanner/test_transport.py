"""Transport checks against real HTTP servers on loopback: a careless one and the SDK's own."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mcp_bastion.scanner.targets import parse_target
from mcp_bastion.scanner.transport import is_loopback, session_id_weakness, transport_checks

pytestmark = pytest.mark.anyio


def careless_app() -> Starlette:
    """Everything wrong at once: bearer 't' without metadata, counters as session ids, batches, traces."""
    counter = itertools.count(1000)

    async def mcp(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer t":
            return PlainTextResponse("unauthorized", status_code=401)
        raw = await request.body()
        try:
            doc: Any = json.loads(raw)
        except ValueError:
            trace = 'Traceback (most recent call last):\n  File "/srv/app.py", line 12, in mcp\nValueError'
            return PlainTextResponse(trace, status_code=500)
        if isinstance(doc, list):
            return JSONResponse([{"jsonrpc": "2.0", "id": m.get("id"), "result": {}} for m in doc])
        sid = str(next(counter))
        return JSONResponse(
            {"jsonrpc": "2.0", "id": doc.get("id"), "result": {}}, headers={"mcp-session-id": sid}
        )

    return Starlette(routes=[Route("/mcp", mcp, methods=["POST"])])


def sdk_app() -> Starlette:
    from mcp.server.mcpserver import MCPServer

    server: MCPServer[Any] = MCPServer(name="plain")

    @server.tool()
    def echo(text: str) -> str:
        """Echo."""
        return text

    return server.streamable_http_app(json_response=True)


def serve(app: Starlette) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def careless_url() -> Iterator[str]:
    yield from serve(careless_app())


@pytest.fixture(scope="module")
def sdk_url() -> Iterator[str]:
    yield from serve(sdk_app())


async def test_careless_server_fails_every_check(careless_url: str) -> None:
    without = {f.rule_id for f in await transport_checks(parse_target(careless_url))}
    assert "BST-SCAN-502" in without  # 401 but no RFC 9728 metadata
    found = {f.rule_id for f in await transport_checks(parse_target(careless_url, token="t"))}
    assert found == {
        "BST-SCAN-502",
        "BST-SCAN-503",
        "BST-SCAN-504",
        "BST-SCAN-506",
        "BST-SCAN-507",
        "BST-SCAN-508",
    }


async def test_sdk_server_only_lacks_authentication(sdk_url: str) -> None:
    found = {f.rule_id for f in await transport_checks(parse_target(sdk_url))}
    assert found == {"BST-SCAN-501"}


def test_session_id_weakness() -> None:
    assert session_id_weakness(["1", "2"]) == "numeric session ids"
    assert session_id_weakness(["abc", "abc"]) == "the same session id was issued twice"
    assert session_id_weakness(["a" * 31 + "1", "a" * 31 + "2"]) is not None
    strong = ["3f9c2b7e1d4a4c8f9e0b6a5d2c1f7e8a", "9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"]
    assert session_id_weakness(strong) is None
    assert session_id_weakness(strong[:1]) is None


def test_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("localhost")
    assert is_loopback("[::1]")
    assert not is_loopback("10.0.0.1")
    assert not is_loopback("example.com")


async def test_plain_http_off_loopback_reported_without_connecting() -> None:
    target = parse_target("http://203.0.113.9:9/mcp")
    found = await transport_checks(target, timeout_s=0.5)
    assert "BST-SCAN-505" in {f.rule_id for f in found}
