"""The lean HTTP upstream transport against a real SDK server (JSON and SSE answers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.errors import UpstreamError
from mcp_bastion.transports.openers import http_opener
from mcp_bastion.transports.upstream import UpstreamConnection

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


def server() -> MCPServer[Any]:
    mcp: MCPServer[Any] = MCPServer("echo")

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def echo(text: str) -> str:
        """Echo."""
        return text

    return mcp


@pytest.fixture(params=[True, False], ids=["json", "sse"])
def upstream_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    app = server().streamable_http_app(json_response=request.param)
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


async def test_initialize_list_and_call_over_json_and_sse(upstream_url: str) -> None:
    async with UpstreamConnection("echo", http_opener(upstream_url)) as conn:
        await conn.ensure_connected()
        assert conn.initialize_result is not None
        assert conn.initialize_result["serverInfo"]["name"] == "echo"
        listed = await conn.call("tools/list")
        assert isinstance(listed, JSONRPCResponse)
        assert [t["name"] for t in listed.result["tools"]] == ["echo"]
        for i in range(5):
            request = JSONRPCRequest(
                jsonrpc="2.0",
                id=f"client-{i}",
                method="tools/call",
                params={"name": "echo", "arguments": {"text": str(i)}},
            )
            reply = await conn.request(request)
            assert isinstance(reply, JSONRPCResponse) and reply.id == f"client-{i}"  # id restored
            assert reply.result["structuredContent"] == {"result": str(i)}
        bad = await conn.call("tools/call", {"name": "nope", "arguments": {}})
        assert isinstance(bad, JSONRPCResponse | JSONRPCError)


async def test_unreachable_upstream_is_a_clean_upstream_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    async with UpstreamConnection(
        "gone", http_opener(f"http://127.0.0.1:{port}/mcp"), connect_timeout=5
    ) as conn:
        with pytest.raises(UpstreamError) as raised:
            await conn.ensure_connected()
        assert raised.value.public_message == "upstream server 'gone' is unavailable"
