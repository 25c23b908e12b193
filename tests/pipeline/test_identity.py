"""Authentication: JWT validation (audience, expiry, issuer, algorithms, JWKS), API keys,
RFC 6750 failures, RFC 9728 metadata and development tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey, RSAKey
from typer.testing import CliRunner

from mcp_bastion.cli.token_cmd import app as token_app
from mcp_bastion.config import BastionConfig, TokenConfig, parse_config
from mcp_bastion.pipeline.identity import (
    Authenticator,
    AuthFailure,
    mint_token,
    protected_resource_metadata,
    resource_metadata_url,
)
from mcp_bastion.types import AuthMethod, Principal

pytestmark = pytest.mark.anyio

RESOURCE = "http://127.0.0.1:9123/mcp"
NOW = 1_900_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _config(tmp_path: Path, jwt_conf: dict[str, Any], **extra: Any) -> BastionConfig:
    raw = {
        "listeners": {"http": {"port": 9123}},
        "identities": {"jwt": {"issuer": "iss-1", **jwt_conf}},
        **extra,
    }
    return parse_config(raw, base_dir=tmp_path)


@pytest.fixture
def ed25519(tmp_path: Path) -> tuple[BastionConfig, TokenConfig]:
    config = _config(
        tmp_path,
        {"ed25519_public_key_file": "k.pub", "leeway_s": 30},
        token={"key_file": "k", "issuer": "iss-1"},
    )
    assert config.token is not None
    mint_token(config.token, subject="warmup", roles=(), audience=RESOURCE, ttl_s=60)  # creates the key
    return config, config.token


def _auth(config: BastionConfig, now: float = NOW) -> Authenticator:
    return Authenticator(config.identities, audience=config.jwt_audience, clock=lambda: now)


async def test_valid_dev_token(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, token_conf = ed25519
    token = mint_token(
        token_conf, subject="alice", roles=["operator"], audience=RESOURCE, ttl_s=600, tenant="t1", now=NOW
    )
    principal = await _auth(config).authenticate(f"Bearer {token}")
    assert isinstance(principal, Principal)
    assert (principal.subject, principal.roles, principal.tenant) == ("alice", frozenset({"operator"}), "t1")
    assert principal.auth_method is AuthMethod.JWT


async def test_token_for_another_resource_is_refused(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, token_conf = ed25519
    other = "http://127.0.0.1:9999/mcp"
    token = mint_token(token_conf, subject="alice", roles=["operator"], audience=other, ttl_s=600, now=NOW)
    # The token is genuine: a server that does not check the audience accepts it (token replay).
    lax = Authenticator(config.identities, audience=other, clock=lambda: NOW)
    assert isinstance(await lax.authenticate(f"Bearer {token}"), Principal)
    failure = await _auth(config).authenticate(f"Bearer {token}")
    assert isinstance(failure, AuthFailure)
    assert (failure.error, failure.status) == ("invalid_token", 401)


@pytest.mark.parametrize(("offset", "ok"), [(599, True), (600 + 29, True), (600 + 31, False)])
async def test_expiry_with_leeway(ed25519: tuple[BastionConfig, TokenConfig], offset: int, ok: bool) -> None:
    config, token_conf = ed25519
    token = mint_token(token_conf, subject="a", roles=[], audience=RESOURCE, ttl_s=600, now=NOW)
    result = await _auth(config, NOW + offset).authenticate(f"Bearer {token}")
    assert isinstance(result, Principal) == ok


async def test_not_yet_valid(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, token_conf = ed25519
    token = mint_token(token_conf, subject="a", roles=[], audience=RESOURCE, ttl_s=600, now=NOW + 120)
    assert isinstance(await _auth(config).authenticate(f"Bearer {token}"), AuthFailure)


async def test_wrong_issuer(tmp_path: Path) -> None:
    config = _config(
        tmp_path, {"ed25519_public_key_file": "k.pub"}, token={"key_file": "k", "issuer": "someone-else"}
    )
    assert config.token is not None
    token = mint_token(config.token, subject="a", roles=[], audience=RESOURCE, ttl_s=600, now=NOW)
    assert isinstance(await _auth(config).authenticate(f"Bearer {token}"), AuthFailure)


async def test_alg_none_is_refused(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, _ = ed25519
    claims = {"sub": "root", "roles": ["supervisor"], "iss": "iss-1", "aud": RESOURCE, "exp": NOW + 600}
    token = f"{_b64(json.dumps({'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."
    assert isinstance(await _auth(config).authenticate(f"Bearer {token}"), AuthFailure)


async def test_hs256_with_the_public_key_is_refused(tmp_path: Path) -> None:
    rsa = RSAKey.generate_key(2048, {"kid": "r1"})
    (tmp_path / "jwks.json").write_text(json.dumps(KeySet([rsa]).as_dict(private=False)), encoding="utf-8")
    config = _config(tmp_path, {"jwks_file": "jwks.json"})
    public_pem = rsa.as_pem(private=False)
    claims = {"sub": "root", "roles": ["supervisor"], "iss": "iss-1", "aud": RESOURCE, "exp": NOW + 600}
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'kid': 'r1'}).encode())}.{_b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(signature)}"
    # The attack: a verifier that takes the alg from the header and the "key" as bytes accepts it.
    naive_ok = hmac.compare_digest(
        hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest(), signature
    )
    assert naive_ok
    assert isinstance(await _auth(config).authenticate(f"Bearer {forged}"), AuthFailure)
    genuine = jwt.encode({"alg": "RS256", "kid": "r1"}, claims, rsa)
    assert isinstance(await _auth(config).authenticate(f"Bearer {genuine}"), Principal)


class _JwksServer:
    def __init__(self) -> None:
        self.jwks: Any = {"keys": []}
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - overrides the stdlib signature
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    yield server
    server.close()


async def test_jwks_url_rotation_and_refresh_rate_limit(tmp_path: Path, jwks_server: _JwksServer) -> None:
    k1 = OKPKey.generate_key("Ed25519", {"kid": "k1"})
    k2 = OKPKey.generate_key("Ed25519", {"kid": "k2"})
    jwks_server.jwks = KeySet([k1]).as_dict(private=False)
    config = _config(tmp_path, {"jwks_url": jwks_server.url, "jwks_refresh_min_interval_s": 60})
    clock = [float(NOW)]
    auth = Authenticator(config.identities, audience=RESOURCE, clock=lambda: clock[0])
    claims = {"sub": "a", "iss": "iss-1", "aud": RESOURCE, "exp": NOW + 3600}

    def signed(key: OKPKey, kid: str) -> str:
        return jwt.encode({"alg": "Ed25519", "kid": kid}, claims, key, algorithms=["Ed25519"])

    assert isinstance(await auth.authenticate(f"Bearer {signed(k1, 'k1')}"), Principal)
    assert jwks_server.hits == 1
    # Unknown kids do not make us hammer the JWKS endpoint.
    for i in range(20):
        await auth.authenticate(f"Bearer {signed(k2, f'random-{i}')}")
    assert jwks_server.hits == 1
    # The issuer rotates to k2; after the minimum interval an unknown kid triggers one refresh.
    jwks_server.jwks = KeySet([k2]).as_dict(private=False)
    clock[0] += 61
    assert isinstance(await auth.authenticate(f"Bearer {signed(k2, 'k2')}"), Principal)
    assert jwks_server.hits == 2


async def test_api_keys(tmp_path: Path) -> None:
    key = "bst_" + "x" * 40
    config = parse_config(
        {
            "listeners": {"http": {"port": 9123}},
            "identities": {
                "api_keys": [
                    {"sha256": hashlib.sha256(key.encode()).hexdigest(), "subject": "ci", "roles": ["viewer"]}
                ]
            },
        }
    )
    auth = Authenticator.from_config(config)
    ok = await auth.authenticate(None, api_key=key)
    assert isinstance(ok, Principal) and ok.auth_method is AuthMethod.API_KEY and ok.roles == {"viewer"}
    assert isinstance(await auth.authenticate(f"Bearer {key}"), Principal)
    bad = await auth.authenticate(None, api_key=key[:-1] + "y")
    assert isinstance(bad, AuthFailure) and bad.error == "invalid_token"


async def test_missing_and_malformed_credentials(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, _ = ed25519
    auth = _auth(config)
    missing = await auth.authenticate(None)
    assert isinstance(missing, AuthFailure) and missing.error is None and missing.status == 401
    meta = resource_metadata_url(RESOURCE)
    assert meta == "http://127.0.0.1:9123/.well-known/oauth-protected-resource/mcp"
    assert missing.www_authenticate(meta) == f'Bearer resource_metadata="{meta}"'
    malformed = await auth.authenticate("Basic dXNlcjpwYXNz")
    assert isinstance(malformed, AuthFailure) and malformed.status == 400


async def test_insufficient_scope(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        {"ed25519_public_key_file": "k.pub", "required_scopes": ["mcp:tools"]},
        token={"key_file": "k", "issuer": "iss-1"},
    )
    assert config.token is not None
    bare = mint_token(config.token, subject="a", roles=[], audience=RESOURCE, ttl_s=600, now=NOW)
    failure = await _auth(config).authenticate(f"Bearer {bare}")
    assert (
        isinstance(failure, AuthFailure) and failure.status == 403 and failure.error == "insufficient_scope"
    )
    assert 'scope="mcp:tools"' in failure.www_authenticate()
    scoped = mint_token(
        config.token, subject="a", roles=[], audience=RESOURCE, ttl_s=600, scopes=["mcp:tools"], now=NOW
    )
    assert isinstance(await _auth(config).authenticate(f"Bearer {scoped}"), Principal)


def test_protected_resource_metadata(ed25519: tuple[BastionConfig, TokenConfig]) -> None:
    config, _ = ed25519
    doc = protected_resource_metadata(config)
    assert doc["resource"] == RESOURCE
    assert doc["authorization_servers"] == ["iss-1"]
    assert doc["bearer_methods_supported"] == ["header"]


@pytest.mark.parametrize("algorithm", ["Ed25519", "HS256"])
def test_token_create_cli(tmp_path: Path, algorithm: str) -> None:
    key_field = (
        "ed25519_public_key_file: dev.key.pub" if algorithm == "Ed25519" else "hs256_key_file: dev.key"
    )
    (tmp_path / "bastion.yaml").write_text(
        "listeners:\n  http: {port: 9123}\n"
        f"identities:\n  jwt:\n    issuer: bastion-dev\n    {key_field}\n"
        f"token:\n  key_file: dev.key\n  algorithm: {algorithm}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        token_app,
        [
            "create",
            "--role",
            "operator",
            "--subject",
            "bob",
            "--ttl",
            "15m",
            "--config",
            str(tmp_path / "bastion.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert "\n" not in token and token.count(".") == 2
    assert stat.S_IMODE((tmp_path / "dev.key").stat().st_mode) == 0o600
    config = parse_config(
        {
            "listeners": {"http": {"port": 9123}},
            "identities": {"jwt": {"issuer": "bastion-dev", **_key(algorithm)}},
        },
        base_dir=tmp_path,
    )
    import anyio

    principal = anyio.run(Authenticator.from_config(config).authenticate, f"Bearer {token}")
    assert isinstance(principal, Principal) and principal.subject == "bob" and principal.roles == {"operator"}


def _key(algorithm: str) -> dict[str, str]:
    return (
        {"ed25519_public_key_file": "dev.key.pub"}
        if algorithm == "Ed25519"
        else {"hs256_key_file": "dev.key"}
    )


def test_token_create_without_token_section(tmp_path: Path) -> None:
    (tmp_path / "bastion.yaml").write_text("{}\n", encoding="utf-8")
    result = CliRunner().invoke(
        token_app, ["create", "--role", "viewer", "--config", str(tmp_path / "bastion.yaml")]
    )
    assert result.exit_code == 2


async def test_gateway_start_creates_its_own_dev_key(tmp_path: Path) -> None:
    config = _config(
        tmp_path, {"ed25519_public_key_file": "dev.key.pub"}, token={"key_file": "dev.key", "issuer": "iss-1"}
    )
    assert not (tmp_path / "dev.key").exists()
    auth = Authenticator.from_config(config)
    assert (tmp_path / "dev.key").exists() and (tmp_path / "dev.key.pub").exists()
    assert config.token is not None
    token = mint_token(config.token, subject="a", roles=["viewer"], audience=RESOURCE, ttl_s=600)
    assert isinstance(await auth.authenticate(f"Bearer {token}"), Principal)
