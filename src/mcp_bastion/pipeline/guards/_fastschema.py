"""A fast ACCEPT path for the simple inputSchemas most tools have; jsonschema decides the rest.

``jsonschema`` costs ~70 µs per call for a two-property schema on this machine (measured
in ``bench/pipeline.py``), most of the whole chain's budget. Most MCP tool schemas are a
flat object of scalar (or scalar-array) properties, so for exactly that subset this
module builds a checker from closures (no code generation: schemas are untrusted input).

Contract: ``compile_fast(schema)`` returns None when the schema uses anything outside the
subset; otherwise a predicate for which ``True`` implies jsonschema (Draft 2020-12, no
format assertion) accepts the instance. ``False`` only means "ask jsonschema", which
also produces the error message, so a conservative rejection here is harmless.
``tests/pipeline/guards/test_arguments.py`` checks the implication with hypothesis.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_fast"]

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
_SCALAR_KEYS = _ANNOTATIONS | {
    "type",
    "maxLength",
    "minLength",
    "pattern",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
}
_ARRAY_KEYS = _ANNOTATIONS | {"type", "items", "minItems", "maxItems"}
_ROOT_KEYS = _ANNOTATIONS | {"type", "properties", "required", "additionalProperties", "$schema"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    # Only true ints: jsonschema also accepts 1.0 as an integer, which here just falls back.
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    # Conservative equality: same Python type and equal (so True never equals 1).
    return type(a) is type(b) and a == b


_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda v, b: bool(v >= b),
    "maximum": lambda v, b: bool(v <= b),
    "exclusiveMinimum": lambda v, b: bool(v > b),
    "exclusiveMaximum": lambda v, b: bool(v < b),
}


def _type_check(kind: Any) -> Check | None:
    kinds = [kind] if isinstance(kind, str) else kind
    if not isinstance(kinds, list) or not kinds or any(k not in _TYPES for k in kinds):
        return None
    type_checks = [_TYPES[k] for k in kinds]
    if len(type_checks) == 1:
        return type_checks[0]

    def check(value: Any) -> bool:
        return any(t(value) for t in type_checks)

    return check


def _length_check(low: Any, high: Any) -> Check | None:
    if any(b is not None and (not isinstance(b, int) or isinstance(b, bool)) for b in (low, high)):
        return None

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        return (low is None or len(value) >= low) and (high is None or len(value) <= high)

    return check


def _pattern_check(pattern: Any) -> Check | None:
    if not isinstance(pattern, str):
        return None
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None

    def check(value: Any) -> bool:
        return not isinstance(value, str) or compiled.search(value) is not None

    return check


def _bound_check(key: str, bound: Any) -> Check | None:
    if not _is_number(bound):
        return None
    compare = _BOUNDS[key]

    def check(value: Any) -> bool:
        return not _is_number(value) or compare(value, bound)

    return check


def _member_check(options: Any) -> Check | None:
    if not isinstance(options, list):
        return None

    def check(value: Any) -> bool:
        return any(_same(value, x) for x in options)

    return check


def _scalar(schema: Mapping[str, Any]) -> Check | None:
    if not set(schema) <= _SCALAR_KEYS:
        return None
    built: list[Check | None] = []
    if "type" in schema:
        built.append(_type_check(schema["type"]))
    if "minLength" in schema or "maxLength" in schema:
        built.append(_length_check(schema.get("minLength"), schema.get("maxLength")))
    if "pattern" in schema:
        built.append(_pattern_check(schema["pattern"]))
    built.extend(_bound_check(key, schema[key]) for key in _BOUNDS if key in schema)
    if "enum" in schema:
        built.append(_member_check(schema["enum"]))
    if "const" in schema:
        built.append(_member_check([schema["const"]]))
    if any(c is None for c in built):
        return None
    checks = [c for c in built if c is not None]
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        return all(c(value) for c in checks)

    return check


def _property(schema: Any) -> Check | None:
    if not isinstance(schema, Mapping):
        return None
    if schema.get("type") == "array":
        if not set(schema) <= _ARRAY_KEYS:
            return None
        items = schema.get("items")
        item_check = _scalar(items) if isinstance(items, Mapping) else (None if items is not None else _ANY)
        if item_check is None:
            return None
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        if not isinstance(low, int) or (high is not None and not isinstance(high, int)):
            return None
        return lambda v: (
            isinstance(v, list)
            and len(v) >= low
            and (high is None or len(v) <= high)
            and all(item_check(x) for x in v)
        )
    if "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        options = schema["anyOf"]
        if not set(rest) <= _ANNOTATIONS or not isinstance(options, list) or not options:
            return None
        subs = [_scalar(o) if isinstance(o, Mapping) else None for o in options]
        if any(s is None for s in subs):
            return None
        return lambda v: any(s(v) for s in subs if s is not None)
    return _scalar(schema)


def _any(_value: Any) -> bool:
    return True


_ANY: Check = _any


def compile_fast(schema: Mapping[str, Any]) -> Check | None:
    """A conservative accept-only checker for a flat object schema, or None (use jsonschema)."""
    if not set(schema) <= _ROOT_KEYS or schema.get("type") != "object":
        return None
    props = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(props, Mapping) or not isinstance(required, list) or not isinstance(extra, bool):
        return None
    if not all(isinstance(r, str) for r in required):
        return None
    checks: dict[str, Check] = {}
    for name, sub in props.items():
        check = _property(sub)
        if check is None:
            return None
        checks[name] = check
    required_names = tuple(required)

    def accept(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for name in required_names:
            if name not in value:
                return False
        for key, item in value.items():
            check = checks.get(key)
            if check is None:
                if not extra:
                    return False
            elif not check(item):
                return False
        return True

    return accept
