"""Notifications guard: only known, well-formed, small and not-too-many server notifications pass.

Every server-to-client notification is checked, in this order (the first failure drops
it: a DENY verdict, which the gateway turns into a silent drop plus an audit record,
since a notification has no id to answer):

- ``BST-NOTIF-001`` unknown method: not a server notification of the protocol version in
  force (``mcp_types.methods.SERVER_NOTIFICATIONS``; when the exchange does not say which
  version, ``metadata["protocol_version"]``, any version that defines the method);
- ``BST-NOTIF-002`` invalid params: the SDK's pydantic model of that notification
  rejects them;
- ``BST-NOTIF-003`` too large: the params' canonical JSON exceeds ``max_bytes``;
- ``BST-NOTIF-004`` flood: the upstream's token bucket (in memory, per process) is empty.

Server-to-client requests (an upstream's elicitation or sampling, which the gateway
relays to the client) are checked the same way, with ``BST-NOTIF-005`` for a method the
configuration does not relay (``server_requests``; ``ping`` and ``roots/list`` never get
here: the gateway answers them itself), then schema (002, against the 2025-11-25 request
model the upstream speaks), size (003) and the same flood bucket (004). A denial is
answered to the upstream as a JSON-RPC error.

Responses and client-to-server messages pass untouched: other guards (limits,
authorization, output) own those.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import pydantic
from mcp_types.methods import SERVER_NOTIFICATIONS, SERVER_REQUESTS
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from mcp_bastion.canonical import canonical_json
from mcp_bastion.config.guards import NotificationsSettings
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.chain import BuildContext
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.store.bucket import refill_and_take
from mcp_bastion.types import Direction

__all__ = ["NotificationsGuard", "factory"]

NAME = "notifications"
RULE_UNKNOWN = "BST-NOTIF-001"
RULE_INVALID = "BST-NOTIF-002"
RULE_SIZE = "BST-NOTIF-003"
RULE_RATE = "BST-NOTIF-004"
RULE_REQUEST = "BST-NOTIF-005"
DEFAULT_SERVER_REQUESTS = frozenset({"elicitation/create", "sampling/createMessage"})
_REQUEST_VERSION = "2025-11-25"  # the era the gateway speaks to upstreams

_STUB = {"jsonrpc": "2.0"}


# Bounded: the method string comes from the upstream.
@lru_cache(maxsize=256)
def _models(method: str, version: str | None) -> tuple[type[pydantic.BaseModel], ...]:
    """The SDK models that may validate ``method`` (newest era first); empty when unknown."""
    if version is not None and version in KNOWN_PROTOCOL_VERSIONS:
        model = SERVER_NOTIFICATIONS.get((method, version))
        return () if model is None else (model,)
    found: list[type[pydantic.BaseModel]] = []
    for known in reversed(KNOWN_PROTOCOL_VERSIONS):
        model = SERVER_NOTIFICATIONS.get((method, known))
        if model is not None and model not in found:
            found.append(model)
    return tuple(found)


class NotificationsGuard:
    """Validates server-to-client notifications; see the module docstring for the rules."""

    name = NAME
    directions = frozenset({Direction.SERVER_TO_CLIENT})

    def __init__(
        self,
        *,
        max_bytes: int = 65_536,
        capacity: float = 50.0,
        refill_per_second: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        server_requests: frozenset[str] = DEFAULT_SERVER_REQUESTS,
    ) -> None:
        self._server_requests = server_requests
        self._max_bytes = max_bytes
        self._capacity = capacity
        self._refill = refill_per_second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    async def check(self, exchange: Exchange) -> Verdict:
        if exchange.direction is not Direction.SERVER_TO_CLIENT:
            return Verdict.allow(NAME)
        method = exchange.method or ""
        if exchange.is_request:
            kind = "server request"
            model = SERVER_REQUESTS.get((method, _REQUEST_VERSION))
            if method not in self._server_requests or model is None:
                return _drop("server request not relayed", RULE_REQUEST, f"method {method[:100]!r}")
            models: tuple[type[pydantic.BaseModel], ...] = (model,)
        elif exchange.is_notification:
            kind = "notification"
            version = exchange.metadata.get("protocol_version")
            models = _models(method, version if isinstance(version, str) else None)
            if not models:
                return _drop("unknown notification dropped", RULE_UNKNOWN, f"method {method[:100]!r}")
        else:
            return Verdict.allow(NAME)
        params: Mapping[str, Any] | None = exchange.message.params  # type: ignore[union-attr]
        try:
            size = len(canonical_json(params or {}))
        except ValueError:  # NaN/Infinity: not JSON
            return _drop(f"malformed {kind} dropped", RULE_INVALID, "params are not JSON")
        if size > self._max_bytes:
            return _drop(f"oversized {kind} dropped", RULE_SIZE, f"{size} bytes > {self._max_bytes}")
        problem = _invalid(models, method, params, request=exchange.is_request)
        if problem is not None:
            return _drop(f"malformed {kind} dropped", RULE_INVALID, problem)
        if not self._take(exchange.upstream or ""):
            return _drop(f"{kind} rate exceeded; dropped", RULE_RATE, f"upstream {exchange.upstream}")
        return Verdict.allow(NAME)

    def _take(self, upstream: str) -> bool:
        with self._lock:
            tokens, stamp = self._buckets.get(upstream, (None, None))
            result = refill_and_take(
                tokens,
                stamp,
                self._clock(),
                capacity=self._capacity,
                refill_per_second=self._refill,
                cost=1.0,
            )
            self._buckets[upstream] = (result.tokens, result.stamp)
            return result.allowed


def _invalid(
    models: tuple[type[pydantic.BaseModel], ...],
    method: str,
    params: Mapping[str, Any] | None,
    *,
    request: bool = False,
) -> str | None:
    """None when one of ``models`` accepts the message, else the first error (no values)."""
    body: dict[str, Any] = {**_STUB, "method": method}
    if request:
        body["id"] = 0
    if params is not None:
        body["params"] = dict(params)
    first: str | None = None
    for model in models:
        try:
            model.model_validate(body, by_name=False)
        except pydantic.ValidationError as exc:
            if first is None:
                err = exc.errors(include_input=False, include_url=False)[0]
                first = f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            continue
        return None
    return first or "invalid"


def _drop(reason: str, rule: str, detail: str) -> Verdict:
    return Verdict.deny(NAME, reason, rule_ids=(rule,), detail=detail)


def factory(settings: NotificationsSettings, ctx: BuildContext) -> NotificationsGuard:
    """Build the guard from its ``bastion.yaml`` entry (the bucket is per process)."""
    return NotificationsGuard(
        max_bytes=settings.max_bytes,
        capacity=settings.rate.capacity,
        refill_per_second=settings.rate.refill_per_second,
        server_requests=frozenset(settings.server_requests),
    )
