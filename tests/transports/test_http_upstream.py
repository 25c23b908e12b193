"""The lean HTTP upstream transport against a real SDK server (JSON and SSE answers)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp.types import ToolAnnotations
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse
from tests.tlsutil import self_signed

from mcp_bastion.errors import UpstreamError
from mcp_bastion.transports.http_upstream import MAX_HEAD, UpstreamHTTP, UpstreamHTTPError, http_upstream
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


# --- The HTTP/1.1 client against scripted servers (framing, bounds, pool, session) ---

Respond = Callable[[bytes, bytes], bytes]


def http_answer(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"{head}content-length: {len(body)}\r\n\r\n".encode() + body


def chunked(body: bytes, headers: dict[str, str] | None = None, *, sizes: int = 7) -> bytes:
    head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    parts = [body[i : i + sizes] for i in range(0, len(body), sizes)]
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts)
    return head.encode() + b"\r\n" + chunks + b"0\r\nx-trailer: 1\r\n\r\n"


@dataclass
class RawServer:
    """A scripted HTTP/1.1 server: counts connections and requests, answers via ``respond``."""

    respond: Respond
    close_after_answer: bool = False
    connections: int = 0
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                body = await reader.readexactly(int(found.group(1))) if found else b""
                self.requests.append((head, body))
                writer.write(self.respond(head, body))
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test ended with this connection idle
        finally:
            writer.close()


@asynccontextmanager
async def raw_server(respond: Respond, *, close_after_answer: bool = False) -> AsyncIterator[RawServer]:
    state = RawServer(respond, close_after_answer)
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp"
    async with server:
        yield state


INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "fake", "version": "1"},
}


def fake_mcp(call: Callable[[dict[str, Any]], bytes], *, framing: Callable[..., bytes] = chunked) -> Respond:
    """A minimal 2025-11-25 server: initialize (session ``s1``), 202 for notifications, ``call`` else."""

    def respond(head: bytes, body: bytes) -> bytes:
        message = json.loads(body) if body else {}
        if head.startswith(b"DELETE"):
            return http_answer("200 OK")
        if message.get("method") == "initialize":
            answer = {"jsonrpc": "2.0", "id": message["id"], "result": INIT_RESULT}
            return framing(
                json.dumps(answer).encode(), {"content-type": "application/json", "mcp-session-id": "s1"}
            )
        if "id" not in message:
            return http_answer("202 Accepted")
        return call(message)

    return respond


def echo_call(message: dict[str, Any]) -> bytes:
    answer = {"jsonrpc": "2.0", "id": message["id"], "result": {"echo": message["params"]}}
    return chunked(json.dumps(answer).encode(), {"content-type": "application/json"})


async def test_chunked_answers_and_one_reused_connection() -> None:
    async with raw_server(fake_mcp(echo_call)) as srv:
        async with UpstreamConnection("fake", http_opener(srv.url)) as conn:
            for i in range(5):
                reply = await conn.call("tools/call", {"n": i})
                assert isinstance(reply, JSONRPCResponse) and reply.result == {"echo": {"n": i}}
        # initialize, initialized, 5 calls and the DELETE on kept-alive connections: the
        # notification's POST may overlap the first call, so two at most.
        assert [h.split(b" ")[0] for h, _ in srv.requests].count(b"POST") == 7
        assert srv.requests[-1][0].startswith(b"DELETE /mcp HTTP/1.1")
        assert all(b"mcp-session-id: s1" in h for h, _ in srv.requests[1:])
        assert srv.connections <= 2


async def test_server_closing_kept_alive_connection_is_noticed_before_reuse() -> None:
    async with raw_server(lambda h, b: http_answer("200 OK", b"pong"), close_after_answer=True) as srv:
        client = UpstreamHTTP(srv.url)
        for _ in range(3):
            async with client.request("POST", {}, b"ping") as response:
                assert await response.read(1024) == b"pong"
            # The server closed the idle connection; wait until the client's loop saw the FIN.
            for _ in range(200):
                if not client._idle or client._idle[0].reader.at_eof():
                    break
                await anyio.sleep(0.01)
        assert srv.connections == 3 and client.connections_made == 3


async def test_oversize_answers_are_refused_without_buffering_them() -> None:
    big = b"x" * (2 * 1024 * 1024)
    async with raw_server(lambda h, b: http_answer("200 OK", big)) as srv:
        assert len(await _post(UpstreamHTTP(srv.url, max_body=4 * 1024 * 1024))) == len(
            big
        )  # the attack payload
        with pytest.raises(UpstreamHTTPError, match="too large"):
            await _post(UpstreamHTTP(srv.url, max_body=1024 * 1024))
    # A chunk announcing 2 GiB: refused once the bound is passed, not allocated up front.
    huge_chunk = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7fffffff\r\n" + big
    async with raw_server(lambda h, b: huge_chunk) as srv:
        with pytest.raises(UpstreamHTTPError, match="too large"):
            await _post(UpstreamHTTP(srv.url, max_body=1024 * 1024))
    # An endless response head.
    endless_head = b"HTTP/1.1 200 OK\r\nx-junk: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n"
    async with raw_server(lambda h, b: endless_head) as srv:
        with pytest.raises(UpstreamHTTPError):
            await _post(UpstreamHTTP(srv.url))


async def _post(client: UpstreamHTTP) -> bytes:
    async with client.request("POST", {}, b"{}") as response:
        return await response.read(client.max_body)


async def test_header_injection_is_refused() -> None:
    with pytest.raises(UpstreamHTTPError):
        UpstreamHTTP("http://127.0.0.1:1/mcp", headers={"x-key": "k\r\nx-evil: 1"})
    client = UpstreamHTTP("http://127.0.0.1:1/mcp")
    with pytest.raises(UpstreamHTTPError):
        async with client.request("POST", {"mcp-protocol-version": "2025-11-25\r\nx-evil: 1"}):
            pass


async def test_sse_answer_tags_every_message_with_its_request() -> None:
    def call(message: dict[str, Any]) -> bytes:
        ask = {"jsonrpc": "2.0", "id": 99, "method": "elicitation/create", "params": {"message": "ok?"}}
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": 1, "progress": 1},
        }
        done = {"jsonrpc": "2.0", "id": message["id"], "result": {"done": True}}
        events = [
            f": comment\r\nevent: message\r\nid: {i}\r\ndata: {json.dumps(m)}\r\n\r\n"
            for i, m in enumerate([ask, note, done])
        ]
        # Chunks of 7 bytes split CRLFs and fields across chunk boundaries.
        return chunked("".join(events).encode(), {"content-type": "text/event-stream"})

    async with raw_server(fake_mcp(call)) as srv:
        async with http_upstream(srv.url, UpstreamHTTP(srv.url)) as (read, write):
            request = JSONRPCRequest(jsonrpc="2.0", id=7, method="tools/call", params={"name": "x"})
            await write.send(SessionMessage(request))
            got = [await read.receive() for _ in range(3)]
        assert [type(m).__name__ for m in got] == ["SessionMessage"] * 3
        messages = [m for m in got if isinstance(m, SessionMessage)]
        assert (
            isinstance(messages[0].message, JSONRPCRequest)
            and messages[0].message.method == "elicitation/create"
        )
        assert isinstance(messages[2].message, JSONRPCResponse) and messages[2].message.result == {
            "done": True
        }
        for m in messages:
            assert isinstance(m.metadata, ServerMessageMetadata) and m.metadata.related_request_id == 7
        assert srv.connections == 1  # the finished event stream left the connection reusable


async def test_session_404_ends_the_streams_and_the_next_call_reinitialises() -> None:
    expired = {"now": False}

    def call(message: dict[str, Any]) -> bytes:
        return http_answer("404 Not Found") if expired["now"] else echo_call(message)

    async with raw_server(fake_mcp(call)) as srv:
        async with UpstreamConnection("fake", http_opener(srv.url), reconnect_interval=0) as conn:
            assert isinstance(await conn.call("tools/call", {}), JSONRPCResponse)
            expired["now"] = True
            with pytest.raises(UpstreamError):
                await conn.call("tools/call", {})
            expired["now"] = False
            assert isinstance(await conn.call("tools/call", {}), JSONRPCResponse)
        inits = [b for _, b in srv.requests if b'"initialize"' in b]
        assert len(inits) == 2


async def test_redirect_is_not_followed() -> None:
    async with raw_server(fake_mcp(echo_call)) as target:
        moved = http_answer("307 Temporary Redirect", headers={"location": target.url})
        async with raw_server(lambda h, b: moved) as srv:
            async with UpstreamConnection("moved", http_opener(srv.url), connect_timeout=5) as conn:
                with pytest.raises(UpstreamError):
                    await conn.ensure_connected()
            assert len(srv.requests) == 1
        assert target.requests == []


async def test_https_verifies_the_upstream_certificate(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    pem = cert_file.read_text()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    state = RawServer(lambda h, b: http_answer("200 OK", b"secret"))
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0, ssl=server_tls)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp"
    async with server:
        untrusted = UpstreamHTTP(url)
        with pytest.raises(UpstreamHTTPError):  # an unknown certificate is refused
            await _post(untrusted)
        trusting = UpstreamHTTP(url)
        assert trusting.ssl is not None
        trusting.ssl.load_verify_locations(cadata=pem)
        assert await _post(trusting) == b"secret"
        assert await _post(trusting) == b"secret"
        assert trusting.connections_made == 1
