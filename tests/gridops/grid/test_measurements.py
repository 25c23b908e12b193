"""The synthetic measurement series: determinism, shape and plausibility."""

from __future__ import annotations

import numpy as np

from gridops.grid.measurements import EPOCH_END, generate, iso, timestamps

LOADS = [("load:0", 0.25), ("load:1", 0.63)]
SGENS = [("sgen:0", 0.1), ("sgen:1", 0.2)]


def test_timestamps_end_before_epoch() -> None:
    stamps = timestamps(2)
    assert len(stamps) == 192
    assert iso(stamps[-1]) == "2026-10-31T23:45:00Z"
    assert stamps[0] == EPOCH_END.replace(day=30, month=10)


def test_same_seed_same_digest() -> None:
    a = generate(LOADS, SGENS, seed=5, days=3)
    b = generate(LOADS, SGENS, seed=5, days=3)
    c = generate(LOADS, SGENS, seed=6, days=3)
    assert a.digest() == b.digest() != c.digest()
    assert np.array_equal(a.values, b.values)


def test_profiles_are_plausible() -> None:
    series = generate(LOADS, SGENS, seed=5, days=7)
    hours = np.array([t.hour for t in series.times])
    loads, pv = series.values[:2], series.values[2:]
    assert (loads > 0).all()
    assert (loads <= 1.3 * np.array([[0.25], [0.63]])).all()
    assert (pv[:, (hours < 6) | (hours > 16)] == 0).all()  # no sun at night
    assert (pv.max(axis=1) > 0).all()
    assert (pv <= 0.7 * np.array([[0.1], [0.2]])).all()
    evening = loads[:, hours == 17].mean()
    night = loads[:, hours == 2].mean()
    assert evening > night


def test_rows_and_latest() -> None:
    series = generate(LOADS, SGENS, seed=5, days=1)
    rows = list(series.rows())
    assert len(rows) == 4 * 96
    assert rows[0][:2] == ("load:0", "2026-10-31T00:00:00Z")
    assert series.latest()["load:1"] == rows[96 * 2 - 1][2]
