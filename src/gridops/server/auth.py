"""Bearer tokens for the HTTP transport: a local HS256 JWT issuer and the SDK ``TokenVerifier``.

A development setup needs no external authorization server: ``bastion gridops token``
mints a JWT with a key derived from the server's local key file, and the server verifies
it. What is checked: the signature (HS256 only; ``alg`` is never taken from the token),
``iss`` equal to the server's issuer, ``aud`` equal to the server's resource URL, ``exp``
present and not past (30 s leeway), ``sub`` present, and a ``roles`` list holding at least
one known role. Any failure returns ``None``, which the SDK turns into 401.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from mcp.server.auth.provider import AccessToken

from gridops.config import derive_key
from gridops.server.roles import Role, parse_roles

__all__ = ["JWT_PURPOSE", "MAX_TTL_SECONDS", "JwtIssuer", "JwtTokenVerifier", "TokenSettings"]

JWT_PURPOSE = "jwt-hs256-v1"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
MAX_TTL_SECONDS = 7 * 24 * 3600
_MAX_TOKEN_CHARS = 8192


@dataclass(frozen=True)
class TokenSettings:
    """Who issues tokens and for which resource (the MCP endpoint URL, the token's ``aud``)."""

    issuer: str
    resource: str


def _key(master_key: bytes) -> OctKey:
    return OctKey.import_key(derive_key(master_key, JWT_PURPOSE))


class JwtIssuer:
    """Mints development tokens for one server."""

    def __init__(self, master_key: bytes, settings: TokenSettings) -> None:
        self._key = _key(master_key)
        self._settings = settings

    def mint(self, subject: str, roles: list[Role], ttl_seconds: int, *, now: float | None = None) -> str:
        """A signed JWT for ``subject`` holding ``roles``, valid ``ttl_seconds``."""
        if not roles:
            raise ValueError("a token needs at least one role")
        if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl must be between 1 s and {MAX_TTL_SECONDS} s")
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "aud": self._settings.resource,
            "sub": subject,
            "roles": [r.value for r in roles],
            "iat": issued,
            "exp": issued + ttl_seconds,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, algorithms=[ALGORITHM])


class JwtTokenVerifier:
    """The SDK ``TokenVerifier``: verify a bearer JWT, or return ``None`` (-> 401)."""

    def __init__(self, master_key: bytes, settings: TokenSettings) -> None:
        self._key = _key(master_key)
        self._settings = settings
        self._registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.resource},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        """Return the verified access token, or ``None`` when anything is wrong with it."""
        return self.verify(token)

    def verify(self, token: str) -> AccessToken | None:
        """Synchronous core of :meth:`verify_token` (pure computation, no I/O)."""
        if not token or len(token) > _MAX_TOKEN_CHARS:
            return None
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            self._registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            return None
        claims = decoded.claims
        raw_roles = claims.get("roles")
        roles = parse_roles(raw_roles) if isinstance(raw_roles, list) else frozenset()
        subject = claims.get("sub")
        if not roles or not isinstance(subject, str) or not subject:
            return None
        expires = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=subject,
            scopes=sorted(r.value for r in roles),
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            resource=self._settings.resource,
            subject=subject,
            claims={"iss": claims.get("iss"), "roles": sorted(r.value for r in roles)},
        )
