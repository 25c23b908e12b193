"""The outage risk score: bounds, monotonicity and the documented formula."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridops.errors import InvalidInputError
from gridops.grid.risk import Weather, score

WEATHER = st.builds(
    Weather,
    temperature_c=st.floats(-40, 55),
    wind_speed_ms=st.floats(0, 60),
    ice=st.booleans(),
    storm=st.booleans(),
)


def _line(weather: Weather, loading: float = 60.0, age: int = 30, overhead: bool = True) -> float:
    return float(
        score(
            kind="line", loading_pct=loading, age_years=age, rating=0.3, overhead=overhead, weather=weather
        )["score"]
    )


@given(WEATHER, st.floats(0, 300), st.integers(0, 80))
def test_score_in_unit_interval(weather: Weather, loading: float, age: int) -> None:
    assert 0.0 <= _line(weather, loading, age) <= 1.0


@given(WEATHER, st.floats(0, 25))
def test_more_wind_never_lowers_risk(weather: Weather, extra: float) -> None:
    windier = Weather(
        weather.temperature_c, min(60.0, weather.wind_speed_ms + extra), weather.ice, weather.storm
    )
    assert _line(windier) >= _line(weather)


@given(WEATHER, st.floats(0, 200), st.floats(0, 100))
def test_more_loading_never_lowers_risk(weather: Weather, loading: float, extra: float) -> None:
    assert _line(weather, loading + extra) >= _line(weather, loading)


def test_overhead_lines_are_more_exposed_than_cables() -> None:
    storm = Weather(wind_speed_ms=30, storm=True)
    assert _line(storm, overhead=True) > _line(storm, overhead=False)


def test_formula_by_hand() -> None:
    # loading 80 % -> 0.5; age 30 -> 0.5; rating 0.3 kA -> 0.5; calm: no weather terms.
    result = score(kind="line", loading_pct=80.0, age_years=30, rating=0.3, overhead=False, weather=Weather())
    expected = 1 - (1 - 0.5 * 0.5) * (1 - 0.3 * 0.5) * (1 - 0.1 * 0.5)
    assert math.isclose(result["score"], round(expected, 4))
    assert [f["factor"] for f in result["factors"]][:3] == ["loading", "age", "rating"]


@pytest.mark.parametrize(
    "weather",
    [
        Weather(temperature_c=-41),
        Weather(wind_speed_ms=-1),
        Weather(temperature_c=float("inf")),
        Weather(ice=1),  # type: ignore[arg-type]  # the wrong type is the test
    ],
)
def test_weather_is_validated(weather: Weather) -> None:
    with pytest.raises(InvalidInputError):
        weather.validated()
