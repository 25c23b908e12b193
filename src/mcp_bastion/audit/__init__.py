"""Tamper-evident audit log: hash-chained records, signed checkpoints, verify, export.

``AuditLog`` (``log.py``) appends; ``verify_log`` (``verify.py``) checks; ``export.py``
writes JSONL and CEF; ``repair.py`` cuts a torn tail. Storage is an ``AuditStore``
(``mcp_bastion.store``). The format is documented in ``docs/audit.md``.
"""

from __future__ import annotations

from .log import AuditLog
from .record import SCHEMA_VERSION, AuditEvent, AuditRecord
from .signing import CheckpointSigner, CheckpointVerifier, generate_key
from .verify import Problem, VerifyReport, verify_log

__all__ = [
    "SCHEMA_VERSION",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "CheckpointSigner",
    "CheckpointVerifier",
    "Problem",
    "VerifyReport",
    "generate_key",
    "verify_log",
]
