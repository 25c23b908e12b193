"""The egress proxy: a CONNECT-only HTTP proxy in the gateway process, one per sandboxed server.

A server with ``network: egress`` has no network of its own. Under bubblewrap it reaches this
proxy through a Unix socket bind-mounted into its sandbox (and ``_forward.py``, which
offers that socket on the sandbox's private ``127.0.0.1``); under Landlock through a TCP
port on the host's loopback, the only TCP port Landlock lets it connect to.

The proxy answers only ``CONNECT host:port``: the target must be on the profile's allow
list; the proxy resolves the name itself and connects to an address it checked, so a
listed name that resolves to a loopback, private, link-local or otherwise non-global
address is refused (DNS rebinding of the allow list) unless that address is inside the
policy's ``private_networks``; an IP address is reachable only if listed as one. Every
decision is reported to ``on_decision`` (the sandbox turns it into an ``egress`` event).
Tunnels are bounded in number, bytes (both directions together) and idle time. Anything
else (another method, a malformed or oversized head, a slow head) gets a plain refusal
and the connection is closed: fail closed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from anyio.abc import ByteStream, Listener, SocketAttribute

from mcp_bastion.config.sandbox import EgressPolicy, parse_egress_entry

__all__ = ["MAX_HEAD_BYTES", "EgressDecision", "EgressProxy", "EgressRules"]

log = structlog.get_logger("mcp_bastion.sandbox")

MAX_HEAD_BYTES = 8192  # request line and headers; a CONNECT needs a few hundred
_CHUNK = 65536
_AUTHORITY = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):\d{1,5}$")
_QUIET = (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class EgressDecision:
    """One answer of the proxy: ``allowed`` or refused, for which target, and why.

    ``reason`` is ``allowed`` or one of ``not-listed``, ``address-not-permitted``,
    ``resolve-failed``, ``connect-failed``, ``method``, ``malformed``, ``head-too-large``,
    ``head-timeout``, ``too-many-connections``. ``host``/``port`` are empty/0 when the
    request never named a target; ``address`` is the address connected to (or refused).
    """

    allowed: bool
    reason: str
    host: str = ""
    port: int = 0
    address: str | None = None


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class EgressRules:
    """The allow list of one policy as lookups (pure, no I/O)."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.names: set[tuple[str, int]] = set()
        self.wildcards: set[tuple[str, int]] = set()  # (".example.com", port)
        self.addresses: set[tuple[Address, int]] = set()
        for entry in policy.allow:
            host, port = parse_egress_entry(entry)
            try:
                self.addresses.add((_unmapped(ipaddress.ip_address(host)), port))
            except ValueError:
                if host.startswith("*."):
                    self.wildcards.add((host[1:], port))
                else:
                    self.names.add((host, port))
        self.networks = [ipaddress.ip_network(net) for net in policy.private_networks]

    def listed(self, host: str, port: int) -> bool:
        """Is ``host:port`` (normalised by ``parse_egress_entry``) on the allow list?"""
        try:
            return (_unmapped(ipaddress.ip_address(host)), port) in self.addresses
        except ValueError:
            pass
        if (host, port) in self.names:
            return True
        return any(
            host.endswith(suffix) and (suffix, port) in self.wildcards for suffix in self._suffixes(host)
        )

    @staticmethod
    def _suffixes(host: str) -> list[str]:
        labels = host.split(".")
        return ["." + ".".join(labels[i:]) for i in range(1, len(labels))]

    def permitted(self, address: Address, port: int, *, literal: bool) -> bool:
        """May the proxy connect to ``address`` (resolved from a listed name, or listed itself)?"""
        address = _unmapped(address)
        if literal:
            return (address, port) in self.addresses  # a listed address is its own opt-in
        if address.is_global and not address.is_multicast:
            return True
        return any(address in net for net in self.networks if net.version == address.version)


def _response(code: int, reason: str, detail: str, extra: str = "") -> bytes:
    body = f"bastion egress: {detail}\n".encode()
    head = f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    return (head + extra + "Connection: close\r\n\r\n").encode() + body


