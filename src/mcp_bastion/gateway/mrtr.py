"""Server-to-client requests (elicitation, sampling) relayed to clients of either era.

Upstreams are spoken to in 2025-11-25, where a server asks its client for input with a
JSON-RPC request (``elicitation/create``, ``sampling/createMessage``) while it handles a
call. Clients get it in their own era:

- 2025-11-25 clients on a transport that can carry a request to them (``Downstream.ask``:
  stdio, and HTTP on the POST's SSE stream) get the request relayed as it is.
- 2026-07-28 clients get the multi-round-trip form: the call answers
  ``{"resultType": "input_required", "inputRequests": {...}, "requestState": TOKEN}``
  while the upstream call stays open ("parked"); the client retries the same call with
  ``inputResponses`` and the ``requestState``, the answers go to the waiting upstream, and
  the call goes on (possibly asking again) until it has its result.
- Anything else (a 2025-11-25 HTTP client that does not accept an SSE answer) gets the
  server's request refused with a JSON-RPC error.

``requestState`` integrity: the token is the SDK's AES-256-GCM codec
(``mcp.server.request_state.AESGCMRequestStateCodec``) over an envelope that binds it to
this gateway (audience = its resource URI), the principal, the method, the target
(``upstream/tool``), a digest of the arguments, an expiry, and a random ticket naming the
parked call. A token that was altered, minted under another key, replayed by another
principal or for other arguments, or is past its expiry is refused with ``-32602``
"Invalid or expired requestState" (the reason goes to the log only); a ticket is single
use. Keys come from ``listeners.http.state_key_file`` (one key per line, >= 32 bytes;
the first seals, all open: rotation); without it a per-process key is generated. Parked
calls live in this process, so a gateway behind a load balancer needs sticky routing
for the retry (documented in docs/gateway.md).

Every server request passes the server-to-client chain first (the notifications guard
checks method and schema; the output guard scans its text for prompt injection); every
client answer is validated against the SDK's result type for that method before it
reaches the upstream.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pydantic
from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse
from mcp_types.methods import parse_client_result

from mcp_bastion.canonical import digest
from mcp_bastion.errors import ConfigError
from mcp_bastion.transports.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, error_response
from mcp_bastion.transports.upstream import UPSTREAM_PROTOCOL_VERSION, UpstreamConnection, UpstreamReply

__all__ = [
    "INPUT_METHODS",
    "InputBridge",
    "RequestStateSeal",
    "Screen",
    "load_state_keys",
]

logger = logging.getLogger(__name__)

INPUT_METHODS: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
"""The calls that may answer ``input_required`` (2026-07-28)."""
STATE_TTL_S: Final = 300.0
MAX_PARKED: Final = 1024
MAX_PARKED_PER_PRINCIPAL: Final = 16
INVALID_STATE: Final = "Invalid or expired requestState"
_ENVELOPE_VERSION: Final = 1

Screen = Callable[[JSONRPCRequest], Awaitable[JSONRPCError | None]]
"""Runs a server request through the server-to-client chain: None to relay it, else the refusal."""


def load_state_keys(path: Path | None) -> list[bytes]:
    """The ``requestState`` key ring from a file (one key per line), or one fresh key.

    Raises ``ConfigError`` (naming the file, never the key) for a missing file, an empty
    ring or a key shorter than 32 bytes.
    """
    if path is None:
        return [os.urandom(32)]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"listeners.http.state_key_file: cannot read {path}: {type(exc).__name__}") from exc
    keys = [line.strip().encode("utf-8") for line in lines if line.strip() and not line.startswith("#")]
    if not keys:
        raise ConfigError(f"listeners.http.state_key_file: {path} holds no key")
    if any(len(key) < 32 for key in keys):
        raise ConfigError(f"listeners.http.state_key_file: every key in {path} must be >= 32 bytes")
    return keys


@dataclass(frozen=True, slots=True)
class Binding:
    """What one round's ``requestState`` is bound to."""

    principal: str
    method: str
    target: str
    arguments: Any

    def claims(self) -> dict[str, str]:
        return {
            "p": digest(self.principal),
            "m": self.method,
            "t": self.target,
            "a": digest(self.arguments),
        }


