"""GridService: the thread-safe facade over the grid model and its database.

One instance serves many concurrent calls (the MCP server runs sync tools in worker
threads). Reads use the database's read-only connection, writes a separate read-write one;
all SQL is parameterized and every argument is validated first (``gridops.grid.inputs``).
Every method returns JSON-ready dicts (times as ISO-8601 UTC strings) and raises only
``GridOpsError`` subclasses: foreign exceptions are translated here, their details kept in
the exception chain and out of ``public_message``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, ParamSpec, TypeVar

from gridops.db import assets as asset_queries
from gridops.db.connect import open_database
from gridops.db.interface import Database
from gridops.db.loader import init_db, read_meta
from gridops.db.reports import CATALOGUE, prepare
from gridops.errors import ConflictError, DatabaseError, GridOpsError, InvalidInputError, NotFoundError
from gridops.grid import inputs
from gridops.grid.measurements import iso
from gridops.grid.networks import AGE_REFERENCE_YEAR, NETWORKS
from gridops.grid.patterns import load_pattern
from gridops.grid.powerflow import FlowResult, SimulationResult, run_snapshot, simulate
from gridops.grid.risk import Weather, score

__all__ = ["NETWORKS", "Action", "AssetId", "GridService", "SimulationResult", "Weather", "init_db"]

AssetId = str
Action = Literal["open", "close"]
PRIORITIES = ("low", "medium", "high", "critical")
_P = ParamSpec("_P")
_T = TypeVar("_T")


def _translated(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Let GridOpsError through; turn anything else into a generic DatabaseError."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except GridOpsError:
            raise
        except Exception as exc:
            raise DatabaseError("internal error in the grid service") from exc

    return wrapper


class GridService:
    """The grid operations facade (see ``/docs/gridops-data.md`` for the data)."""

    def __init__(self, db: Database, meta: Mapping[str, str]) -> None:
        self._db = db
        self._network = meta["network"]
        self._epoch_end = datetime.fromisoformat(meta["epoch_end"].replace("Z", "+00:00"))
        self._snapshot_lock = threading.Lock()
        self._latest: dict[str, float] | None = None
        self._flow: tuple[int, FlowResult] | None = None

    @classmethod
    def open(cls, url: str) -> GridService:
        """Connect to an initialised grid database (``sqlite:///...`` or ``postgresql://...``)."""
        try:
            db = open_database(url)
        except GridOpsError:
            raise
        except Exception as exc:
            raise DatabaseError() from exc
        meta = read_meta(db)
        if meta is None:
            db.close()
            raise GridOpsError("the grid database is not initialised; run init first")
        return cls(db, meta)

    def close(self) -> None:
        """Close the database connections."""
        self._db.close()

    # -- read-only ---------------------------------------------------------------------

    @_translated
    def list_regions(self) -> list[str]:
        """Region names, sorted."""
        return [str(r[0]) for r in self._db.read("SELECT name FROM regions ORDER BY name")]

    @_translated
    def state_version(self) -> int:
        """The grid state version (bumped by every switching operation)."""
        return int(self._db.read("SELECT version FROM grid_state WHERE id = 1")[0][0])

    def _region(self, region: object) -> str:
        name = inputs.text(region, "region", min_len=1, max_len=32)
        if name not in self.list_regions():
            raise NotFoundError("unknown region; list_regions shows the regions")
        return name

    @_translated
    def get_topology(self, region: str | None = None) -> dict[str, Any]:
        """The network's assets and switch states, whole or one region."""
        name = None if region is None else self._region(region)
        rows = self._db.read("SELECT name, description, source FROM regions ORDER BY name")
        body = asset_queries.topology(self._db, name)
        return {
            "network": self._network,
            "state_version": self.state_version(),
            "region": name,
            "regions": [{"name": r[0], "description": r[1], "source": r[2]} for r in rows],
            "counts": {k: len(v) for k, v in body.items()},
            **body,
        }

    @_translated
    def get_asset(self, asset_id: str) -> dict[str, Any]:
        """One asset with its ratings, region and (lines, trafos) synthetic age."""
        ref = inputs.parse_asset_id(asset_id)
        found = asset_queries.asset_row(self._db, ref)
        if found is None:
            raise NotFoundError("unknown asset")
        if ref.kind in {"load", "sgen"}:
            rows = self._db.read(
                "SELECT ts, p_mw FROM measurements WHERE asset_id = ? ORDER BY ts DESC LIMIT 1", (str(ref),)
            )
            found["latest_measurement"] = {"ts": rows[0][0], "p_mw": rows[0][1]} if rows else None
        return found

    def _measured(self, asset_id: str) -> str:
        ref = inputs.parse_asset_id(asset_id, kinds=("load", "sgen"))
        if asset_queries.asset_row(self._db, ref) is None:
            raise NotFoundError("unknown asset")
        return str(ref)

    @_translated
    def query_measurements(
        self, asset_id: str, start: datetime, end: datetime, limit: int = 500
    ) -> dict[str, Any]:
        """Active power samples of one load or generator in ``[start, end)`` (<= 7 days)."""
        s, e = inputs.window(start, end)
        count = inputs.bounded_int(limit, "limit", 1, 2000)
        key = self._measured(asset_id)
        rows = self._db.read(
            "SELECT ts, p_mw FROM measurements WHERE asset_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?",
            (key, iso(s), iso(e), count + 1),
        )
        return {
            "asset_id": key,
            "unit": "MW",
            "resolution_minutes": 15,
            "start": iso(s),
            "end": iso(e),
            "points": [{"ts": r[0], "p_mw": r[1]} for r in rows[:count]],
            "count": min(len(rows), count),
            "truncated": len(rows) > count,
        }

    @_translated
    def analyze_load_pattern(self, asset_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        """Statistics of one load/generator in a window: peak, mean, energy, daily profile."""
        s, e = inputs.window(start, end)
        key = self._measured(asset_id)
        rows = self._db.read(
            "SELECT ts, p_mw FROM measurements WHERE asset_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
            (key, iso(s), iso(e)),
        )
        stats = load_pattern([(str(r[0]), float(r[1])) for r in rows])
        return {"asset_id": key, "start": iso(s), "end": iso(e), **stats}

    @_translated
    def list_outages(self, status: str | None = None, limit: int = 50) -> dict[str, Any]:
        """Outages, newest first, optionally only ``open`` or ``resolved`` ones."""
        count = inputs.bounded_int(limit, "limit", 1, 200)
        sql = (
            "SELECT id, asset_id, region, started_at, ended_at, status, cause, customers_affected, "
            "load_lost_mw FROM outages"
        )
        params: tuple[Any, ...] = ()
        if status is not None:
            if status not in {"open", "resolved"}:
                raise InvalidInputError("status must be 'open' or 'resolved'")
            sql += " WHERE status = ?"
            params = (status,)
        rows = self._db.read(sql + " ORDER BY started_at DESC, id DESC LIMIT ?", (*params, count))
        keys = (
            "id",
            "asset_id",
            "region",
            "started_at",
            "ended_at",
            "status",
            "cause",
            "customers_affected",
            "load_lost_mw",
        )
        return {"outages": [dict(zip(keys, r, strict=True)) for r in rows], "count": len(rows)}

    @_translated
    def query_records(
        self, name_contains: str | None = None, limit: int = 20, offset: int = 0
    ) -> dict[str, Any]:
        """Records (id, name, address, created_by, created_at) by name substring."""
        count = inputs.bounded_int(limit, "limit", 1, 100)
        skip = inputs.bounded_int(offset, "offset", 0, 100_000)
        sql = "SELECT id, name, address, created_by, created_at FROM records"
        params: tuple[Any, ...] = ()
        if name_contains is not None:
            needle = inputs.text(name_contains, "name_contains", min_len=0, max_len=100)
            # LIKE wildcards in the needle are data: escape them (the escape char is '!').
            escaped = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            sql += " WHERE name LIKE ? ESCAPE '!'"
            params = ("%" + escaped + "%",)
        rows = self._db.read(sql + " ORDER BY id LIMIT ? OFFSET ?", (*params, count, skip))
        keys = ("id", "name", "address", "created_by", "created_at")
        return {
            "records": [dict(zip(keys, r, strict=True)) for r in rows],
            "count": len(rows),
            "limit": count,
            "offset": skip,
        }

    def list_reports(self) -> list[dict[str, Any]]:
        """The report catalogue: name, description, params JSON Schema, columns."""
        return [r.describe() for r in CATALOGUE.values()]

    @_translated
    def run_report(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one catalogue report with validated parameters."""
        report, sql, args = prepare(name, params, self._epoch_end)
        rows = self._db.read(sql, args)
        # Sums of floats differ in the last bits between back ends; six decimals is 1 W.
        shaped = [[round(v, 6) if isinstance(v, float) else v for v in r] for r in rows]
        return {"report": report.name, "columns": list(report.columns), "rows": shaped, "count": len(rows)}

    # -- grid model ----------------------------------------------------------------------

    def _switch_states(self) -> tuple[int, dict[int, bool]]:
        # One read-only query for version and states would need a transaction on SQLite;
        # reading the version before and after detects a concurrent change instead.
        for _ in range(3):
            version = self.state_version()
            states = {int(r[0]): bool(r[1]) for r in self._db.read("SELECT id, closed FROM switches")}
            if self.state_version() == version:
                return version, states
        raise ConflictError("the grid state is changing too fast; retry")

    def _latest_power(self) -> dict[str, float]:
        with self._snapshot_lock:
            if self._latest is None:
                rows = self._db.read(
                    "SELECT asset_id, p_mw FROM measurements WHERE ts = (SELECT MAX(ts) FROM measurements)"
                )
                self._latest = {str(r[0]): float(r[1]) for r in rows}
            return self._latest

    def _flow_at(self, version: int, states: dict[int, bool]) -> FlowResult:
        # One power flow per state version: the measurements never change after init, so
        # the version (bumped by every switching) identifies the snapshot.
        with self._snapshot_lock:
            if self._flow is not None and self._flow[0] == version:
                return self._flow[1]
        flow = run_snapshot(self._network, states, self._latest_power())
        with self._snapshot_lock:
            self._flow = (version, flow)
        return flow

    def _current_flow(self) -> FlowResult:
        return self._flow_at(*self._switch_states())

    @_translated
    def simulate_switching(self, switch_id: int, action: Action) -> SimulationResult:
        """Power flow before and after operating a switch; nothing is changed.

        A no-op (closing a closed switch, opening an open one) raises ConflictError, like
        operate_switch, so a plan never silently simulates nothing.
        """
        sid = inputs.bounded_int(switch_id, "switch_id", 0, 999_999_999)
        if action not in ("open", "close"):
            raise InvalidInputError("action must be 'open' or 'close'")
        version, states = self._switch_states()
        if sid not in states:
            raise NotFoundError("unknown switch")
        if states[sid] == (action == "close"):
            raise ConflictError(f"switch {sid} is already {'closed' if states[sid] else 'open'}")
        before = self._flow_at(version, states)
        return simulate(
            self._network,
            states,
            self._latest_power(),
            switch_id=sid,
            action=action,
            state_version=version,
            before=before,
        )

    @_translated
    def predict_outage_risk(self, asset_id: str, weather: Weather) -> dict[str, Any]:
        """Risk score 0..1 for a line or transformer, with the contributing factors."""
        ref = inputs.parse_asset_id(asset_id, kinds=("line", "trafo"))
        if not isinstance(weather, Weather):
            raise InvalidInputError("weather must be a Weather value")
        weather.validated()
        asset = asset_queries.asset_row(self._db, ref)
        if asset is None:
            raise NotFoundError("unknown asset")
        flow = self._current_flow()
        loading = (flow.line_loading if ref.kind == "line" else flow.trafo_loading).get(ref.number)
        result = score(
            kind=ref.kind,
            loading_pct=loading,
            age_years=AGE_REFERENCE_YEAR - int(asset["install_year"]),
            rating=float(asset["max_i_ka"] if ref.kind == "line" else asset["sn_mva"]),
            overhead=asset.get("line_type") == "ol",
            weather=weather,
        )
        return {
            "asset_id": str(ref),
            "state_version": self.state_version(),
            "weather": {
                "temperature_c": weather.temperature_c,
                "wind_speed_ms": weather.wind_speed_ms,
                "ice": weather.ice,
                "storm": weather.storm,
            },
            **result,
        }

    # -- writes ------------------------------------------------------------------------------

    @contextmanager
    def _write(self, *, exclusive: bool = False) -> Iterator[Any]:
        with self._db.transaction(exclusive=exclusive) as tx:
            yield tx

    @_translated
    def insert_record(self, name: str, address: str, created_by: str) -> dict[str, Any]:
        """Store a record literally (hostile text is data); returns it with its id."""
        n = inputs.text(name, "name", min_len=1, max_len=100)
        a = inputs.text(address, "address", min_len=1, max_len=200)
        who = inputs.text(created_by, "created_by", min_len=1, max_len=200)
        now = iso(datetime.now(UTC))
        with self._write() as tx:
            rows = tx.execute(
                "INSERT INTO records (name, address, created_by, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (n, a, who, now),
            )
        return {"id": int(rows[0][0]), "name": n, "address": a, "created_by": who, "created_at": now}

    @_translated
    def create_work_order(
        self, asset_id: str, title: str, description: str, priority: str, created_by: str
    ) -> dict[str, Any]:
        """Open a work order on an existing asset."""
        ref = inputs.parse_asset_id(asset_id)
        t = inputs.text(title, "title", min_len=1, max_len=120)
        d = inputs.multiline(description, "description", min_len=1, max_len=2000)
        if priority not in PRIORITIES:
            raise InvalidInputError("priority must be one of " + ", ".join(PRIORITIES))
        who = inputs.text(created_by, "created_by", min_len=1, max_len=200)
        if asset_queries.asset_row(self._db, ref) is None:
            raise NotFoundError("unknown asset")
        now = iso(datetime.now(UTC))
        with self._write() as tx:
            rows = tx.execute(
                "INSERT INTO work_orders "
                "(asset_id, title, description, priority, status, created_by, created_at) "
                "VALUES (?, ?, ?, ?, 'open', ?, ?) RETURNING id",
                (str(ref), t, d, priority, who, now),
            )
        return {
            "id": int(rows[0][0]),
            "asset_id": str(ref),
            "title": t,
            "description": d,
            "priority": priority,
            "status": "open",
            "created_by": who,
            "created_at": now,
        }

    @_translated
    def operate_switch(
        self, switch_id: int, action: Action, expected_version: int, actor: str, reason: str
    ) -> dict[str, Any]:
        """Atomically check the version, set the switch, bump the version, log the history."""
        sid = inputs.bounded_int(switch_id, "switch_id", 0, 999_999_999)
        if action not in ("open", "close"):
            raise InvalidInputError("action must be 'open' or 'close'")
        expected = inputs.bounded_int(expected_version, "expected_version", 0, 2**62)
        who = inputs.text(actor, "actor", min_len=1, max_len=200)
        why = inputs.text(reason, "reason", min_len=1, max_len=500)
        lock = " FOR UPDATE" if self._db.dialect == "postgresql" else ""
        now = iso(datetime.now(UTC))
        with self._write(exclusive=True) as tx:
            sql = "SELECT version FROM grid_state WHERE id = 1" + lock  # noqa: S608 - fixed suffix
            version = int(tx.execute(sql)[0][0])
            if version != expected:
                raise ConflictError(f"grid state version is {version}, not {expected}; re-read and retry")
            rows = tx.execute("SELECT closed FROM switches WHERE id = ?" + lock, (sid,))  # noqa: S608 - fixed suffix
            if not rows:
                raise NotFoundError("unknown switch")
            closed_before, closed_after = bool(rows[0][0]), action == "close"
            if closed_before == closed_after:
                raise ConflictError(f"switch {sid} is already {'closed' if closed_before else 'open'}")
            tx.execute("UPDATE switches SET closed = ? WHERE id = ?", (int(closed_after), sid))
            tx.execute("UPDATE grid_state SET version = ?, updated_at = ? WHERE id = 1", (version + 1, now))
            hist = tx.execute(
                "INSERT INTO switching_history (switch_id, action, closed_before, closed_after, "
                "version_before, version_after, actor, reason, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (sid, action, int(closed_before), int(closed_after), version, version + 1, who, why, now),
            )
        return {
            "switch_id": sid,
            "action": action,
            "closed": closed_after,
            "state_version": version + 1,
            "previous_version": version,
            "history_id": int(hist[0][0]),
            "actor": who,
            "at": now,
        }
