"""The report catalogue: schemas are closed and bounded; bad params never reach SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridops.db.reports import CATALOGUE, prepare
from gridops.errors import InvalidInputError, NotFoundError

END = datetime(2026, 11, 1, tzinfo=UTC)


def test_at_least_five_closed_reports() -> None:
    assert len(CATALOGUE) >= 5
    for report in CATALOGUE.values():
        schema = report.params_schema
        assert schema["additionalProperties"] is False
        for prop in schema["properties"].values():
            bounded = ("enum" in prop) or ("pattern" in prop) or ("maximum" in prop and "minimum" in prop)
            assert bounded, f"{report.name}: every parameter is an enum, a pattern or a bounded int"


def test_values_are_bound_not_interpolated() -> None:
    _, sql, args = prepare("top_loaded_lines", {"region": "substation-1", "limit": 5}, END)
    assert "substation-1" not in sql
    assert args == ("substation-1", 5)


@given(st.integers())
def test_limit_bounds(limit: int) -> None:
    if 1 <= limit <= 50:
        assert prepare("top_loaded_lines", {"limit": limit}, END)[2] == (limit,)
    else:
        with pytest.raises(InvalidInputError):
            prepare("top_loaded_lines", {"limit": limit}, END)


@given(st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=3))
def test_unknown_keys_rejected(params: dict[str, Any]) -> None:
    allowed = set(CATALOGUE["switching_history"].params_schema["properties"])
    if set(params) <= allowed:
        return
    with pytest.raises(InvalidInputError):
        prepare("switching_history", params, END)


@pytest.mark.parametrize("name", ["", "records", "top_loaded_lines; DROP TABLE x", None, 5])
def test_unknown_report(name: object) -> None:
    with pytest.raises(NotFoundError):
        prepare(name, {}, END)


def test_params_must_be_an_object() -> None:
    with pytest.raises(InvalidInputError):
        prepare("top_loaded_lines", [("limit", 5)], END)


@pytest.mark.parametrize("region", ["substation-1\n", "x\ny", "", "Substation-1"])
def test_region_pattern_is_a_full_match(region: str) -> None:
    with pytest.raises(InvalidInputError):
        prepare("top_loaded_lines", {"region": region}, END)
