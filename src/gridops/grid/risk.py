"""Outage risk score for lines and transformers: deterministic, documented, 0..1.

Each factor is a number in 0..1 with a weight; the score is the chance that at least one
factor "fires" if they were independent::

    score = 1 - prod(1 - weight_i * factor_i)

Factors (the data card repeats them with their reasons):

* ``loading``: 0 at <= 50 % of rating, 1 at >= 110 %, linear between. The loading is from
  a power flow on the latest measurements and the current switch states, increased by
  1 % per degree of ambient temperature above 25 °C (thermal derating). Weight 0.5.
* ``age``: years since installation (synthetic, seeded) / 60, capped at 1. Weight 0.3.
* ``rating``: small conductors fail more often: 1 at max_i_ka <= 0.15 kA, 0 at >= 0.45 kA
  (transformers: 1 at <= 10 MVA, 0 at >= 40 MVA). Weight 0.1.
* ``wind``: (wind - 10 m/s) / 25, clamped; ``ice`` 1 or 0; ``storm`` 1 or 0. Weights 0.35,
  0.4, 0.5, multiplied by the exposure: overhead line 1.0, cable 0.15, transformer 0.3.
* ``heat`` (transformers only): (temperature - 30 °C) / 20, clamped. Weight 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridops.errors import InvalidInputError
from gridops.grid.inputs import finite

__all__ = ["Weather", "score"]


@dataclass(frozen=True)
class Weather:
    """The weather the risk is evaluated for."""

    temperature_c: float = 15.0  # -40..55
    wind_speed_ms: float = 0.0  # 0..60
    ice: bool = False
    storm: bool = False

    def validated(self) -> Weather:
        """Return self if every field is in range, else raise InvalidInputError."""
        finite(self.temperature_c, "temperature_c", -40.0, 55.0)
        finite(self.wind_speed_ms, "wind_speed_ms", 0.0, 60.0)
        for name in ("ice", "storm"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(f"{name} must be true or false")
        return self


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


@dataclass(frozen=True)
class _Factor:
    name: str
    value: float  # 0..1
    weight: float
    detail: str


def score(
    *,
    kind: str,
    loading_pct: float | None,
    age_years: int,
    rating: float,
    overhead: bool,
    weather: Weather,
) -> dict[str, Any]:
    """Score one line (``rating`` = max_i_ka) or transformer (``rating`` = sn_mva)."""
    derate = 1.0 + 0.01 * max(0.0, weather.temperature_c - 25.0)
    effective = (loading_pct or 0.0) * derate
    exposure = 0.3 if kind == "trafo" else (1.0 if overhead else 0.15)
    if kind == "trafo":
        rating_factor = _clamp((40.0 - rating) / 30.0)
        rating_detail = f"{rating:g} MVA"
    else:
        rating_factor = _clamp((0.45 - rating) / 0.30)
        rating_detail = f"{rating:g} kA"
    factors = [
        _Factor(
            "loading",
            _clamp((effective - 50.0) / 60.0),
            0.5,
            "no power-flow result"
            if loading_pct is None
            else f"{loading_pct:.1f} % of rating, {effective:.1f} % after thermal derating",
        ),
        _Factor("age", _clamp(age_years / 60.0), 0.3, f"{age_years} years in service (synthetic)"),
        _Factor("rating", rating_factor, 0.1, rating_detail),
        _Factor(
            "wind",
            _clamp((weather.wind_speed_ms - 10.0) / 25.0),
            0.35 * exposure,
            f"{weather.wind_speed_ms:g} m/s, exposure {exposure:g}",
        ),
        _Factor("ice", 1.0 if weather.ice else 0.0, 0.4 * exposure, f"exposure {exposure:g}"),
        _Factor("storm", 1.0 if weather.storm else 0.0, 0.5 * exposure, f"exposure {exposure:g}"),
    ]
    if kind == "trafo":
        factors.append(
            _Factor(
                "heat",
                _clamp((weather.temperature_c - 30.0) / 20.0),
                0.3,
                f"{weather.temperature_c:g} °C ambient",
            )
        )
    survive = 1.0
    for f in factors:
        survive *= 1.0 - f.weight * f.value
    total = round(1.0 - survive, 4)
    level = "low" if total < 0.25 else "medium" if total < 0.5 else "high" if total < 0.75 else "critical"
    ranked = sorted(factors, key=lambda f: (-f.weight * f.value, f.name))
    contributions = [
        {
            "factor": f.name,
            "value": round(f.value, 4),
            "weight": round(f.weight, 4),
            "contribution": round(f.weight * f.value, 4),
            "detail": f.detail,
        }
        for f in ranked
    ]
    return {
        "score": total,
        "level": level,
        "factors": contributions,
        "formula": "1 - prod(1 - weight * value) over the factors",
    }
