"""Descriptions guard: poisoned tool and prompt descriptions are quarantined like pin drift.

Listed items (``tools/list``, ``prompts/list``, ``resources/templates/list``) and server
instructions (``initialize`` / ``server/discover`` results) are scanned with the tool
poisoning detectors (:func:`mcp_bastion.detectors.scan_surface`, which also sees one
tool shadowing another). An item is flagged when its risk score reaches ``threshold`` or
any finding is of HIGH severity or worse. Rule IDs:

- ``BST-DESC-001`` a flagged item: hidden from the list (MODIFY) and recorded as a
  quarantined ``flag:<key>`` pin whose snapshot lists the detector rule IDs, so
  ``bastion pins list|diff|approve`` show and release it like pin drift;
- ``BST-DESC-002`` a ``tools/call`` / ``prompts/get`` of a flagged, unapproved item.

An operator's approval holds for that exact item (digest): the same item is not flagged
again, a changed one is scanned afresh. In ``warn`` mode nothing is hidden or refused;
the findings are only recorded (ALLOW with rule IDs, for the audit).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from mcp_bastion.canonical import canonical_json, digest
from mcp_bastion.config.guards import DescriptionsSettings
from mcp_bastion.detectors import FLAG_THRESHOLD, Finding, Severity, risk_score, scan_surface
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.chain import BuildContext
from mcp_bastion.pipeline.guards.pinning import (
    CALL_KINDS,
    INSTRUCTION_METHODS,
    answered_method,
    candidate_keys,
    replace_result,
)
from mcp_bastion.pipeline.pins import (
    INSTRUCTIONS_KEY,
    LIST_METHODS,
    PinItem,
    flag_key,
    instructions_item,
    items_from_result,
    strip_items,
)
from mcp_bastion.pipeline.verdict import Decision, Verdict
from mcp_bastion.store.interface import Pin, PinStatus, PinStore
from mcp_bastion.types import Direction

__all__ = ["DescriptionsGuard", "Mode", "factory", "flagged"]

NAME = "descriptions"
RULE_FLAGGED = "BST-DESC-001"
RULE_CALL = "BST-DESC-002"
Mode = Literal["block", "warn"]

# scan_surface's argument for each list kind.
_SURFACE_ARG = {"tool": "tools", "prompt": "prompts", "resource_template": "resources"}
_LOCATION_KIND = {"tool": "tool", "prompt": "prompt", "resource_template": "resource"}


def flagged(findings: Sequence[Finding], threshold: float) -> bool:
    """The quarantine rule: risk at or above ``threshold``, or any HIGH/CRITICAL finding."""
    return bool(findings) and (
        risk_score(findings) >= threshold or any(f.severity.rank >= Severity.HIGH.rank for f in findings)
    )


class DescriptionsGuard:
    """Scans listed descriptions and quarantines poisoned items; see the module docstring."""

    name = NAME

    def __init__(
        self,
        store: PinStore,
        *,
        mode: Mode = "block",
        threshold: float = FLAG_THRESHOLD,
        cache_ttl_seconds: float = 1.0,
        scan_cache_size: int = 256,
    ) -> None:
        self._store = store
        self._mode = mode
        self._threshold = threshold
        self._ttl = cache_ttl_seconds
        self._pins: dict[str, tuple[float, Mapping[str, Pin]]] = {}
        self._scans: OrderedDict[str, dict[str, list[Finding]]] = OrderedDict()
        self._scan_cache_size = scan_cache_size
        self._lock = threading.Lock()

    async def check(self, exchange: Exchange) -> Verdict:
        if exchange.direction is Direction.SERVER_TO_CLIENT:
            answered = answered_method(exchange)
            if answered is not None and answered in LIST_METHODS:
                return await self._check_list(exchange, answered)
            if answered in INSTRUCTION_METHODS:
                return await self._check_instructions(exchange)
            return Verdict.allow(NAME)
        method = exchange.method
        if self._mode == "block" and exchange.is_request and method is not None and method in CALL_KINDS:
            return await self._check_call(exchange, CALL_KINDS[method])
        return Verdict.allow(NAME)

    # -- lists -----------------------------------------------------------------------------

    async def _check_list(self, exchange: Exchange, method: str) -> Verdict:
        result = exchange.result
        assert result is not None
        try:
            items = items_from_result(method, result)
        except ValueError as exc:
            return Verdict.deny(
                NAME, "malformed list from upstream", rule_ids=(RULE_FLAGGED,), detail=str(exc)
            )
        kind = LIST_METHODS[method][2]
        per_item = self._scan_list(kind, items)
        hits = {key: found for key, found in per_item.items() if flagged(found, self._threshold)}
        if not hits:
            if self._mode == "block" and exchange.upstream is not None:
                await self._record_clean(exchange.upstream, items)
            return Verdict.allow(NAME)
        held = await self._hold(exchange, items, hits)
        rules = tuple(sorted({f.rule_id for key in hits for f in hits[key]}))
        detail = "; ".join(
            f"{key}: {','.join(sorted({f.rule_id for f in hits[key]}))}" for key in sorted(hits)
        )
        if not held:
            return Verdict(Decision.ALLOW, guard=NAME, rule_ids=rules, detail=f"approved despite: {detail}")
        return Verdict(
            Decision.MODIFY,
            guard=NAME,
            reason=f"{len(held)} item(s) withheld: suspicious description",
            message=replace_result(exchange, strip_items(result, method, held)),
            rule_ids=(RULE_FLAGGED, *rules),
            detail=detail,
        )

    def _scan_list(self, kind: str, items: Sequence[PinItem]) -> dict[str, list[Finding]]:
        """Findings per item key; cached by the digest of the whole list (lists repeat)."""
        cache_key = digest([kind, [i.digest for i in items]])
        with self._lock:
            cached = self._scans.get(cache_key)
            if cached is not None:
                self._scans.move_to_end(cache_key)
                return cached
        surface: dict[str, Any] = {"tools": [], _SURFACE_ARG[kind]: [i.value for i in items]}
        findings = scan_surface(server=None, instructions=None, **surface)
        per_item = _attribute(findings, _LOCATION_KIND[kind], items)
        with self._lock:
            self._scans[cache_key] = per_item
            while len(self._scans) > self._scan_cache_size:
                self._scans.popitem(last=False)
        return per_item

    async def _hold(
        self, exchange: Exchange, items: Sequence[PinItem], hits: Mapping[str, list[Finding]]
    ) -> list[str]:
        """Record flags; return the keys to hide (none in warn mode or once approved)."""
        if self._mode == "warn":
            return []
        upstream = exchange.upstream
        if upstream is None:
            return sorted(hits)  # no place to record an approval: hide, fail closed
        pins = dict(await self._store.load(upstream))
        held: list[str] = []
        now = time.time()
        for item in items:
            found = hits.get(item.key)
            if found is None:
                continue
            current = pins.get(flag_key(item.key))
            if current is not None and current.digest == item.digest and current.status is PinStatus.APPROVED:
                continue  # an operator approved this very item
            held.append(item.key)
            pin = _flag_pin(upstream, item, found, PinStatus.QUARANTINED, current=current, now=now)
            if current is None or current.digest != pin.digest or current.status is not pin.status:
                await self._store.put(pin)
                pins[pin.key] = pin
        await self._record_clean(upstream, [i for i in items if i.key not in hits], pins)
        self._remember(upstream, pins)
        return held

    async def _record_clean(
        self, upstream: str, items: Sequence[PinItem], pins: dict[str, Pin] | None = None
    ) -> None:
        """A flagged item that changed into a clean one no longer holds its calls."""
        if pins is None:
            pins = dict(await self._pins_of(upstream))
        now = time.time()
        for item in items:
            current = pins.get(flag_key(item.key))
            if current is None or (current.digest == item.digest and current.status is PinStatus.APPROVED):
                continue
            pin = _flag_pin(upstream, item, [], PinStatus.APPROVED, current=current, now=now)
            await self._store.put(pin)
            pins[pin.key] = pin
        self._remember(upstream, pins)

    # -- instructions ------------------------------------------------------------------------

    async def _check_instructions(self, exchange: Exchange) -> Verdict:
        result = exchange.result
        assert result is not None
        raw = result.get("instructions")
        if not isinstance(raw, str) or not raw:
            return Verdict.allow(NAME)
        findings = scan_surface(server=None, instructions=raw, tools=[])
        if not flagged(findings, self._threshold):
            return Verdict.allow(NAME)
        item = instructions_item(raw)
        held = await self._hold(exchange, [item], {INSTRUCTIONS_KEY: findings})
        rules = tuple(sorted({f.rule_id for f in findings}))
        if not held:
            return Verdict(Decision.ALLOW, guard=NAME, rule_ids=rules, detail="instructions flagged")
        stripped = {k: v for k, v in result.items() if k != "instructions"}
        return Verdict(
            Decision.MODIFY,
            guard=NAME,
            reason="server instructions withheld: suspicious content",
            message=replace_result(exchange, stripped),
            rule_ids=(RULE_FLAGGED, *rules),
            detail=f"{INSTRUCTIONS_KEY}: {','.join(rules)}",
        )

    # -- calls -------------------------------------------------------------------------------

    async def _check_call(self, exchange: Exchange, kind: str) -> Verdict:
        name = exchange.params.get("name")
        if not isinstance(name, str) or exchange.upstream is None:
            return Verdict.allow(NAME)  # nothing to look up; pinning and authorization refuse these
        pins = await self._pins_of(exchange.upstream)
        for key in candidate_keys(exchange, kind, name):
            pin = pins.get(flag_key(key))
            if pin is not None and pin.status is not PinStatus.APPROVED:
                return Verdict.deny(
                    NAME,
                    f"{kind} {name!r} is quarantined: suspicious description",
                    rule_ids=(RULE_CALL, *_rules_of(pin)),
                    detail=f"flagged: {key}",
                )
        return Verdict.allow(NAME)

    async def _pins_of(self, upstream: str) -> Mapping[str, Pin]:
        cached = self._pins.get(upstream)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        pins = await self._store.load(upstream)
        self._remember(upstream, pins)
        return pins

    def _remember(self, upstream: str, pins: Mapping[str, Pin]) -> None:
        self._pins[upstream] = (time.monotonic(), dict(pins))


def _attribute(findings: Sequence[Finding], kind: str, items: Sequence[PinItem]) -> dict[str, list[Finding]]:
    """Group findings by item through their documented location prefix ``<kind>:<name>.``.

    The longest matching name wins, so ``tool:a.b.description`` belongs to ``a.b``, not ``a``.
    """
    keys: dict[str, str] = {}
    for item in items:
        value = item.value if isinstance(item.value, Mapping) else {}
        # The detectors name an item by its "name" (a template's too), else its URI.
        keys[str(value.get("name", value.get("uri", "")))] = item.key
    names = sorted(keys, key=len, reverse=True)
    out: dict[str, list[Finding]] = {i.key: [] for i in items}
    for finding in findings:
        for name in names:
            if finding.location.startswith(f"{kind}:{name}."):
                out[keys[name]].append(finding)
                break
    return out


def _flag_pin(
    upstream: str,
    item: PinItem,
    found: Sequence[Finding],
    status: PinStatus,
    *,
    current: Pin | None,
    now: float,
) -> Pin:
    record = {"rules": sorted({f.rule_id for f in found}), "risk": risk_score(found), "item": item.digest}
    snapshot = canonical_json(record).decode()
    if current is None:
        return Pin(upstream, flag_key(item.key), item.digest, status, snapshot, updated_at=now)
    return replace(current, digest=item.digest, status=status, snapshot=snapshot, updated_at=now)


def _rules_of(pin: Pin) -> tuple[str, ...]:
    try:
        rules = json.loads(pin.snapshot).get("rules", [])
    except (ValueError, AttributeError):
        return ()
    return tuple(str(r) for r in rules)


def factory(settings: DescriptionsSettings, ctx: BuildContext) -> DescriptionsGuard:
    """Build the guard from its ``bastion.yaml`` entry; it records flags in ``stores.pins``."""
    if ctx.stores.pins is None:
        raise ConfigError("guards: descriptions needs a pin store (stores.pins)")
    return DescriptionsGuard(ctx.stores.pins, mode=settings.mode)