class RequestStateSeal:
    """Seals and opens ``requestState`` tokens (see the module docstring for the claims)."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        audience: str,
        ttl: float = STATE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._codec = AESGCMRequestStateCodec(keys)
        self._audience = audience
        self._ttl = ttl
        self._clock = clock

    def seal(self, ticket: str, binding: Binding) -> str:
        now = self._clock()
        envelope = {
            "v": _ENVELOPE_VERSION,
            "iat": now,
            "exp": now + self._ttl,
            "aud": self._audience,
            "k": ticket,
            **binding.claims(),
        }
        return self._codec.seal(json.dumps(envelope, separators=(",", ":")).encode("utf-8"))

    def open(self, token: object, binding: Binding) -> str:
        """The ticket inside ``token``; ``InvalidRequestState`` (log-only reason) if a claim fails."""
        if not isinstance(token, str) or len(token) > 4096:
            raise InvalidRequestState("not a token")
        try:
            claims = json.loads(self._codec.unseal(token))
        except InvalidRequestState:
            raise
        except ValueError as exc:
            raise InvalidRequestState("malformed") from exc
        if not isinstance(claims, dict) or claims.get("v") != _ENVELOPE_VERSION:
            raise InvalidRequestState("malformed")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or not self._clock() < exp:
            raise InvalidRequestState("expired")
        if claims.get("aud") != self._audience:
            raise InvalidRequestState("audience")
        for key, value in binding.claims().items():
            if claims.get(key) != value:
                raise InvalidRequestState(f"binding {key}")
        ticket = claims.get("k")
        if not isinstance(ticket, str):
            raise InvalidRequestState("malformed")
        return ticket


@dataclass(eq=False, slots=True)
class _Ask:
    request: JSONRPCRequest
    answer: asyncio.Future[UpstreamReply]


@dataclass(eq=False)
class _Parked:
    """One upstream call held open between rounds."""

    owner: str
    inbox: asyncio.Queue[_Ask] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[UpstreamReply] | None = None
    outstanding: dict[str, _Ask] = field(default_factory=dict)
    expires: float = 0.0

    async def ask(self, request: JSONRPCRequest) -> UpstreamReply:
        answer: asyncio.Future[UpstreamReply] = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait(_Ask(request, answer))
        return await answer

    def abandon(self, reason: str) -> None:
        for item in self.outstanding.values():
            if not item.answer.done():
                item.answer.set_result(error_response(item.request.id, INTERNAL_ERROR, reason))
        self.outstanding.clear()
        if self.task is not None:
            self.task.cancel()


class InputBridge:
    """Relays server requests of one upstream call to its client (see the module docstring)."""

    def __init__(self, seal: RequestStateSeal, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._seal = seal
        self._clock = clock
        self._parked: dict[str, _Parked] = {}

    # -- 2025-11-25 clients that can be asked directly ----------------------------------

    @staticmethod
    def relay(
        screen: Screen, ask: Callable[[JSONRPCRequest], Awaitable[Any]]
    ) -> Callable[[JSONRPCRequest], Awaitable[UpstreamReply]]:
        """An ``on_server_request`` handler that screens, asks the client, and checks the answer."""

        async def handler(request: JSONRPCRequest) -> UpstreamReply:
            refusal = await screen(request)
            if refusal is not None:
                return refusal
            reply = await ask(request)
            if isinstance(reply, JSONRPCError):
                return reply.model_copy(update={"id": request.id})
            result = reply.result if isinstance(reply, JSONRPCResponse) else None
            return _checked_answer(request, result)

        return handler

    # -- 2026-07-28 clients: input_required rounds --------------------------------------

    async def call(
        self,
        connection: UpstreamConnection,
        request: JSONRPCRequest,
        binding: Binding,
        screen: Screen,
    ) -> UpstreamReply | dict[str, Any]:
        """Forward one round of ``request``: the upstream's reply, or an ``input_required`` result."""
        self._sweep()
        params = dict(request.params or {})
        token = params.pop("requestState", None)
        responses = params.pop("inputResponses", None)
        forward = request.model_copy(update={"params": params})
        if token is not None:
            parked = self._resume(token, binding, responses)
            if isinstance(parked, str):
                return error_response(request.id, INVALID_PARAMS, INVALID_STATE, {"reason": parked})
        else:
            if not self._room_for(binding.principal):
                return error_response(request.id, INTERNAL_ERROR, "too many calls waiting for input")
            parked = _Parked(owner=binding.principal)
            parked.task = asyncio.get_running_loop().create_task(
                connection.request(forward, on_server_request=parked.ask)
            )
        return await self._drive(parked, request, binding, screen)

    def _room_for(self, principal: str) -> bool:
        if len(self._parked) >= MAX_PARKED:
            return False
        return sum(1 for p in self._parked.values() if p.owner == principal) < MAX_PARKED_PER_PRINCIPAL

    def _resume(self, token: object, binding: Binding, responses: object) -> _Parked | str:
        try:
            ticket = self._seal.open(token, binding)
        except InvalidRequestState as exc:
            logger.warning("requestState refused: %s", exc)
            return "invalid_request_state"
        parked = self._parked.pop(ticket, None)
        if parked is None or parked.owner != binding.principal:
            logger.warning("requestState refused: no waiting call for this ticket (expired or used)")
            return "invalid_request_state"
        answers = responses if isinstance(responses, Mapping) else {}
        for key, item in parked.outstanding.items():
            value = answers.get(key)
            if value is None:
                reply: UpstreamReply = error_response(
                    item.request.id, INVALID_PARAMS, "the client gave no answer"
                )
            else:
                reply = _checked_answer(item.request, value)
            if not item.answer.done():
                item.answer.set_result(reply)
        parked.outstanding.clear()
        return parked

    async def _drive(
        self, parked: _Parked, request: JSONRPCRequest, binding: Binding, screen: Screen
    ) -> UpstreamReply | dict[str, Any]:
        assert parked.task is not None
        while True:
            getter = asyncio.ensure_future(parked.inbox.get())
            try:
                await asyncio.wait({parked.task, getter}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                getter.cancel()
                parked.abandon("the client went away")
                raise
            if not getter.done():
                getter.cancel()
                return parked.task.result()  # raises UpstreamError like a direct request
            pending = [getter.result()]
            while not parked.inbox.empty():
                pending.append(parked.inbox.get_nowait())
            for item in pending:
                refusal = await screen(item.request)
                if refusal is not None:
                    item.answer.set_result(refusal)
                else:
                    parked.outstanding[secrets.token_urlsafe(6)] = item
            if parked.outstanding:
                return self._interim(parked, binding)

    def _interim(self, parked: _Parked, binding: Binding) -> dict[str, Any]:
        ticket = secrets.token_urlsafe(18)
        parked.expires = self._clock() + STATE_TTL_S
        self._parked[ticket] = parked
        requests = {
            key: {"method": item.request.method, "params": item.request.params or {}}
            for key, item in parked.outstanding.items()
        }
        return {
            "resultType": "input_required",
            "inputRequests": requests,
            "requestState": self._seal.seal(ticket, binding),
        }

    def _sweep(self) -> None:
        now = self._clock()
        for ticket in [t for t, p in self._parked.items() if p.expires <= now]:
            self._parked.pop(ticket).abandon("the client did not answer in time")

    def close(self) -> None:
        """Abandon every parked call (shutdown)."""
        for parked in self._parked.values():
            parked.abandon("the gateway is shutting down")
        self._parked.clear()


def _checked_answer(request: JSONRPCRequest, result: object) -> UpstreamReply:
    """The client's answer to ``request`` if it is a valid result for that method, else an error."""
    if not isinstance(result, Mapping):
        return error_response(request.id, INVALID_PARAMS, "the client's answer is not a result object")
    body = {k: v for k, v in result.items() if k != "resultType"}
    try:
        parse_client_result(request.method, UPSTREAM_PROTOCOL_VERSION, body)
    except (KeyError, ValueError, RuntimeError, pydantic.ValidationError):
        reason = f"the client's answer is not a valid {request.method} result"
        return error_response(request.id, INVALID_PARAMS, reason)
    return JSONRPCResponse(jsonrpc="2.0", id=request.id, result=body)
