"""The egress proxy on its own: rules, refusals with clear status codes, tunnel bounds.

The proxy runs in the test's event loop on a loopback port; upstreams are real loopback
listeners in the same loop. Timeouts are made small so the tests are quick; nothing
asserts on elapsed time, only on what the client receives.
"""

from __future__ import annotations

import ipaddress
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream

from mcp_bastion.config.sandbox import EgressPolicy, SandboxProfile, parse_egress_entry
from mcp_bastion.sandbox.egress import MAX_HEAD_BYTES, EgressDecision, EgressProxy, EgressRules

pytestmark = pytest.mark.anyio

Handler = Callable[[SocketStream], Awaitable[None]]


async def _echo(stream: SocketStream) -> None:
    async with stream:
        try:
            async for chunk in stream:
                await stream.send(chunk)
        except (anyio.BrokenResourceError, OSError):
            pass


async def _silent(stream: SocketStream) -> None:
    async with stream:
        await anyio.sleep_forever()


async def _firehose(stream: SocketStream) -> None:
    async with stream:
        try:
            while True:
                await stream.send(b"x" * 4096)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass


@asynccontextmanager
async def _listener(handler: Handler) -> AsyncIterator[int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handler)
        yield int(listener.extra(SocketAttribute.local_port))
        tg.cancel_scope.cancel()


@asynccontextmanager
async def _proxy(**policy: Any) -> AsyncIterator[tuple[int, list[EgressDecision], EgressProxy]]:
    decisions: list[EgressDecision] = []
    head_timeout = policy.pop("head_timeout_s", 5.0)
    proxy = EgressProxy(EgressPolicy(**policy), on_decision=decisions.append, head_timeout_s=head_timeout)
    async with proxy.serve_tcp() as port:
        yield port, decisions, proxy


async def _ask(port: int, request: bytes) -> bytes:
    """Send ``request`` to the proxy and read until it closes the connection."""
    answer = b""
    with anyio.fail_after(10):
        async with await anyio.connect_tcp("127.0.0.1", port) as conn:
            await conn.send(request)
            try:
                async for chunk in conn:
                    answer += chunk
            except (anyio.BrokenResourceError, OSError):
                pass
    return answer


def _status(answer: bytes) -> str:
    return answer.split(b"\r\n")[0].decode()


def test_rules_wildcards_ports_and_literals() -> None:
    rules = EgressRules(
        EgressPolicy(allow=["*.pypi.org", "api.example.com:8443", "10.1.2.3:5432", "[::1]:80"])
    )
    assert rules.listed("files.pypi.org", 443)
    assert rules.listed("a.b.pypi.org", 443)
    assert not rules.listed("pypi.org", 443)  # the wildcard is below the name, not the name
    assert not rules.listed("evilpypi.org", 443)
    assert not rules.listed("files.pypi.org", 80)
    assert rules.listed("api.example.com", 8443)
    assert not rules.listed("api.example.com", 443)
    assert rules.listed("10.1.2.3", 5432)
    assert rules.listed("::1", 80)
    assert not rules.listed("10.1.2.4", 5432)


def test_rules_refuse_non_global_addresses_of_names_unless_opted_in() -> None:
    plain = EgressRules(EgressPolicy(allow=["db.internal:5432"]))
    opted = EgressRules(EgressPolicy(allow=["db.internal:5432"], private_networks=["10.0.0.0/8"]))
    for text in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "192.168.1.1", "::1", "fe80::1", "0.0.0.0"):
        assert not plain.permitted(ipaddress.ip_address(text), 5432, literal=False), text
    assert not plain.permitted(ipaddress.ip_address("::ffff:127.0.0.1"), 5432, literal=False)
    assert plain.permitted(ipaddress.ip_address("93.184.215.14"), 5432, literal=False)
    assert opted.permitted(ipaddress.ip_address("10.0.0.5"), 5432, literal=False)
    assert not opted.permitted(ipaddress.ip_address("127.0.0.1"), 5432, literal=False)
    # A literal is permitted only when listed as that literal (and then even if private).
    literal = EgressRules(EgressPolicy(allow=["10.1.2.3:5432"]))
    assert literal.permitted(ipaddress.ip_address("10.1.2.3"), 5432, literal=True)
    assert not literal.permitted(ipaddress.ip_address("10.1.2.4"), 5432, literal=True)


