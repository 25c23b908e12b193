"""Ed25519 checkpoint signatures: key files, signing and verifying (seq, hash) pairs.

A checkpoint signs the canonical JSON ``{"hash": h, "purpose": PURPOSE, "seq": s}``
where ``(s, h)`` is the chain head it vouches for. Private keys are PKCS#8 PEM files
written 0600; public keys are SubjectPublicKeyInfo PEM. ``key_id`` is the first 16 hex
characters of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mcp_bastion.canonical import canonical_json
from mcp_bastion.errors import AuditError, ConfigError

__all__ = ["PURPOSE", "CheckpointSigner", "CheckpointVerifier", "generate_key", "key_id"]

PURPOSE = "mcp-bastion-audit-checkpoint/1"


def _message(seq: int, head_hash: str) -> bytes:
    return canonical_json({"hash": head_hash, "purpose": PURPOSE, "seq": seq})


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(out: Path) -> Path:
    """Write a new private key to ``out`` (0600, refusing to overwrite) and its public key
    beside it as ``<out>.pub``; return the public key's path."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: never clobber an existing key; mode 0600 from the first byte on disk.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError("key file already exists", public_message="key file already exists") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub_path = out.with_name(out.name + ".pub")
    pub_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pub_path


class CheckpointSigner:
    """Signs checkpoints with a private key loaded from a file."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.key_id = key_id(private.public_key())

    @classmethod
    def from_file(cls, path: Path) -> CheckpointSigner:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                "audit signing key unreadable", public_message="audit signing key unreadable"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError("audit signing key is not Ed25519")
        return cls(key)

    def sign(self, seq: int, head_hash: str) -> dict[str, str | int]:
        """The ``checkpoint`` object of a checkpoint record vouching for ``(seq, head_hash)``."""
        sig = self._private.sign(_message(seq, head_hash))
        return {
            "alg": "ed25519",
            "key_id": self.key_id,
            "seq": seq,
            "hash": head_hash,
            "sig": base64.b64encode(sig).decode("ascii"),
        }

    def verifier(self) -> CheckpointVerifier:
        return CheckpointVerifier(self._private.public_key())


class CheckpointVerifier:
    """Checks checkpoint signatures against one public key."""

    def __init__(self, public: Ed25519PublicKey) -> None:
        self._public = public
        self.key_id = key_id(public)

    @classmethod
    def from_file(cls, path: Path) -> CheckpointVerifier:
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise AuditError("public key unreadable", public_message="public key unreadable") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise AuditError("public key is not Ed25519")
        return cls(key)

    def check(self, checkpoint: object) -> str | None:
        """Return ``None`` when ``checkpoint`` is validly signed by this key, else the reason."""
        if not isinstance(checkpoint, dict):
            return "checkpoint is not an object"
        if checkpoint.get("key_id") != self.key_id:
            return "checkpoint signed by an unknown key"
        try:
            sig = base64.b64decode(str(checkpoint["sig"]), validate=True)
            self._public.verify(sig, _message(int(checkpoint["seq"]), str(checkpoint["hash"])))
        except (KeyError, ValueError, TypeError, InvalidSignature):
            return "checkpoint signature does not verify"
        return None
