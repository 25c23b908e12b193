"""Redis stores (``redis.asyncio``): token-bucket rate limits and short-lived state.

Rate limits run one Lua script per ``take`` (atomic on the server, refilled on the
server's clock, so every gateway process shares one bucket exactly). State uses native
expiry (``SET ... PX``) and ``SET NX`` for set-if-absent. Keys are prefixed so several
deployments or tests can share one Redis. Connect and socket timeouts are short and one
retry covers a connection gone stale across a server restart; any connection failure
becomes ``StoreUnavailableError`` and the client reconnects on the next call.
"""

from __future__ import annotations

import math

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from mcp_bastion.errors import StoreError, StoreUnavailableError

__all__ = ["RedisRateLimitStore", "RedisStateStore", "connect"]

# KEYS[1] bucket; ARGV capacity, refill/s, cost. Mirrors store.bucket.refill_and_take.
# Numbers go back as strings: Lua numbers returned to Redis are truncated to integers.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(v[1])
local stamp = tonumber(v[2])
if tokens == nil or stamp == nil then
  tokens = capacity
  stamp = now
end
local elapsed = now - stamp
if elapsed < 0 then elapsed = 0 end
local level = math.min(capacity, tokens + elapsed * rate)
local allowed = 0
local retry = '0'
if level >= cost then
  level = level - cost
  allowed = 1
elseif cost > capacity or rate == 0 then
  retry = 'inf'
else
  retry = string.format('%.17g', (cost - level) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', level), 'stamp', string.format('%.17g', now))
local ttl = 60000
if rate > 0 then ttl = math.ceil((capacity / rate) * 1000) + 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, retry}
"""

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def connect(url: str, *, connect_timeout: float = 1.0, socket_timeout: float = 2.0) -> aioredis.Redis:
    """A client with short timeouts and a single immediate retry."""
    client: aioredis.Redis = aioredis.Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return client


def _translate(exc: Exception) -> StoreError:
    if isinstance(exc, _UNAVAILABLE):
        return StoreUnavailableError(f"redis store unavailable: {type(exc).__name__}")
    return StoreError(f"redis store error: {type(exc).__name__}")


class RedisRateLimitStore:
    """Token buckets as Redis hashes, updated by one Lua script per take."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = "bastion:") -> None:
        self.client = client
        self.prefix = prefix + "rl:"
        self._script = client.register_script(_TAKE)

    async def take(
        self, key: str, *, capacity: float, refill_per_second: float, cost: float = 1.0
    ) -> tuple[bool, float]:
        if capacity <= 0 or cost < 0 or refill_per_second < 0:
            raise ValueError("capacity must be > 0, cost and refill_per_second >= 0")
        try:
            allowed, retry = await self._script(
                keys=[self.prefix + key], args=[repr(capacity), repr(refill_per_second), repr(cost)]
            )
        except (RedisError, OSError) as exc:
            raise _translate(exc) from exc
        text = retry.decode() if isinstance(retry, bytes) else str(retry)
        return bool(int(allowed)), math.inf if text == "inf" else float(text)

    async def close(self) -> None:
        await self.client.aclose()


class RedisStateStore:
    """Values with a TTL (``SET PX``); ``set_if_absent`` is ``SET NX PX``."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = "bastion:") -> None:
        self.client = client
        self.prefix = prefix + "st:"

    @staticmethod
    def _ms(ttl_seconds: float) -> int:
        return max(1, math.ceil(ttl_seconds * 1000))

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self.client.get(self.prefix + key)
        except (RedisError, OSError) as exc:
            raise _translate(exc) from exc
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        try:
            await self.client.set(self.prefix + key, bytes(value), px=self._ms(ttl_seconds))
        except (RedisError, OSError) as exc:
            raise _translate(exc) from exc

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        try:
            stored = await self.client.set(self.prefix + key, bytes(value), px=self._ms(ttl_seconds), nx=True)
        except (RedisError, OSError) as exc:
            raise _translate(exc) from exc
        return bool(stored)

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete(self.prefix + key)
        except (RedisError, OSError) as exc:
            raise _translate(exc) from exc

    async def close(self) -> None:
        await self.client.aclose()
