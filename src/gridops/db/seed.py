"""Seeded operational history: outages, work orders, switching pairs and records.

Everything is drawn from ``numpy.random.default_rng([seed, stream])`` and dated before
the fixed measurement epoch, so it is reproducible. All of it is synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from gridops.grid.measurements import EPOCH_END, iso

__all__ = ["OperationalSeed", "operational_seed"]

_CAUSES = (
    "cable fault",
    "storm damage",
    "overload trip",
    "animal contact",
    "equipment failure",
    "third-party excavation",
    "lightning",
)
_WORK = (
    ("Inspect joint", "Thermal image of cable joints after a loading alarm.", "medium"),
    ("Replace fuse set", "Fuses at the station tripped twice this month.", "high"),
    ("Vegetation clearance", "Trees close to the overhead section.", "low"),
    ("Transformer oil sample", "Scheduled dissolved-gas analysis.", "low"),
    ("Repair after fault", "Permanent repair of the temporary fault splice.", "critical"),
)
_RECORDS = (
    ("Substation Nord service point", "Industriestrasse 4, 77694 Kehl"),
    ("Feeder 7 customer desk", "Hauptstrasse 21, 77855 Achern"),
    ("Field crew depot", "Am Bahnhof 2, 77704 Oberkirch"),
)


@dataclass(frozen=True)
class OperationalSeed:
    """Rows for the operational tables and the grid state version they imply."""

    outages: list[tuple[Any, ...]]
    work_orders: list[tuple[Any, ...]]
    switching: list[tuple[Any, ...]]
    records: list[tuple[Any, ...]]
    state_version: int


def operational_seed(
    seed: int,
    branches: Sequence[tuple[str, str]],
    switches: Sequence[tuple[int, bool]],
    load_per_region: dict[str, float],
) -> OperationalSeed:
    """Draw the history; ``branches`` are (asset_id, region), ``switches`` (id, closed)."""
    rng = np.random.default_rng([seed, 300])
    outages = []
    for i in range(24):
        asset_id, region = branches[int(rng.integers(len(branches)))]
        start = EPOCH_END - timedelta(minutes=int(rng.integers(60, 90 * 24 * 60)))
        open_now = i >= 21  # the three most recent draws are still open
        end = None if open_now else iso(start + timedelta(minutes=int(rng.integers(20, 600))))
        share = float(rng.uniform(0.005, 0.08))
        outages.append(
            (
                i + 1,
                asset_id,
                region,
                iso(start),
                end,
                "open" if open_now else "resolved",
                _CAUSES[int(rng.integers(len(_CAUSES)))],
                int(rng.integers(5, 900)),
                round(load_per_region.get(region, 0.0) * share, 4),
            )
        )
    work_orders = []
    for i in range(10):
        asset_id, _ = branches[int(rng.integers(len(branches)))]
        title, description, priority = _WORK[i % len(_WORK)]
        status = ("open", "in_progress", "done")[int(rng.integers(3))]
        created = EPOCH_END - timedelta(hours=int(rng.integers(1, 60 * 24)))
        work_orders.append((asset_id, title, description, priority, status, "seed", iso(created)))
    # Maintenance pairs: open then re-close a closed switch; the net state is unchanged
    # and each action bumps the version, as operate_switch does.
    closed = [sid for sid, is_closed in switches if is_closed]
    switching = []
    version = 1
    for k in range(3 if closed else 0):
        sid = closed[int(rng.integers(len(closed)))]
        at = EPOCH_END - timedelta(days=20 - 5 * k)
        for action, before, after, offset in (("open", 1, 0, 0), ("close", 0, 1, 95)):
            switching.append(
                (
                    sid,
                    action,
                    before,
                    after,
                    version,
                    version + 1,
                    "seed",
                    "scheduled maintenance",
                    iso(at + timedelta(minutes=offset)),
                )
            )
            version += 1
    records = [
        (name, address, "seed", iso(EPOCH_END - timedelta(days=30 - i)))
        for i, (name, address) in enumerate(_RECORDS)
    ]
    return OperationalSeed(outages, work_orders, switching, records, version)
