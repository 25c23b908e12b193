"""Store interfaces: small protocols, one per kind of state.

Common contract for every implementation (memory, SQLite, PostgreSQL, Redis):

- Concurrency: safe to call from many tasks at once and, for shared back ends, from
  several gateway processes at once. Each method is atomic on its own.
- Failure: a back end that cannot be reached raises ``StoreUnavailableError`` (never
  returns a guess); callers in the pipeline turn that into a denial with a reason, and
  the next call tries again, so service recovers on its own when the back end is back.
- Values are plain data (frozen dataclasses, str, bytes); nothing here executes code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

__all__ = [
    "GENESIS",
    "HASH_TEXT_LEN",
    "Approval",
    "ApprovalStatus",
    "ApprovalStore",
    "AuditStore",
    "Batch",
    "Pin",
    "PinStatus",
    "PinStore",
    "RateLimitStore",
    "RecordBlock",
    "Sealer",
    "StateStore",
    "StoredRecord",
]


class PinStatus(StrEnum):
    APPROVED = "approved"  # pinned on first contact or approved by an operator
    QUARANTINED = "quarantined"  # changed or new after first contact: hidden and refused


@dataclass(frozen=True, slots=True)
class Pin:
    """The pinned digest of one item of an upstream's surface.

    ``key`` names the item, e.g. ``tool:get_asset``, ``prompt:outage_triage``,
    ``resource_template:grid://assets/{asset_id}``, ``instructions``. ``snapshot`` is
    the canonical JSON of the item as last seen (for ``bastion pins diff``);
    ``approved_snapshot`` the one last approved (``None`` for a never-approved new item).
    """

    upstream: str
    key: str
    digest: str
    status: PinStatus
    snapshot: str
    approved_digest: str | None = None
    approved_snapshot: str | None = None
    updated_at: float = 0.0


class PinStore(Protocol):
    """Pins per upstream. ``put`` replaces the pin for (upstream, key) atomically."""

    async def load(self, upstream: str) -> Mapping[str, Pin]: ...

    async def put(self, pin: Pin) -> None: ...

    async def list_all(self) -> Sequence[Pin]: ...


class RateLimitStore(Protocol):
    """Token buckets. ``take`` refills by elapsed time and takes ``cost`` atomically."""

    async def take(
        self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
    ) -> tuple[bool, float]:
        """Return ``(allowed, retry_after_seconds)``; ``retry_after`` is 0 when allowed."""
        ...


class StateStore(Protocol):
    """Short-lived shared state (session bindings, MRTR keys, nonces) with a TTL."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None: ...

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        """Store only when absent (e.g. single-use nonces); True if stored."""
        ...

    async def delete(self, key: str) -> None: ...


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Approval:
    """A request that a guard answered with ASK: waiting for a human."""

    id: str
    principal: str
    upstream: str
    method: str
    target: str
    arguments_digest: str
    summary: Mapping[str, Any]
    status: ApprovalStatus
    created_at: float
    decided_by: str | None = None
    decided_at: float | None = None


class ApprovalStore(Protocol):
    """Human approvals. ``decide`` only moves a PENDING approval (atomic compare-and-set)."""

    async def create(self, approval: Approval) -> None: ...

    async def get(self, approval_id: str) -> Approval | None: ...

    async def decide(self, approval_id: str, status: ApprovalStatus, decided_by: str) -> Approval | None: ...

    async def list_pending(self) -> Sequence[Approval]: ...


GENESIS = "sha256:" + "0" * 64
"""The ``prev`` of the first record of a log: the head of an empty chain."""


class StoredRecord(NamedTuple):
    """One sealed audit record as stored.

    ``body`` is the exact canonical JSON that was hashed (the record without its ``hash``
    field); ``hash`` is ``sha256:<hex>`` of ``body``. The store never interprets ``body``.
    A NamedTuple (immutable) rather than a dataclass: a row-form scan builds one per row,
    and ``StoredRecord._make`` over driver rows is the cheapest way to do that (SQLite's
    verification scan avoids even that: see ``RecordBlock``).
    """

    seq: int
    hash: str
    body: bytes


