"""Canonical JSON and its SHA-256: the one definition used by pins, audit and tokens.

Canonical form: UTF-8, keys sorted, no insignificant whitespace, no NaN/Infinity
(``allow_nan=False`` raises ``ValueError``), non-ASCII kept as-is. Two values that are
equal as JSON have byte-identical canonical forms.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "digest"]


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON encoding of ``value``."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """Return ``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()
