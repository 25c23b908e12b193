"""The local key file: created once with 0600, reused, refused when exposed or malformed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gridops.config import DataPaths, KeyFileError, derive_key, load_or_create_master_key


def test_created_with_0600_and_reused(tmp_path: Path) -> None:
    path = DataPaths(tmp_path / "var").key_file
    first = load_or_create_master_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32
    assert load_or_create_master_key(path) == first


def test_group_readable_key_refused(tmp_path: Path) -> None:
    path = tmp_path / "gridops.key"
    load_or_create_master_key(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_master_key(path)


@pytest.mark.parametrize("content", ["not hex\n", "abcd\n"])
def test_malformed_key_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "gridops.key"
    path.write_text(content, encoding="ascii")
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_or_create_master_key(path)


def test_derived_keys_are_separated() -> None:
    master = b"q" * 32
    assert derive_key(master, "a") != derive_key(master, "b")
    assert derive_key(master, "a") == derive_key(master, "a")
    assert len(derive_key(master, "a")) == 32


def test_default_db_url_under_data_dir() -> None:
    assert DataPaths(Path("var")).default_db_url == "sqlite:///var/gridops.db"
