"""Streamable HTTP for downstream clients, at the message level (both protocol eras).

Why not the SDK's ``StreamableHTTPSessionManager``: it is bound to the SDK's ``Server``
dispatcher (``serve_loop`` / ``handle_modern_request`` dispatch every message to
handlers), and a gateway that re-dispatches each message through handlers pays the
2.5-5 ms per call this project exists to avoid. This module frames only what the gateway
needs from the Streamable HTTP spec: POST of one JSON-RPC message answered with
``application/json`` (or ``202`` for notifications), ``DELETE`` to end a 2025-11-25
session, the optional GET stream (server notifications the gateway broadcasts); the
messages themselves are parsed once by
the SDK's pydantic types (``transports.jsonrpc``).

Checks done here, before any parsing (transport framing, not policy): Host and Origin
allow-lists (DNS rebinding), body size, UTF-8, batches. Authentication is delegated to an
injected callable; session ids are bound to the principal that created them, and another
principal presenting one is refused exactly like an unknown session (404).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

import anyio
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS
from starlette.types import Receive, Scope, Send

from mcp_bastion.transports.downstream import Downstream, MessageHandler, PendingAsks
from mcp_bastion.transports.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    MessageParseError,
    RawCheck,
    dump_message,
    error_response,
    framing_error,
    parse_message,
)
from mcp_bastion.types import Principal, SessionId

__all__ = ["Authenticate", "HttpDownstream", "HttpRefusal", "SessionRegistry", "TransportLimits"]

SESSION_HEADER: Final = b"mcp-session-id"
VERSION_HEADER: Final = b"mcp-protocol-version"
_JSON: Final = (b"content-type", b"application/json")
_STREAM_BACKLOG: Final = 64
ASK_TIMEOUT_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class HttpRefusal:
    """An authentication failure to answer at the HTTP level (401/403 + WWW-Authenticate)."""

    status: int
    message: str
    headers: tuple[tuple[str, str], ...] = ()


Authenticate = Callable[[dict[str, str]], Awaitable[Principal | HttpRefusal]]


@dataclass(frozen=True, slots=True)
class TransportLimits:
    max_body_bytes: int = 1_000_000
    allowed_hosts: frozenset[str] = frozenset()  # "host:port" or "host"; empty = any (only off loopback)
    allowed_origins: frozenset[str] = frozenset()  # exact origins; requests without Origin pass


@dataclass(slots=True)
class _Session:
    owner: str
    protocol_version: str
    last_seen: float = field(default_factory=time.monotonic)


class SessionRegistry:
    """2025-11-25 sessions: unguessable ids bound to the principal that created them."""

    def __init__(self, *, idle_timeout: float = 3600.0, max_sessions: int = 10_000) -> None:
        self._sessions: dict[str, _Session] = {}
        self._idle = idle_timeout
        self._max = max_sessions

    @staticmethod
    def owner_key(principal: Principal) -> str:
        issuer = principal.claims.get("iss", "") if principal.claims else ""
        return f"{principal.auth_method.value}|{issuer}|{principal.subject}"

    def create(self, principal: Principal, protocol_version: str) -> SessionId | None:
        self._expire()
        if len(self._sessions) >= self._max:
            return None
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = _Session(self.owner_key(principal), protocol_version)
        return SessionId(session_id)

    def lookup(self, session_id: str, principal: Principal) -> _Session | None:
        """The session if it exists, is live and belongs to ``principal``; else None."""
        session = self._sessions.get(session_id)
        if session is None or time.monotonic() - session.last_seen > self._idle:
            return None
        if not secrets.compare_digest(session.owner, self.owner_key(principal)):
            return None
        session.last_seen = time.monotonic()
        return session

    def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > self._idle]:
            del self._sessions[key]


class HttpDownstream:
    """The ASGI app serving the MCP endpoint."""

    def __init__(
        self,
        handler: MessageHandler,
        *,
        authenticate: Authenticate,
        limits: TransportLimits,
        sessions: SessionRegistry | None = None,
        raw_check: RawCheck = framing_error,
    ) -> None:
        self._handler = handler
        self._raw_check = raw_check
        self._authenticate = authenticate
        self._limits = limits
        self._sessions = sessions or SessionRegistry()
        self._streams: set[asyncio.Queue[bytes]] = set()
        self._asks = PendingAsks(ASK_TIMEOUT_S)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = _headers(scope)
        refusal = self._check_host_origin(headers)
        if refusal is not None:
            await _send_error(send, refusal[0], None, INVALID_REQUEST, refusal[1])
            return
        method = scope["method"]
        if method not in ("POST", "DELETE", "GET"):
            await _respond(send, 405, b"", extra=((b"allow", b"GET, POST, DELETE"),))
            return
        auth = await self._authenticate(headers)
        if isinstance(auth, HttpRefusal):
            extra = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in auth.headers)
            await _send_error(send, auth.status, None, INVALID_REQUEST, auth.message, extra=extra)
            return
        principal = auth
        if method == "DELETE":
            await self._delete(send, headers, principal)
            return
        if method == "GET":
            await self._listen(receive, send, headers, principal)
            return
        await self._post(scope, receive, send, headers, principal)

    async def _listen(
        self, receive: Receive, send: Send, headers: dict[str, str], principal: Principal
    ) -> None:
        """The optional 2025-11-25 GET stream of a live session.

        It carries what ``broadcast`` sends (list-changed notifications, so clients re-list
        after an upstream changed its tools); a stream whose client reads too slowly loses
        messages rather than growing without bound.
        """
        session_id = headers.get("mcp-session-id")
        if session_id is None or self._sessions.lookup(session_id, principal) is None:
            await _send_error(send, 404, None, INVALID_REQUEST, "session not found")
            return
        await _start_event_stream(send, session_id)
        await send({"type": "http.response.body", "body": b": mcp-bastion\n\n", "more_body": True})
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_STREAM_BACKLOG)
        self._streams.add(queue)
        try:
            async with anyio.create_task_group() as tg:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(until_disconnect)
                while True:
                    event = await queue.get()
                    await send({"type": "http.response.body", "body": event, "more_body": True})
        finally:
            self._streams.discard(queue)

    def broadcast(self, message: JSONRPCNotification) -> None:
        """Queue ``message`` on every open GET stream (dropped where a stream is full)."""
        event = _sse_event(message)
        for queue in list(self._streams):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    async def _delete(self, send: Send, headers: dict[str, str], principal: Principal) -> None:
        session_id = headers.get("mcp-session-id")
        if session_id is None or self._sessions.lookup(session_id, principal) is None:
            await _send_error(send, 404, None, INVALID_REQUEST, "session not found")
            return
        self._sessions.delete(session_id)
        await _respond(send, 200, b"")

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], principal: Principal
    ) -> None:
        body = await _read_body(receive, self._limits.max_body_bytes)
        if body is None:
            await _send_error(send, 413, None, INVALID_REQUEST, "request body too large")
            return
        framing = self._raw_check(body)
        if framing is not None:
            await _send_error(send, 400, None, framing[0], framing[1])
            return
        try:
            message = parse_message(body)
        except MessageParseError as exc:
            await _send_error(send, 400, None, exc.code, str(exc))
            return

        resolved = self._protocol(message, headers, principal)
        if isinstance(resolved, tuple) and isinstance(resolved[0], int):
            await _send_error(send, resolved[0], _id_of(message), INVALID_REQUEST, str(resolved[1]))
            return
        protocol, session_id = resolved
        is_init = isinstance(message, JSONRPCRequest) and message.method == "initialize"
        extra: tuple[tuple[bytes, bytes], ...] = ()
        client = scope.get("client")
        downstream = Downstream(
            principal=principal,
            session=session_id,
            protocol_version=protocol,
            metadata={
                "transport": "http",
                "remote": client[0] if client else None,
                "body_bytes": len(body),
            },
        )
        if isinstance(message, JSONRPCResponse | JSONRPCError) and session_id is not None:
            # A 2025-11-25 client answering a request the gateway relayed on an SSE stream.
            self._asks.answer(message, scope=session_id)
            await _respond(send, 202, b"", extra=((SESSION_HEADER, session_id.encode("ascii")),))
            return
        asker: _SseAsker | None = None
        if (
            session_id is not None
            and isinstance(message, JSONRPCRequest)
            and "text/event-stream" in headers.get("accept", "")
        ):
            asker = _SseAsker(self._asks, send, session_id)
            downstream = replace(downstream, ask=asker.ask)
        reply = await self._handler(message, downstream)
        if asker is not None and asker.started:
            await asker.finish(
                reply if reply is not None else error_response(_id_of(message), INTERNAL_ERROR, "no reply")
            )
            return
        if is_init and reply is not None and not isinstance(reply, JSONRPCError):
            requested = (
                (message.params or {}).get("protocolVersion") if isinstance(message, JSONRPCRequest) else None
            )
            negotiated = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
            new_id = self._sessions.create(principal, str(negotiated))
            if new_id is None:
                await _send_error(send, 503, _id_of(message), INVALID_REQUEST, "too many open sessions")
                return
            extra = ((SESSION_HEADER, new_id.encode("ascii")),)
        elif session_id is not None:
            extra = ((SESSION_HEADER, session_id.encode("ascii")),)
        if reply is None or isinstance(message, JSONRPCNotification):
            await _respond(send, 202, b"", extra=extra)
            return
        await _respond(send, 200, dump_message(reply), extra=(_JSON, *extra))

    def _protocol(
        self, message: JSONRPCMessage, headers: dict[str, str], principal: Principal
    ) -> tuple[str, SessionId | None] | tuple[int, str]:
        """The protocol era and session of a POST, or (HTTP status, reason) to refuse it."""
        version = headers.get("mcp-protocol-version")
        if version in MODERN_PROTOCOL_VERSIONS:
            return version, None  # 2026-07-28: stateless, no session
        method = message.method if isinstance(message, JSONRPCRequest) else None
        if method == "initialize":
            return LATEST_HANDSHAKE_VERSION, None
        raw_session = headers.get("mcp-session-id")
        if raw_session is not None:
            session = self._sessions.lookup(raw_session, principal)
            if session is None:
                return 404, "session not found"
            return session.protocol_version, SessionId(raw_session)
        if method == "server/discover":
            return LATEST_HANDSHAKE_VERSION, None  # era probe without a version header
        return 400, "missing Mcp-Session-Id"

    def _check_host_origin(self, headers: dict[str, str]) -> tuple[int, str] | None:
        allowed_hosts = self._limits.allowed_hosts
        host = headers.get("host", "")
        if allowed_hosts and host not in allowed_hosts and host.split(":")[0] not in allowed_hosts:
            return 421, "invalid Host header"
        origin = headers.get("origin")
        if origin is not None and origin not in self._limits.allowed_origins:
            return 403, "invalid Origin header"
        return None


class _SseAsker:
    """Carries relayed server requests to a 2025-11-25 client on its POST's SSE stream.

    The POST's answer turns into ``text/event-stream`` when the first request is relayed;
    the client answers it with a POST of its own in the same session (``PendingAsks``
    scoped by session: another session cannot answer it), and the final reply is the last
    event. Unanswered requests time out (``ASK_TIMEOUT_S``) into an error for the upstream.
    """

    def __init__(self, asks: PendingAsks, send: Send, session_id: str) -> None:
        self._asks = asks
        self._send = send
        self._session = session_id
        self.started = False

    async def ask(self, request: JSONRPCRequest) -> JSONRPCMessage:
        return await self._asks.ask(request, self._relay, scope=self._session)

    async def _relay(self, request: JSONRPCRequest) -> None:
        if not self.started:
            self.started = True
            await _start_event_stream(self._send, self._session)
        await self._send({"type": "http.response.body", "body": _sse_event(request), "more_body": True})

    async def finish(self, reply: JSONRPCMessage) -> None:
        await self._send({"type": "http.response.body", "body": _sse_event(reply), "more_body": False})


async def _start_event_stream(send: Send, session_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream"),
                (b"cache-control", b"no-cache, no-transform"),
                (SESSION_HEADER, session_id.encode("ascii")),
            ],
        }
    )


def _sse_event(message: JSONRPCMessage) -> bytes:
    return b"event: message\ndata: " + dump_message(message) + b"\n\n"


def _negotiated(message: JSONRPCMessage) -> str:
    requested = (
        message.params.get("protocolVersion")
        if isinstance(message, JSONRPCRequest) and message.params
        else None
    )
    return (
        requested
        if isinstance(requested, str) and requested in HANDSHAKE_PROTOCOL_VERSIONS
        else LATEST_HANDSHAKE_VERSION
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _id_of(message: JSONRPCMessage) -> Any:
    return getattr(message, "id", None)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(
    send: Send, status: int, body: bytes, *, extra: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    headers = [(b"content-length", str(len(body)).encode("ascii")), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(
    send: Send,
    status: int,
    request_id: Any,
    code: int,
    message: str,
    *,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    body = dump_message(error_response(request_id, code, message))
    await _respond(send, status, body, extra=(_JSON, *extra))


def json_body(status_doc: dict[str, Any]) -> bytes:
    """Serialise a small JSON document (metadata endpoints)."""
    return json.dumps(status_doc, separators=(",", ":")).encode("utf-8")
