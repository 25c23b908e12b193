"""Audit-log settings: checkpoint signing and the witness file (``docs/audit.md``)."""

from __future__ import annotations

from pydantic import Field

from mcp_bastion.config._base import ConfigPath, StrictModel

__all__ = ["AuditLogConfig"]


class AuditLogConfig(StrictModel):
    """How the hash-chained audit log (on ``stores.audit``) is sealed."""

    signing_key_file: ConfigPath | None = None
    """Ed25519 private key (``bastion audit keygen --out FILE``) signing periodic checkpoints."""
    witness_file: ConfigPath | None = None
    """Each checkpoint is also appended here, so a truncated tail is detectable."""
    checkpoint_every: int = Field(default=1000, ge=2, le=1_000_000)
