"""``AuditLog``: append events to a hash chain with group commit and signed checkpoints.

Durability rule: ``append(event, durable=True)`` returns only after the record's
transaction is on disk, so the gateway releases the result of a world-changing call only
after its record is durable. ``durable=False`` records are committed in the same
batches, without waiting for an fsync; they survive a process crash (kill -9) but maybe
not a power cut.

One background task (the writer) takes everything queued, up to ``max_batch``, and
hands it to the store in one transaction. While a batch is being committed, new records
queue up for the next one: that is the group commit, and it needs no timer. ``linger``
(default 0) optionally holds a batch of only non-durable records up to that many
seconds to let it fill; a durable record or a full batch flushes at once. A record
therefore waits at most one commit plus ``linger`` before its own commit starts.

Sealing (hashing) happens inside the store's transaction, holding its lock, so several
processes on one database keep one chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_bastion.errors import AuditError, StoreUnavailableError
from mcp_bastion.store.interface import AuditStore, StoredRecord

from .record import SCHEMA_VERSION, AuditEvent, AuditRecord, new_record_id, rfc3339, seal
from .signing import CheckpointSigner

__all__ = ["AuditLog"]


@dataclass(slots=True)
class _Pending:
    fields: dict[str, Any]
    durable: bool
    plain: bool
    future: asyncio.Future[AuditRecord] = field(repr=False)


class AuditLog:
    """The append side of the audit log (one per process; safe for many tasks)."""

    def __init__(
        self,
        store: AuditStore,
        *,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = 1000,
        max_batch: int = 1024,
        linger: float = 0.0,
        witness: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if checkpoint_every < 2 or max_batch < 1 or linger < 0:
            raise ValueError("checkpoint_every >= 2, max_batch >= 1, linger >= 0")
        self.store = store
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.max_batch = max_batch
        self.linger = linger
        self.witness = witness
        self._clock = clock
        self._queue: list[_Pending] = []
        self._inflight: list[_Pending] = []
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    async def __aenter__(self) -> AuditLog:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def append(self, event: AuditEvent, *, durable: bool) -> AuditRecord:
        """Append ``event``; return its sealed record once committed (and on disk if ``durable``).

        Raises ``StoreUnavailableError`` when the store cannot be reached: the record is
        then not in the log, and a world-changing call must not proceed.
        """
        fields, plain = event.prepare(self._clock())
        return await self._enqueue(fields, durable=durable, plain=plain)

    async def append_fields(self, fields: dict[str, Any], *, durable: bool) -> AuditRecord:
        """Append a record of another ``kind`` (repair, retention) given its fields."""
        if fields.get("kind") not in {"repair", "retention"}:
            raise ValueError("append_fields takes repair or retention records")
        now = self._clock()
        return await self._enqueue(
            {"v": SCHEMA_VERSION, "id": new_record_id(now), "time": rfc3339(now), **fields}, durable=durable
        )

    async def checkpoint(self) -> AuditRecord:
        """Write a signed checkpoint now (also written every ``checkpoint_every`` records)."""
        if self.signer is None:
            raise AuditError("no signing key configured for audit checkpoints")
        return await self._enqueue({"kind": "checkpoint"}, durable=True)

    async def _enqueue(self, fields: dict[str, Any], *, durable: bool, plain: bool = False) -> AuditRecord:
        if self._closed:
            raise AuditError("audit log is closed")
        loop = asyncio.get_running_loop()
        item = _Pending(fields, durable, plain, loop.create_future())
        self._queue.append(item)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._run(), name="bastion-audit-writer")
        self._wake.set()
        if durable or len(self._queue) >= self.max_batch:
            self._flush.set()
        return await item.future

    async def _run(self) -> None:
        try:
            await self._loop()
        except BaseException:
            # Cancelled (loop shutting down) or a bug: no caller may wait forever, and none
            # may believe its record was written.
            for item in self._queue + self._inflight:
                if not item.future.done():
                    item.future.set_exception(AuditError("audit writer stopped"))
            self._queue, self._inflight = [], []
            raise

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            if not self._queue:
                self._wake.clear()
                if self._closed:
                    return
                continue
            if not self._flush.is_set():
                if self.linger > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._flush.wait(), self.linger)
                else:
                    await asyncio.sleep(0)  # let tasks made ready in this tick enqueue too
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            if (
                not self._closed
                and len(self._queue) < self.max_batch
                and not any(p.durable for p in self._queue)
            ):
                self._flush.clear()
            self._inflight = batch
            await self._commit(batch)
            self._inflight = []

    async def _commit(self, batch: Sequence[_Pending]) -> None:
        results: list[AuditRecord] = []
        checkpoints: list[AuditRecord] = []

        def sealer(head_seq: int, head_hash: str) -> Sequence[StoredRecord]:
            # Runs inside the store's transaction, holding the log's write lock: CPU only.
            results.clear()
            checkpoints.clear()
            out: list[StoredRecord] = []
            seq, prev = head_seq, head_hash
            every = self.checkpoint_every if self.signer is not None else 0
            for item in batch:
                if (every and (seq + 1) % every == 0) or item.fields.get("kind") == "checkpoint":
                    cp = self._seal_checkpoint(seq, prev)
                    checkpoints.append(cp)
                    out.append(cp.stored)
                    seq, prev = cp.seq, cp.hash
                    if item.fields.get("kind") == "checkpoint":
                        results.append(cp)
                        continue
                seq += 1
                record = seal(item.fields, seq, prev, plain=item.plain)
                prev = record.hash
                out.append(record.stored)
                results.append(record)
            return out

        try:
            await self.store.append(sealer, durable=any(p.durable for p in batch))
        except Exception as exc:  # noqa: BLE001 - every failure must reach every waiter; the writer lives on
            error = (
                exc
                if isinstance(exc, AuditError | StoreUnavailableError)
                else StoreUnavailableError(f"audit store failed: {type(exc).__name__}")
            )
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        for item, record in zip(batch, results, strict=True):
            if not item.future.done():  # a cancelled caller's record is in the log all the same
                item.future.set_result(record)
        if checkpoints and self.witness is not None:
            self._publish(checkpoints)

    def _seal_checkpoint(self, seq: int, prev: str) -> AuditRecord:
        assert self.signer is not None  # checkpoint() and the sealer check this first
        now = self._clock()
        fields = {
            "v": SCHEMA_VERSION,
            "kind": "checkpoint",
            "id": new_record_id(now),
            "time": rfc3339(now),
            "checkpoint": self.signer.sign(seq, prev),
        }
        return seal(fields, seq + 1, prev, plain=True)  # ints and strings only

    def _publish(self, checkpoints: Sequence[AuditRecord]) -> None:
        # The witness file lives outside the store: a truncated or rewritten log can be
        # caught against it even when the attacker also rewrote the store's head.
        assert self.witness is not None
        lines = [
            json.dumps({"seq": r.seq, "hash": r.hash, "checkpoint": r.data["checkpoint"]}) + "\n"
            for r in checkpoints
        ]
        with self.witness.open("a", encoding="utf-8") as fh:
            fh.writelines(lines)

    async def close(self) -> None:
        """Flush what is queued, stop the writer. Does not close the store."""
        self._closed = True
        self._flush.set()
        self._wake.set()
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            await writer
