"""Identity settings: who may connect (JWT / API keys over HTTP, a local identity on stdio)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from mcp_bastion.config._base import ConfigPath, StrictModel

__all__ = ["ASYMMETRIC_ALGORITHMS", "ApiKey", "Identities", "JwtIdentity", "LocalIdentity"]

ASYMMETRIC_ALGORITHMS = (
    "Ed25519",
    "EdDSA",
    "ES256",
    "ES384",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)
_ED25519_ALGS = frozenset({"Ed25519", "EdDSA"})  # RFC 9864 name and its deprecated alias
Algorithm = Literal[
    "Ed25519", "EdDSA", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "HS256"
]


class JwtIdentity(StrictModel):
    """OAuth 2.1 resource-server settings: how bearer JWTs are verified.

    Exactly one key source. ``audience`` defaults to the HTTP listener's resource URI
    (RFC 8707): a token minted for another service is refused. ``HS256`` is accepted only
    with ``hs256_key_file`` and then exclusively, so a public key can never be used as an
    HMAC secret (algorithm confusion); ``none`` is never accepted.
    """

    jwks_file: ConfigPath | None = None
    jwks_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    hs256_key_file: ConfigPath | None = None
    ed25519_public_key_file: ConfigPath | None = None
    issuer: str = Field(min_length=1)
    audience: str | None = None
    algorithms: tuple[Algorithm, ...] | None = None
    """Allow-list; default: HS256 with an HS256 key, Ed25519/EdDSA for an Ed25519 key, else asymmetric."""
    leeway_s: int = Field(default=60, ge=0, le=600)
    roles_claim: str = "roles"
    tenant_claim: str | None = "tenant"
    scope_claim: str = "scope"
    required_scopes: tuple[str, ...] = ()
    jwks_refresh_min_interval_s: float = Field(default=60.0, ge=0)
    jwks_cache_ttl_s: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        sources = [
            n
            for n in ("jwks_file", "jwks_url", "hs256_key_file", "ed25519_public_key_file")
            if getattr(self, n) is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                "exactly one of jwks_file, jwks_url, hs256_key_file, ed25519_public_key_file is required"
            )
        algs = self.effective_algorithms
        if self.hs256_key_file is not None and algs != ("HS256",):
            raise ValueError("an hs256_key_file allows only the HS256 algorithm")
        if self.hs256_key_file is None and "HS256" in algs:
            raise ValueError("HS256 requires hs256_key_file (a public key is never an HMAC secret)")
        if self.ed25519_public_key_file is not None and not set(algs) <= _ED25519_ALGS:
            raise ValueError("an ed25519_public_key_file allows only the Ed25519 / EdDSA algorithms")
        return self

    @property
    def effective_algorithms(self) -> tuple[str, ...]:
        if self.algorithms is not None:
            return tuple(self.algorithms)
        if self.hs256_key_file is not None:
            return ("HS256",)
        if self.ed25519_public_key_file is not None:
            return ("Ed25519", "EdDSA")
        return ASYMMETRIC_ALGORITHMS


class ApiKey(StrictModel):
    """A static API key, stored only as its SHA-256 (hex); the key itself is never configured."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    subject: str = Field(min_length=1)
    roles: tuple[str, ...] = ()
    tenant: str | None = None


class LocalIdentity(StrictModel):
    """The identity of a stdio client (``bastion wrap``): whoever started the process."""

    subject: str = Field(default="local", min_length=1)
    roles: tuple[str, ...] = ("operator",)
    tenant: str | None = None


class Identities(StrictModel):
    """All identity sources."""

    jwt: JwtIdentity | None = None
    api_keys: tuple[ApiKey, ...] = ()
    api_key_header: str = "X-API-Key"
    local: LocalIdentity = LocalIdentity()
