"""The read connection cannot write, on both back ends (the write path can)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from gridops.db.connect import open_database
from gridops.db.loader import init_db
from gridops.db.postgres import PostgresDatabase
from gridops.db.sqlite import SQLiteDatabase
from gridops.errors import DatabaseError

INSERT = "INSERT INTO records (name, address, created_by, created_at) VALUES ('x', 'y', 'z', 't')"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ro') / 'g.db'}"
    init_db(url, days=1)
    return url


def test_sqlite_read_connection_refuses_insert(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    assert isinstance(db, SQLiteDatabase)
    try:
        # Without the control: the write connection accepts the same statement.
        with db.transaction() as tx:
            tx.execute(INSERT)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.read_connection().execute(INSERT)
        with pytest.raises(DatabaseError) as info:
            db.read(INSERT)
        assert "INSERT" not in info.value.public_message
        with pytest.raises(DatabaseError):
            db.read("DROP TABLE records")
        assert db.read("SELECT COUNT(*) FROM records")[0][0] == 4  # 3 seeded + 1 written
    finally:
        db.close()


@pytest.mark.postgres
def test_postgres_read_connection_refuses_insert(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    target = f"{url}?schema={schema}"
    init_db(target, days=1)
    db = open_database(target)
    assert isinstance(db, PostgresDatabase)
    try:
        with db.transaction() as tx:
            tx.execute(INSERT)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            db.read_connection().execute(INSERT)
        with pytest.raises(DatabaseError):
            db.read(INSERT)
        with pytest.raises(DatabaseError):
            db.read("DROP TABLE records")
        assert db.read("SELECT COUNT(*) FROM records")[0][0] == 4
    finally:
        db.close()
