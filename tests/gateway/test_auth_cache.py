"""The verified-credential cache never outlives a token and never caches failures."""

from __future__ import annotations

from types import MappingProxyType

from mcp_bastion.gateway.auth import _VerifiedCache
from mcp_bastion.types import AuthMethod, Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def principal(exp: float) -> Principal:
    return Principal(subject="a", auth_method=AuthMethod.JWT, claims=MappingProxyType({"exp": exp}))


def test_entry_expires_with_the_token_and_the_ttl() -> None:
    clock = Clock()
    cache = _VerifiedCache(ttl=30, clock=clock)
    cache.put("Bearer t1", principal(exp=1005))
    cache.put("Bearer t2", principal(exp=5000))
    assert cache.get("Bearer t1") is not None and cache.get("Bearer t2") is not None
    clock.now = 1006
    assert cache.get("Bearer t1") is None  # the token expired: re-verify (and fail)
    assert cache.get("Bearer t2") is not None
    clock.now = 1031
    assert cache.get("Bearer t2") is None  # at most ttl seconds, even for a long-lived token


def test_cache_is_bounded_and_keyed_by_exact_credentials() -> None:
    cache = _VerifiedCache(size=2, clock=Clock())
    for i in range(3):
        cache.put(f"k{i}", principal(exp=10**9))
    assert cache.get("k0") is None and cache.get("k2") is not None
    assert cache.get("k2 ") is None
