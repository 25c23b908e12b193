"""Literal anchors of a regex: the strings every match must start with.

A phrase signal such as ``(?:ignore|disregard|forget)...`` can only match where one of its
first words begins. ``str.find`` locates those few places far faster than the regex
engine trying the pattern at every character, so :class:`textutil.Signal` runs
``pattern.match`` only there; the leftmost success is exactly what ``pattern.search``
would have returned. Anchors come from the parse tree of the standard library's own
regex parser; when it is unavailable, or a pattern can start with something that is not
a literal of at least :data:`MIN_ANCHOR` characters, there are no anchors and the signal
falls back to a plain search (slower, never less exact).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

__all__ = ["MIN_ANCHOR", "anchors_of"]

MIN_ANCHOR = 3
_MAX_ANCHORS = 64
# Longer anchors find no fewer starts worth trying; stopping here keeps their number small.
_ENOUGH = 8

try:  # A private module of the standard library (3.11+); without it nothing is anchored.
    _PARSER: Any = importlib.import_module("re._parser")
    _C: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - depends on the interpreter
    _PARSER = None
    _C = None

_Prefixes = list[tuple[str, bool]]  # (literal prefix, whether the whole sub-pattern was that literal)


def _step(op: Any, av: Any) -> _Prefixes | None:
    """Prefixes of one parse-tree node; ``[("", False)]`` where a non-literal begins."""
    if op is _C.LITERAL:
        return [(chr(av), True)]
    if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
        return [("", True)]  # zero-width: the literal after it still starts the match
    if op is _C.BRANCH:
        out: _Prefixes = []
        for alternative in av[1]:
            sub = _literals(alternative)
            if sub is None:
                return None
            out += sub
        return out
    if op is _C.SUBPATTERN and not av[1] and not av[2]:  # a group without inline flags
        return _literals(av[3])
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) and av[1] >= 1:
        sub = _literals(av[2])
        if sub is None:
            return None
        # Optional (0..1): present or absent. At least one repetition: its prefix, then stop.
        if av[0] == 0 and av[1] == 1:
            return [("", True), *sub]
        if av[0] >= 1:
            return [(prefix, False) for prefix, _ in sub]
    return [("", False)]


def _literals(items: Any) -> _Prefixes | None:
    """Literal prefixes of a parsed sequence, or None when there would be too many."""
    results: _Prefixes = [("", True)]
    for op, av in items:
        open_ = [prefix for prefix, complete in results if complete and len(prefix) < _ENOUGH]
        if not open_:
            break
        step = _step(op, av)
        if step is None or len(results) + len(open_) * len(step) > _MAX_ANCHORS:
            # Unknown or too many continuations: the prefixes so far are still prefixes.
            return [(prefix, False) for prefix, _ in results]
        results = [(p, c) for p, c in results if not c or len(p) >= _ENOUGH] + [
            (head + tail, complete) for head in open_ for tail, complete in step
        ]
    return results


def anchors_of(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The literal strings every match of ``pattern`` starts with, or ``()`` when there are none usable.

    Usable means: each at least :data:`MIN_ANCHOR` characters, at most 64 of them, and a
    case-sensitive pattern (the views are lower-cased; a case-insensitive pattern could
    start with letters ``find`` would not see).
    """
    if _PARSER is None or pattern.flags & re.IGNORECASE:
        return ()
    try:
        parsed = _PARSER.parse(pattern.pattern, pattern.flags)
        prefixes = _literals(parsed)
    except Exception:  # noqa: BLE001  -- any surprise in a private parser means: no anchors
        return ()
    if not prefixes or any(len(prefix) < MIN_ANCHOR for prefix, _ in prefixes):
        return ()
    # An anchor that starts with a shorter one adds no start the shorter one misses.
    shortest = sorted({prefix for prefix, _ in prefixes}, key=len)
    kept: list[str] = []
    for prefix in shortest:
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return tuple(kept)
