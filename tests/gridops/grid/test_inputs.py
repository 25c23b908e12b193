"""Input validation, with property-based tests of the bounds."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridops.errors import InvalidInputError
from gridops.grid.inputs import MAX_WINDOW, bounded_int, parse_asset_id, text, window

CONTROL = st.characters(categories=["Cc", "Cf", "Co"])
PRINTABLE = st.characters(categories=["L", "M", "N", "P", "S", "Zs"])


@given(st.text(PRINTABLE, min_size=1, max_size=100))
def test_printable_text_is_kept_verbatim(value: str) -> None:
    assert text(value, "name", min_len=1, max_len=100) == value


@given(st.text(PRINTABLE, max_size=50), CONTROL, st.text(PRINTABLE, max_size=50))
def test_control_characters_are_rejected(head: str, bad: str, tail: str) -> None:
    with pytest.raises(InvalidInputError):
        text(head + bad + tail, "name", min_len=0, max_len=200)


@given(st.text(PRINTABLE, min_size=101, max_size=300))
def test_too_long_is_rejected(value: str) -> None:
    with pytest.raises(InvalidInputError):
        text(value, "name", min_len=1, max_len=100)


def test_error_message_does_not_echo_the_value() -> None:
    with pytest.raises(InvalidInputError) as info:
        text("secret\x00value", "name", min_len=1, max_len=100)
    assert "secret" not in info.value.public_message


@given(st.integers())
def test_bounded_int(value: int) -> None:
    if 1 <= value <= 2000:
        assert bounded_int(value, "limit", 1, 2000) == value
    else:
        with pytest.raises(InvalidInputError):
            bounded_int(value, "limit", 1, 2000)


def test_bool_is_not_an_int() -> None:
    with pytest.raises(InvalidInputError):
        bounded_int(True, "limit", 0, 10)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)),
)
def test_window_bounds(start: datetime, span: timedelta) -> None:
    if timedelta(0) < span <= MAX_WINDOW:
        assert window(start, start + span) == (start, start + span)
    else:
        with pytest.raises(InvalidInputError):
            window(start, start + span)


@given(
    st.one_of(st.text(max_size=30), st.from_regex(r"(bus|line|pump|Line):-?[0-9]{1,11} ?", fullmatch=True))
)
def test_asset_ids_match_the_typed_form_only(value: str) -> None:
    try:
        ref = parse_asset_id(value)
    except InvalidInputError:
        return
    assert str(ref) == value
    assert all(unicodedata.category(c)[0] in "LNP" for c in value)


def test_asset_kind_restriction() -> None:
    assert str(parse_asset_id("line:0", kinds=("line",))) == "line:0"
    with pytest.raises(InvalidInputError):
        parse_asset_id("bus:0", kinds=("line",))
    with pytest.raises(InvalidInputError):
        parse_asset_id(5)
