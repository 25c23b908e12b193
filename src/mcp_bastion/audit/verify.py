"""Verify an audit log: hashes, links, order, head, checkpoints, witness; name the first bad record.

Checks, per record in ``seq`` order: the body hashes to the stored hash (else
*modified*); the body's ``seq`` is the next number (else *deleted* records or a
*reordered* one); its ``prev`` is the previous record's hash (else an *inserted*,
*reordered* or *modified* neighbour). At the end: the store's head matches the last
record (else *truncated*), every witnessed checkpoint is present (else *truncated*), and,
with a public key, every checkpoint signature verifies (else *bad_checkpoint*). A last
record that is not even JSON, with nothing valid after it, is *torn*: the one problem
``bastion audit repair`` fixes.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from mcp_bastion.errors import AuditError
from mcp_bastion.store.interface import GENESIS, AuditStore, Batch, RecordBlock, StoredRecord

from .fastpath import leading_rows, scan_block
from .signing import CheckpointVerifier

__all__ = ["ChainChecker", "Problem", "VerifyReport", "load_witness", "verify_log", "verify_stream"]

_RECENT = 4096  # hashes remembered to tell a reordered record from a forged one


def _loads(body: bytes) -> Any:
    """Parse a record body: orjson for speed, json for what orjson refuses (ints beyond 64 bits)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad record: its ``seq``, a kind from the module docstring, and what was seen."""

    seq: int
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of a verification; ``ok`` is False exactly when ``problem`` is set."""

    records: int
    first_seq: int
    last_seq: int
    last_hash: str
    checkpoints: int
    signatures_checked: int
    problem: Problem | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.problem is None


