"""Load a bundled pandapower network and describe it as typed asset rows.

The base network of each name is built once per process (pandapower is slow to import
and to build networks) and handed out as deep copies, so callers may change switch
states freely. Building and copying happen under one lock: pandapower is not thread-safe.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridops.errors import InvalidInputError

__all__ = [
    "AGE_REFERENCE_YEAR",
    "NETWORKS",
    "NetworkAssets",
    "Region",
    "base_network",
    "describe_network",
    "pandapower_lock",
]

NETWORKS: tuple[str, ...] = ("mv_oberrhein", "cigre_mv", "case33bw")

# Ages are computed against the year of the fixed measurement epoch (2026-11-01), not the
# wall clock, so every result is reproducible.
AGE_REFERENCE_YEAR = 2026

# pandapower keeps global state in numpy/pandas operations and is documented as not
# thread-safe; every use of a pandapower network in this process takes this lock.
pandapower_lock = threading.RLock()
_cache: dict[str, Any] = {}


def _build(name: str) -> Any:
    import pandapower.networks as pn

    builders: dict[str, Callable[[], Any]] = {
        "mv_oberrhein": pn.mv_oberrhein,
        "cigre_mv": lambda: pn.create_cigre_network_mv(with_der="pv_wind"),
        "case33bw": pn.case33bw,
    }
    net = builders[name]()
    if len(net.switch) == 0:
        _tie_lines_as_switches(net)
    return net


def _tie_lines_as_switches(net: Any) -> None:
    """Turn out-of-service lines of a switchless network into lines behind an open switch.

    case33bw models its five tie lines as lines out of service; an open line switch is the
    same electrical state and makes them operable like any other switch.
    """
    import pandapower as pp

    for idx in sorted(net.line.index[~net.line.in_service.astype(bool)]):
        net.line.at[idx, "in_service"] = True
        pp.create_switch(
            net,
            bus=int(net.line.at[idx, "from_bus"]),
            element=int(idx),
            et="l",
            closed=False,
            type="LBS",
            name=f"Tie switch {idx}",
        )


def base_network(name: str) -> Any:
    """Return a deep copy of the cached base network ``name`` (one of ``NETWORKS``)."""
    if name not in NETWORKS:
        raise InvalidInputError(f"unknown network; choose one of {', '.join(NETWORKS)}")
    with pandapower_lock:
        if name not in _cache:
            _cache[name] = _build(name)
        return copy.deepcopy(_cache[name])


@dataclass(frozen=True)
class Region:
    """A supply area: the buses reached from one source with the normal switch states."""

    name: str
    description: str
    source: str  # typed asset id of the feeding transformer or bus


@dataclass(frozen=True)
class NetworkAssets:
    """Every asset of a network as plain rows, ready for the database."""

    regions: list[Region]
    buses: list[tuple[Any, ...]]  # id, asset_id, name, vn_kv, region, lon, lat
    lines: list[tuple[Any, ...]]  # id, asset_id, name, from, to, km, max_i_ka, std, type, year, region
    trafos: list[tuple[Any, ...]]  # id, asset_id, name, hv, lv, sn, vn_hv, vn_lv, std, year, region
    switches: list[tuple[Any, ...]]  # id, asset_id, name, bus, et, element, type, closed, closed, region
    loads: list[tuple[Any, ...]]  # id, asset_id, name, bus, p_mw, q_mvar, region
    sgens: list[tuple[Any, ...]]  # id, asset_id, name, bus, p_mw, type, region


def _regions(net: Any) -> tuple[list[Region], dict[int, str]]:
    """Derive regions: the supply area of each transformer (or external grid if none).

    Graph traversal over lines and closed switches (the normal state), transformers
    excluded, starting at each transformer's low-voltage bus in index order; a bus reached
    from several sources keeps the first. The high-voltage bus of a transformer joins its
    area; buses reached from no source form the region ``isolated``.
    """
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    bus_region: dict[int, str] = {}
    regions: list[Region] = []
    sources: list[tuple[str, int, str]] = []
    if len(net.trafo):
        for k, (idx, row) in enumerate(sorted(net.trafo.iterrows(), key=lambda r: int(r[0])), start=1):
            sources.append((f"substation-{k}", int(row.lv_bus), f"trafo:{int(idx)}"))
            sources.append((f"substation-{k}", int(row.hv_bus), f"trafo:{int(idx)}"))
    else:
        for k, bus in enumerate(sorted(int(b) for b in net.ext_grid.bus), start=1):
            sources.append((f"grid-{k}", bus, f"bus:{bus}"))
    for name, bus, source in sources:
        if not any(r.name == name for r in regions):
            regions.append(Region(name, f"supply area of {source} with normal switch states", source))
        for reached in sorted(top.connected_component(graph, bus)):
            bus_region.setdefault(int(reached), name)
    if any(int(b) not in bus_region for b in net.bus.index):
        regions.append(Region("isolated", "buses reached from no source in the normal state", ""))
    return regions, bus_region


def _coords(geo: Any) -> tuple[float | None, float | None]:
    import json

    if not isinstance(geo, str):
        return None, None
    coords = json.loads(geo).get("coordinates")
    if isinstance(coords, list) and len(coords) == 2 and all(isinstance(c, float) for c in coords):
        return float(coords[0]), float(coords[1])
    return None, None


def _years(seed: int, stream: int, n: int, low: int, high: int) -> list[int]:
    rng = np.random.default_rng([seed, stream])
    return [int(y) for y in rng.integers(low, high + 1, size=n)]


def describe_network(net: Any, seed: int) -> NetworkAssets:
    """Turn ``net`` into asset rows; install years are synthetic, drawn from ``seed``."""
    regions, bus_region = _regions(net)

    def region(bus: Any) -> str:
        return bus_region.get(int(bus), "isolated")

    buses = []
    for idx, row in net.bus.sort_index().iterrows():
        lon, lat = _coords(row.get("geo"))
        buses.append((int(idx), f"bus:{idx}", str(row["name"]), float(row.vn_kv), region(idx), lon, lat))
    line_df = net.line.sort_index()
    line_years = _years(seed, 1, len(line_df), 1965, 2024)
    lines = [
        (
            int(idx),
            f"line:{idx}",
            str(row["name"]),
            int(row.from_bus),
            int(row.to_bus),
            float(row.length_km),
            float(row.max_i_ka),
            str(row.std_type or ""),
            str(row.get("type") or ""),
            year,
            region(row.from_bus),
        )
        for (idx, row), year in zip(line_df.iterrows(), line_years, strict=True)
    ]
    trafo_df = net.trafo.sort_index()
    trafo_years = _years(seed, 2, len(trafo_df), 1970, 2020)
    trafos = [
        (
            int(idx),
            f"trafo:{idx}",
            str(row["name"]),
            int(row.hv_bus),
            int(row.lv_bus),
            float(row.sn_mva),
            float(row.vn_hv_kv),
            float(row.vn_lv_kv),
            str(row.std_type or ""),
            year,
            region(row.lv_bus),
        )
        for (idx, row), year in zip(trafo_df.iterrows(), trafo_years, strict=True)
    ]
    element_kind = {"l": "line", "t": "trafo", "b": "bus"}
    switches = [
        (
            int(idx),
            f"switch:{idx}",
            str(row["name"]),
            int(row.bus),
            element_kind.get(str(row.et), str(row.et)),
            int(row.element),
            str(row.type or ""),
            int(bool(row.closed)),
            int(bool(row.closed)),
            region(row.bus),
        )
        for idx, row in net.switch.sort_index().iterrows()
    ]
    loads = [
        (
            int(idx),
            f"load:{idx}",
            str(row["name"]),
            int(row.bus),
            float(row.p_mw),
            float(row.q_mvar),
            region(row.bus),
        )
        for idx, row in net.load.sort_index().iterrows()
    ]
    sgens = [
        (
            int(idx),
            f"sgen:{idx}",
            str(row["name"]),
            int(row.bus),
            float(row.p_mw),
            str(row.get("type") or ""),
            region(row.bus),
        )
        for idx, row in net.sgen.sort_index().iterrows()
    ]
    return NetworkAssets(regions, buses, lines, trafos, switches, loads, sgens)
