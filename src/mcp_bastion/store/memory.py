"""In-process stores of every kind: for tests and single-process embedded use.

Each operation runs under one lock and never awaits inside it, so it is atomic with
respect to other tasks and threads of the process. Nothing is shared between processes
and nothing survives a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace

from .bucket import refill_and_take
from .interface import GENESIS, Approval, ApprovalStatus, Pin, Sealer, StoredRecord

__all__ = [
    "MemoryApprovalStore",
    "MemoryAuditStore",
    "MemoryPinStore",
    "MemoryRateLimitStore",
    "MemoryStateStore",
]


class MemoryPinStore:
    """Pins in a dict keyed by (upstream, key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, str], Pin] = {}

    async def load(self, upstream: str) -> Mapping[str, Pin]:
        with self._lock:
            return {k: p for (u, k), p in self._pins.items() if u == upstream}

    async def put(self, pin: Pin) -> None:
        with self._lock:
            self._pins[(pin.upstream, pin.key)] = pin

    async def list_all(self) -> Sequence[Pin]:
        with self._lock:
            return [self._pins[k] for k in sorted(self._pins)]


class MemoryRateLimitStore:
    """Token buckets in a dict; the clock is ``time.monotonic``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(
        self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
    ) -> tuple[bool, float]:
        with self._lock:
            tokens, stamp = self._buckets.get(key, (None, None))
            result = refill_and_take(
                tokens,
                stamp,
                time.monotonic(),
                capacity=capacity,
                refill_per_second=refill_per_second,
                cost=cost,
            )
            self._buckets[key] = (result.tokens, result.stamp)
            return result.allowed, result.retry_after


class MemoryStateStore:
    """Values with an expiry time (``time.monotonic``); expired entries read as absent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[bytes, float]] = {}

    def _live(self, key: str, now: float) -> bytes | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._values[key]
            return None
        return entry[0]

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key, time.monotonic())

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        with self._lock:
            self._values[key] = (bytes(value), time.monotonic() + ttl_seconds)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._live(key, now) is not None:
                return False
            self._values[key] = (bytes(value), now + ttl_seconds)
            return True

    async def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)


class MemoryApprovalStore:
    """Approvals in a dict; ``decide`` is a compare-and-set on PENDING."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Approval] = {}

    async def create(self, approval: Approval) -> None:
        with self._lock:
            if approval.id in self._items:
                raise ValueError("approval id already exists")
            self._items[approval.id] = approval

    async def get(self, approval_id: str) -> Approval | None:
        with self._lock:
            return self._items.get(approval_id)

    async def decide(self, approval_id: str, status: ApprovalStatus, decided_by: str) -> Approval | None:
        if status is ApprovalStatus.PENDING:
            raise ValueError("a decision cannot move an approval back to pending")
        with self._lock:
            current = self._items.get(approval_id)
            if current is None or current.status is not ApprovalStatus.PENDING:
                return None
            moved = replace(current, status=status, decided_by=decided_by, decided_at=time.time())
            self._items[approval_id] = moved
            return moved

    async def list_pending(self) -> Sequence[Approval]:
        with self._lock:
            pending = [a for a in self._items.values() if a.status is ApprovalStatus.PENDING]
        return sorted(pending, key=lambda a: (a.created_at, a.id))


class MemoryAuditStore:
    """Audit records in a list; ``append`` holds one lock while sealing and inserting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[StoredRecord] = []
        self._head: tuple[int, str] = (0, GENESIS)

    async def append(self, seal: Sealer, *, durable: bool) -> Sequence[StoredRecord]:
        with self._lock:
            sealed = list(seal(*self._head))
            if sealed:
                self._records.extend(sealed)
                self._head = (sealed[-1].seq, sealed[-1].hash)
            return sealed

    async def head(self) -> tuple[int, str]:
        with self._lock:
            return self._head

    async def scan(self, *, after_seq: int = 0, batch: int = 5000) -> AsyncIterator[Sequence[StoredRecord]]:
        with self._lock:
            rows = [r for r in self._records if r.seq > after_seq]
        for start in range(0, len(rows), batch):
            yield rows[start : start + batch]

    async def scan_into(
        self,
        consume: Callable[[Sequence[StoredRecord]], None],
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        batch: int = 5000,
    ) -> None:
        with self._lock:
            rows = [
                r for r in self._records if r.seq > after_seq and (until_seq is None or r.seq <= until_seq)
            ]
        for start in range(0, len(rows), batch):
            consume(rows[start : start + batch])

    async def truncate_after(self, seq: int, head_hash: str) -> int:
        with self._lock:
            kept = [r for r in self._records if r.seq <= seq]
            removed = len(self._records) - len(kept)
            self._records = kept
            self._head = (seq, head_hash)
            return removed

    async def prune_before(self, seq: int) -> int:
        with self._lock:
            kept = [r for r in self._records if r.seq >= seq]
            removed = len(self._records) - len(kept)
            self._records = kept
            return removed

    async def close(self) -> None:
        return None
