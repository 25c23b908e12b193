"""bastion.yaml loading: valid files load, invalid ones fail naming field path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_bastion.config import (
    ArgumentsSettings,
    BastionConfig,
    LimitsSettings,
    default_config,
    load_config,
    parse_config,
)
from mcp_bastion.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bastion.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bastion.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""))
    assert isinstance(config, BastionConfig)
    assert [g.name for g in config.guards][:3] == ["authentication", "limits", "ratelimit"]
    assert config.listeners.http is None


def test_bad_url_names_field_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "upstreams:\n  gridops:\n    url: ftp://example\n")
    with pytest.raises(ConfigError, match=r"upstreams\.gridops\.url: String should match"):
        load_config(path)


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "guards:\n  - name: limits\n    max_depht: 3\n")
    with pytest.raises(ConfigError, match=r"guards\.0\.limits\.max_depht: unknown field"):
        load_config(path)


def test_upstream_needs_exactly_one_transport(tmp_path: Path) -> None:
    path = _write(tmp_path, "upstreams:\n  x:\n    command: [a]\n    url: http://h/mcp\n")
    with pytest.raises(ConfigError, match=r"upstreams\.x: exactly one of 'command'"):
        load_config(path)


def test_client_credentials_are_not_an_http_field_of_stdio(tmp_path: Path) -> None:
    path = _write(tmp_path, "upstreams:\n  x:\n    command: [a]\n    bearer_token_env: TOKEN\n")
    with pytest.raises(ConfigError, match="only apply to http upstreams"):
        load_config(path)


def test_upstream_name_may_not_contain_dot(tmp_path: Path) -> None:
    path = _write(tmp_path, "upstreams:\n  a.b:\n    command: [a]\n")
    with pytest.raises(ConfigError, match=r"upstreams: .*no '\.' or '/'"):
        load_config(path)


def test_unsafe_yaml_tag_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(path)


def test_duplicate_guard_is_refused() -> None:
    with pytest.raises(ConfigError, match="listed more than once"):
        parse_config({"guards": [{"name": "limits"}, {"name": "limits"}]})


def test_http_listener_requiring_auth_needs_an_identity_source() -> None:
    with pytest.raises(ConfigError, match="requires auth but identities"):
        parse_config({"listeners": {"http": {"port": 9000}}})


def test_jwt_hs256_only_with_hs256_key(tmp_path: Path) -> None:
    raw = {"identities": {"jwt": {"jwks_file": "jwks.json", "issuer": "i", "algorithms": ["HS256"]}}}
    with pytest.raises(ConfigError, match="HS256 requires hs256_key_file"):
        parse_config(raw, base_dir=tmp_path)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    raw = {
        "identities": {"jwt": {"jwks_file": "keys/jwks.json", "issuer": "i"}},
        "stores": {"pins": "sqlite:///state/pins.db"},
    }
    config = parse_config(raw, base_dir=tmp_path)
    assert config.identities.jwt is not None
    assert config.identities.jwt.jwks_file == tmp_path / "keys" / "jwks.json"
    assert config.stores.pins == f"sqlite:///{tmp_path / 'state' / 'pins.db'}"


def test_resource_uri_is_the_default_audience() -> None:
    raw = {
        "listeners": {"http": {"port": 9000}},
        "identities": {"api_keys": [{"sha256": "a" * 64, "subject": "ci", "roles": ["viewer"]}]},
    }
    config = parse_config(raw)
    assert config.resource_uri == "http://127.0.0.1:9000/mcp"
    assert config.jwt_audience == "http://127.0.0.1:9000/mcp"


def test_models_are_frozen() -> None:
    config = parse_config({})
    with pytest.raises(ValueError, match="frozen"):
        config.guard_timeout_s = 5  # type: ignore[misc]


def test_default_config_for_wrap(tmp_path: Path) -> None:
    config = default_config(["python", "server.py"], role="viewer", state_dir=tmp_path)
    assert config.upstreams["server"].command == ("python", "server.py")
    assert config.identities.local.roles == ("viewer",)
    assert isinstance(config.guard("limits"), LimitsSettings)
    arguments = config.guard("arguments")
    assert isinstance(arguments, ArgumentsSettings)
    assert arguments.block_sqli
    assert config.stores.pins == f"sqlite:///{tmp_path / 'bastion.db'}"


def test_the_documented_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert {"gridops", "vulnerable"} <= set(config.upstreams)
