"""Authentication: turn an HTTP ``Authorization`` header, an API key or the local identity
into a ``Principal`` (OAuth 2.1 resource server, RFC 6750 / 8707 / 9728).

- JWT (``identities.jwt``): signature with ``joserfc`` against one key source (JWKS file,
  JWKS URL, HS256 secret file or Ed25519 public key file); the algorithm allow-list comes
  from configuration (never ``none``; HS256 only with a secret and then exclusively, and
  symmetric keys are dropped from a JWKS, so a public key can never verify an HMAC);
  ``iss`` must match, ``aud`` must contain this gateway's resource URI (RFC 8707), ``exp``
  is required and ``exp``/``nbf``/``iat`` are checked with ``leeway_s``. A JWKS URL is
  fetched with one shared ``httpx2`` client, cached for ``jwks_cache_ttl_s`` and refreshed
  on an unknown ``kid`` at most every ``jwks_refresh_min_interval_s``.
- API keys: SHA-256 of the presented key compared in constant time with every configured
  hash (no early exit, so timing does not reveal which prefix matched).
- Failures are ``AuthFailure`` values (RFC 6750 error code, HTTP status) the gateway turns
  into 401/403 with ``WWW-Authenticate: Bearer ... resource_metadata="..."``; they never
  say which check failed in more detail than the RFC codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import anyio
import httpx2
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey, OKPKey

from mcp_bastion.config import BastionConfig, Identities, JwtIdentity, LocalIdentity, TokenConfig
from mcp_bastion.errors import ConfigError
from mcp_bastion.types import AuthMethod, Principal

__all__ = [
    "AuthFailure",
    "Authenticator",
    "ensure_signing_key",
    "local_principal",
    "mint_token",
    "protected_resource_metadata",
    "public_key_path",
    "resource_metadata_url",
]

_MAX_TOKEN_BYTES = 8192
_MAX_JWKS_BYTES = 256 * 1024
ErrorCode = Literal["invalid_request", "invalid_token", "insufficient_scope"]


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why authentication failed, as RFC 6750 says it (``error`` None = no credentials)."""

    error: ErrorCode | None
    description: str
    status: int = 401
    scope: tuple[str, ...] = ()

    def www_authenticate(self, resource_metadata: str | None = None) -> str:
        """The ``WWW-Authenticate`` header value for this failure."""
        params: list[str] = []
        if resource_metadata is not None:
            params.append(f'resource_metadata="{resource_metadata}"')
        if self.error is not None:
            params.append(f'error="{self.error}"')
            params.append(f'error_description="{self.description}"')
        if self.scope:
            params.append(f'scope="{" ".join(self.scope)}"')
        return "Bearer " + ", ".join(params) if params else "Bearer"


_NO_CREDENTIALS = AuthFailure(None, "authentication required")
_BAD_TOKEN = AuthFailure("invalid_token", "the access token is invalid or expired")
_BAD_KEY = AuthFailure("invalid_token", "the API key is invalid")
_MALFORMED = AuthFailure("invalid_request", "malformed Authorization header", status=400)


def local_principal(local: LocalIdentity) -> Principal:
    """The principal of a stdio client: the configured local identity."""
    return Principal(
        subject=local.subject, roles=frozenset(local.roles), tenant=local.tenant, auth_method=AuthMethod.LOCAL
    )


def resource_metadata_url(resource_uri: str) -> str:
    """RFC 9728 metadata URL for ``resource_uri``: ``/.well-known/oauth-protected-resource`` + path."""
    scheme, _, rest = resource_uri.partition("://")
    host, slash, path = rest.partition("/")
    suffix = f"/{path}" if slash and path else ""
    return f"{scheme}://{host}/.well-known/oauth-protected-resource{suffix}"


def protected_resource_metadata(config: BastionConfig) -> dict[str, Any]:
    """The RFC 9728 protected resource metadata document of this gateway."""
    resource = config.resource_uri
    if resource is None:
        raise ConfigError("listeners.http: protected resource metadata needs an HTTP listener")
    doc: dict[str, Any] = {
        "resource": resource,
        "bearer_methods_supported": ["header"],
        "resource_name": "mcp-bastion gateway",
    }
    jwt_conf = config.identities.jwt
    if jwt_conf is not None:
        doc["authorization_servers"] = [jwt_conf.issuer]
        doc["resource_signing_alg_values_supported"] = list(jwt_conf.effective_algorithms)
        if jwt_conf.required_scopes:
            doc["scopes_supported"] = list(jwt_conf.required_scopes)
    return doc


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


