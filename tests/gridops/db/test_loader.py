"""init_db: idempotence, force, sizes and deterministic measurements."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from gridops.db.connect import open_database
from gridops.db.loader import init_db, read_meta
from gridops.errors import InvalidInputError
from gridops.grid.measurements import generate


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_init_is_idempotent_and_force_rebuilds(tmp_path: Path) -> None:
    url = _url(tmp_path / "g.db")
    first = init_db(url, days=1)
    assert first["created"] is True
    assert first["counts"]["measurements"] == (147 + 153) * 96
    db = open_database(url)
    with db.transaction() as tx:
        tx.execute("INSERT INTO records (name, address, created_by, created_at) VALUES ('n', 'a', 'u', 't')")
    db.close()
    again = init_db(url, days=1)
    assert again["created"] is False
    assert again["counts"]["records"] == first["counts"]["records"] + 1  # nothing was reloaded
    assert again["measurements_digest"] == first["measurements_digest"]
    rebuilt = init_db(url, days=1, force=True)
    assert rebuilt["created"] is True
    assert rebuilt["counts"] == first["counts"]


def test_full_fourteen_days(tmp_path: Path) -> None:
    summary = init_db(_url(tmp_path / "full.db"))
    counts = summary["counts"]
    assert (counts["buses"], counts["lines"], counts["switches"], counts["trafos"]) == (179, 181, 322, 2)
    assert counts["measurements"] == 300 * 14 * 96 == 403_200
    assert summary["epoch_end"] == "2026-11-01T00:00:00Z"


def test_same_seed_same_digest_and_stored_rows_match(tmp_path: Path) -> None:
    a = init_db(_url(tmp_path / "a.db"), days=1, seed=11)
    b = init_db(_url(tmp_path / "b.db"), days=1, seed=11)
    c = init_db(_url(tmp_path / "c.db"), days=1, seed=12)
    assert a["measurements_digest"] == b["measurements_digest"] != c["measurements_digest"]
    with sqlite3.connect(tmp_path / "a.db") as conn:
        loads = conn.execute("SELECT asset_id, p_mw FROM loads ORDER BY id").fetchall()
        sgens = conn.execute("SELECT asset_id, p_mw FROM sgens ORDER BY id").fetchall()
        stored = conn.execute("SELECT asset_id, ts, p_mw FROM measurements").fetchall()
    # mv_oberrhein's design case scales every load by 0.6 (documented in the data card).
    series = generate([(a_, p * 0.6) for a_, p in loads], sgens, seed=11, days=1)
    assert series.digest() == a["measurements_digest"]
    assert sorted(stored) == sorted(series.rows())


@pytest.mark.parametrize("kwargs", [{"days": 0}, {"days": 32}, {"network": "ieee_secret"}, {"seed": -1}])
def test_init_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        init_db(_url(tmp_path / "x.db"), **kwargs)  # type: ignore[arg-type]  # bad values are the test


@pytest.mark.parametrize("network", ["cigre_mv", "case33bw"])
def test_other_networks_load(tmp_path: Path, network: str) -> None:
    summary = init_db(_url(tmp_path / f"{network}.db"), network, days=1)
    assert summary["network"] == network
    assert summary["counts"]["switches"] > 0


@pytest.mark.postgres
def test_postgres_init_idempotent(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    target = f"{url}?schema={schema}"
    first = init_db(target, days=1)
    assert first["created"] is True
    assert init_db(target, days=1)["created"] is False
    with psycopg.connect(url, autocommit=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            )
        }
    assert {"measurements", "records", "switches", "grid_state"} <= tables
    db = open_database(target)
    meta = read_meta(db)
    db.close()
    assert meta is not None
    assert meta["measurements_digest"] == first["measurements_digest"]


@pytest.mark.postgres
def test_postgres_init_creates_a_missing_schema(postgres_url: str) -> None:
    schema = "t_" + uuid.uuid4().hex[:12]
    try:
        summary = init_db(f"{postgres_url}?schema={schema}", "cigre_mv", days=1)
        assert summary["counts"]["buses"] == 15
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            found = conn.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
            ).fetchone()
        assert found is not None
        assert found[0] >= 14
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
