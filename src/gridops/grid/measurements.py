"""Deterministic synthetic measurements: 15-minute active power per load and generator.

Nothing here reads the wall clock: the series ends at ``EPOCH_END`` and depends only on
the nominal values, the seed and the number of days, so the same inputs give the same
digest on every machine. The profiles are documented in ``docs/gridops-data.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = [
    "EPOCH_END",
    "STEP",
    "Series",
    "generate",
    "iso",
    "timestamps",
]

EPOCH_END = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
POINTS_PER_DAY = 96


def iso(ts: datetime) -> str:
    """Format a UTC time the way the database stores it (sorts lexicographically)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamps(days: int) -> list[datetime]:
    """The ``days * 96`` sample times, the last one 15 minutes before ``EPOCH_END``."""
    n = days * POINTS_PER_DAY
    start = EPOCH_END - n * STEP
    return [start + i * STEP for i in range(n)]


def _load_shape(hours: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Relative load (0..~1): a night base, a morning and a larger evening peak (local time)."""
    local = (hours + 1.0) % 24.0  # Central European Time, UTC+1 in November
    morning = np.exp(-0.5 * ((local - 8.0) / 1.5) ** 2)
    evening = np.exp(-0.5 * ((local - 18.5) / 2.0) ** 2)
    shape = 0.45 + 0.25 * morning + 0.45 * evening + 0.15 * ((local > 7) & (local < 20))
    weekend = np.where(weekday >= 5, 0.88, 1.0)
    result: np.ndarray = shape / 1.3 * weekend
    return result


def _pv_shape(hours: np.ndarray) -> np.ndarray:
    """Clear-sky PV output relative to installed power for early November at ~48.4° N."""
    sunrise, sunset, peak = 6.5, 15.75, 0.55  # UTC hours; a low winter sun caps the peak
    x = (hours - sunrise) / (sunset - sunrise)
    result: np.ndarray = np.where((x > 0) & (x < 1), peak * np.sin(np.pi * np.clip(x, 0, 1)) ** 1.5, 0.0)
    return result


@dataclass(frozen=True)
class Series:
    """The generated matrix: one row per asset, one column per time step (MW)."""

    asset_ids: tuple[str, ...]
    times: tuple[datetime, ...]
    values: np.ndarray  # shape (len(asset_ids), len(times)), rounded to 1 W

    def rows(self) -> Iterator[tuple[str, str, float]]:
        """Yield ``(asset_id, iso_ts, p_mw)`` rows in asset, then time order."""
        stamps = [iso(t) for t in self.times]
        for asset_id, row in zip(self.asset_ids, self.values.tolist(), strict=True):
            for ts, value in zip(stamps, row, strict=True):
                yield asset_id, ts, value

    def digest(self) -> str:
        """SHA-256 over the ids, times and values: equal inputs give an equal digest."""
        h = hashlib.sha256()
        h.update("\n".join(self.asset_ids).encode())
        h.update("\n".join(iso(t) for t in self.times).encode())
        h.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        return h.hexdigest()

    def latest(self) -> dict[str, float]:
        """The last value per asset: the snapshot the power flow and risk score use."""
        if not self.times:
            return {}
        return dict(zip(self.asset_ids, (float(v) for v in self.values[:, -1]), strict=True))


def generate(
    loads: Sequence[tuple[str, float]], sgens: Sequence[tuple[str, float]], *, seed: int, days: int
) -> Series:
    """Build the series for ``(asset_id, nominal p_mw)`` loads and static generators.

    ``days`` must be at least 1 (the caller validates it).
    """
    times = timestamps(days)
    hours = np.array([t.hour + t.minute / 60.0 for t in times])
    weekday = np.array([t.weekday() for t in times])
    day_index = np.repeat(np.arange(days), POINTS_PER_DAY)
    rng = np.random.default_rng([seed, 100])
    # Loads: a common shape, a per-load level (0.8..1.1) and 3 % white noise.
    p_load = np.array([p for _, p in loads], dtype=float).reshape(-1, 1)
    level = rng.uniform(0.8, 1.1, size=(len(loads), 1))
    noise = rng.normal(1.0, 0.03, size=(len(loads), len(times)))
    load_values = np.clip(p_load * level * _load_shape(hours, weekday) * noise, 0.0, None)
    # PV: clear-sky curve times a daily cloud factor shared by the area, plus per-unit
    # variation (passing clouds), so days differ and units correlate as they do.
    rng_pv = np.random.default_rng([seed, 200])
    clouds = rng_pv.uniform(0.15, 1.0, size=days)[day_index]
    p_pv = np.array([p for _, p in sgens], dtype=float).reshape(-1, 1)
    passing = np.clip(rng_pv.normal(1.0, 0.12, size=(len(sgens), len(times))), 0.3, 1.2)
    pv_values = np.clip(p_pv * _pv_shape(hours) * clouds * passing, 0.0, None)
    values = np.round(np.vstack([load_values, pv_values]), 6)
    ids = tuple(a for a, _ in loads) + tuple(a for a, _ in sgens)
    return Series(ids, tuple(times), values)
