"""Pinning guard: trust an upstream's surface on first contact, quarantine what changes.

Rule IDs:

- ``BST-PIN-001`` an item changed after it was approved (rug pull): hidden and refused;
- ``BST-PIN-002`` an item appeared after first contact: hidden and refused;
- ``BST-PIN-003`` a call to a quarantined item, or to one no listing ever pinned;
- ``BST-PIN-004`` a surface result the guard cannot pin (malformed list, no upstream).

Server-to-client list results (``tools/list``, ``prompts/list``,
``resources/templates/list``) and ``initialize`` / ``server/discover`` results are
reconciled against the :class:`~mcp_bastion.store.interface.PinStore` (see
:mod:`mcp_bastion.pipeline.pins`); quarantined items are removed from the result (MODIFY).
Client-to-server ``tools/call`` / ``prompts/get`` of a quarantined or unpinned item are
denied. ``notifications/*/list_changed`` from an upstream marks it as needing a re-list:
the gateway polls :meth:`PinningGuard.needs_relist` after each chain run and re-lists that
upstream through the chain (the protocol is in ``docs/pinning.md``).

Conventions with the gateway: list and ``initialize`` results reach the chain with
``exchange.request`` set and item names as the upstream spells them; a called name may be
namespaced ``<upstream>.<name>``, so both readings are looked up, and a name ambiguous
between two pinned items must pass under both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import anyio
from mcp_types import JSONRPCResponse

from mcp_bastion.config.guards import PinningSettings
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.chain import BuildContext
from mcp_bastion.pipeline.pins import (
    INSTRUCTIONS_KEY,
    LIST_METHODS,
    SurfaceChange,
    instructions_item,
    items_from_result,
    key_for,
    marker_item,
    marker_key,
    pin_for,
    reconcile,
    removed_keys,
    strip_items,
)
from mcp_bastion.pipeline.verdict import Decision, Verdict
from mcp_bastion.store.interface import Pin, PinStatus, PinStore
from mcp_bastion.types import Direction

__all__ = [
    "CALL_KINDS",
    "LIST_CHANGED",
    "PinningGuard",
    "answered_method",
    "candidate_keys",
    "factory",
    "replace_result",
]

NAME = "pinning"
RULE_CHANGED = "BST-PIN-001"
RULE_NEW = "BST-PIN-002"
RULE_CALL = "BST-PIN-003"
RULE_UNPINNABLE = "BST-PIN-004"

# Client requests that use one listed item, and the kind of item they use.
CALL_KINDS: Mapping[str, str] = {"tools/call": "tool", "prompts/get": "prompt"}
# Results that carry server instructions.
INSTRUCTION_METHODS = frozenset({"initialize", "server/discover"})
# list_changed notification -> the list method the gateway must re-issue.
LIST_CHANGED: Mapping[str, str] = {
    "notifications/tools/list_changed": "tools/list",
    "notifications/prompts/list_changed": "prompts/list",
    "notifications/resources/list_changed": "resources/templates/list",
}


def answered_method(exchange: Exchange) -> str | None:
    """The method a successful server-to-client response answers, else None."""
    if exchange.direction is not Direction.SERVER_TO_CLIENT or exchange.result is None:
        return None
    return None if exchange.request is None else exchange.request.method


def candidate_keys(exchange: Exchange, kind: str, name: str) -> list[str]:
    """The pin keys a called name may mean: as sent, and without the upstream's namespace."""
    keys = [key_for(kind, name)]
    prefix = f"{exchange.upstream}."
    if exchange.upstream and name.startswith(prefix) and len(name) > len(prefix):
        keys.append(key_for(kind, name[len(prefix) :]))
    return keys


def replace_result(exchange: Exchange, result: dict[str, Any]) -> JSONRPCResponse:
    """A response carrying ``result`` in place of the original one (same id)."""
    message = exchange.message
    if not isinstance(message, JSONRPCResponse):
        raise TypeError("only a successful response carries a result")
    return JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)


