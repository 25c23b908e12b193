"""PostgreSQL back end (psycopg 3): read-only sessions for reads, COPY for bulk loads.

URL: ``postgresql://user@host:port/db`` plus, optionally, ``?schema=NAME`` (our own
parameter: it becomes ``search_path``, and ``init_db`` creates the schema if it is missing) or
libpq's ``?options=-csearch_path=NAME``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from gridops.db.interface import Dialect, Row, iter_chunks
from gridops.errors import DatabaseError, InvalidInputError

__all__ = ["PostgresDatabase", "split_schema"]

_SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def split_schema(url: str) -> tuple[str, str | None]:
    """Remove our ``schema`` query parameter from ``url``; return (libpq URL, schema)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    rest = [(k, v) for k, v in query if k != "schema"]
    schema = schemas[-1] if schemas else None
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise InvalidInputError("invalid schema name in the database URL")
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


def _to_pg(sql: str) -> str:
    # Our SQL never contains '%' or a literal '?', so this rewrite is exact.
    return sql.replace("?", "%s")


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cur:
            cur.execute(_to_pg(sql), tuple(params))
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        count = 0
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for chunk in iter_chunks(rows, 10_000):
                for row in chunk:
                    copy.write_row(row)
                count += len(chunk)
        return count


class PostgresDatabase:
    """A PostgreSQL database (optionally one schema of it)."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, create: bool = False) -> None:
        self._conninfo, schema = split_schema(url)
        self._schema = schema
        self._rw_lock = threading.Lock()
        self._ro_lock = threading.Lock()
        self._rw: psycopg.Connection[Any] | None = None
        self._ro: psycopg.Connection[Any] | None = None
        with self._rw_lock:
            self._rw = self._connect(readonly=False)
            if create and schema is not None:
                # The name matched the identifier pattern in split_schema; quoting is belt and braces.
                try:
                    self._rw.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                except psycopg.Error as exc:
                    self._rw.close()
                    raise DatabaseError() from exc

    def _connect(self, *, readonly: bool) -> psycopg.Connection[Any]:
        options: list[str] = []
        base = psycopg.conninfo.conninfo_to_dict(self._conninfo)
        if base.get("options"):
            options.append(str(base["options"]))
        if self._schema:
            options.append(f"-c search_path={self._schema}")
        if readonly:
            options.append("-c default_transaction_read_only=on")
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": 10}
        if options:
            kwargs["options"] = " ".join(options)
        try:
            return psycopg.connect(self._conninfo, **kwargs)
        except psycopg.Error as exc:
            raise DatabaseError() from exc

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._ro_lock:
            if self._ro is None or self._ro.closed:
                self._ro = self._connect(readonly=True)
            try:
                with self._ro.cursor() as cur:
                    cur.execute(_to_pg(sql), tuple(params))
                    return [tuple(r) for r in cur.fetchall()]
            except psycopg.Error as exc:
                if self._ro.broken:
                    self._ro = None
                raise DatabaseError() from exc

    def read_connection(self) -> psycopg.Connection[Any]:
        """The read-only connection itself (tests prove it refuses writes)."""
        with self._ro_lock:
            if self._ro is None or self._ro.closed:
                self._ro = self._connect(readonly=True)
            return self._ro

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[_PgTx]:
        with self._rw_lock:
            if self._rw is None or self._rw.closed:
                self._rw = self._connect(readonly=False)
            conn = self._rw
            try:
                with conn.transaction():
                    # Row locks (SELECT ... FOR UPDATE) in the caller serialise writers.
                    del exclusive
                    yield _PgTx(conn)
            except psycopg.Error as exc:
                if conn.broken:
                    self._rw = None
                raise DatabaseError() from exc

    def close(self) -> None:
        for lock, attr in ((self._rw_lock, "_rw"), (self._ro_lock, "_ro")):
            with lock:
                conn = getattr(self, attr)
                if conn is not None:
                    conn.close()
                    setattr(self, attr, None)
