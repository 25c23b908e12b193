"""The database interface the grid service talks to: one read-only and one write path.

Contract: ``read`` runs one SELECT on a connection that cannot write (SQLite ``mode=ro``,
PostgreSQL ``default_transaction_read_only``). ``transaction`` yields a read-write
:class:`Tx`; it commits when the block ends normally and rolls back on any exception.
SQL uses ``?`` placeholders and no ``%`` characters; the PostgreSQL back end rewrites the
placeholders. Implementations are thread-safe (each connection is used under its own
lock) and translate driver failures into :class:`gridops.errors.DatabaseError`; a
failed connection is reopened on the next call. Nothing here builds SQL from values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

__all__ = ["Database", "Dialect", "Row", "Tx"]

Row = tuple[Any, ...]
Dialect = Literal["sqlite", "postgresql"]


class Tx(Protocol):
    """A read-write transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; return its rows (empty for statements without a result)."""
        ...

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Insert many rows fast (executemany or COPY); ``table``/``columns`` are trusted names."""
        ...


class Database(Protocol):
    """A grid database: read-only queries plus atomic read-write transactions."""

    dialect: Dialect

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one read-only query and return all rows."""
        ...

    def transaction(self, *, exclusive: bool = False) -> AbstractContextManager[Tx]:
        """A read-write transaction; ``exclusive`` serialises it against other writers."""
        ...

    def close(self) -> None:
        """Close every connection; later calls fail with DatabaseError."""
        ...


def iter_chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Split ``rows`` into lists of at most ``size`` (bounded memory for bulk inserts)."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
