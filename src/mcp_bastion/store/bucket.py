"""Token-bucket arithmetic shared by every rate-limit store (pure, no I/O).

The Redis store runs the same rule as a Lua script (``redis.py``); the contract tests
hold both to one behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BucketResult", "refill_and_take"]


@dataclass(frozen=True, slots=True)
class BucketResult:
    """The outcome of one ``take``: the decision and the bucket's new state."""

    allowed: bool
    retry_after: float
    tokens: float
    stamp: float


def refill_and_take(
    tokens: float | None,
    stamp: float | None,
    now: float,
    *,
    capacity: float,
    refill_per_second: float,
    cost: float,
) -> BucketResult:
    """Refill a bucket (full when new) by the time elapsed since ``stamp``, then take ``cost``.

    A clock that went backwards refills nothing (never a negative elapsed time). A cost
    above the capacity can never be granted: ``retry_after`` is then infinite.
    """
    if capacity <= 0 or cost < 0 or refill_per_second < 0:
        raise ValueError("capacity must be > 0, cost and refill_per_second >= 0")
    if tokens is None or stamp is None:
        tokens, stamp = capacity, now
    level = min(capacity, tokens + max(0.0, now - stamp) * refill_per_second)
    if level >= cost:
        return BucketResult(True, 0.0, level - cost, now)
    if cost > capacity or refill_per_second == 0:
        return BucketResult(False, math.inf, level, now)
    return BucketResult(False, (cost - level) / refill_per_second, level, now)
