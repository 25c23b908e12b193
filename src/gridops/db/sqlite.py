"""SQLite back end: WAL, foreign keys, a separate ``mode=ro`` connection for reads."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gridops.db.interface import Dialect, Row, iter_chunks
from gridops.errors import DatabaseError

__all__ = ["SQLiteDatabase"]


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - trusted names
        count = 0
        for chunk in iter_chunks(rows, 50_000):
            self._conn.executemany(sql, chunk)
            count += len(chunk)
        return count


class SQLiteDatabase:
    """A SQLite file; reads go through a connection opened read-only by URI."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str, *, create: bool = False) -> None:
        self._path = Path(path)
        if not create and not self._path.is_file():
            raise DatabaseError("the grid database does not exist; initialise it first")
        self._rw_lock = threading.Lock()
        self._ro_lock = threading.Lock()
        try:
            if create:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            self._rw: sqlite3.Connection | None = self._open_rw()
            self._ro: sqlite3.Connection | None = None
        except sqlite3.Error as exc:
            raise DatabaseError() from exc

    def _open_rw(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _open_ro(self) -> sqlite3.Connection:
        uri = self._path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA query_only=ON")
        return conn

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._ro_lock:
            try:
                if self._ro is None:
                    self._ro = self._open_ro()
                return [tuple(r) for r in self._ro.execute(sql, tuple(params)).fetchall()]
            except sqlite3.Error as exc:
                raise DatabaseError() from exc

    def read_connection(self) -> sqlite3.Connection:
        """The read-only connection itself (tests prove it refuses writes)."""
        with self._ro_lock:
            if self._ro is None:
                self._ro = self._open_ro()
            return self._ro

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[_SQLiteTx]:
        with self._rw_lock:
            if self._rw is None:
                raise DatabaseError()
            conn = self._rw
            try:
                # IMMEDIATE takes the write lock up front, so a read-check-write sequence
                # (the version check of operate_switch) cannot interleave with another writer.
                conn.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")
            except sqlite3.Error as exc:
                raise DatabaseError() from exc
            try:
                yield _SQLiteTx(conn)
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise DatabaseError() from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise DatabaseError() from exc

    def compact(self) -> None:
        """Fold the write-ahead log into the database file (after a bulk load)."""
        with self._rw_lock:
            if self._rw is not None:
                try:
                    self._rw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:
                    raise DatabaseError() from exc

    def close(self) -> None:
        for lock, attr in ((self._rw_lock, "_rw"), (self._ro_lock, "_ro")):
            with lock:
                conn = getattr(self, attr)
                if conn is not None:
                    conn.close()
                    setattr(self, attr, None)
