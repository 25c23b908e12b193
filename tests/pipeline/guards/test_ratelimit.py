"""Rate limits: a flood passes without the guard and is cut off with it."""

from __future__ import annotations

import pytest
from mcp_types import JSONRPCRequest

from mcp_bastion.config import Bucket, RateLimitSettings, parse_config
from mcp_bastion.errors import ConfigError, StoreUnavailableError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards._common import RATE_LIMITED
from mcp_bastion.pipeline.guards.ratelimit import RateLimitGuard, RateLimitVerdict, factory
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.store.memory import MemoryRateLimitStore
from mcp_bastion.types import AuthMethod, Direction, Principal, UpstreamName

pytestmark = pytest.mark.anyio

ALICE = Principal("alice", frozenset({"operator"}), auth_method=AuthMethod.JWT)
BOB = Principal("bob", frozenset({"operator"}), auth_method=AuthMethod.JWT)
SLOW = Bucket(capacity=5, refill_per_second=0.001)


def _call(principal: Principal, tool: str = "get_asset") -> Exchange:
    message = JSONRPCRequest(jsonrpc="2.0", id=1, method="tools/call", params={"name": tool, "arguments": {}})
    return Exchange(Direction.CLIENT_TO_SERVER, message, principal, UpstreamName("gridops"))


async def _passed(chain: Chain, exchanges: list[Exchange]) -> int:
    return sum([(await chain.run(e)).allowed for e in exchanges])


async def test_flood_is_cut_off_per_tool() -> None:
    flood = [_call(ALICE) for _ in range(50)]
    assert await _passed(Chain([]), flood) == 50
    guard = RateLimitGuard(RateLimitSettings(per_principal=None, per_tool=SLOW), MemoryRateLimitStore())
    chain = Chain([guard])
    assert await _passed(chain, flood) == 5
    # Another tool and another principal have their own buckets.
    assert (await chain.run(_call(ALICE, "list_outages"))).allowed
    assert (await chain.run(_call(BOB))).allowed


async def test_per_principal_bucket_spans_tools() -> None:
    guard = RateLimitGuard(RateLimitSettings(per_principal=SLOW, per_tool=None), MemoryRateLimitStore())
    chain = Chain([guard])
    calls = [_call(ALICE, f"tool_{i}") for i in range(8)]
    assert await _passed(chain, calls) == 5
    assert (await chain.run(_call(BOB))).allowed


async def test_denial_carries_retry_after() -> None:
    guard = RateLimitGuard(
        RateLimitSettings(per_principal=None, per_tool=Bucket(capacity=1, refill_per_second=0.5)),
        MemoryRateLimitStore(),
    )
    assert (await guard.check(_call(ALICE))).decision is Decision.ALLOW
    verdict = await guard.check(_call(ALICE))
    assert isinstance(verdict, RateLimitVerdict)
    assert verdict.decision is Decision.DENY
    assert verdict.code == RATE_LIMITED
    assert 0 < verdict.data["retry_after"] <= 2.0


async def test_per_tool_override() -> None:
    settings = RateLimitSettings(
        per_principal=None,
        per_tool=SLOW,
        tools={"gridops.operate_switch": Bucket(capacity=1, refill_per_second=0.001)},
    )
    chain = Chain([RateLimitGuard(settings, MemoryRateLimitStore())])
    assert await _passed(chain, [_call(ALICE, "operate_switch") for _ in range(3)]) == 1


async def test_unreachable_store_denies() -> None:
    class DownStore:
        async def take(
            self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
        ) -> tuple[bool, float]:
            raise StoreUnavailableError("connection refused to 10.0.0.5:6379")

    outcome = await Chain([RateLimitGuard(RateLimitSettings(), DownStore())]).run(_call(ALICE))
    assert outcome.verdict.decision is Decision.DENY
    assert "6379" not in outcome.verdict.reason


def test_factory_needs_a_store_for_non_memory_urls() -> None:
    config = parse_config({"stores": {"rate_limits": "redis://127.0.0.1:6379/0"}})
    with pytest.raises(ConfigError, match=r"stores\.rate_limits"):
        factory(RateLimitSettings(), BuildContext(config=config, catalog=Catalog()))
    built = factory(RateLimitSettings(), BuildContext(config=parse_config({}), catalog=Catalog()))
    assert isinstance(built.store, MemoryRateLimitStore)
