"""Validation of caller input: typed asset ids, free text, time windows and bounds.

The service checks every argument here before any SQL runs (defence in depth behind the
MCP server's own schemas). Failures raise :class:`InvalidInputError` with a message that
names the argument and the rule, never the value.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from gridops.errors import InvalidInputError

__all__ = [
    "ASSET_KINDS",
    "MAX_WINDOW",
    "AssetRef",
    "bounded_int",
    "finite",
    "multiline",
    "parse_asset_id",
    "text",
    "window",
]

ASSET_KINDS: Final = ("bus", "line", "trafo", "switch", "load", "sgen")
MAX_WINDOW: Final = timedelta(days=7)
_ASSET = re.compile(r"^(bus|line|trafo|switch|load|sgen):(0|[1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class AssetRef:
    """A parsed typed asset id such as ``line:5``."""

    kind: str
    number: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.number}"


def parse_asset_id(asset_id: object, *, kinds: tuple[str, ...] = ASSET_KINDS) -> AssetRef:
    """Parse ``kind:number``; ``kinds`` restricts which kinds are acceptable."""
    if not isinstance(asset_id, str) or len(asset_id) > 20:
        raise InvalidInputError("asset_id must look like 'line:5' (kinds: " + ", ".join(ASSET_KINDS) + ")")
    match = _ASSET.fullmatch(asset_id)
    if match is None:
        raise InvalidInputError("asset_id must look like 'line:5' (kinds: " + ", ".join(ASSET_KINDS) + ")")
    if match.group(1) not in kinds:
        raise InvalidInputError(f"this operation accepts {', '.join(kinds)} assets only")
    return AssetRef(match.group(1), int(match.group(2)))


def text(value: object, field: str, *, min_len: int, max_len: int) -> str:
    """Return ``value`` if it is printable text of an allowed length, else raise.

    Printable means no Unicode category C character (control, format, surrogate, private
    use, unassigned); ordinary spaces are fine, tabs and newlines are not. The text is
    stored exactly as given: quotes and SQL fragments are data, bound as parameters.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string")
    if not min_len <= len(value) <= max_len:
        raise InvalidInputError(f"{field} must be {min_len}..{max_len} characters long")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise InvalidInputError(f"{field} must not contain control or invisible characters")
    return value


def multiline(value: object, field: str, *, min_len: int, max_len: int) -> str:
    """Like :func:`text`, but newlines and tabs are allowed (descriptions)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string")
    text(value.replace("\n", " ").replace("\t", " "), field, min_len=min_len, max_len=max_len)
    return value


def bounded_int(value: object, field: str, low: int, high: int) -> int:
    """Return ``value`` if it is an int (not a bool) within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"{field} must be an integer between {low} and {high}")
    return value


def finite(value: object, field: str, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite number within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{field} must be a number")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(f"{field} must be between {low} and {high}")
    return number


def _utc(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a datetime")
    # A naive time is read as UTC: every time in the database is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(start: object, end: object, *, limit: timedelta = MAX_WINDOW) -> tuple[datetime, datetime]:
    """Validate a half-open window ``[start, end)``: ordered, at most ``limit`` long."""
    s, e = _utc(start, "start"), _utc(end, "end")
    if e <= s:
        raise InvalidInputError("end must be after start")
    if e - s > limit:
        raise InvalidInputError(f"the window may span at most {limit.days} days")
    return s, e
