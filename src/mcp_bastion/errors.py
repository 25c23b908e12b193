"""The one exception tree of mcp-bastion.

::

    BastionError                       base; carries a JSON-RPC code and a public message
    ├── ConfigError                    bastion.yaml / policy file invalid (field + reason)
    ├── PolicyError                    a policy could not be parsed or evaluated
    ├── DetectorError                  a detector rule is malformed
    ├── StoreError                     a store operation failed
    │   └── StoreUnavailableError      the store cannot be reached (guards deny, then recover)
    ├── AuditError
    │   └── AuditIntegrityError        the hash chain or a signature does not verify
    ├── GuardError                     a guard failed to decide (the chain turns it into a denial)
    ├── SandboxError
    │   ├── IsolationUnavailableError  no isolation primitive and the profile did not opt out
    │   └── SpawnError                 the process could not be started
    ├── TransportError
    │   └── UpstreamError              an upstream server failed or went away
    └── ScanError                      a scan or fuzz target could not be reached

Foreign exceptions are translated at the boundary (``raise X from exc``). ``public_message``
is what may cross the wire: never SQL, paths, tracebacks or environment values.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditError",
    "AuditIntegrityError",
    "BastionError",
    "ConfigError",
    "DetectorError",
    "GuardError",
    "IsolationUnavailableError",
    "PolicyError",
    "SandboxError",
    "ScanError",
    "SpawnError",
    "StoreError",
    "StoreUnavailableError",
    "TransportError",
    "UpstreamError",
]

# JSON-RPC 2.0 reserved codes plus the implementation-defined range we use.
INTERNAL_ERROR = -32603
INVALID_PARAMS = -32602
SERVER_ERROR = -32000


class BastionError(Exception):
    """Base of every error raised by mcp-bastion.

    ``public_message`` is safe to show a remote caller; ``str(exc)`` may hold more detail
    for local logs (still never secrets).
    """

    jsonrpc_code: ClassVar[int] = INTERNAL_ERROR
    default_public_message: ClassVar[str] = "internal error"

    def __init__(self, message: str, *, public_message: str | None = None) -> None:
        super().__init__(message)
        self.public_message = public_message or self.default_public_message


class ConfigError(BastionError):
    """A configuration or policy file is invalid; the message names the field and the reason."""

    default_public_message = "configuration error"


class PolicyError(BastionError):
    """A policy could not be parsed or evaluated (evaluation failures deny)."""

    default_public_message = "policy error"


class DetectorError(BastionError):
    """A detector rule or its input is malformed."""

    default_public_message = "detector error"


class StoreError(BastionError):
    """A store operation failed."""

    jsonrpc_code = SERVER_ERROR
    default_public_message = "store error"


class StoreUnavailableError(StoreError):
    """The store cannot be reached; guards that need it deny until it is back."""

    default_public_message = "a required store is unavailable"


class AuditError(BastionError):
    """Base for audit-log failures."""

    default_public_message = "audit error"


class AuditIntegrityError(AuditError):
    """The hash chain or a checkpoint signature does not verify."""

    default_public_message = "audit log integrity failure"


class GuardError(BastionError):
    """A guard could not decide; the chain converts this into a denial."""

    jsonrpc_code = SERVER_ERROR
    default_public_message = "request denied: a guard could not decide"


class SandboxError(BastionError):
    """Base for sandbox failures."""

    default_public_message = "sandbox error"


class IsolationUnavailableError(SandboxError):
    """No isolation primitive is available and the profile did not say ``isolation: none``."""

    default_public_message = "no isolation available for this server"


class SpawnError(SandboxError):
    """A sandboxed process could not be started."""

    default_public_message = "the server process could not be started"


class TransportError(BastionError):
    """A transport failed to move a message."""

    jsonrpc_code = SERVER_ERROR
    default_public_message = "transport error"


class UpstreamError(TransportError):
    """An upstream MCP server failed, timed out or went away."""

    default_public_message = "upstream server unavailable"


class ScanError(BastionError):
    """A scan or fuzz target could not be reached or understood."""

    default_public_message = "scan error"
