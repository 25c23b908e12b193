"""The HTTP transport's framing checks and session binding (the handler is trivial here)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp_types import JSONRPCMessage, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.transports.downstream import Downstream
from mcp_bastion.transports.http_downstream import HttpDownstream, HttpRefusal, TransportLimits
from mcp_bastion.types import AuthMethod, Principal

pytestmark = pytest.mark.anyio

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
HEADERS = {"host": "127.0.0.1:8765", "content-type": "application/json", "accept": "application/json"}


async def echo(message: JSONRPCMessage, downstream: Downstream) -> JSONRPCMessage | None:
    if isinstance(message, JSONRPCRequest):
        return JSONRPCResponse(
            jsonrpc="2.0",
            id=message.id,
            result={"who": downstream.principal.subject, "v": downstream.protocol_version},
        )
    return None


async def by_header(headers: dict[str, str]) -> Principal | HttpRefusal:
    # Test identity source: the transport under test only consumes the principal.
    user = headers.get("x-user")
    if user is None:
        return HttpRefusal(401, "authentication required", (("WWW-Authenticate", 'Bearer realm="t"'),))
    return Principal(subject=user, auth_method=AuthMethod.API_KEY)


def client(max_body: int = 4096) -> httpx2.AsyncClient:
    app = HttpDownstream(
        echo,
        authenticate=by_header,
        limits=TransportLimits(
            max_body_bytes=max_body,
            allowed_hosts=frozenset({"127.0.0.1:8765"}),
            allowed_origins=frozenset({"http://127.0.0.1:8765"}),
        ),
    )
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8765")


async def test_initialize_issues_a_session_bound_to_its_principal() -> None:
    async with client() as c:
        r = await c.post("/mcp", json=INIT, headers={**HEADERS, "x-user": "alice"})
        assert r.status_code == 200
        sid = r.headers["mcp-session-id"]
        assert len(sid) >= 40
        ok = await c.post("/mcp", json=PING, headers={**HEADERS, "x-user": "alice", "mcp-session-id": sid})
        assert ok.status_code == 200 and ok.json()["result"]["who"] == "alice"
        stolen = await c.post(
            "/mcp", json=PING, headers={**HEADERS, "x-user": "mallory", "mcp-session-id": sid}
        )
        assert stolen.status_code == 404
        assert stolen.json()["error"]["message"] == "session not found"
        gone = await c.delete("/mcp", headers={**HEADERS, "x-user": "alice", "mcp-session-id": sid})
        assert gone.status_code == 200
        after = await c.post("/mcp", json=PING, headers={**HEADERS, "x-user": "alice", "mcp-session-id": sid})
        assert after.status_code == 404


async def test_modern_requests_need_no_session() -> None:
    async with client() as c:
        r = await c.post(
            "/mcp", json=PING, headers={**HEADERS, "x-user": "a", "mcp-protocol-version": "2026-07-28"}
        )
        assert r.status_code == 200 and r.json()["result"]["v"] == "2026-07-28"
        legacy = await c.post("/mcp", json=PING, headers={**HEADERS, "x-user": "a"})
        assert legacy.status_code == 400 and "Mcp-Session-Id" in legacy.json()["error"]["message"]


async def test_unauthenticated_gets_401_with_challenge() -> None:
    async with client() as c:
        r = await c.post("/mcp", json=INIT, headers=HEADERS)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["code"] == -32600


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"host": "evil.example:8765"}, 421), ({"origin": "http://evil.example"}, 403)],
)
async def test_dns_rebinding_is_refused(headers: dict[str, str], status: int) -> None:
    async with client() as c:
        r = await c.post("/mcp", json=INIT, headers={**HEADERS, "x-user": "a", **headers})
        assert r.status_code == status
        assert r.json()["jsonrpc"] == "2.0" and "error" in r.json()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (json.dumps([INIT, PING]).encode(), 400, -32600),
        (b"\xff\xfe{}", 400, -32700),
        (b'{"jsonrpc": "2.0", "id": 1, "method": ', 400, -32700),
        (b'{"hello": "world"}', 400, -32600),
        (b"", 400, -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 5000 + b'"}}', 413, -32600),
    ],
    ids=["batch", "invalid-utf8", "broken-json", "not-jsonrpc", "empty", "oversize"],
)
async def test_bad_bodies_get_jsonrpc_errors(body: bytes, status: int, code: int) -> None:
    async with client() as c:
        r = await c.post("/mcp", content=body, headers={**HEADERS, "x-user": "a"})
        assert r.status_code == status
        payload = r.json()
        assert payload["jsonrpc"] == "2.0" and payload["id"] is None
        assert payload["error"]["code"] == code


async def test_other_methods_are_405() -> None:
    async with client() as c:
        r = await c.put("/mcp", content=b"{}", headers={**HEADERS, "x-user": "a"})
        assert r.status_code == 405


@asynccontextmanager
async def serving(app: HttpDownstream) -> AsyncIterator[int]:
    """Serve ``app`` with uvicorn on a free loopback port (streams need a real server)."""
    import socket

    import anyio
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await anyio.sleep(0.01)
        try:
            yield port
        finally:
            server.should_exit = True


async def test_get_stream_carries_broadcast_notifications() -> None:
    """A live session's GET stream receives what the gateway broadcasts (over real HTTP)."""
    import anyio
    from mcp_types import JSONRPCNotification

    app = HttpDownstream(
        echo,
        authenticate=by_header,
        limits=TransportLimits(allowed_hosts=frozenset({"127.0.0.1"})),
    )
    async with serving(app) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx2.AsyncClient(timeout=10) as c:
            headers = {**HEADERS, "host": f"127.0.0.1:{port}", "x-user": "alice"}
            sid = (await c.post(url, json=INIT, headers=headers)).headers["mcp-session-id"]
            stream_headers = {**headers, "mcp-session-id": sid, "accept": "text/event-stream"}
            async with c.stream("GET", url, headers=stream_headers) as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()
                assert (await anext(lines)).startswith(":")  # the opening comment
                app.broadcast(JSONRPCNotification(jsonrpc="2.0", method="notifications/tools/list_changed"))
                seen: list[str] = []
                with anyio.fail_after(5):
                    async for line in lines:
                        if line.startswith("data:"):
                            seen.append(line)
                            break
                assert json.loads(seen[0][5:])["method"] == "notifications/tools/list_changed"


