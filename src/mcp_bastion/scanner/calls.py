"""Helpers for active probes: synthesise benign arguments, call a tool, flatten its output."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from mcp import Client
from mcp.types import CallToolResult, TextContent

__all__ = [
    "CallOutcome",
    "call_tool",
    "free_strings",
    "is_read_tool",
    "is_write_tool",
    "sample_arguments",
    "write_evidence",
]

# Verbs that name a state change outright, and verbs that often do but also name pure
# functions ("add_numbers", "set_precision", "run_report"): the latter rate lower.
_STRONG_WRITE = frozenset({
    "insert", "create", "delete", "update", "write", "drop", "remove", "destroy", "kill", "grant",
    "revoke", "transfer", "pay", "upload", "modify", "edit", "operate", "execute", "exec", "rename", "move",
})  # fmt: skip
_WEAK_WRITE = frozenset(["add", "set", "send", "run", "put", "post", "append", "replace"])
_WRITE_WORDS = _STRONG_WRITE | _WEAK_WRITE
_READ_WORDS = frozenset(
    ["get", "list", "query", "search", "read", "fetch", "find", "show", "describe", "lookup", "view", "count"]
)
_SPLIT = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """A tool call's result as text (structured content and text blocks) and whether it failed."""

    ok: bool
    text: str


def _tokens(name: str) -> set[str]:
    return {t for t in _SPLIT.split(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()) if t}


def _annotation(tool: Mapping[str, Any], key: str) -> Any:
    ann = tool.get("annotations")
    return ann.get(key) if isinstance(ann, Mapping) else None


def write_evidence(tool: Mapping[str, Any]) -> str | None:
    """``"strong"`` (annotated, or a clear write verb), ``"weak"`` (an ambiguous verb), or None."""
    if _annotation(tool, "readOnlyHint") is True:
        return None
    if _annotation(tool, "readOnlyHint") is False or _annotation(tool, "destructiveHint") is True:
        return "strong"
    words = _tokens(str(tool.get("name", "")))
    if words & _STRONG_WRITE:
        return "strong"
    return "weak" if words & _WEAK_WRITE else None


def is_write_tool(tool: Mapping[str, Any]) -> bool:
    """A tool that changes the world: annotated so, or named with a write verb and not read-only."""
    return write_evidence(tool) is not None


def is_read_tool(tool: Mapping[str, Any]) -> bool:
    """A tool that only reads: annotated read-only, or named with a read verb and no write verb."""
    if _annotation(tool, "readOnlyHint") is True:
        return True
    words = _tokens(str(tool.get("name", "")))
    return bool(words & _READ_WORDS) and not (words & _WRITE_WORDS)


def _props(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    schema = tool.get("inputSchema")
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def free_strings(tool: Mapping[str, Any]) -> list[str]:
    """Parameters that take any string (no enum, const, pattern or format): where payloads go."""
    out: list[str] = []
    for name, sub in _props(tool).items():
        if not isinstance(sub, Mapping):
            continue
        alts = [sub, *(a for a in (*sub.get("anyOf", ()), *sub.get("oneOf", ())) if isinstance(a, Mapping))]
        for alt in alts:
            t = alt.get("type")
            if (t == "string" or (isinstance(t, list) and "string" in t)) and not any(
                k in alt for k in ("enum", "const", "pattern", "format")
            ):
                out.append(str(name))
                break
    return out


def _value(sub: Mapping[str, Any], filler: str) -> tuple[bool, Any]:
    """A benign value for one schema, or (False, None) when none can be made safely."""
    if "const" in sub:
        return True, sub["const"]
    if isinstance(sub.get("enum"), list) and sub["enum"]:
        return True, sub["enum"][0]
    if "default" in sub:
        return True, sub["default"]
    for alt in (*sub.get("anyOf", ()), *sub.get("oneOf", ())):
        if isinstance(alt, Mapping):
            ok, v = _value(alt, filler)
            if ok:
                return True, v
    t = sub.get("type")
    t = t[0] if isinstance(t, list) and t else t
    if t == "string" and not any(k in sub for k in ("pattern", "format")):
        limit = sub.get("maxLength")
        return True, filler[: limit if isinstance(limit, int) else None]
    if t in ("integer", "number"):
        low = sub.get("minimum", 0)
        return True, low if isinstance(low, int | float) else 0
    if t == "boolean":
        return True, False
    if t == "array":
        return True, []
    if t == "object":
        return True, {}
    if t == "null":
        return True, None
    return False, None


def sample_arguments(
    tool: Mapping[str, Any], overrides: Mapping[str, Any], filler: str
) -> dict[str, Any] | None:
    """Required parameters filled with benign values, plus ``overrides``; None when impossible."""
    schema = tool.get("inputSchema")
    required = schema.get("required", []) if isinstance(schema, Mapping) else []
    out: dict[str, Any] = {}
    props = _props(tool)
    for name in required if isinstance(required, list) else []:
        if name in overrides:
            continue
        sub = props.get(name)
        ok, value = _value(sub, filler) if isinstance(sub, Mapping) else (False, None)
        if not ok:
            return None
        out[str(name)] = value
    return out | dict(overrides)


def _text(result: CallToolResult) -> str:
    parts = [json.dumps(result.structured_content, ensure_ascii=False)] if result.structured_content else []
    parts += [block.text for block in result.content if isinstance(block, TextContent)]
    return "\n".join(parts)


async def call_tool(
    client: Client, name: str, arguments: Mapping[str, Any], timeout_s: float = 20.0
) -> CallOutcome:
    """Call one tool; protocol errors and timeouts become a failed outcome, never an exception."""
    try:
        with anyio.fail_after(timeout_s):
            result = await client.call_tool(name, dict(arguments))
    except Exception as exc:  # noqa: BLE001 - a refused or broken call is an outcome for a probe, not a crash
        return CallOutcome(False, str(exc))
    if not isinstance(result, CallToolResult):
        return CallOutcome(False, "")
    return CallOutcome(not result.is_error, _text(result))