class _KeySource:
    """The verification keys of one ``JwtIdentity``; JWKS URLs fetched lazily and cached."""

    def __init__(
        self, conf: JwtIdentity, http_client: httpx2.AsyncClient | None, clock: Callable[[], float]
    ) -> None:
        self._conf = conf
        self._client = http_client
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()
        if conf.jwks_url is None:
            self._keys = self._load_static(conf)

    @staticmethod
    def _load_static(conf: JwtIdentity) -> KeySet:
        try:
            if conf.hs256_key_file is not None:
                secret = _read(conf.hs256_key_file, "hs256_key_file").strip()
                if len(secret) < 32:
                    raise ConfigError("identities.jwt.hs256_key_file: the secret must be at least 32 bytes")
                return KeySet([OctKey.import_key(secret)])
            if conf.ed25519_public_key_file is not None:
                pem = _read(conf.ed25519_public_key_file, "ed25519_public_key_file")
                return KeySet([OKPKey.import_key(pem)])
            assert conf.jwks_file is not None
            return _parse_jwks(_read(conf.jwks_file, "jwks_file"))
        except (ValueError, JoseError) as exc:
            raise ConfigError(
                f"identities.jwt: the verification key cannot be loaded ({type(exc).__name__})"
            ) from exc

    async def keys(self, *, kid: str | None) -> KeySet | None:
        if self._conf.jwks_url is None:
            return self._keys
        min_interval = self._conf.jwks_refresh_min_interval_s
        now = self._clock()
        unknown_kid = kid is not None and self._keys is not None and not _has_kid(self._keys, kid)
        wanted = self._keys is None or unknown_kid or now - self._fetched_at > self._conf.jwks_cache_ttl_s
        # Rate limit: an attacker sending random kids must not turn us into a JWKS flooder.
        if wanted and now - self._fetched_at >= min_interval:
            async with self._lock:
                if self._clock() - self._fetched_at >= min_interval:  # not fetched meanwhile
                    await self._fetch()
        return self._keys

    async def _fetch(self) -> None:
        self._fetched_at = self._clock()
        if self._client is None:
            self._client = httpx2.AsyncClient(timeout=httpx2.Timeout(5.0), follow_redirects=False)
        assert self._conf.jwks_url is not None
        try:
            response = await self._client.get(self._conf.jwks_url, headers={"accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > _MAX_JWKS_BYTES:
                return
            self._keys = _parse_jwks(response.content)
        except (httpx2.HTTPError, ValueError, JoseError):
            # Keep the last good key set; a token needing a new key fails as invalid_token.
            return


def _read(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"identities.jwt.{field}: cannot read the key file ({exc.strerror})") from exc


def _parse_jwks(data: bytes) -> KeySet:
    doc = json.loads(data)
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list):
        raise ValueError("not a JWKS document")
    # Symmetric keys in a JWKS would let a public document verify HMAC tokens: drop them,
    # and drop private parts so nothing secret is kept in memory longer than needed.
    public = [
        {k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        for key in keys
        if isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP")
    ]
    return KeySet.import_key_set({"keys": public})


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _kid_of(token: str) -> str | None:
    try:
        header_b64 = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


class Authenticator:
    """Authenticates HTTP callers from bearer JWTs or API keys; gives stdio's local identity."""

    def __init__(
        self,
        identities: Identities,
        *,
        audience: str | None,
        http_client: httpx2.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._identities = identities
        self._audience = audience or ""
        self._clock = clock
        self._jwt = identities.jwt
        self._keys = None if self._jwt is None else _KeySource(self._jwt, http_client, clock)
        if self._jwt is not None and audience is None:
            raise ConfigError("identities.jwt.audience: needed when there is no HTTP listener resource URI")
        self._api_keys = tuple((bytes.fromhex(k.sha256), k) for k in identities.api_keys)

    @classmethod
    def from_config(
        cls, config: BastionConfig, *, http_client: httpx2.AsyncClient | None = None
    ) -> Authenticator:
        """Build from ``config`` (audience = ``identities.jwt.audience`` or the resource URI).

        When ``identities.jwt`` verifies with the ``token`` section's own dev key (its
        ``<key_file>.pub``, or the HS256 ``key_file``), that key is created on first start,
        so a gateway can start before the first ``bastion token create``.
        """
        jwt_conf, token = config.identities.jwt, config.token
        if jwt_conf is not None and token is not None:
            own = (
                token.algorithm == "Ed25519" and jwt_conf.ed25519_public_key_file == public_key_path(token)
            ) or (token.algorithm == "HS256" and jwt_conf.hs256_key_file == token.key_file)
            if own:
                ensure_signing_key(token)
        return cls(config.identities, audience=config.jwt_audience, http_client=http_client)

    def local_principal(self) -> Principal:
        return local_principal(self._identities.local)

    async def authenticate(
        self, authorization: str | None, *, api_key: str | None = None
    ) -> Principal | AuthFailure:
        """The principal presenting these credentials, or why not."""
        if api_key is not None:
            return self._api_key(api_key)
        if authorization is None or not authorization.strip():
            return _NO_CREDENTIALS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            return _MALFORMED
        if len(token) > _MAX_TOKEN_BYTES:
            return _BAD_TOKEN
        if self._jwt is not None and token.count(".") == 2:
            return await self._verify_jwt(token, self._jwt)
        if self._api_keys:
            return self._api_key(token)
        return _BAD_TOKEN

    def _api_key(self, presented: str) -> Principal | AuthFailure:
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found = None
        for expected, entry in self._api_keys:
            if hmac.compare_digest(digest, expected):
                found = entry
        if found is None:
            return _BAD_KEY
        return Principal(
            subject=found.subject,
            roles=frozenset(found.roles),
            tenant=found.tenant,
            auth_method=AuthMethod.API_KEY,
        )

    async def _verify_jwt(self, token: str, conf: JwtIdentity) -> Principal | AuthFailure:
        assert self._keys is not None
        keys = await self._keys.keys(kid=_kid_of(token))
        if keys is None:
            return _BAD_TOKEN
        try:
            with warnings.catch_warnings():
                # joserfc warns that the "EdDSA" name is deprecated (RFC 9864); allowed by config.
                warnings.simplefilter("ignore")
                decoded = jwt.decode(token, keys, algorithms=list(conf.effective_algorithms))
            registry = jwt.JWTClaimsRegistry(
                now=int(self._clock()),
                leeway=conf.leeway_s,
                iss={"essential": True, "value": conf.issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                sub={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            return _BAD_TOKEN
        claims = decoded.claims
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            return _BAD_TOKEN
        scopes = _strings(claims.get(conf.scope_claim)) | _strings(claims.get("scp"))
        missing = [s for s in conf.required_scopes if s not in scopes]
        if missing:
            return AuthFailure(
                "insufficient_scope",
                "the token lacks a required scope",
                status=403,
                scope=conf.required_scopes,
            )
        tenant = _claim(claims, conf.tenant_claim) if conf.tenant_claim else None
        return Principal(
            subject=subject,
            roles=_strings(_claim(claims, conf.roles_claim)),
            tenant=tenant if isinstance(tenant, str) else None,
            auth_method=AuthMethod.JWT,
            scopes=scopes,
            claims=MappingProxyType(dict(claims)),
        )


# -- development tokens (``bastion token create``) ------------------------------------


def public_key_path(token: TokenConfig) -> Path:
    """Where the Ed25519 public key of the dev signing key lives: ``<key_file>.pub``."""
    return token.key_file.with_name(token.key_file.name + ".pub")


def ensure_signing_key(token: TokenConfig) -> None:
    """Create the dev signing key (mode 0600) and, for Ed25519, its ``.pub`` on first use."""
    path = token.key_file
    if path.exists():
        if token.algorithm == "Ed25519" and not public_key_path(token).exists():
            key = OKPKey.import_key(path.read_bytes())
            _write_new(public_key_path(token), key.as_pem(private=False), 0o644)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if token.algorithm == "HS256":
        _write_new(path, secrets.token_hex(32).encode("ascii"), 0o600)
        return
    key = OKPKey.generate_key("Ed25519")
    _write_new(path, key.as_pem(private=True), 0o600)
    pub = public_key_path(token)
    pub.unlink(missing_ok=True)
    _write_new(pub, key.as_pem(private=False), 0o644)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never follow or overwrite something an attacker placed at the path.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def mint_token(
    token: TokenConfig,
    *,
    subject: str,
    roles: Sequence[str],
    audience: str,
    ttl_s: int,
    tenant: str | None = None,
    scopes: Sequence[str] = (),
    now: float | None = None,
) -> str:
    """A signed development JWT (``sub``, ``roles``, ``iss``, ``aud``, ``iat``, ``exp``)."""
    ensure_signing_key(token)
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "iss": token.issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        "jti": secrets.token_hex(8),
    }
    if tenant is not None:
        claims["tenant"] = tenant
    if scopes:
        claims["scope"] = " ".join(scopes)
    raw = token.key_file.read_bytes()
    if token.algorithm == "HS256":
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(raw.strip()), algorithms=["HS256"])
    key = OKPKey.import_key(raw)
    return jwt.encode({"alg": "Ed25519"}, claims, key, algorithms=["Ed25519"])