async def test_relayed_request_is_answered_only_from_its_own_session() -> None:
    """A request relayed on alice's SSE stream: bob's session cannot answer it; alice's can."""
    import anyio

    async def asking(message: JSONRPCMessage, downstream: Downstream) -> JSONRPCMessage | None:
        if isinstance(message, JSONRPCRequest) and message.method == "tools/call":
            assert downstream.ask is not None
            answer = await downstream.ask(
                JSONRPCRequest(jsonrpc="2.0", id=0, method="elicitation/create", params={"message": "ok?"})
            )
            result = answer.result if isinstance(answer, JSONRPCResponse) else {"error": True}
            return JSONRPCResponse(jsonrpc="2.0", id=message.id, result={"answer": result})
        return await echo(message, downstream)

    app = HttpDownstream(asking, authenticate=by_header, limits=TransportLimits())
    async with serving(app) as port:
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx2.AsyncClient(timeout=10) as c:
            base = {**HEADERS, "host": f"127.0.0.1:{port}", "accept": "application/json, text/event-stream"}
            alice = {**base, "x-user": "alice"}
            bob = {**base, "x-user": "bob"}
            alice["mcp-session-id"] = (await c.post(url, json=INIT, headers=alice)).headers["mcp-session-id"]
            bob["mcp-session-id"] = (await c.post(url, json=INIT, headers=bob)).headers["mcp-session-id"]
            call = {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {"name": "t", "arguments": {}},
            }
            async with c.stream("POST", url, json=call, headers=alice) as stream:
                assert stream.headers["content-type"] == "text/event-stream"
                lines = stream.aiter_lines()
                with anyio.fail_after(5):
                    async for line in lines:
                        if line.startswith("data:"):
                            relayed = json.loads(line[5:])
                            break
                assert relayed["method"] == "elicitation/create"
                forged = {
                    "jsonrpc": "2.0",
                    "id": relayed["id"],
                    "result": {"action": "accept", "content": {}},
                }
                assert (await c.post(url, json=forged, headers=bob)).status_code == 202
                genuine = {"jsonrpc": "2.0", "id": relayed["id"], "result": {"action": "decline"}}
                assert (await c.post(url, json=genuine, headers=alice)).status_code == 202
                with anyio.fail_after(5):
                    async for line in lines:
                        if line.startswith("data:"):
                            final = json.loads(line[5:])
                            break
        assert final["id"] == 7
        assert final["result"]["answer"] == {"action": "decline"}  # bob's forged accept was ignored
