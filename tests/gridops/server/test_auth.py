"""The bearer-token verifier: only our issuer's unexpired tokens for this resource, with roles."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from gridops.config import derive_key
from gridops.server.auth import JWT_PURPOSE, JwtIssuer, JwtTokenVerifier, TokenSettings
from gridops.server.roles import Role

KEY = b"m" * 32
HERE = TokenSettings(issuer="http://127.0.0.1:8765", resource="http://127.0.0.1:8765/mcp")


def _verify(token: str) -> object:
    return JwtTokenVerifier(KEY, HERE).verify(token)


def test_minted_token_verifies() -> None:
    token = JwtIssuer(KEY, HERE).mint("alice", [Role.OPERATOR], 3600)
    access = JwtTokenVerifier(KEY, HERE).verify(token)
    assert access is not None
    assert access.subject == "alice"
    assert access.resource == HERE.resource
    assert access.claims is not None
    assert access.claims["roles"] == ["operator"]


@pytest.mark.anyio
async def test_async_protocol_method() -> None:
    token = JwtIssuer(KEY, HERE).mint("alice", [Role.VIEWER], 60)
    assert await JwtTokenVerifier(KEY, HERE).verify_token(token) is not None
    assert await JwtTokenVerifier(KEY, HERE).verify_token(token + "x") is None


def test_other_audience_refused() -> None:
    other = TokenSettings(issuer=HERE.issuer, resource="http://127.0.0.1:9999/mcp")
    assert _verify(JwtIssuer(KEY, other).mint("alice", [Role.SUPERVISOR], 60)) is None


def test_other_issuer_refused() -> None:
    other = TokenSettings(issuer="http://evil.example", resource=HERE.resource)
    assert _verify(JwtIssuer(KEY, other).mint("alice", [Role.SUPERVISOR], 60)) is None


def test_other_key_refused() -> None:
    assert _verify(JwtIssuer(b"z" * 32, HERE).mint("alice", [Role.SUPERVISOR], 60)) is None


def test_expired_refused_beyond_leeway() -> None:
    past = time.time() - 3600
    assert _verify(JwtIssuer(KEY, HERE).mint("alice", [Role.VIEWER], 60, now=past)) is None


def _sign(claims: dict[str, object], alg: str = "HS256") -> str:
    key = OctKey.import_key(derive_key(KEY, JWT_PURPOSE))
    return jwt.encode({"alg": alg}, claims, key, algorithms=[alg])


def _claims(**over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": HERE.issuer,
        "aud": HERE.resource,
        "sub": "alice",
        "roles": ["viewer"],
        "iat": now,
        "exp": now + 60,
    }
    base.update(over)
    return base


def test_hand_signed_valid_token_accepted() -> None:
    # The control for the refusals below: the same construction with valid claims passes.
    assert _verify(_sign(_claims())) is not None


@pytest.mark.parametrize(
    "claims",
    [
        _claims(roles=[]),
        _claims(roles=["root"]),
        _claims(roles="supervisor"),
        {k: v for k, v in _claims().items() if k != "exp"},
        {k: v for k, v in _claims().items() if k != "sub"},
        {k: v for k, v in _claims().items() if k != "aud"},
    ],
    ids=["no-roles", "unknown-role", "roles-not-list", "no-exp", "no-sub", "no-aud"],
)
def test_bad_claims_refused(claims: dict[str, object]) -> None:
    assert _verify(_sign(claims)) is None


def test_unsigned_token_refused() -> None:
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    unsigned = f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(_claims()).encode())}."
    assert _verify(unsigned) is None


def test_oversized_and_empty_refused() -> None:
    assert _verify("") is None
    assert _verify("a" * 10_000) is None


def test_mint_rejects_bad_requests() -> None:
    issuer = JwtIssuer(KEY, HERE)
    with pytest.raises(ValueError, match="role"):
        issuer.mint("alice", [], 60)
    with pytest.raises(ValueError, match="ttl"):
        issuer.mint("alice", [Role.VIEWER], 0)
    with pytest.raises(ValueError, match="ttl"):
        issuer.mint("alice", [Role.VIEWER], 30 * 24 * 3600)