class ChainChecker:
    """Incremental verifier: ``feed`` batches in order, then ``finish``."""

    def __init__(
        self,
        verifier: CheckpointVerifier | None = None,
        witness: Mapping[int, str] | None = None,
        *,
        deep: bool = False,
        checkpoint_every: int | None = None,
    ) -> None:
        if checkpoint_every is not None and checkpoint_every < 2:
            raise ValueError("checkpoint_every >= 2")
        self.verifier = verifier
        self.deep = deep
        self.checkpoint_every = checkpoint_every or 0
        self.witness = dict(witness or {})
        self.records = 0
        self.first_seq = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.checkpoints = 0
        self.signatures = 0
        self.problem: Problem | None = None
        self.after_problem = 0
        self.pruned_before = 1
        self.anchored = True
        self._started = False
        self._before_last = GENESIS
        self._recent: OrderedDict[str, int] = OrderedDict()
        self._witnessed = sorted(self.witness)  # for the fast path, which leaves these to the deep one
        self._warnings: list[str] = []

    def _fail(self, seq: int, kind: str, detail: str) -> None:
        self.problem = Problem(seq, kind, detail)

    def feed(self, batch: Batch) -> None:
        """Check ``batch`` (the next records in order); stops checking at the first problem."""
        if isinstance(batch, RecordBlock):
            self._feed_block(batch)
            return
        while batch:
            if self.problem is not None:
                self.after_problem += len(batch)
                return
            done = self._feed_fast(batch)
            if done < len(batch):
                # The deep path classifies (or accepts: checkpoints) what the fast path refused.
                self._feed_deep(batch[done : done + 1])
            batch = batch[done + 1 :]

    def _feed_fast(self, batch: Sequence[StoredRecord]) -> int:
        """Accept the leading run of plain event records (``fastpath``); return how many."""
        if self.deep or not self._started:
            return 0
        first = self.last_seq + 1
        forced = self._forced(first, first + len(batch) - 1)
        done = leading_rows(batch, self.last_seq, self.last_hash, forced[0] if forced else -1)
        if done:
            self._accepted(batch[0].seq, [rec.hash for rec in batch[max(0, done - 64) : done]], done)
        return done

    def _feed_block(self, block: RecordBlock) -> None:
        """Check a packed block: at C speed where it is plain events, the deep path elsewhere."""
        if self.problem is not None:
            self.after_problem += len(block.bodies)
            return
        if self.deep or not self._started or block.first_seq != self.last_seq + 1:
            self.feed(block.records())
            return
        scan = scan_block(block, self.last_hash, self._forced(block.first_seq, block.last_seq))
        start = 0
        for k in [*scan.special, scan.good]:
            if k > start:
                tail = ["sha256:" + h for h in scan.hexes[max(start, k - 64) : k]]
                self._accepted(block.first_seq + start, tail, k - start)
            if k == scan.good:
                break
            self._deep_one(block.record(k))
            if self.problem is not None:
                self.after_problem += len(block.bodies) - k - 1
                return
            start = k + 1
        if scan.good < len(block.bodies):
            self.feed(block.records(scan.good))  # the row path says what is wrong there

    def _forced(self, low: int, high: int) -> list[int]:
        """The seqs in ``low..high`` that must be checked in full: witnessed or expected checkpoints."""
        witnessed = self._witnessed[bisect_left(self._witnessed, low) : bisect_right(self._witnessed, high)]
        every = self.checkpoint_every
        if not every:
            return witnessed
        cadence = range(-(-low // every) * every, high + 1, every)
        return sorted({*witnessed, *cadence}) if witnessed else list(cadence)

    def _accepted(self, first: int, tail_hashes: Sequence[str], count: int) -> None:
        """Records ``first .. first + count - 1`` passed the fast path; ``tail_hashes``: their last hashes."""
        self.records += count
        self._before_last = tail_hashes[-2] if len(tail_hashes) >= 2 else self.last_hash
        self.last_seq, self.last_hash = first + count - 1, tail_hashes[-1]
        recent = self._recent
        for offset, digest in enumerate(tail_hashes, first + count - len(tail_hashes)):
            recent[digest] = offset
        while len(recent) > _RECENT:
            recent.popitem(last=False)

    def _feed_deep(self, batch: Iterable[StoredRecord]) -> None:
        """Check every field of every record (parses each body)."""
        for rec in batch:
            if self.problem is not None:
                self.after_problem += 1
            else:
                self._deep_one(rec)

    def _deep_one(self, rec: StoredRecord) -> None:
        try:
            data = _loads(rec.body)
            seq, prev, kind = data["seq"], data["prev"], data["kind"]
        except (ValueError, KeyError, TypeError):
            self._fail(
                rec.seq if rec.seq > 0 else self.last_seq + 1, "unparseable", "not a complete JSON record"
            )
            return
        digest = "sha256:" + hashlib.sha256(rec.body).hexdigest()
        if digest != rec.hash:
            self._fail(seq, "modified", "record content does not match its hash")
        else:
            self._order(rec.seq, seq, prev, data)
        if self.problem is None and kind != "event":
            self._special(seq, prev, kind, data)
        every = self.checkpoint_every
        if self.problem is None and every and seq % every == 0 and kind != "checkpoint":
            self._fail(seq, "bad_checkpoint", f"record {seq} should be a checkpoint (one every {every})")
        if self.problem is None and self.witness.get(seq, digest) != digest:
            self._fail(seq, "modified", "record differs from the witnessed checkpoint")
        if self.problem is not None:
            return
        self.witness.pop(seq, None)
        self.records += 1
        self._before_last = self.last_hash
        self.last_seq, self.last_hash = seq, digest
        self._recent[digest] = seq
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def _order(self, slot: int, seq: int, prev: str, data: Mapping[str, object]) -> None:
        """Check a record's place: its slot, its number and its link to the one before."""
        if seq != slot:
            if seq == self.last_seq and prev == self._before_last:
                # Everything after a forged record was renumbered to make room for it.
                self._fail(seq, "inserted", f"record {seq} is not part of the chain")
            else:
                self._fail(slot, "reordered", f"slot {slot} holds record {seq}")
        elif not self._started:
            self._started = True
            self._start(data, seq, prev)
        elif seq != self.last_seq + 1:
            if seq <= self.last_seq:
                self._fail(seq, "reordered", f"record {seq} appears after record {self.last_seq}")
            else:
                self._fail(
                    self.last_seq + 1, "deleted", f"records {self.last_seq + 1}..{seq - 1} are missing"
                )
        elif prev != self.last_hash:
            self._link_problem(seq, prev)

    def _start(self, data: Mapping[str, object], seq: int, prev: str) -> None:
        self.first_seq = seq
        if seq == 1:
            if prev != GENESIS:
                self._fail(1, "modified", "first record does not start from the genesis hash")
            return
        # A pruned log must start at a checkpoint that vouches for what came before.
        cp = data.get("checkpoint")
        if data.get("kind") != "checkpoint" or not isinstance(cp, dict):
            self._fail(1, "deleted", f"records 1..{seq - 1} are missing and record {seq} is no checkpoint")
            return
        if cp.get("seq") != seq - 1 or cp.get("hash") != prev:
            self._fail(seq, "modified", "checkpoint does not vouch for its predecessor")
            return
        if self.verifier is None:
            self.anchored = False
        self.last_seq, self.last_hash = seq - 1, prev

    def _link_problem(self, seq: int, prev: str) -> None:
        recent = self._recent
        if prev in recent:
            earlier = recent[prev]
            if earlier == self.last_seq - 1:
                self._fail(self.last_seq, "inserted", f"record {self.last_seq} is not part of the chain")
            else:
                self._fail(seq, "reordered", f"record {seq} follows record {earlier} in the chain")
        else:
            self._fail(self.last_seq, "modified", f"record {seq} does not link to record {self.last_seq}")

    def _special(self, seq: int, prev: str, kind: str, data: Mapping[str, object]) -> None:
        if kind == "checkpoint":
            cp = data.get("checkpoint")
            if not isinstance(cp, dict) or cp.get("seq") != seq - 1 or cp.get("hash") != prev:
                self._fail(seq, "bad_checkpoint", "checkpoint does not vouch for its predecessor")
                return
            self.checkpoints += 1
            if self.verifier is not None:
                reason = self.verifier.check(cp)
                if reason is not None:
                    self._fail(seq, "bad_checkpoint", reason)
                    return
                self.signatures += 1
        elif kind == "retention":
            before = data.get("pruned_before")
            if isinstance(before, int):
                self.pruned_before = max(self.pruned_before, before)
        elif kind != "repair":
            self._fail(seq, "modified", f"unknown record kind {kind!r}")

    def finish(self, head: tuple[int, str] | None = None) -> VerifyReport:
        """Close the check: head, torn tail, witness and retention; return the report."""
        if self.problem is not None and self.problem.kind == "unparseable":
            kind = "torn" if self.after_problem == 0 else "modified"
            self.problem = Problem(self.problem.seq, kind, self.problem.detail)
        if self.problem is None and head is not None:
            head_seq, head_hash = head
            if head_seq > self.last_seq:
                self._fail(
                    self.last_seq + 1, "truncated", f"records {self.last_seq + 1}..{head_seq} are missing"
                )
            elif head_seq < self.last_seq:
                self._fail(
                    head_seq + 1, "inserted", f"records {head_seq + 1}..{self.last_seq} follow the head"
                )
            elif head_hash != self.last_hash:
                self._fail(head_seq, "modified", "last record differs from the committed head")
        if self.problem is None:
            beyond = sorted(s for s in self.witness if s > self.last_seq)
            if beyond:
                self._fail(self.last_seq + 1, "truncated", f"witnessed checkpoint {beyond[0]} is missing")
        if self.problem is None and self.records and self.first_seq > self.pruned_before:
            self._fail(
                self.pruned_before,
                "deleted",
                f"records {self.pruned_before}..{self.first_seq - 1} are missing",
            )
        warnings = list(self._warnings)
        if not self.anchored:
            warnings.append(
                "log starts after pruning; without --pubkey its first checkpoint is not authenticated"
            )
        if self.verifier is None and self.checkpoints:
            warnings.append("checkpoint signatures not checked (no public key given)")
        if self.records and not self.checkpoints:
            warnings.append("no signed checkpoints in the log")
        return VerifyReport(
            records=self.records,
            first_seq=self.first_seq,
            last_seq=self.last_seq,
            last_hash=self.last_hash,
            checkpoints=self.checkpoints,
            signatures_checked=self.signatures,
            problem=self.problem,
            warnings=tuple(warnings),
        )


async def verify_stream(
    batches: AsyncIterator[Sequence[StoredRecord]],
    *,
    head: tuple[int, str] | None = None,
    verifier: CheckpointVerifier | None = None,
    witness: Mapping[int, str] | None = None,
    deep: bool = False,
) -> VerifyReport:
    """Verify records arriving in batches (from a store scan or a JSONL file)."""
    checker = ChainChecker(verifier, witness, deep=deep)
    async for batch in batches:
        checker.feed(batch)
    return checker.finish(head)


async def verify_log(
    store: AuditStore,
    *,
    verifier: CheckpointVerifier | None = None,
    witness: Mapping[int, str] | None = None,
    deep: bool = False,
    checkpoint_every: int | None = None,
    checker: ChainChecker | None = None,
) -> VerifyReport:
    """Verify everything in ``store`` up to its committed head; safe while writers append.

    Records committed after the head was read are not checked; a record beyond the head
    as re-read afterwards was not written through the store's append: *inserted*. Pass
    ``checker`` to continue a chain already fed (e.g. from archived JSONL segments).
    ``checkpoint_every``: the writers' cadence, when known; every multiple of it must then
    be a checkpoint (else *bad_checkpoint*), so a rewrite cannot drop checkpoints.
    """
    checker = checker or ChainChecker(verifier, witness, deep=deep, checkpoint_every=checkpoint_every)
    head = await store.head()
    await store.scan_into(checker.feed, until_seq=head[0])
    report = checker.finish(head)
    if not report.ok:
        return report
    beyond = 0
    async for batch in store.scan(after_seq=head[0]):
        beyond = max(beyond, batch[-1].seq)
    if beyond and beyond > (await store.head())[0]:
        problem = Problem(head[0] + 1, "inserted", "records exist beyond the committed head")
        return replace(report, problem=problem)
    return report


def load_witness(path: Path) -> dict[int, str]:
    """Read a witness file (one JSON object per line: ``seq``, ``hash``, ``checkpoint``).

    A torn last line (the writer died mid-line) is ignored: it witnessed nothing.
    """
    out: dict[int, str] = {}
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise AuditError("witness file unreadable", public_message="witness file unreadable") from exc
    for line in lines:
        try:
            entry = json.loads(line)
            out[int(entry["seq"])] = str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            continue
    return out
