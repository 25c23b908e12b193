"""Create the schema and load a network, its measurements and the seeded history."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from gridops.db.connect import open_database
from gridops.db.interface import Database, Tx
from gridops.db.schema import SCHEMA_VERSION, TABLES, ddl
from gridops.db.seed import operational_seed
from gridops.errors import DatabaseError, GridOpsError, InvalidInputError
from gridops.grid.measurements import EPOCH_END, generate, iso
from gridops.grid.networks import NETWORKS, base_network, describe_network
from gridops.grid.powerflow import run_snapshot

__all__ = ["MAX_DAYS", "init_db", "read_meta"]

MAX_DAYS = 31


def read_meta(db: Database) -> dict[str, str] | None:
    """The ``meta`` table as a dict, or ``None`` when the database is not initialised."""
    try:
        rows = db.read("SELECT key, value FROM meta")
    except GridOpsError:
        return None
    meta = {str(k): str(v) for k, v in rows}
    return meta if meta.get("initialised") == "1" else None


def _existing_tables(db: Database, tx: Tx) -> set[str]:
    if db.dialect == "sqlite":
        rows = tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = tx.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return {str(r[0]) for r in rows}


def _summary(db: Database, meta: dict[str, str], *, created: bool, seconds: float) -> dict[str, Any]:
    counts = {}
    for table in (
        "buses",
        "lines",
        "trafos",
        "switches",
        "loads",
        "sgens",
        "measurements",
        "outages",
        "work_orders",
        "switching_history",
        "records",
        "regions",
    ):
        counts[table] = int(db.read(f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 - fixed names
    return {
        "created": created,
        "network": meta["network"],
        "seed": int(meta["seed"]),
        "days": int(meta["days"]),
        "epoch_end": meta["epoch_end"],
        "measurements_digest": meta["measurements_digest"],
        "counts": counts,
        "seconds": round(seconds, 3),
    }


def init_db(
    url: str, network: str = "mv_oberrhein", *, seed: int = 20261122, days: int = 14, force: bool = False
) -> dict[str, Any]:
    """Create and fill the grid database at ``url``; a no-op summary if already initialised.

    ``force`` drops every gridops table first. Returns counts, the measurement digest and
    the time taken (``seconds``).
    """
    if network not in NETWORKS:
        raise InvalidInputError(f"unknown network; choose one of {', '.join(NETWORKS)}")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be between 1 and {MAX_DAYS}")
    if not 0 <= seed < 2**63:
        raise InvalidInputError("seed must be a non-negative 63-bit integer")
    started = time.perf_counter()
    try:
        return _init(url, network, seed, days, force=force, started=started)
    except GridOpsError:
        raise
    except Exception as exc:
        raise DatabaseError("could not initialise the grid database") from exc


def _init(url: str, network: str, seed: int, days: int, *, force: bool, started: float) -> dict[str, Any]:
    db = open_database(url, create=True)
    try:
        meta = read_meta(db)
        if meta is not None and not force:
            return _summary(db, meta, created=False, seconds=time.perf_counter() - started)
        _load(db, network, seed, days)
        compact = getattr(db, "compact", None)
        if compact is not None:
            compact()
        meta = read_meta(db)
        assert meta is not None
        return _summary(db, meta, created=True, seconds=time.perf_counter() - started)
    finally:
        db.close()


def _load(db: Database, network: str, seed: int, days: int) -> None:
    net = base_network(network)
    assets = describe_network(net, seed)
    # Loads follow pandapower's design case (p_mw x scaling); PV follows the installed
    # power (mv_oberrhein's sgen scaling is 0: its design case is "no sun").
    scaling = {f"load:{int(i)}": float(v) for i, v in net.load.scaling.items()}
    series = generate(
        [(r[1], r[4] * scaling.get(r[1], 1.0)) for r in assets.loads],
        [(r[1], r[4]) for r in assets.sgens],
        seed=seed,
        days=days,
    )
    latest = series.latest()
    flow = run_snapshot(network, {int(r[0]): bool(r[7]) for r in assets.switches}, latest)
    lines = [
        (*r, round(flow.line_loading[r[0]], 3) if r[0] in flow.line_loading else None) for r in assets.lines
    ]
    trafos = [
        (*r, round(flow.trafo_loading[r[0]], 3) if r[0] in flow.trafo_loading else None)
        for r in assets.trafos
    ]
    load_per_region: dict[str, float] = {}
    for r in assets.loads:
        load_per_region[r[6]] = load_per_region.get(r[6], 0.0) + float(r[4])
    ops = operational_seed(
        seed,
        [(r[1], r[10]) for r in assets.lines] + [(r[1], r[10]) for r in assets.trafos],
        [(int(r[0]), bool(r[7])) for r in assets.switches],
        load_per_region,
    )
    now = iso(datetime.now(UTC))
    with db.transaction(exclusive=True) as tx:
        for table in reversed(TABLES):
            if table in _existing_tables(db, tx):
                tx.execute(f"DROP TABLE {table}")
        for stmt in ddl(db.dialect):
            tx.execute(stmt)
        tx.bulk_insert(
            "regions",
            ("name", "description", "source"),
            [(r.name, r.description, r.source) for r in assets.regions],
        )
        tx.bulk_insert("buses", ("id", "asset_id", "name", "vn_kv", "region", "lon", "lat"), assets.buses)
        tx.bulk_insert(
            "lines",
            (
                "id",
                "asset_id",
                "name",
                "from_bus",
                "to_bus",
                "length_km",
                "max_i_ka",
                "std_type",
                "line_type",
                "install_year",
                "region",
                "base_loading_pct",
            ),
            lines,
        )
        tx.bulk_insert(
            "trafos",
            (
                "id",
                "asset_id",
                "name",
                "hv_bus",
                "lv_bus",
                "sn_mva",
                "vn_hv_kv",
                "vn_lv_kv",
                "std_type",
                "install_year",
                "region",
                "base_loading_pct",
            ),
            trafos,
        )
        tx.bulk_insert(
            "switches",
            (
                "id",
                "asset_id",
                "name",
                "bus",
                "element_type",
                "element",
                "switch_type",
                "closed",
                "normal_closed",
                "region",
            ),
            assets.switches,
        )
        tx.bulk_insert("loads", ("id", "asset_id", "name", "bus", "p_mw", "q_mvar", "region"), assets.loads)
        tx.bulk_insert(
            "sgens", ("id", "asset_id", "name", "bus", "p_mw", "sgen_type", "region"), assets.sgens
        )
        tx.bulk_insert("measurements", ("asset_id", "ts", "p_mw"), series.rows())
        tx.bulk_insert(
            "outages",
            (
                "id",
                "asset_id",
                "region",
                "started_at",
                "ended_at",
                "status",
                "cause",
                "customers_affected",
                "load_lost_mw",
            ),
            ops.outages,
        )
        tx.bulk_insert(
            "work_orders",
            ("asset_id", "title", "description", "priority", "status", "created_by", "created_at"),
            ops.work_orders,
        )
        tx.bulk_insert(
            "switching_history",
            (
                "switch_id",
                "action",
                "closed_before",
                "closed_after",
                "version_before",
                "version_after",
                "actor",
                "reason",
                "at",
            ),
            ops.switching,
        )
        tx.bulk_insert("records", ("name", "address", "created_by", "created_at"), ops.records)
        tx.execute(
            "INSERT INTO grid_state (id, version, network, updated_at) VALUES (1, ?, ?, ?)",
            (ops.state_version, network, now),
        )
        meta = {
            "schema_version": str(SCHEMA_VERSION),
            "network": network,
            "seed": str(seed),
            "days": str(days),
            "epoch_end": iso(EPOCH_END),
            "measurements_digest": series.digest(),
            "initialised_at": now,
            "initialised": "1",
        }
        tx.bulk_insert("meta", ("key", "value"), sorted(meta.items()))
