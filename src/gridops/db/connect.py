"""Open a grid database from a URL: ``sqlite:///path`` or ``postgresql://...``."""

from __future__ import annotations

from gridops.db.interface import Database
from gridops.errors import InvalidInputError

__all__ = ["open_database"]


def open_database(url: str, *, create: bool = False) -> Database:
    """Connect to ``url``; SQLite files are created only when ``create`` is true.

    ``sqlite:///relative.db`` and ``sqlite:////absolute.db`` follow SQLAlchemy's form.
    """
    if url.startswith("sqlite:///"):
        from gridops.db.sqlite import SQLiteDatabase

        path = url.removeprefix("sqlite:///")
        if not path or "?" in path or "\x00" in path:
            raise InvalidInputError("invalid SQLite database URL")
        return SQLiteDatabase(path, create=create)
    if url.startswith(("postgresql://", "postgres://")):
        from gridops.db.postgres import PostgresDatabase

        return PostgresDatabase(url, create=create)
    raise InvalidInputError("unsupported database URL; use sqlite:///PATH or postgresql://...")
