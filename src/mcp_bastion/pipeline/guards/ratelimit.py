"""Rate limits: token buckets per principal and per (principal, tool) on a ``RateLimitStore``.

Every client request or notification takes one token from the principal's bucket; a
``tools/call`` also takes one from the (principal, tool) bucket (per-tool overrides from
``guards[ratelimit].tools``). A denial is JSON-RPC ``-32029`` with ``retry_after``
(seconds) in the error's ``data`` (``RateLimitVerdict.data``). An unreachable store raises
``StoreUnavailableError``, which the chain turns into a denial (fail closed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mcp_bastion.config import Bucket, RateLimitSettings
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.guards._common import RATE_LIMITED, qualified, split_tool
from mcp_bastion.pipeline.verdict import Decision, Verdict
from mcp_bastion.store.interface import RateLimitStore
from mcp_bastion.types import Direction, Principal

__all__ = ["RateLimitGuard", "RateLimitVerdict", "factory"]

NAME = "ratelimit"
_ALLOW = Verdict.allow(NAME)


@dataclass(frozen=True, slots=True)
class RateLimitVerdict(Verdict):
    """A rate-limit denial; ``data`` goes into the JSON-RPC error (``{"retry_after": s}``)."""

    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def _who(principal: Principal) -> str:
    return f"{principal.auth_method.value}:{principal.subject}"


class RateLimitGuard:
    """Token buckets per principal and per (principal, tool)."""

    name = NAME
    directions = frozenset({Direction.CLIENT_TO_SERVER})

    def __init__(self, settings: RateLimitSettings, store: RateLimitStore) -> None:
        self.settings = settings
        self.store = store

    async def check(self, exchange: Exchange) -> Verdict:
        if exchange.direction is not Direction.CLIENT_TO_SERVER or exchange.method is None:
            return _ALLOW
        who = _who(exchange.principal)
        per_principal = self.settings.per_principal
        if per_principal is not None:
            denial = await self._take(f"rl:p:{who}", per_principal, "BST-RL-001")
            if denial is not None:
                return denial
        if exchange.method == "tools/call":
            resolved = split_tool(exchange)
            if resolved is not None:
                key = qualified(*resolved)
                bucket = self.settings.tools.get(key, self.settings.per_tool)
                if bucket is not None:
                    denial = await self._take(f"rl:t:{who}:{key}", bucket, "BST-RL-002")
                    if denial is not None:
                        return denial
        return _ALLOW

    async def _take(self, key: str, bucket: Bucket, rule: str) -> Verdict | None:
        allowed, retry_after = await self.store.take(
            key, capacity=bucket.capacity, refill_per_second=bucket.refill_per_second
        )
        if allowed:
            return None
        seconds = math.ceil(max(retry_after, 0.001) * 1000) / 1000
        return RateLimitVerdict(
            Decision.DENY,
            guard=NAME,
            reason=f"rate limit exceeded; retry after {seconds:g} s",
            code=RATE_LIMITED,
            rule_ids=(rule,),
            data=MappingProxyType({"retry_after": seconds}),
        )


def factory(settings: RateLimitSettings, ctx: Any) -> RateLimitGuard:
    """Registry entry: the context's rate-limit store, or an in-memory one for ``memory://``."""
    store = ctx.stores.rate_limits
    if store is None:
        if not ctx.config.stores.rate_limits.startswith("memory://"):
            raise ConfigError("stores.rate_limits: the configured store was not provided to the chain")
        from mcp_bastion.store.memory import MemoryRateLimitStore

        store = MemoryRateLimitStore()
    return RateLimitGuard(settings, store)
