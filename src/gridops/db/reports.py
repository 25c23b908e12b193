"""The report catalogue: the safe replacement for free-form SQL.

A caller picks a report by name and passes parameters. The name selects a fixed,
parameterized query from ``CATALOGUE``; the parameters are validated against the report's
JSON Schema (Draft 2020-12, no additional properties, bounded integers and enums) and
then bound as parameters. No caller text ever becomes SQL.
"""

# ruff: noqa: S608  # every query is fixed text plus fixed fragments chosen by enum; values are bound

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from gridops.errors import InvalidInputError, NotFoundError
from gridops.grid.measurements import iso

__all__ = ["CATALOGUE", "Report", "prepare"]

_REGION = {"type": "string", "pattern": "^[a-z0-9-]{1,32}$", "description": "a region name (list_regions)"}


@dataclass(frozen=True)
class Report:
    """One catalogue entry: a description, a params schema and a query builder."""

    name: str
    description: str
    params_schema: dict[str, Any]
    columns: tuple[str, ...]
    # (validated params with defaults, end of the data) -> (SQL, bound values)
    build: Callable[[dict[str, Any], datetime], tuple[str, tuple[Any, ...]]]

    def describe(self) -> dict[str, Any]:
        """Name, description, params schema and result columns (for list_reports)."""
        return {
            "name": self.name,
            "description": self.description,
            "params_schema": self.params_schema,
            "columns": list(self.columns),
        }


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _region_clause(params: Mapping[str, Any], column: str) -> tuple[str, tuple[Any, ...]]:
    region = params.get("region")
    return ("", ()) if region is None else (f" AND {column} = ?", (region,))


def _top_loaded(p: dict[str, Any], _end: datetime) -> tuple[str, tuple[Any, ...]]:
    where, args = _region_clause(p, "region")
    sql = (
        "SELECT asset_id, name, region, base_loading_pct, max_i_ka, length_km FROM lines "
        "WHERE base_loading_pct IS NOT NULL" + where + " ORDER BY base_loading_pct DESC, id LIMIT ?"
    )
    return sql, (*args, p["limit"])


def _outages_by_region(p: dict[str, Any], _end: datetime) -> tuple[str, tuple[Any, ...]]:
    status = p["status"]
    where, args = ("", ()) if status == "all" else (" WHERE status = ?", (status,))
    sql = (
        "SELECT region, COUNT(*), SUM(customers_affected), SUM(load_lost_mw) FROM outages"
        + where
        + " GROUP BY region ORDER BY region"
    )
    return sql, args


def _switching_history(p: dict[str, Any], _end: datetime) -> tuple[str, tuple[Any, ...]]:
    switch_id = p.get("switch_id")
    where, args = ("", ()) if switch_id is None else (" WHERE switch_id = ?", (switch_id,))
    sql = (
        "SELECT id, switch_id, action, version_before, version_after, actor, reason, at "
        "FROM switching_history" + where + " ORDER BY id DESC LIMIT ?"
    )
    return sql, (*args, p["limit"])


