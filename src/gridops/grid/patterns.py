"""Load pattern statistics over a window of 15-minute samples (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = ["load_pattern"]


def load_pattern(samples: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """Peak, minimum, mean, energy, load factor and hourly/weekday profiles of ``samples``.

    ``samples`` are ``(iso_ts, p_mw)`` in time order, 15 minutes apart. Ties pick the
    earliest sample, so the answer is deterministic. Hours are UTC.
    """
    if not samples:
        return {"samples": 0, "note": "no measurements in this window"}
    values = [float(v) for _, v in samples]
    peak = max(range(len(values)), key=lambda i: (values[i], -i))
    low = min(range(len(values)), key=lambda i: (values[i], i))
    mean = sum(values) / len(values)
    by_hour: dict[int, list[float]] = {}
    weekday: list[float] = []
    weekend: list[float] = []
    for (ts, _), v in zip(samples, values, strict=True):
        when = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
        by_hour.setdefault(when.hour, []).append(v)
        (weekend if when.weekday() >= 5 else weekday).append(v)
    profile = {f"{h:02d}": round(sum(v) / len(v), 6) for h, v in sorted(by_hour.items())}
    return {
        "samples": len(values),
        "unit": "MW",
        "mean_p_mw": round(mean, 6),
        "peak": {"ts": samples[peak][0], "p_mw": values[peak]},
        "minimum": {"ts": samples[low][0], "p_mw": values[low]},
        "energy_mwh": round(sum(values) * 0.25, 6),
        "load_factor": round(mean / values[peak], 4) if values[peak] > 0 else None,
        "hourly_mean_p_mw_utc": profile,
        "peak_hour_utc": max(profile, key=lambda h: (profile[h], h)),
        "weekday_mean_p_mw": round(sum(weekday) / len(weekday), 6) if weekday else None,
        "weekend_mean_p_mw": round(sum(weekend) / len(weekend), 6) if weekend else None,
    }
