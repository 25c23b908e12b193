"""HTTP authentication for the gateway: the pipeline's Authenticator as a transport callable."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mcp_bastion.config import BastionConfig
from mcp_bastion.pipeline.identity import (
    Authenticator,
    AuthFailure,
    protected_resource_metadata,
    resource_metadata_url,
)
from mcp_bastion.transports.http_downstream import Authenticate, HttpRefusal
from mcp_bastion.types import ANONYMOUS, Principal

__all__ = ["http_authenticator", "resource_metadata"]


def http_authenticator(config: BastionConfig) -> Authenticate:
    """Credentials in headers -> Principal, or a 401/403 refusal with the RFC 9728 pointer.

    With ``require_auth: false`` (loopback only) a request without credentials is served as
    the anonymous principal; presented credentials are still verified and a bad one refused.
    """
    http = config.listeners.http
    if http is None:
        raise ValueError("listeners.http is not configured")
    authenticator = Authenticator.from_config(config)
    metadata_url = resource_metadata_url(http.resource_uri)
    key_header = config.identities.api_key_header.lower()
    require = http.require_auth

    cache = _VerifiedCache()

    async def authenticate(headers: dict[str, str]) -> Principal | HttpRefusal:
        api_key = headers.get(key_header)
        authorization = headers.get("authorization")
        if not require and api_key is None and authorization is None:
            return ANONYMOUS
        key = (api_key or "") + "\x00" + (authorization or "")
        cached = cache.get(key)
        if cached is not None:
            return cached
        result = await authenticator.authenticate(authorization, api_key=api_key)
        if isinstance(result, AuthFailure):
            challenge = result.www_authenticate(metadata_url)
            return HttpRefusal(result.status, result.description, (("WWW-Authenticate", challenge),))
        cache.put(key, result)
        return result

    return authenticate


class _VerifiedCache:
    """Successful verifications for a short while, so a JWT is not re-verified on every call.

    Keyed by a SHA-256 of the presented credentials (the credentials themselves are not
    kept). An entry lives at most ``ttl`` seconds and never past the token's ``exp``;
    failures are never cached. Bounded: the oldest entries go first.
    """

    def __init__(
        self, *, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def get(self, credentials: str) -> Principal | None:
        key = hashlib.sha256(credentials.encode("utf-8", "surrogatepass")).digest()
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, credentials: str, principal: Principal) -> None:
        key = hashlib.sha256(credentials.encode("utf-8", "surrogatepass")).digest()
        until = self._clock() + self._ttl
        exp = principal.claims.get("exp") if principal.claims else None
        if isinstance(exp, int | float):
            until = min(until, float(exp))
        self._entries[key] = (until, principal)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


def resource_metadata(config: BastionConfig) -> dict[str, Any]:
    """The RFC 9728 document served under ``/.well-known/oauth-protected-resource``."""
    return protected_resource_metadata(config)
