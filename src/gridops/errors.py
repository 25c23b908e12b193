"""The exception tree of gridops (the grid domain and its database).

::

    GridOpsError              base; ``public_message`` is safe to show a remote caller
    ├── NotFoundError         unknown asset, switch, report, region or outage
    ├── InvalidInputError     semantic validation failed (window too long, bad asset id...)
    ├── ConflictError         grid state version changed, or switch already in that state
    └── DatabaseError         the database failed; the message stays generic

Foreign exceptions (sqlite3, psycopg, pandapower) are translated at the service boundary
with ``raise X from exc``; ``public_message`` never carries SQL, paths, tracebacks or
environment values.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DatabaseError",
    "GridOpsError",
    "InvalidInputError",
    "NotFoundError",
]


class GridOpsError(Exception):
    """Base of every error the grid service raises."""

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class NotFoundError(GridOpsError):
    """An asset, switch, report, region or outage does not exist."""


class InvalidInputError(GridOpsError):
    """An argument failed semantic validation (range, length, form)."""


class ConflictError(GridOpsError):
    """The grid state changed since the caller read it, or the operation is a no-op."""


class DatabaseError(GridOpsError):
    """The database failed; details stay in the exception chain, not the message."""

    def __init__(self, public_message: str = "database unavailable") -> None:
        super().__init__(public_message)
