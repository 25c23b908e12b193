"""``bastion gridops`` commands: token minting, option checks, init-db."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gridops.cli import app, parse_ttl, token_settings_for
from gridops.config import DataPaths, load_or_create_master_key
from gridops.server import JwtTokenVerifier


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("15m", 900), ("1h", 3600), ("7d", 604800)])
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "1w", "-5m", "1.5h", "h"])
def test_parse_ttl_rejects(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_ttl(text)


def test_token_verifies_against_the_server_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["token", "--role", "engineer", "--subject", "erik", "--port", "9000", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    key_file = DataPaths(tmp_path).key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    verifier = JwtTokenVerifier(load_or_create_master_key(key_file), token_settings_for("127.0.0.1", 9000))
    access = verifier.verify(token)
    assert access is not None
    assert access.subject == "erik"
    assert access.claims is not None
    assert access.claims["roles"] == ["engineer"]
    # Minted for port 9000, so the server on 8765 refuses it.
    other = JwtTokenVerifier(load_or_create_master_key(key_file), token_settings_for("127.0.0.1", 8765))
    assert other.verify(token) is None


@pytest.mark.parametrize(
    "args",
    [
        ["token", "--role", "root"],
        ["token", "--role", "viewer", "--subject", "a b"],
        ["token", "--role", "viewer", "--ttl", "30d"],
        ["serve", "--transport", "ftp"],
        ["serve", "--transport", "http", "--identity", "supervisor"],
        ["serve", "--identity", "root"],
    ],
)
def test_bad_options_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output


def test_init_db_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'g.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["init-db", "--db", url, "--network", "cigre_mv"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] is True
    again = runner.invoke(app, ["init-db", "--db", url, "--network", "cigre_mv"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["created"] is False
