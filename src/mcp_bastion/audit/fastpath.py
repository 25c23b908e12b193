"""The fast path of ``bastion audit verify``: accept runs of event records without parsing them.

A record is accepted here when all of these hold (docs/audit.md, "What verify proves"):

- its stored ``hash`` is ``sha256:`` and the SHA-256 of its stored bytes;
- its ``seq`` is the one after the previous record's;
- its *top-level* ``prev`` is the previous record's hash. Top-level means the last
  ``,"prev":"sha256:`` in the bytes: an event record's keys are sorted, the only nested
  value (``arguments``) sorts before ``prev``, every key after ``prev`` holds a string,
  number or null, and a JSON string cannot hold an unescaped quote. An earlier
  occurrence can only sit inside the client-chosen arguments, so it is never trusted
  (else a client could plant a link to a record an attacker forges later);
- it is an event: ``principal`` is the key right after that ``prev``. Every event has a
  principal, and no checkpoint, repair or retention record has one (their key after
  ``prev`` is ``seq``, ``reason`` or ``pruned_before``). This routes every genuine
  non-event record to the deep path; a forged record may claim any kind, and it is the
  links, not the kind, that tell it from a genuine one;
- its seq is not one the deep path must see in any case: a witnessed checkpoint, or a
  multiple of ``checkpoint_every`` when the verifier is told the writer's cadence.

Changing any byte of record k changes hash k, which record k+1 embeds, and so on up to
the next signed checkpoint and the head, which the deep path checks. Whatever is refused
here goes to the deep path, which parses the record and says what is wrong with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import add, ne

from mcp_bastion.store.interface import RecordBlock, StoredRecord

__all__ = ["BlockScan", "leading_rows", "scan_block"]

_PREV = ',"prev":"sha256:'
_PREV_B = _PREV.encode()
_TAIL = '","principal":"'  # closes the prev hash; the key after it in an event record
_LINK = len(_PREV) + 64 + 1  # marker, hex digest, closing quote
_LINK_EVENT = _LINK + len(_TAIL) - 1
_hexdigest = type(hashlib.sha256()).hexdigest  # unbound: no bound method per call


def leading_rows(batch: Sequence[StoredRecord], last_seq: int, last_hash: str, stop: int) -> int:
    """How many records at the start of ``batch`` are accepted, following ``(last_seq, last_hash)``.

    ``stop``: the first seq the deep path must see in any case (a witnessed or expected
    checkpoint), or -1.
    """
    sha256 = hashlib.sha256
    link = (_PREV + last_hash[7:] + _TAIL).encode()
    done = 0
    for seq, stored_hash, body in batch:
        hexd = sha256(body).hexdigest()
        if (
            seq != last_seq + 1
            or seq == stop
            or stored_hash != "sha256:" + hexd
            or not body.startswith(link, body.rfind(_PREV_B))  # rfind -1: never starts there
        ):
            break
        last_seq = seq
        link = (_PREV + hexd + _TAIL).encode()
        done += 1
    return done


@dataclass(frozen=True, slots=True)
class BlockScan:
    """What ``scan_block`` found in a block.

    ``hexes[i]``: the SHA-256 (hex) of body i. Records ``0 .. good - 1`` have the stored
    hash of their bytes and link to the record before (record 0 to the given hash);
    ``special``: the indices below ``good`` of records that are not events or that the
    deep path must see in any case, in order; ``good`` itself is the first
    record that failed one of those checks (``len(hexes)`` if none did).
    """

    hexes: list[str]
    good: int
    special: list[int]


def scan_block(block: RecordBlock, last_hash: str, forced: Sequence[int]) -> BlockScan:
    """Check a whole block at C speed: one hash per body, then whole-block comparisons.

    ``forced``: the seqs in the block that the deep path must see in any case, sorted.
    Only where a comparison fails are the records looked at one by one.
    """
    bodies = block.bodies
    n = len(bodies)
    hexes = list(map(_hexdigest, map(hashlib.sha256, bodies)))
    good = n
    if "sha256:" + "sha256:".join(hexes) != block.hashes:
        good = next(i for i in range(n) if block.hash_at(i) != "sha256:" + hexes[i])
    # Each body's top-level link and the key after it, laid end to end, against what
    # they must be. Every slice is at most _LINK_EVENT bytes (a missing marker gives an
    # empty one), so equal joins mean every record is a linked event.
    starts = list(map(bytes.rfind, bodies, repeat(_PREV_B)))
    pieces = list(map(bytes.__getitem__, bodies, map(slice, starts, map(add, starts, repeat(_LINK_EVENT)))))
    expected = (_PREV + (_TAIL + _PREV).join([last_hash[7:], *hexes[:-1]]) + _TAIL).encode()
    special: list[int] = []
    if b"".join(pieces) != expected:
        offsets = range(0, n * _LINK_EVENT, _LINK_EVENT)
        wanted = map(expected.__getitem__, map(slice, offsets, map(add, offsets, repeat(_LINK_EVENT))))
        for i in compress(range(good), map(ne, pieces, wanted)):
            at = i * _LINK_EVENT
            if starts[i] >= 0 and pieces[i][:_LINK] == expected[at : at + _LINK]:
                special.append(i)  # linked, but not an event: the deep path checks what it is
            else:
                good = i
                break
    if forced:
        special = sorted({*special, *(seq - block.first_seq for seq in forced)})
    return BlockScan(hexes, good, [i for i in special if i < good])
