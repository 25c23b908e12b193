"""Pins of an upstream's surface: items, digests, reconciliation and diffs (pure, no I/O).

An upstream's surface is cut into items, each pinned on its own so one changed tool
quarantines that tool and nothing else:

- ``tool:NAME``: the whole tool definition as listed (title, description, input and
  output schemas, annotations, icons, ``_meta``: everything a host or model may see);
- ``prompt:NAME``: the whole prompt definition (description, arguments);
- ``resource_template:URI_TEMPLATE``: the whole resource template;
- ``instructions``: the server instructions from ``initialize`` / ``server/discover``
  (pinned as JSON ``null`` when absent, so instructions that appear later are drift).

``surface:tools``, ``surface:prompts`` and ``surface:resource_templates`` are markers
written when the first complete list of that kind was pinned: they are what "first
contact happened" means, so a server that lists no tools at first and adds one later
does not get that tool trusted on first sight.

A pin's digest is :func:`mcp_bastion.canonical.digest` of the item; its snapshot the
canonical JSON, kept for ``bastion pins diff``. ``flag:KEY`` pins are written by the
descriptions guard: their digest is the flagged item's digest and their snapshot records
the rule IDs that flagged it.

Everything here is pure except :func:`approve_keys`, the one store operation shared by
``bastion pins approve`` and the console.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mcp_bastion.canonical import canonical_json, digest
from mcp_bastion.store.interface import Pin, PinStatus, PinStore

__all__ = [
    "FLAG_PREFIX",
    "INSTRUCTIONS_KEY",
    "LIST_METHODS",
    "PinItem",
    "SurfaceChange",
    "approve",
    "approve_keys",
    "flag_key",
    "instructions_item",
    "is_marker",
    "items_from_result",
    "key_for",
    "marker_item",
    "marker_key",
    "pin_for",
    "pretty",
    "reconcile",
    "removed_keys",
    "strip_items",
    "unified_diff",
]

INSTRUCTIONS_KEY = "instructions"
FLAG_PREFIX = "flag:"
_MARKER_PREFIX = "surface:"

# List method -> (result field, item key field, item kind).
LIST_METHODS: Mapping[str, tuple[str, str, str]] = {
    "tools/list": ("tools", "name", "tool"),
    "prompts/list": ("prompts", "name", "prompt"),
    "resources/templates/list": ("resourceTemplates", "uriTemplate", "resource_template"),
}
_KIND_MARKERS = {"tool": "tools", "prompt": "prompts", "resource_template": "resource_templates"}


@dataclass(frozen=True, slots=True)
class PinItem:
    """One item of a surface: its pin key, the raw JSON value and its digest/snapshot."""

    key: str
    value: Any
    digest: str
    snapshot: str

    @classmethod
    def of(cls, key: str, value: Any) -> PinItem:
        return cls(key=key, value=value, digest=digest(value), snapshot=canonical_json(value).decode())


@dataclass(frozen=True, slots=True)
class SurfaceChange:
    """How one item relates to its pin: the pin to write (if any) and whether it is hidden."""

    item: PinItem
    pin: Pin  # the pin after this listing
    write: bool  # whether ``pin`` differs from the stored one
    quarantined: bool
    reason: str  # "first_contact", "unchanged", "new", "changed", "reverted"

    @property
    def never_approved(self) -> bool:
        return self.pin.approved_digest is None


def key_for(kind: str, name: str) -> str:
    """The pin key of an item: ``tool:get_asset``, ``prompt:triage``, ``resource_template:URI``."""
    return f"{kind}:{name}"


def marker_key(kind: str) -> str:
    """The first-contact marker key of an item kind (``tool`` -> ``surface:tools``)."""
    return _MARKER_PREFIX + _KIND_MARKERS[kind]


def flag_key(key: str) -> str:
    """The key under which the descriptions guard records a flagged item."""
    return FLAG_PREFIX + key


def is_marker(key: str) -> bool:
    return key.startswith(_MARKER_PREFIX)


def marker_item(kind: str) -> PinItem:
    """The item stored under :func:`marker_key` once a first complete listing was pinned."""
    return PinItem.of(marker_key(kind), {"first_contact": _KIND_MARKERS[kind]})


def instructions_item(instructions: str | None) -> PinItem:
    return PinItem.of(INSTRUCTIONS_KEY, instructions)


def items_from_result(method: str, result: Mapping[str, Any]) -> list[PinItem]:
    """The pin items of one list result; items without a usable name are returned keyless.

    Raises ``ValueError`` for a malformed list (not a list, item not an object, missing or
    duplicate name): the caller denies rather than guess which item a client would see.
    """
    field, name_field, kind = LIST_METHODS[method]
    raw = result.get(field, [])
    if not isinstance(raw, list):
        raise ValueError(f"{field} is not a list")
    items: list[PinItem] = []
    seen: set[str] = set()
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise ValueError(f"an entry of {field} is not an object")
        name = entry.get(name_field)
        if not isinstance(name, str) or not name:
            raise ValueError(f"an entry of {field} has no {name_field}")
        if name in seen:
            raise ValueError(f"duplicate {name_field} in {field}: {name!r}")
        seen.add(name)
        items.append(PinItem.of(key_for(kind, name), dict(entry)))
    return items


def pin_for(upstream: str, item: PinItem, status: PinStatus, *, now: float, approved: bool) -> Pin:
    """A fresh pin for ``item``; ``approved`` also records it as the approved snapshot."""
    return Pin(
        upstream=upstream,
        key=item.key,
        digest=item.digest,
        status=status,
        snapshot=item.snapshot,
        approved_digest=item.digest if approved else None,
        approved_snapshot=item.snapshot if approved else None,
        updated_at=now,
    )


def reconcile(
    upstream: str, existing: Pin | None, item: PinItem, *, first_contact: bool, now: float
) -> SurfaceChange:
    """Decide what ``item`` means against its pin (trust on first contact, then drift).

    - no pin, first contact: pinned and approved;
    - no pin after first contact: a new item, quarantined;
    - same digest as the pin: unchanged (status kept: a quarantined item stays so);
    - the approved digest again: the server reverted, approved;
    - anything else: changed, quarantined; the approved snapshot is kept for the diff.
    """
    if existing is None:
        if first_contact:
            pin = pin_for(upstream, item, PinStatus.APPROVED, now=now, approved=True)
            return SurfaceChange(item, pin, True, False, "first_contact")
        pin = pin_for(upstream, item, PinStatus.QUARANTINED, now=now, approved=False)
        return SurfaceChange(item, pin, True, True, "new")
    if existing.digest == item.digest:
        return SurfaceChange(item, existing, False, existing.status is not PinStatus.APPROVED, "unchanged")
    if existing.approved_digest == item.digest:
        pin = replace(
            existing, digest=item.digest, snapshot=item.snapshot, status=PinStatus.APPROVED, updated_at=now
        )
        return SurfaceChange(item, pin, True, False, "reverted")
    pin = replace(
        existing, digest=item.digest, snapshot=item.snapshot, status=PinStatus.QUARANTINED, updated_at=now
    )
    return SurfaceChange(item, pin, True, True, "changed")


def approve(pin: Pin, *, now: float) -> Pin:
    """The operator approved the current snapshot of ``pin``."""
    return replace(
        pin,
        status=PinStatus.APPROVED,
        approved_digest=pin.digest,
        approved_snapshot=pin.snapshot,
        updated_at=now,
    )


def pretty(snapshot: str | None) -> str:
    """A snapshot as indented JSON (the diff's unit), or empty text for ``None``."""
    if snapshot is None:
        return ""
    return json.dumps(json.loads(snapshot), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def unified_diff(pin: Pin) -> str:
    """A unified diff from the approved snapshot to the current one (empty when equal)."""
    before = pretty(pin.approved_snapshot).splitlines(keepends=True)
    after = pretty(pin.snapshot).splitlines(keepends=True)
    label = f"{pin.upstream} {pin.key}"
    approved_label = (
        f"{label} (approved)" if pin.approved_snapshot is not None else f"{label} (never approved)"
    )
    return "".join(difflib.unified_diff(before, after, fromfile=approved_label, tofile=f"{label} (current)"))


def removed_keys(pins: Mapping[str, Pin], kind: str, current: Iterable[str]) -> list[str]:
    """Pinned keys of ``kind`` that a complete listing no longer contains."""
    prefix = f"{kind}:"
    present = set(current)
    return sorted(k for k in pins if k.startswith(prefix) and k not in present)


def strip_items(result: Mapping[str, Any], method: str, hidden: Sequence[str]) -> dict[str, Any]:
    """A copy of a list result without the items whose pin keys are in ``hidden``."""
    field, name_field, kind = LIST_METHODS[method]
    drop = set(hidden)
    out = dict(result)
    out[field] = [
        entry
        for entry in result.get(field, [])
        if not (isinstance(entry, Mapping) and key_for(kind, str(entry.get(name_field))) in drop)
    ]
    return out


async def approve_keys(
    store: PinStore, upstream: str, keys: Sequence[str], *, everything: bool = False, now: float
) -> list[Pin]:
    """Approve ``keys`` of ``upstream`` (or, with ``everything``, every quarantined pin).

    Approving ``tool:x`` also approves its ``flag:tool:x`` (the operator reviewed the
    item). Returns the pins written. Raises ``KeyError`` naming a key that is not pinned
    (nothing is written then).
    """
    pins = await store.load(upstream)
    if everything:
        chosen = [p for p in pins.values() if p.status is not PinStatus.APPROVED]
    else:
        missing = [k for k in keys if k not in pins]
        if missing:
            raise KeyError(", ".join(missing))
        wanted = {k for key in keys for k in (key, flag_key(key))}
        chosen = [pins[k] for k in sorted(wanted) if k in pins and pins[k].status is not PinStatus.APPROVED]
    written = [approve(pin, now=now) for pin in sorted(chosen, key=lambda p: p.key)]
    for pin in written:
        await store.put(pin)
    return written
