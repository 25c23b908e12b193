"""One contract suite per store protocol, run against every implementation."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import anyio
import pytest

from mcp_bastion.store.interface import (
    Approval,
    ApprovalStatus,
    ApprovalStore,
    Pin,
    PinStatus,
    PinStore,
    RateLimitStore,
    StateStore,
)

pytestmark = pytest.mark.anyio


def _pin(upstream: str, key: str, digest: str = "sha256:aa", **kw: Any) -> Pin:
    return Pin(upstream=upstream, key=key, digest=digest, status=PinStatus.APPROVED, snapshot="{}", **kw)


async def test_pins_put_load_replace(pin_store: PinStore) -> None:
    assert await pin_store.load("grid") == {}
    first = _pin("grid", "tool:get_asset", updated_at=1.5)
    await pin_store.put(first)
    await pin_store.put(_pin("other", "tool:x"))
    assert await pin_store.load("grid") == {"tool:get_asset": first}
    changed = replace(
        first,
        digest="sha256:bb",
        status=PinStatus.QUARANTINED,
        snapshot='{"a":1}',
        approved_digest="sha256:aa",
        approved_snapshot="{}",
        updated_at=2.0,
    )
    await pin_store.put(changed)
    assert await pin_store.load("grid") == {"tool:get_asset": changed}
    assert [(p.upstream, p.key) for p in await pin_store.list_all()] == [
        ("grid", "tool:get_asset"),
        ("other", "tool:x"),
    ]


def _approval(approval_id: str, created_at: float = 1.0) -> Approval:
    return Approval(
        id=approval_id,
        principal="alice",
        upstream="grid",
        method="tools/call",
        target="open_breaker",
        arguments_digest="sha256:cc",
        summary={"breaker": "B1", "nested": {"n": [1, 2]}},
        status=ApprovalStatus.PENDING,
        created_at=created_at,
    )


async def test_approvals_lifecycle(approval_store: ApprovalStore) -> None:
    assert await approval_store.get("nope") is None
    await approval_store.create(_approval("a2", created_at=2.0))
    await approval_store.create(_approval("a1", created_at=1.0))
    with pytest.raises(ValueError, match="exists"):
        await approval_store.create(_approval("a1"))
    assert [a.id for a in await approval_store.list_pending()] == ["a1", "a2"]
    got = await approval_store.get("a1")
    assert got == _approval("a1")
    moved = await approval_store.decide("a1", ApprovalStatus.APPROVED, "operator")
    assert moved is not None
    assert (moved.status, moved.decided_by) == (ApprovalStatus.APPROVED, "operator")
    assert moved.decided_at is not None
    # A second decision loses the compare-and-set: nothing moves.
    assert await approval_store.decide("a1", ApprovalStatus.DENIED, "mallory") is None
    assert (await approval_store.get("a1")) == moved
    assert await approval_store.decide("missing", ApprovalStatus.DENIED, "x") is None
    with pytest.raises(ValueError, match="pending"):
        await approval_store.decide("a2", ApprovalStatus.PENDING, "x")
    assert [a.id for a in await approval_store.list_pending()] == ["a2"]


async def test_approvals_concurrent_decisions_one_winner(approval_store: ApprovalStore) -> None:
    await approval_store.create(_approval("race"))
    results: list[Approval | None] = []

    async def decide(who: str) -> None:
        results.append(await approval_store.decide("race", ApprovalStatus.APPROVED, who))

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(decide, f"op{i}")
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await approval_store.get("race")) == winners[0]


async def test_state_set_get_delete_ttl(state_store: StateStore) -> None:
    assert await state_store.get("k") is None
    await state_store.set("k", b"v1", ttl_seconds=30)
    assert await state_store.get("k") == b"v1"
    await state_store.set("k", b"v2", ttl_seconds=30)
    assert await state_store.get("k") == b"v2"
    await state_store.delete("k")
    assert await state_store.get("k") is None
    await state_store.delete("k")  # deleting an absent key is fine
    await state_store.set("short", b"x", ttl_seconds=0.2)
    await anyio.sleep(0.5)
    assert await state_store.get("short") is None


async def test_state_set_if_absent(state_store: StateStore) -> None:
    assert await state_store.set_if_absent("nonce", b"1", ttl_seconds=30) is True
    assert await state_store.set_if_absent("nonce", b"2", ttl_seconds=30) is False
    assert await state_store.get("nonce") == b"1"
    assert await state_store.set_if_absent("brief", b"1", ttl_seconds=0.2) is True
    await anyio.sleep(0.5)
    assert await state_store.set_if_absent("brief", b"2", ttl_seconds=30) is True
    assert await state_store.get("brief") == b"2"


async def test_state_set_if_absent_concurrent_single_winner(state_store: StateStore) -> None:
    wins: list[bool] = []

    async def claim(i: int) -> None:
        wins.append(await state_store.set_if_absent("once", str(i).encode(), ttl_seconds=30))

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(claim, i)
    assert wins.count(True) == 1


async def test_rate_limit_capacity_retry_and_refill(rate_store: RateLimitStore) -> None:
    for _ in range(3):
        assert await rate_store.take("b", capacity=3, refill_per_second=10) == (True, 0.0)
    allowed, retry = await rate_store.take("b", capacity=3, refill_per_second=10)
    assert not allowed
    assert 0 < retry <= 0.1 + 1e-6
    await anyio.sleep(0.25)  # refills ~2.5 tokens
    assert (await rate_store.take("b", capacity=3, refill_per_second=10))[0]
    # Buckets are independent per key.
    assert (await rate_store.take("other", capacity=1, refill_per_second=0))[0]
    assert await rate_store.take("other", capacity=1, refill_per_second=0) == (False, math.inf)


async def test_rate_limit_cost_above_capacity_never_granted(rate_store: RateLimitStore) -> None:
    allowed, retry = await rate_store.take("big", capacity=2, refill_per_second=1, cost=5)
    assert not allowed
    assert retry == math.inf
    with pytest.raises(ValueError, match="capacity"):
        await rate_store.take("bad", capacity=0, refill_per_second=1)


async def test_rate_limit_concurrent_takes_never_over_grant(rate_store: RateLimitStore) -> None:
    granted: list[bool] = []

    async def take() -> None:
        granted.append((await rate_store.take("shared", capacity=10, refill_per_second=0))[0])

    async with anyio.create_task_group() as tg:
        for _ in range(40):
            tg.start_soon(take)
    assert granted.count(True) == 10