def _open_work_orders(p: dict[str, Any], _end: datetime) -> tuple[str, tuple[Any, ...]]:
    priority = p.get("priority")
    where, args = ("", ()) if priority is None else (" AND priority = ?", (priority,))
    sql = (
        "SELECT id, asset_id, title, priority, status, created_by, created_at FROM work_orders "
        "WHERE status <> 'done'" + where + " ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    return sql, (*args, p["limit"])


def _daily_energy(p: dict[str, Any], end: datetime) -> tuple[str, tuple[Any, ...]]:
    table = "loads" if p["kind"] == "load" else "sgens"
    start = iso(end - timedelta(days=p["days"]))
    # 15-minute samples: energy (MWh) = sum(p_mw) * 0.25.
    sql = (
        "SELECT a.region, substr(m.ts, 1, 10) AS day, SUM(m.p_mw) * 0.25 AS energy_mwh "
        f"FROM measurements m JOIN {table} a ON a.asset_id = m.asset_id "
        "WHERE m.ts >= ? GROUP BY a.region, substr(m.ts, 1, 10) ORDER BY day, a.region"
    )
    return sql, (start,)


def _asset_age(p: dict[str, Any], _end: datetime) -> tuple[str, tuple[Any, ...]]:
    table = "lines" if p["kind"] == "line" else "trafos"
    sql = (
        f"SELECT region, (install_year / 10) * 10 AS decade, COUNT(*) FROM {table} "
        "GROUP BY region, (install_year / 10) * 10 ORDER BY region, decade"
    )
    return sql, ()


_LIMIT = {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}

CATALOGUE: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "top_loaded_lines",
            "Lines by loading at the latest measurements (normal switch states).",
            _schema({"limit": {**_LIMIT, "maximum": 50, "default": 10}, "region": _REGION}),
            ("asset_id", "name", "region", "loading_pct", "max_i_ka", "length_km"),
            _top_loaded,
        ),
        Report(
            "outages_by_region",
            "Outage counts, customers and load lost per region.",
            _schema({"status": {"enum": ["all", "open", "resolved"], "default": "all"}}),
            ("region", "outages", "customers_affected", "load_lost_mw"),
            _outages_by_region,
        ),
        Report(
            "switching_history",
            "The most recent switching operations, newest first.",
            _schema({"limit": _LIMIT, "switch_id": {"type": "integer", "minimum": 0, "maximum": 999_999}}),
            ("id", "switch_id", "action", "version_before", "version_after", "actor", "reason", "at"),
            _switching_history,
        ),
        Report(
            "open_work_orders",
            "Work orders not yet done, newest first.",
            _schema({"limit": _LIMIT, "priority": {"enum": ["low", "medium", "high", "critical"]}}),
            ("id", "asset_id", "title", "priority", "status", "created_by", "created_at"),
            _open_work_orders,
        ),
        Report(
            "daily_energy_by_region",
            "Daily energy (MWh) of loads or PV per region, last N days of data.",
            _schema(
                {
                    "days": {"type": "integer", "minimum": 1, "maximum": 14, "default": 7},
                    "kind": {"enum": ["load", "sgen"], "default": "load"},
                }
            ),
            ("region", "day", "energy_mwh"),
            _daily_energy,
        ),
        Report(
            "asset_age_profile",
            "Lines or transformers per region and install decade (synthetic ages).",
            _schema({"kind": {"enum": ["line", "trafo"], "default": "line"}}),
            ("region", "decade", "count"),
            _asset_age,
        ),
    )
}


def prepare(name: object, params: object, end: datetime) -> tuple[Report, str, tuple[Any, ...]]:
    """Validate ``name`` and ``params``; return the report, its SQL and the bound values."""
    if not isinstance(name, str) or name not in CATALOGUE:
        raise NotFoundError("unknown report; list_reports shows the catalogue")
    report = CATALOGUE[name]
    if not isinstance(params, Mapping):
        raise InvalidInputError("params must be an object")
    validator = Draft202012Validator(report.params_schema)
    errors = sorted(validator.iter_errors(dict(params)), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "params"
        raise InvalidInputError(f"invalid report parameter at {where}: {errors[0].validator} rule failed")
    # jsonschema applies "pattern" with re.search, where "$" also matches before a final
    # newline; require the whole value to match.
    for key, prop in report.params_schema["properties"].items():
        value = params.get(key)
        if "pattern" in prop and isinstance(value, str) and not re.fullmatch(prop["pattern"], value):
            raise InvalidInputError(f"invalid report parameter at {key}: pattern rule failed")
    values = {k: v.get("default") for k, v in report.params_schema["properties"].items()}
    values.update(params)
    # jsonschema treats True as an integer; a bool is never a valid count or id here.
    if any(isinstance(v, bool) for v in values.values()):
        raise InvalidInputError("report parameters must not be booleans")
    sql, args = report.build(values, end)
    return report, sql, args
