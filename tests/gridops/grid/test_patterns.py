"""Load pattern statistics on hand-made samples."""

from __future__ import annotations

from gridops.grid.patterns import load_pattern


def test_statistics_by_hand() -> None:
    # Saturday 2026-10-31: four samples, the peak twice (the earliest wins).
    samples = [
        ("2026-10-31T10:00:00Z", 1.0),
        ("2026-10-31T10:15:00Z", 3.0),
        ("2026-10-31T11:00:00Z", 3.0),
        ("2026-10-31T11:15:00Z", 0.0),
    ]
    stats = load_pattern(samples)
    assert stats["samples"] == 4
    assert stats["peak"] == {"ts": "2026-10-31T10:15:00Z", "p_mw": 3.0}
    assert stats["minimum"] == {"ts": "2026-10-31T11:15:00Z", "p_mw": 0.0}
    assert stats["mean_p_mw"] == 1.75
    assert stats["energy_mwh"] == 1.75  # 7 MW x 0.25 h
    assert stats["load_factor"] == round(1.75 / 3.0, 4)
    assert stats["hourly_mean_p_mw_utc"] == {"10": 2.0, "11": 1.5}
    assert stats["peak_hour_utc"] == "10"
    assert stats["weekday_mean_p_mw"] is None
    assert stats["weekend_mean_p_mw"] == 1.75


def test_empty_and_all_zero() -> None:
    assert load_pattern([])["samples"] == 0
    night = load_pattern([("2026-10-29T02:00:00Z", 0.0), ("2026-10-29T02:15:00Z", 0.0)])
    assert night["load_factor"] is None
    assert night["weekend_mean_p_mw"] is None
    assert night["weekday_mean_p_mw"] == 0.0
