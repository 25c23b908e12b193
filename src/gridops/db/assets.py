"""Read-side queries for assets and topology, returning JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from gridops.db.interface import Database, Row
from gridops.grid.inputs import AssetRef
from gridops.grid.networks import AGE_REFERENCE_YEAR

__all__ = ["ASSET_COLUMNS", "asset_row", "topology"]

# kind -> (table, columns); the table name never comes from the caller, only from this map.
ASSET_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bus": ("buses", ("id", "asset_id", "name", "vn_kv", "region", "lon", "lat")),
    "line": (
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
    ),
    "trafo": (
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
    ),
    "switch": (
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
    ),
    "load": ("loads", ("id", "asset_id", "name", "bus", "p_mw", "q_mvar", "region")),
    "sgen": ("sgens", ("id", "asset_id", "name", "bus", "p_mw", "sgen_type", "region")),
}
_BUS_REFS = {"from_bus", "to_bus", "hv_bus", "lv_bus", "bus"}


def _shape(kind: str, columns: tuple[str, ...], row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind}
    for col, value in zip(columns, row, strict=True):
        if col in {"closed", "normal_closed"}:
            out[col] = bool(value)
        elif col in _BUS_REFS:
            out[col] = f"bus:{value}"
        elif col == "id":
            out["number"] = int(value)
        else:
            out[col] = value
    if kind == "switch":
        out["element"] = f"{out.pop('element_type')}:{row[columns.index('element')]}"
    if "install_year" in out:
        out["age_years"] = AGE_REFERENCE_YEAR - int(out["install_year"])
        out["install_year_synthetic"] = True
    return out


def asset_row(db: Database, ref: AssetRef) -> dict[str, Any] | None:
    """One asset as a dict, or ``None`` when it does not exist."""
    table, columns = ASSET_COLUMNS[ref.kind]
    rows = db.read(f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?", (ref.number,))  # noqa: S608 - fixed map
    return _shape(ref.kind, columns, rows[0]) if rows else None


def topology(db: Database, region: str | None) -> dict[str, list[dict[str, Any]]]:
    """Buses, lines, transformers, switches, loads and generators, optionally of one region.

    Lines and switches are listed in a region when their own region matches (the region
    of their first bus), so a tie line between two areas appears once.
    """
    result: dict[str, list[dict[str, Any]]] = {}
    compact = {
        "bus": ("buses", ("id", "asset_id", "name", "vn_kv", "region")),
        "line": ("lines", ("id", "asset_id", "from_bus", "to_bus", "length_km", "max_i_ka", "region")),
        "trafo": ("trafos", ("id", "asset_id", "hv_bus", "lv_bus", "sn_mva", "region")),
        "switch": ("switches", ("id", "asset_id", "bus", "element_type", "element", "closed", "region")),
        "load": ("loads", ("id", "asset_id", "bus", "p_mw", "region")),
        "sgen": ("sgens", ("id", "asset_id", "bus", "p_mw", "region")),
    }
    for kind, (table, columns) in compact.items():
        sql = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - fixed map
        params: tuple[Any, ...] = ()
        if region is not None:
            sql += " WHERE region = ?"
            params = (region,)
        rows = db.read(sql + " ORDER BY id", params)
        items = [_shape(kind, columns, r) for r in rows]
        for item in items:
            item.pop("number", None)
            item.pop("kind", None)
        result[table] = items
    return result
