"""Limits: method allow-list and structural limits on parsed params; raw-body checks.

The transport calls ``check_raw_body`` before parsing (size, UTF-8, batch, a cheap depth
pre-check so the JSON parser never sees pathological nesting); the guard then checks the
parsed message: the method is a known MCP method for its direction (both protocol eras,
from ``mcp_types.methods``) and params stay within depth, string and array limits.
Codes: see ``mcp_bastion.pipeline.guards._common``.
"""

from __future__ import annotations

import re
from typing import Any

from mcp_types import methods as mcp_methods

from mcp_bastion.config import LimitsSettings
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.guards._common import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.types import Direction

__all__ = [
    "CLIENT_NOTIFICATION_METHODS",
    "CLIENT_REQUEST_METHODS",
    "SERVER_NOTIFICATION_METHODS",
    "SERVER_REQUEST_METHODS",
    "LimitsGuard",
    "check_raw_body",
    "factory",
    "structure_violation",
]

NAME = "limits"
_TASKS = frozenset({"tasks/get", "tasks/list", "tasks/result", "tasks/cancel"})

CLIENT_REQUEST_METHODS: frozenset[str] = frozenset(m for m, _ in mcp_methods.CLIENT_REQUESTS) | _TASKS
CLIENT_NOTIFICATION_METHODS: frozenset[str] = frozenset(m for m, _ in mcp_methods.CLIENT_NOTIFICATIONS) | {
    "notifications/tasks/status"
}
SERVER_REQUEST_METHODS: frozenset[str] = frozenset(m for m, _ in mcp_methods.SERVER_REQUESTS) | _TASKS
SERVER_NOTIFICATION_METHODS: frozenset[str] = frozenset(m for m, _ in mcp_methods.SERVER_NOTIFICATIONS) | {
    "notifications/tasks/status"
}

_ALLOW = Verdict.allow(NAME)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def check_raw_body(data: bytes, limits: LimitsSettings) -> Verdict:
    """Check one raw JSON-RPC message body before it is parsed."""
    if len(data) > limits.max_body_bytes:
        return Verdict.deny(NAME, "message too large", code=INVALID_REQUEST, rule_ids=("BST-LIM-001",))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Verdict.deny(NAME, "message is not valid UTF-8", code=PARSE_ERROR, rule_ids=("BST-LIM-002",))
    if text.lstrip(" \t\r\n").startswith("["):
        return Verdict.deny(
            NAME, "JSON-RPC batches are not supported", code=INVALID_REQUEST, rule_ids=("BST-LIM-003",)
        )
    # Fast path: fewer brackets than the depth limit cannot nest deeper than it.
    if data.count(b"[") + data.count(b"{") > limits.max_depth and _raw_depth(data) > limits.max_depth:
        return Verdict.deny(
            NAME, "message nested too deeply", code=INVALID_REQUEST, rule_ids=("BST-LIM-004",)
        )
    return _ALLOW


def _raw_depth(data: bytes) -> int:
    """Maximum bracket nesting outside JSON strings (a malformed string just ends the scan early)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def structure_violation(value: Any, limits: LimitsSettings) -> str | None:  # noqa: PLR0912 - one flat walk: helper calls per node would cost on the hot path
    """The first structural limit ``value`` exceeds (depth, string, array, key), or None."""
    max_depth, max_str, max_arr = limits.max_depth, limits.max_string_length, limits.max_array_length
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if isinstance(item, str):
            if len(item) > max_str:
                return "string too long"
        elif isinstance(item, dict):
            if depth > max_depth:
                return "nested too deeply"
            if len(item) > max_arr:
                return "object has too many members"
            for key, sub in item.items():
                if len(key) > max_str:
                    return "string too long"
                if isinstance(sub, dict | list | str):
                    push((sub, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                return "nested too deeply"
            if len(item) > max_arr:
                return "array too long"
            for sub in item:
                if isinstance(sub, dict | list | str):
                    push((sub, depth + 1))
    return None


class LimitsGuard:
    """Known methods only, and params within structural limits, in both directions."""

    name = NAME

    def __init__(self, settings: LimitsSettings) -> None:
        self.settings = settings
        denied = frozenset(settings.deny_methods)
        self._methods = {
            (Direction.CLIENT_TO_SERVER, True): CLIENT_REQUEST_METHODS - denied,
            (Direction.CLIENT_TO_SERVER, False): CLIENT_NOTIFICATION_METHODS - denied,
            (Direction.SERVER_TO_CLIENT, True): SERVER_REQUEST_METHODS - denied,
            (Direction.SERVER_TO_CLIENT, False): SERVER_NOTIFICATION_METHODS - denied,
        }

    async def check(self, exchange: Exchange) -> Verdict:
        method = exchange.method
        if method is None:  # a response or error: the output guard's concern
            return _ALLOW
        if method not in self._methods[(exchange.direction, exchange.is_request)]:
            return Verdict.deny(
                NAME, f"method not found: {method[:64]}", code=METHOD_NOT_FOUND, rule_ids=("BST-LIM-005",)
            )
        params = exchange.params
        if params:
            problem = structure_violation(params, self.settings)
            if problem is not None:
                return Verdict.deny(NAME, f"params {problem}", code=INVALID_PARAMS, rule_ids=("BST-LIM-006",))
        return _ALLOW


def factory(settings: LimitsSettings, ctx: object) -> LimitsGuard:
    """Registry entry (see ``mcp_bastion.pipeline.guards``)."""
    return LimitsGuard(settings)