_REFUSALS: dict[str, tuple[int, str]] = {
    "malformed": (400, "Bad Request"),
    "not-listed": (403, "Forbidden"),
    "address-not-permitted": (403, "Forbidden"),
    "method": (405, "Method Not Allowed"),
    "head-timeout": (408, "Request Timeout"),
    "head-too-large": (431, "Request Header Fields Too Large"),
    "resolve-failed": (502, "Bad Gateway"),
    "connect-failed": (502, "Bad Gateway"),
    "too-many-connections": (503, "Service Unavailable"),
}


class _RefusedError(Exception):
    def __init__(self, reason: str, host: str = "", port: int = 0, address: str | None = None) -> None:
        super().__init__(reason)
        self.decision = EgressDecision(False, reason, host, port, address)


class EgressProxy:
    """The CONNECT proxy of one sandboxed server (see the module docstring).

    ``handle(stream)`` serves one client connection; ``serve_unix(path)`` and
    ``serve_tcp()`` listen and serve until their block exits. Concurrency: one task per
    connection; ``active`` counts open connections (heads being read included).
    ``on_decision`` is called synchronously for every allowed or refused request; an
    exception from it refuses that request.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        on_decision: Callable[[EgressDecision], None] | None = None,
        head_timeout_s: float = 10.0,
    ) -> None:
        self.policy = policy
        self.rules = EgressRules(policy)
        self.on_decision = on_decision
        self.head_timeout_s = head_timeout_s
        self.active = 0

    def _report(self, decision: EgressDecision) -> None:
        log.info(
            "sandbox.egress",
            allowed=decision.allowed,
            reason=decision.reason,
            host=decision.host,
            port=decision.port,
            address=decision.address,
        )
        if self.on_decision is not None:
            self.on_decision(decision)

    async def handle(self, client: ByteStream) -> None:
        """Serve one connection: refuse it, or tunnel it to an allowed target until done."""
        async with client:
            self.active += 1
            try:
                opened = await self._admit(client)
                if opened is not None:
                    await self._tunnel(client, *opened)
            except Exception:  # fail closed: an unexpected error ends this connection only
                log.exception("sandbox.egress_error")
            finally:
                self.active -= 1

    async def _admit(self, client: ByteStream) -> tuple[ByteStream, bytes, EgressDecision] | None:
        """Read and judge the request; the open upstream, or None after a refusal was sent."""
        try:
            if self.active > self.policy.max_connections:
                raise _RefusedError("too-many-connections")
            upstream, rest, decision = await self._open(client)
        except _RefusedError as refused:
            with contextlib.suppress(Exception):
                self._report(refused.decision)
            code, text = _REFUSALS[refused.decision.reason]
            allow = "Allow: CONNECT\r\n" if code == 405 else ""
            with contextlib.suppress(*_QUIET):
                await client.send(_response(code, text, refused.decision.reason, allow))
            return None
        try:
            self._report(decision)
        except BaseException:
            await upstream.aclose()
            raise
        return upstream, rest, decision

    async def _read_head(self, client: ByteStream) -> tuple[bytes, bytes]:
        buffer = b""
        with anyio.move_on_after(self.head_timeout_s) as scope:
            while (end := buffer.find(b"\r\n\r\n")) < 0 and len(buffer) <= MAX_HEAD_BYTES:
                try:
                    buffer += await client.receive(_CHUNK)
                except _QUIET as exc:
                    raise _RefusedError("malformed") from exc
        if scope.cancelled_caught:
            raise _RefusedError("head-timeout")
        if end < 0 or end + 4 > MAX_HEAD_BYTES:
            raise _RefusedError("head-too-large")
        return buffer[:end], buffer[end + 4 :]

    @staticmethod
    def _target(head: bytes) -> tuple[str, int]:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or parts[2] not in {b"HTTP/1.0", b"HTTP/1.1"}:
            raise _RefusedError("malformed")
        if any(b":" not in line for line in lines[1:]):
            raise _RefusedError("malformed")
        if parts[0] != b"CONNECT":
            raise _RefusedError("method")
        try:
            authority = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise _RefusedError("malformed") from exc
        if not _AUTHORITY.match(authority):
            raise _RefusedError("malformed")
        try:
            host, port = parse_egress_entry(authority)
        except ValueError as exc:
            raise _RefusedError("malformed") from exc
        if host.startswith("*"):
            raise _RefusedError("malformed", host, port)
        return host, port

    async def _resolve(self, host: str, port: int) -> tuple[list[Address], bool]:
        try:
            return [ipaddress.ip_address(host)], True
        except ValueError:
            pass
        try:
            with anyio.fail_after(self.policy.connect_timeout_s):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise _RefusedError("resolve-failed", host, port) from exc
        found = dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
        return list(found), False

    async def _open(self, client: ByteStream) -> tuple[ByteStream, bytes, EgressDecision]:
        head, rest = await self._read_head(client)
        host, port = self._target(head)
        if not self.rules.listed(host, port):
            raise _RefusedError("not-listed", host, port)
        addresses, literal = await self._resolve(host, port)
        allowed = [a for a in addresses if self.rules.permitted(a, port, literal=literal)]
        if not allowed:
            raise _RefusedError("address-not-permitted", host, port, ",".join(map(str, addresses)))
        for address in allowed:
            try:
                with anyio.fail_after(self.policy.connect_timeout_s):
                    upstream = await anyio.connect_tcp(str(address), port)
            except (OSError, TimeoutError):
                continue
            return upstream, rest, EgressDecision(True, "allowed", host, port, str(address))
        raise _RefusedError("connect-failed", host, port, ",".join(map(str, allowed)))

    async def _tunnel(
        self, client: ByteStream, upstream: ByteStream, rest: bytes, decision: EgressDecision
    ) -> None:
        budget = self.policy.max_bytes
        idle = self.policy.idle_timeout_s
        last = anyio.current_time()
        moved = {"up": 0, "down": 0}
        open_directions = 2
        async with upstream, anyio.create_task_group() as tg:

            async def pump(source: ByteStream, sink: ByteStream, direction: str, first: bytes) -> None:
                nonlocal budget, last, open_directions
                data = first
                try:
                    while True:
                        if data:
                            exhausted = len(data) >= budget
                            data = data[:budget]
                            budget -= len(data)
                            moved[direction] += len(data)
                            last = anyio.current_time()
                            await sink.send(data)
                            if exhausted:
                                limit = self.policy.max_bytes
                                log.warning("sandbox.egress_byte_limit", host=decision.host, limit=limit)
                                tg.cancel_scope.cancel()
                                return
                        data = await source.receive(_CHUNK)
                except _QUIET:
                    pass
                with contextlib.suppress(*_QUIET):
                    await sink.send_eof()
                open_directions -= 1
                if open_directions == 0:
                    tg.cancel_scope.cancel()

            async def watchdog() -> None:
                # The deadline moves with every chunk; no event marks "idle", so sleep to it.
                while (wait := last + idle - anyio.current_time()) > 0:  # noqa: ASYNC110 - see above
                    await anyio.sleep(wait)
                log.info("sandbox.egress_idle", host=decision.host, idle_timeout_s=idle)
                tg.cancel_scope.cancel()

            await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tg.start_soon(pump, client, upstream, "up", rest)
            tg.start_soon(pump, upstream, client, "down", b"")
            tg.start_soon(watchdog)
        log.info("sandbox.egress_closed", host=decision.host, port=decision.port, **moved)

    @asynccontextmanager
    async def serve_unix(self, path: str) -> AsyncIterator[str]:
        """Listen on the Unix socket ``path`` (mode 0600) and serve until the block exits."""
        listener = await anyio.create_unix_listener(path)
        os.chmod(path, 0o600)  # noqa: PTH101 - the listener's own path, right after bind
        async with self._serving(listener):
            yield path

    @asynccontextmanager
    async def serve_tcp(self) -> AsyncIterator[int]:
        """Listen on a free port of ``127.0.0.1`` and serve until the block exits; yields the port."""
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = int(listener.extra(SocketAttribute.local_port))  # noqa: S610 - anyio's typed attribute, not Django
        async with self._serving(listener):
            yield port

    @asynccontextmanager
    async def _serving(self, listener: Listener[Any]) -> AsyncIterator[None]:
        """Serve connections from ``listener`` until the block exits, then close it."""
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, self.handle)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