@pytest.mark.parametrize(
    "entry",
    ["*.com", "a.*.example.com", "127.1", "2130706433", "0x7f000001", "h:0", "h:70000", "[zz]:1", "a b"],
)
def test_allow_list_entries_are_validated(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_egress_entry(entry)
    with pytest.raises(ValueError):
        EgressPolicy(allow=[entry])


def test_allow_list_is_normalised_and_needs_its_network_mode() -> None:
    assert EgressPolicy(allow=["API.Example.COM.", "[::1]:80"]).allow == ["api.example.com:443", "[::1]:80"]
    with pytest.raises(ValueError, match="egress"):
        SandboxProfile(network="host", egress=EgressPolicy(allow=["x.example.com"]))
    with pytest.raises(ValueError, match="isolation"):
        SandboxProfile(isolation="none", network="egress", egress=EgressPolicy(allow=["x.example.com"]))
    with pytest.raises(ValueError):
        EgressPolicy(allow=[])
    with pytest.raises(ValueError, match="network"):
        EgressPolicy(allow=["x.example.com"], private_networks=["not-a-net"])


async def test_allowed_tunnel_carries_bytes_both_ways_including_pipelined_ones() -> None:
    async with (
        _listener(_echo) as upstream,
        _proxy(allow=[f"localhost:{upstream}"], private_networks=["127.0.0.0/8"]) as (port, decisions, _),
    ):
        with anyio.fail_after(10):
            async with await anyio.connect_tcp("127.0.0.1", port) as conn:
                await conn.send(f"CONNECT localhost:{upstream} HTTP/1.1\r\nHost: x\r\n\r\nping".encode())
                answer = b""
                while not answer.endswith(b"ping"):
                    answer += await conn.receive()
                assert answer == b"HTTP/1.1 200 Connection established\r\n\r\nping"
                await conn.send(b"pong")
                assert await conn.receive() == b"pong"
    assert decisions == [EgressDecision(True, "allowed", "localhost", upstream, "127.0.0.1")]


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (
            b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
            "HTTP/1.1 405 Method Not Allowed",
            "method",
        ),
        (b"POST / HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed", "method"),
        (b"CONNECT example.com HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (b"CONNECT example.com:443\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (b"CONNECT *.example.com:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (
            b"CONNECT example.com:443 HTTP/1.1\r\nno colon here\r\n\r\n",
            "HTTP/1.1 400 Bad Request",
            "malformed",
        ),
        (b"CONNECT \xff\xfe:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (b"\x16\x03\x01\x02\x00\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (b"CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed"),
        (b"CONNECT other.example.com:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 403 Forbidden", "not-listed"),
        (b"CONNECT allowed.example.com:80 HTTP/1.1\r\n\r\n", "HTTP/1.1 403 Forbidden", "not-listed"),
    ],
)
async def test_refusals_are_clear(request_bytes: bytes, status: str, reason: str) -> None:
    async with _proxy(allow=["allowed.example.com"]) as (port, decisions, _):
        answer = await _ask(port, request_bytes)
    assert _status(answer) == status
    assert f"bastion egress: {reason}".encode() in answer
    assert [(d.allowed, d.reason) for d in decisions] == [(False, reason)]
    if status.startswith("HTTP/1.1 405"):
        assert b"\r\nAllow: CONNECT\r\n" in answer


async def test_oversize_head_is_refused() -> None:
    async with _proxy(allow=["allowed.example.com"]) as (port, decisions, _):
        request = b"CONNECT allowed.example.com:443 HTTP/1.1\r\nX-Pad: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
        answer = await _ask(port, request)
    assert _status(answer) == "HTTP/1.1 431 Request Header Fields Too Large"
    assert decisions[0].reason == "head-too-large"


async def test_slow_head_times_out() -> None:
    async with _proxy(allow=["allowed.example.com"], head_timeout_s=0.2) as (port, decisions, _):
        answer = await _ask(port, b"CONNECT allowed.example.com:443 HTTP/1.1\r\n")
    assert _status(answer) == "HTTP/1.1 408 Request Timeout"
    assert decisions[0].reason == "head-timeout"


async def test_name_resolving_to_loopback_is_refused_without_opt_in() -> None:
    async with _listener(_echo) as upstream, _proxy(allow=[f"localhost:{upstream}"]) as (port, decisions, _):
        answer = await _ask(port, f"CONNECT localhost:{upstream} HTTP/1.1\r\n\r\n".encode())
    assert _status(answer) == "HTTP/1.1 403 Forbidden"
    assert decisions[0].reason == "address-not-permitted"
    assert "127.0.0.1" in (decisions[0].address or "")


async def test_connect_failure_is_a_bad_gateway() -> None:
    async with _listener(_echo) as closed_port:
        pass  # the port is closed again: nothing listens there
    async with _proxy(allow=[f"127.0.0.1:{closed_port}"]) as (port, decisions, _):
        answer = await _ask(port, f"CONNECT 127.0.0.1:{closed_port} HTTP/1.1\r\n\r\n".encode())
    assert _status(answer) == "HTTP/1.1 502 Bad Gateway"
    assert decisions[0].reason == "connect-failed"


async def test_idle_tunnel_is_closed() -> None:
    async with (
        _listener(_silent) as upstream,
        _proxy(allow=[f"127.0.0.1:{upstream}"], idle_timeout_s=0.3) as (port, _, proxy),
    ):
        answer = await _ask(port, f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\n\r\n".encode())
        assert answer == b"HTTP/1.1 200 Connection established\r\n\r\n"  # then closed, never data
        with anyio.fail_after(5):
            while proxy.active:  # noqa: ASYNC110 - polling a counter; the proxy has no event for it
                await anyio.sleep(0.01)


async def test_tunnel_byte_budget_ends_the_tunnel() -> None:
    async with (
        _listener(_firehose) as upstream,
        _proxy(allow=[f"127.0.0.1:{upstream}"], max_bytes=10_000) as (port, _, _),
    ):
        answer = await _ask(port, f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head == b"HTTP/1.1 200 Connection established"
    assert len(body) == 10_000  # exactly the budget, then the tunnel is closed


async def test_connections_beyond_the_limit_are_refused() -> None:
    async with (
        _proxy(allow=["allowed.example.com"], max_connections=1) as (port, decisions, proxy),
        await anyio.connect_tcp("127.0.0.1", port) as first,
    ):
        await first.send(b"CONNECT allowed")  # an unfinished head holds the one slot
        with anyio.fail_after(5):
            while proxy.active < 1:  # noqa: ASYNC110 - polling a counter; the proxy has no event for it
                await anyio.sleep(0.01)
        answer = await _ask(port, b"CONNECT allowed.example.com:443 HTTP/1.1\r\n\r\n")
    assert _status(answer) == "HTTP/1.1 503 Service Unavailable"
    assert decisions[0].reason == "too-many-connections"


async def test_unix_socket_is_private(tmp_path: Path) -> None:
    proxy = EgressProxy(EgressPolicy(allow=["allowed.example.com"]))
    async with proxy.serve_unix(str(tmp_path / "proxy.sock")) as path:
        assert stat.S_IMODE((await anyio.Path(path).stat()).st_mode) == 0o600
        with anyio.fail_after(10):
            async with await anyio.connect_unix(path) as conn:
                await conn.send(b"GET / HTTP/1.1\r\n\r\n")
                assert (await conn.receive()).startswith(b"HTTP/1.1 405")
