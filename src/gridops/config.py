"""Where the Grid Ops server keeps its local state: data directory, database URL and key file.

The defaults make ``make up`` work on a fresh clone: everything lives under ``./var``
(database ``var/gridops.db``, key ``var/gridops.key``). The key file holds one random
256-bit master secret, created on first use with mode 0600; purpose keys (JWT signing,
simulation tokens) are derived from it so one leaked derived key does not reveal another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "KEY_FILE_NAME",
    "DataPaths",
    "KeyFileError",
    "derive_key",
    "load_or_create_master_key",
]

DEFAULT_DATA_DIR = Path("var")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
KEY_FILE_NAME = "gridops.key"
_KEY_BYTES = 32


class KeyFileError(Exception):
    """The key file exists but cannot be used (unreadable, malformed, or readable by others)."""


@dataclass(frozen=True)
class DataPaths:
    """The files of one Grid Ops installation under its data directory."""

    data_dir: Path = DEFAULT_DATA_DIR

    @property
    def key_file(self) -> Path:
        """The master key file (0600)."""
        return self.data_dir / KEY_FILE_NAME

    @property
    def default_db_url(self) -> str:
        """The embedded SQLite database URL under the data directory."""
        return f"sqlite:///{self.data_dir / 'gridops.db'}"


def load_or_create_master_key(path: Path) -> bytes:
    """Return the master key stored in ``path``, creating it (mode 0600) when absent.

    Creation is atomic (``O_CREAT | O_EXCL``): two processes starting at once agree on one
    key. A key file that group or others can read is refused rather than silently used.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    try:
        os.write(fd, secrets.token_hex(_KEY_BYTES).encode("ascii") + b"\n")
    finally:
        os.close(fd)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(f"key file {path} is accessible by other users (mode {mode:o}); chmod 600 it")
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise KeyFileError(f"key file {path} is malformed") from exc
    if len(key) < _KEY_BYTES:
        raise KeyFileError(f"key file {path} holds fewer than {_KEY_BYTES} bytes")
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 256-bit key for one ``purpose`` (domain separation by HMAC-SHA256 of the label)."""
    return hmac.new(master, b"gridops/" + purpose.encode("ascii"), hashlib.sha256).digest()