HASH_TEXT_LEN = len("sha256:") + 64
"""Characters in a well-formed stored ``hash`` (``sha256:`` and 64 hex digits)."""


@dataclass(frozen=True, slots=True)
class RecordBlock:
    """Consecutive stored records, packed for bulk checking: seqs ``first_seq, first_seq + 1, ...``.

    ``bodies[i]`` is the stored body of record ``first_seq + i``; ``hashes`` is the stored
    ``hash`` values concatenated in the same order, each exactly ``HASH_TEXT_LEN``
    characters. A store packs a run this way only when every one of those facts holds
    for it (the run has no gap, every hash has that length, every body is bytes);
    otherwise it hands the rows over as ``StoredRecord`` sequences. The block says
    nothing about whether a body matches its hash: that is the verifier's job.
    """

    first_seq: int
    bodies: Sequence[bytes]
    hashes: str

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.bodies) - 1

    def hash_at(self, i: int) -> str:
        return self.hashes[i * HASH_TEXT_LEN : (i + 1) * HASH_TEXT_LEN]

    def record(self, i: int) -> StoredRecord:
        return StoredRecord(self.first_seq + i, self.hash_at(i), self.bodies[i])

    def records(self, start: int = 0) -> list[StoredRecord]:
        """The records from index ``start`` on, unpacked."""
        return [self.record(i) for i in range(start, len(self.bodies))]


Batch = Sequence[StoredRecord] | RecordBlock
"""What ``AuditStore.scan_into`` hands its consumer: records in order, plain or packed."""

Sealer = Callable[[int, str], Sequence[StoredRecord]]
"""Seal pending records onto a chain head ``(last_seq, last_hash)`` (``(0, GENESIS)`` when empty)."""


class AuditStore(Protocol):
    """Append-only storage of hash-chained audit records; the store knows nothing of hashing.

    - ``append`` is atomic and serialised across tasks *and processes*: inside one
      transaction (holding the log's write lock) it reads the head, calls ``seal`` with it,
      inserts what ``seal`` returns and moves the head. ``durable=True`` returns only after
      the transaction is on disk (fsync'd WAL / committed with ``synchronous_commit``);
      ``durable=False`` may leave the commit in the OS cache (survives a process kill, not
      a power cut). ``seal`` must be pure CPU: it runs while the lock is held.
    - ``head`` is the (seq, hash) the store last committed, kept apart from the records so a
      deleted tail is visible to the verifier.
    - ``scan`` yields records in ascending ``seq`` in batches.
    - Failure: an unreachable back end raises ``StoreUnavailableError``; nothing is partly
      appended (the transaction rolls back).
    """

    async def append(self, seal: Sealer, *, durable: bool) -> Sequence[StoredRecord]: ...

    async def head(self) -> tuple[int, str]: ...

    def scan(self, *, after_seq: int = 0, batch: int = 5000) -> AsyncIterator[Sequence[StoredRecord]]: ...

    async def scan_into(
        self,
        consume: Callable[[Batch], None],
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        batch: int = 5000,
    ) -> None:
        """Hand records ``after_seq < seq <= until_seq`` in order to ``consume``, batch by batch.

        A batch is a sequence of ``StoredRecord`` or a ``RecordBlock`` (at most ``batch``
        records either way). ``consume`` is pure CPU (the verifier); a store may call it on
        another thread, e.g. while it reads the next batch. Calls never overlap.
        """
        ...

    async def truncate_after(self, seq: int, head_hash: str) -> int:
        """Delete records with ``seq`` above ``seq`` and set the head to it; return the count."""
        ...

    async def prune_before(self, seq: int) -> int:
        """Delete records with ``seq`` below ``seq`` (retention); return the count."""
        ...

    async def close(self) -> None: ...
