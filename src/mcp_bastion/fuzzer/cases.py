"""Fuzz cases: valid MCP messages and seeded mutations of them, as the bytes to write.

Each :class:`Case` is one or more newline-terminated lines. The generator is a pure
function of ``(seed, index, tools)`` so any case can be regenerated from its number.
Mutation kinds: valid, wrong_type, missing_field, unknown_method, huge_id, deep_nesting,
invalid_utf8, lifecycle (initialize again, responses from the client, initialized
twice), cancellation (cancel in-flight, unknown and mistyped request ids), oversize,
garbage (any JSON value, or random bytes).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "PROTOCOL_VERSION", "Case", "handshake", "make_case"]

PROTOCOL_VERSION = "2025-11-25"
KINDS = (
    "valid",
    "wrong_type",
    "missing_field",
    "unknown_method",
    "huge_id",
    "deep_nesting",
    "invalid_utf8",
    "lifecycle",
    "cancellation",
    "oversize",
    "garbage",
)
_ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63),
    1e308,
    1.5,
    "",
    "x" * 300,
    [],
    {},
    [None],
    {"": {}},
)


@dataclass(frozen=True, slots=True)
class Case:
    """One fuzz case: its number, kind, the exact bytes, and the request ids it carries."""

    index: int
    kind: str
    data: bytes
    ids: tuple[Any, ...] = ()


def _odd(rng: random.Random) -> Any:
    # A copy: a shared constant mutated by a later case could become circular.
    return copy.deepcopy(rng.choice(_ODD_VALUES))


def _line(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"


def handshake(client: str = "bastion-fuzz") -> bytes:
    """The legacy (2025-11-25) initialize request and initialized notification."""
    init = {
        "jsonrpc": "2.0",
        "id": "init",
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": client, "version": "1"},
        },
    }
    return _line(init) + _line({"jsonrpc": "2.0", "method": "notifications/initialized"})


def _valid(rng: random.Random, rid: Any, tools: Sequence[str]) -> dict[str, Any]:
    tool = rng.choice(tools) if tools else "echo"
    choices: list[tuple[str, dict[str, Any] | None]] = [
        ("ping", None),
        ("tools/list", {}),
        ("prompts/list", {}),
        ("resources/list", {}),
        ("resources/templates/list", {}),
        ("tools/call", {"name": tool, "arguments": {}}),
        ("tools/call", {"name": tool, "arguments": {"x": _odd(rng)}}),
        ("resources/read", {"uri": rng.choice(["grid://assets/line:1", "file:///etc/passwd", "x:", "::"])}),
        ("prompts/get", {"name": rng.choice(["outage_triage", "nope", ""]), "arguments": {"outage_id": "1"}}),
        ("logging/setLevel", {"level": rng.choice(["debug", "info", "emergency", "loud"])}),
        (
            "completion/complete",
            {"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a", "value": ""}},
        ),
    ]
    method, params = rng.choice(choices)
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        value = value[key]
    if delete:
        del value[path[-1]]
    else:
        value[path[-1]] = new


def _deep(depth: int, rng: random.Random) -> str:
    open_, close = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    return open_ * depth + "1" + close * depth


def make_case(seed: int, index: int, tools: Sequence[str] = ()) -> Case:
    """Case number ``index`` of the run seeded by ``seed`` (deterministic)."""
    rng = random.Random(f"{seed}:{index}")  # noqa: S311 - reproducible fuzzing, not secrets
    kind = KINDS[index % len(KINDS)] if index < len(KINDS) else rng.choice(KINDS)
    rid: Any = index + 1
    msg = _valid(rng, rid, tools)
    if kind == "valid":
        return Case(index, kind, _line(msg), (rid,))
    if kind == "wrong_type":
        path = rng.choice(_paths(msg))
        _set(msg, path, _odd(rng))
        return Case(index, kind, _line(msg), (msg.get("id"),))
    if kind == "missing_field":
        path = rng.choice(_paths(msg))
        _set(msg, path, None, delete=True)
        return Case(index, kind, _line(msg), (msg.get("id"),))
    if kind == "unknown_method":
        msg["method"] = rng.choice(
            ["", "rpc.discover", "$/x", "tools/" + "a" * 200, "initialize\x00", "ж/ф", "notifications/x"]
        )
        return Case(index, kind, _line(msg), (rid,))
    if kind == "huge_id":
        msg["id"] = rng.choice([10**30, -(10**30), 2**64, 1.0000001, "i" * 10000, True, {"a": 1}, [1], None])
        return Case(index, kind, _line(msg), (msg["id"],))
    if kind == "deep_nesting":
        depth = rng.choice([64, 1000, 5000, 100_000])
        body = (
            f'{{"jsonrpc":"2.0","id":{rid},"method":"{msg["method"]}","params":{{"x":{_deep(depth, rng)}}}}}'
        )
        return Case(index, kind, body.encode() + b"\n", (rid,))
    if kind == "invalid_utf8":
        raw = _line(msg)
        cut = rng.randrange(len(raw) - 1)
        junk = rng.choice(
            [
                b"\xff",
                b"\xc3\x28",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\x00",
                bytes(rng.randrange(256) for _ in range(8)),
            ]
        )
        data = (raw[:cut] + junk + raw[cut:]).replace(b"\n", b"") + b"\n"
        return Case(index, kind, data, (rid,))
    if kind == "lifecycle":
        options = [
            json.loads(handshake().splitlines()[0]) | {"id": rid},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": rid, "result": {}},
            {"jsonrpc": "2.0", "id": rid, "error": {"code": -1, "message": "x"}},
            {
                "jsonrpc": "2.0",
                "id": rid,
                "method": "initialize",
                "params": {"protocolVersion": "1999-01-01"},
            },
        ]
        return Case(index, kind, _line(rng.choice(options)), (rid,))
    if kind == "cancellation":
        call = _valid(rng, rid, tools) | {"method": "tools/call"}
        call.setdefault("params", {"name": tools[0] if tools else "echo", "arguments": {}})
        target = rng.choice([rid, rid + 10**6, "nope", None, [rid]])
        cancel = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": target, "reason": "fuzz"},
        }
        return Case(index, kind, _line(call) + _line(cancel), (rid,))
    if kind == "oversize":
        msg["params"] = {"name": "x" * rng.choice([10_000, 500_000, 2_000_000]), "arguments": {}}
        return Case(index, kind, _line(msg), (rid,))
    raw_garbage = [
        b"[]",
        b"[1,2,3]",
        b'"x"',
        b"1e999",
        b"null",
        b"{",
        b"}",
        b"{}",
        b'{"jsonrpc":"2.0"}',
        b"\t",
        b"\x00" * 5,
    ]
    return Case(index, "garbage", rng.choice(raw_garbage) + b"\n", ())
