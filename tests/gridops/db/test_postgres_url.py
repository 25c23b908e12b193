"""Our ``schema`` URL parameter for PostgreSQL and the URL dispatch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridops.db.connect import open_database
from gridops.db.postgres import split_schema
from gridops.errors import InvalidInputError


def test_schema_is_removed_and_returned() -> None:
    url, schema = split_schema("postgresql://postgres@127.0.0.1:5432/test?schema=grid_1&sslmode=disable")
    assert schema == "grid_1"
    assert url == "postgresql://postgres@127.0.0.1:5432/test?sslmode=disable"
    assert split_schema("postgresql://h/db") == ("postgresql://h/db", None)


@pytest.mark.parametrize("bad", ['x"; DROP TABLE records;--', "a b", "1abc", "x" * 64, "", "sch-ema", "a%0A"])
def test_bad_schema_names_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        split_schema(f"postgresql://h/db?schema={bad}")


@given(st.text(max_size=70))
def test_only_identifiers_pass(name: str) -> None:
    from urllib.parse import quote

    try:
        _, schema = split_schema(f"postgresql://h/db?schema={quote(name)}")
    except InvalidInputError:
        return
    assert schema is not None
    assert schema.isascii()
    assert schema.replace("_", "a").isalnum()


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "sqlite://relative.db", "sqlite:///x.db?mode=rw", "file:///x"]
)
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(InvalidInputError):
        open_database(url)