class PinningGuard:
    """Pins surfaces and quarantines drift; see the module docstring for the rules."""

    name = NAME

    def __init__(
        self,
        store: PinStore,
        *,
        pin_on_first_contact: bool = True,
        cache_ttl_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._tofu = pin_on_first_contact
        self._ttl = cache_ttl_seconds
        self._cache: dict[str, tuple[float, Mapping[str, Pin]]] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._relist: dict[str, set[str]] = {}
        self._reported_removed: set[tuple[str, str]] = set()
        self._mutex = threading.Lock()

    # -- the gateway's side of the list_changed protocol ---------------------------------

    def needs_relist(self, upstream: str) -> bool:
        """True when ``upstream`` announced a list change that no complete listing has checked."""
        with self._mutex:
            return bool(self._relist.get(upstream))

    def relist_methods(self, upstream: str) -> tuple[str, ...]:
        """The list methods the gateway should re-issue to ``upstream`` (sorted)."""
        with self._mutex:
            return tuple(sorted(self._relist.get(upstream, ())))

    # -- Guard -----------------------------------------------------------------------------

    async def check(self, exchange: Exchange) -> Verdict:
        method = exchange.method
        if exchange.direction is Direction.SERVER_TO_CLIENT:
            if method is not None and method in LIST_CHANGED:
                return self._mark_relist(exchange, LIST_CHANGED[method])
            answered = answered_method(exchange)
            if answered is not None and answered in LIST_METHODS:
                return await self._check_list(exchange, answered)
            if answered in INSTRUCTION_METHODS:
                return await self._check_instructions(exchange)
            return Verdict.allow(NAME)
        if exchange.is_request and method is not None and method in CALL_KINDS:
            return await self._check_call(exchange, CALL_KINDS[method])
        return Verdict.allow(NAME)

    # -- server-to-client ------------------------------------------------------------------

    def _mark_relist(self, exchange: Exchange, method: str) -> Verdict:
        if exchange.upstream is None:
            return Verdict.deny(NAME, "list change from an unknown upstream", rule_ids=(RULE_UNPINNABLE,))
        with self._mutex:
            self._relist.setdefault(exchange.upstream, set()).add(method)
        # The notification itself passes: the client re-lists too, through this chain.
        return Verdict(Decision.ALLOW, guard=NAME, detail=f"re-list scheduled: {method}")

    async def _check_list(self, exchange: Exchange, method: str) -> Verdict:
        upstream = exchange.upstream
        result = exchange.result
        assert result is not None  # answered_method() only returns for results
        if upstream is None:
            return Verdict.deny(NAME, "cannot pin a list without its upstream", rule_ids=(RULE_UNPINNABLE,))
        try:
            items = items_from_result(method, result)
        except ValueError as exc:
            return Verdict.deny(
                NAME, "malformed list from upstream", rule_ids=(RULE_UNPINNABLE,), detail=str(exc)
            )
        kind = LIST_METHODS[method][2]
        complete = result.get("nextCursor") is None  # the last page (or an unpaginated list)
        async with self._lock(upstream):
            pins = dict(await self._store.load(upstream))
            marker = marker_key(kind)
            first_contact = self._tofu and marker not in pins
            now = time.time()
            changes = [
                reconcile(upstream, pins.get(i.key), i, first_contact=first_contact, now=now) for i in items
            ]
            for change in changes:
                if change.write:
                    await self._store.put(change.pin)
                    pins[change.pin.key] = change.pin
            if complete and marker not in pins:
                # Written after the last page, so every page of the first listing is first contact.
                stamp = pin_for(upstream, marker_item(kind), PinStatus.APPROVED, now=now, approved=True)
                await self._store.put(stamp)
                pins[marker] = stamp
            self._remember(upstream, pins)
        removed: list[str] = []
        if complete:
            self._clear_relist(upstream, method)
            removed = self._newly_removed(upstream, pins, kind, [i.key for i in items])
        return self._list_verdict(exchange, method, changes, removed)

    def _list_verdict(
        self, exchange: Exchange, method: str, changes: list[SurfaceChange], removed: list[str]
    ) -> Verdict:
        hidden = [c for c in changes if c.quarantined]
        removed_note = f"removed: {', '.join(removed)}" if removed else ""
        if not hidden:
            return Verdict(Decision.ALLOW, guard=NAME, detail=removed_note)
        assert exchange.result is not None
        rules = tuple(sorted({RULE_NEW if c.never_approved else RULE_CHANGED for c in hidden}))
        keys = [c.item.key for c in hidden]
        detail = "; ".join(x for x in (f"quarantined: {', '.join(keys)}", removed_note) if x)
        return Verdict(
            Decision.MODIFY,
            guard=NAME,
            reason=f"{len(keys)} item(s) withheld pending review of a changed server surface",
            message=replace_result(exchange, strip_items(exchange.result, method, keys)),
            rule_ids=rules,
            detail=detail,
        )

    async def _check_instructions(self, exchange: Exchange) -> Verdict:
        upstream = exchange.upstream
        result = exchange.result
        assert result is not None
        if upstream is None:
            return Verdict.deny(NAME, "cannot pin a server without its name", rule_ids=(RULE_UNPINNABLE,))
        raw = result.get("instructions")
        if raw is not None and not isinstance(raw, str):
            return Verdict.deny(NAME, "malformed server instructions", rule_ids=(RULE_UNPINNABLE,))
        item = instructions_item(raw)
        async with self._lock(upstream):
            pins = dict(await self._store.load(upstream))
            first_contact = self._tofu and INSTRUCTIONS_KEY not in pins
            change = reconcile(
                upstream, pins.get(INSTRUCTIONS_KEY), item, first_contact=first_contact, now=time.time()
            )
            if change.write:
                await self._store.put(change.pin)
                pins[INSTRUCTIONS_KEY] = change.pin
            self._remember(upstream, pins)
        if not change.quarantined:
            return Verdict.allow(NAME)
        stripped = {k: v for k, v in result.items() if k != "instructions"}
        return Verdict(
            Decision.MODIFY,
            guard=NAME,
            reason="server instructions withheld pending review of a changed server surface",
            message=replace_result(exchange, stripped),
            rule_ids=(RULE_NEW if change.never_approved else RULE_CHANGED,),
            detail=f"quarantined: {INSTRUCTIONS_KEY}",
        )

    # -- client-to-server ------------------------------------------------------------------

    async def _check_call(self, exchange: Exchange, kind: str) -> Verdict:
        name = exchange.params.get("name")
        if not isinstance(name, str) or exchange.upstream is None:
            return Verdict.deny(NAME, f"{kind} not available", rule_ids=(RULE_CALL,))
        pins = await self._pins(exchange.upstream)
        found = [pins[k] for k in candidate_keys(exchange, kind, name) if k in pins]
        if not found:
            return Verdict.deny(
                NAME, f"{kind} {name!r} is not available", rule_ids=(RULE_CALL,), detail="not pinned"
            )
        held = [p.key for p in found if p.status is not PinStatus.APPROVED]
        if held:
            return Verdict.deny(
                NAME,
                f"{kind} {name!r} is quarantined pending review of a changed server surface",
                rule_ids=(RULE_CALL,),
                detail=f"quarantined: {', '.join(held)}",
            )
        return Verdict.allow(NAME)

    # -- state -----------------------------------------------------------------------------

    def _lock(self, upstream: str) -> anyio.Lock:
        with self._mutex:
            lock = self._locks.get(upstream)
            if lock is None:
                lock = self._locks[upstream] = anyio.Lock()
            return lock

    async def _pins(self, upstream: str) -> Mapping[str, Pin]:
        cached = self._cache.get(upstream)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        pins = await self._store.load(upstream)
        self._remember(upstream, pins)
        return pins

    def _remember(self, upstream: str, pins: Mapping[str, Pin]) -> None:
        self._cache[upstream] = (time.monotonic(), dict(pins))

    def _clear_relist(self, upstream: str, method: str) -> None:
        with self._mutex:
            pending = self._relist.get(upstream)
            if pending is not None:
                pending.discard(method)

    def _newly_removed(
        self, upstream: str, pins: Mapping[str, Pin], kind: str, current: list[str]
    ) -> list[str]:
        gone = removed_keys(pins, kind, current)
        with self._mutex:
            fresh = [k for k in gone if (upstream, k) not in self._reported_removed]
            self._reported_removed.update((upstream, k) for k in fresh)
            # A key that came back may be reported again if it goes away again.
            self._reported_removed.difference_update((upstream, k) for k in current)
        return fresh


def factory(settings: PinningSettings, ctx: BuildContext) -> PinningGuard:
    """Build the guard from its ``bastion.yaml`` entry; it needs ``stores.pins``."""
    if ctx.stores.pins is None:
        raise ConfigError("guards: pinning needs a pin store (stores.pins)")
    return PinningGuard(ctx.stores.pins, pin_on_first_contact=settings.pin_on_first_contact)
