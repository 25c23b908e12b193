"""The audit record: schema version 1, sealing (hashing) and parsing.

A record is a JSON object. Its ``hash`` is ``sha256:<hex>`` of the canonical JSON
(``mcp_bastion.canonical``) of the record without the ``hash`` field; ``prev`` is the hash
of the record before it (``GENESIS`` for the first). ``kind`` is ``event`` (a decision of
the gateway), ``checkpoint`` (a signature over the chain so far), ``repair`` (a torn tail
was cut) or ``retention`` (old records were pruned).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mcp_bastion.canonical import canonical_json
from mcp_bastion.store.interface import GENESIS, StoredRecord

__all__ = [
    "GENESIS",
    "KINDS",
    "SCHEMA_VERSION",
    "AuditEvent",
    "AuditRecord",
    "encode",
    "new_record_id",
    "rfc3339",
    "seal",
]

SCHEMA_VERSION = 1
KINDS = frozenset({"event", "checkpoint", "repair", "retention"})


def new_record_id(now: float | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, variant 10, random bits.

    Built with string formatting rather than ``uuid.UUID`` (this runs once per record).
    The random bits make IDs unique, not secret: ``random.SystemRandom`` would cost a
    system call per record for nothing, so a process-local generator seeded from
    ``os.urandom`` is used.
    """
    ms = f"{int((time.time() if now is None else now) * 1000) & 0xFFFFFFFFFFFF:012x}"
    r = f"{_random.getrandbits(80):020x}"
    return f"{ms[:8]}-{ms[8:]}-7{r[:3]}-{'89ab'[int(r[3], 16) & 3]}{r[4:7]}-{r[7:19]}"


_random = random.Random(os.urandom(32))  # noqa: S311 - uniqueness, not secrecy (see new_record_id)
_second_cache: tuple[int, str] = (-1, "")


def rfc3339(now: float) -> str:
    """UTC time with microseconds, e.g. ``2026-11-22T03:04:05.123456Z``."""
    global _second_cache  # noqa: PLW0603 - a one-entry cache of the formatted second
    sec = int(now)
    if _second_cache[0] != sec:
        _second_cache = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    return f"{_second_cache[1]}.{int((now - sec) * 1_000_000):06d}Z"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What the gateway reports about one exchange (arguments already redacted by the caller).

    ``arguments_digest`` defaults to the digest of ``arguments``; a caller that redacted
    arguments passes the digest of the original ones so it matches approvals and pins.
    """

    principal: str
    method: str
    verdict: str
    session: str | None = None
    upstream: str | None = None
    tool: str | None = None
    resource: str | None = None
    arguments: Any = None
    arguments_digest: str | None = None
    guard: str | None = None
    reason: str | None = None
    result_digest: str | None = None
    latency_ms: float | None = None

    def fields(self, now: float) -> dict[str, Any]:
        """The record's fields except ``seq``, ``prev`` and ``hash`` (assigned when sealed)."""
        return self.prepare(now)[0]

    def prepare(self, now: float) -> tuple[dict[str, Any], bool]:
        """The record's fields, and whether the fast encoder may seal them (see ``seal``).

        Raises ``ValueError``/``TypeError`` here, in the caller, for arguments that are not
        JSON (so one bad event never reaches the writer).
        """
        plain_args = _plain(self.arguments)
        args_json = encode(self.arguments, plain=plain_args)
        if self.latency_ms is not None and not math.isfinite(self.latency_ms):
            raise ValueError("latency_ms must be finite")
        latency = None if self.latency_ms is None else round(float(self.latency_ms), 3)
        plain = plain_args and (latency is None or abs(latency) < 1e15)
        fields = {
            "v": SCHEMA_VERSION,
            "kind": "event",
            "id": new_record_id(now),
            "time": rfc3339(now),
            "principal": self.principal,
            "session": self.session,
            "upstream": self.upstream,
            "method": self.method,
            "tool": self.tool,
            "resource": self.resource,
            "arguments": self.arguments,
            "arguments_digest": self.arguments_digest or "sha256:" + hashlib.sha256(args_json).hexdigest(),
            "verdict": self.verdict,
            "guard": self.guard,
            "reason": self.reason,
            "result_digest": self.result_digest,
            "latency_ms": latency,
        }
        return fields, plain


# orjson's sorted, compact output is byte-identical to ``canonical_json`` for every JSON
# value except floats that Python writes with an exponent ('1e-05', '1e+16'; orjson writes
# 0.00001 and 1e16). So a record whose arguments hold no such float ("plain") is sealed
# with orjson, 10x faster; any other with ``canonical_json``. tests/audit/test_record.py
# holds the two equal on generated JSON values.


def _plain(value: Any) -> bool:
    """Whether ``value`` is built only of exact JSON types and holds no exponent float.

    Conservative: a subclass, a non-string key or anything unusual is "not plain" and
    takes the reference encoder (which also rejects NaN and what is not JSON).
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-(2**63) <= value < 2**64)  # what orjson encodes
    if kind is float:
        return math.isfinite(value) and "e" not in repr(value)
    try:
        if kind is list or kind is tuple:
            return all(map(_plain, value))
        if kind is dict:
            return all(type(k) is str for k in value) and all(map(_plain, value.values()))
    except RecursionError:
        return False
    return False


_ORJSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode(value: Any, *, plain: bool) -> bytes:
    """``canonical_json(value)``; computed with orjson when ``plain`` (see above)."""
    if plain:
        try:
            return orjson.dumps(value, option=_ORJSON_OPTS)
        except TypeError:  # orjson.JSONEncodeError: big ints, lone surrogates, foreign types
            pass
    return canonical_json(value)


def seal(fields: Mapping[str, Any], seq: int, prev: str, *, plain: bool = False) -> AuditRecord:
    """Give ``fields`` its place in the chain and hash it (``record.stored`` is what is stored).

    ``plain``: the fields hold no float Python would write with an exponent (see ``encode``).
    """
    data = {**fields, "seq": seq, "prev": prev}
    body = encode(data, plain=plain)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    return AuditRecord(seq, digest, prev, data, body)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A sealed record as read back: its place in the chain and its fields."""

    seq: int
    hash: str
    prev: str
    data: Mapping[str, Any]
    body: bytes

    @property
    def stored(self) -> StoredRecord:
        return StoredRecord(self.seq, self.hash, self.body)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @classmethod
    def from_stored(cls, stored: StoredRecord) -> AuditRecord:
        data = json.loads(stored.body)
        return cls(stored.seq, stored.hash, str(data.get("prev", "")), data, stored.body)

    def to_json(self) -> dict[str, Any]:
        """The record as one JSON object, ``hash`` included (the JSONL export form)."""
        return {**self.data, "hash": self.hash}
