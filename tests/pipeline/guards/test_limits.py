"""Limits: raw-body checks before parsing and structural checks on parsed params."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp_types import JSONRPCNotification, JSONRPCRequest

from mcp_bastion.config import LimitsSettings
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.chain import Chain
from mcp_bastion.pipeline.guards._common import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR
from mcp_bastion.pipeline.guards.limits import (
    CLIENT_REQUEST_METHODS,
    SERVER_NOTIFICATION_METHODS,
    LimitsGuard,
    check_raw_body,
    structure_violation,
)
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.types import Direction

LIMITS = LimitsSettings(max_body_bytes=4096, max_depth=8, max_string_length=100, max_array_length=10)


def _request(method: str, params: dict[str, object] | None = None) -> Exchange:
    return Exchange(
        Direction.CLIENT_TO_SERVER, JSONRPCRequest(jsonrpc="2.0", id=1, method=method, params=params)
    )


def test_both_protocol_eras_are_known() -> None:
    assert {"initialize", "server/discover", "subscriptions/listen", "tools/call"} <= CLIENT_REQUEST_METHODS
    assert "notifications/tools/list_changed" in SERVER_NOTIFICATION_METHODS


def test_deep_nesting_is_refused_before_the_parser_sees_it() -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    # Without the check the parser itself falls over (the attack: crash or stall the gateway).
    with pytest.raises(RecursionError):
        json.loads(body)
    verdict = check_raw_body(body, LimitsSettings(max_body_bytes=1_000_000))
    assert verdict.decision is Decision.DENY
    assert verdict.code == INVALID_REQUEST


def test_brackets_inside_strings_do_not_count() -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": '[[[[[[[[[[[[[[[[\\"[['}})
    assert check_raw_body(body.encode(), LIMITS).decision is Decision.ALLOW


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"x" * 5000, INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"\xff\xfe"}}', PARSE_ERROR),
        (b'  [{"jsonrpc":"2.0","id":1,"method":"ping"}]', INVALID_REQUEST),
    ],
    ids=["oversize", "invalid-utf8", "batch"],
)
def test_raw_body_rejections(body: bytes, code: int) -> None:
    verdict = check_raw_body(body, LIMITS)
    assert verdict.decision is Decision.DENY
    assert verdict.code == code


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=3), c),
        max_leaves=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_raw_depth_agrees_with_parsed_depth(value: object) -> None:
    body = json.dumps({"params": value}).encode()
    limits = LimitsSettings(max_depth=4)
    raw_ok = check_raw_body(body, limits).decision is Decision.ALLOW
    parsed_ok = structure_violation({"params": value}, limits) != "nested too deeply"
    assert raw_ok == parsed_ok


@pytest.mark.anyio
async def test_unknown_method_is_refused() -> None:
    attack = _request("admin/shutdown")
    assert (await Chain([]).run(attack)).allowed
    verdict = (await Chain([LimitsGuard(LIMITS)]).run(attack)).verdict
    assert verdict.decision is Decision.DENY
    assert verdict.code == METHOD_NOT_FOUND


@pytest.mark.anyio
async def test_direction_matters() -> None:
    # A client may not send server-only requests (sampling) or server notifications.
    guard = LimitsGuard(LIMITS)
    assert (await guard.check(_request("sampling/createMessage"))).code == METHOD_NOT_FOUND
    spoof = Exchange(
        Direction.CLIENT_TO_SERVER,
        JSONRPCNotification(jsonrpc="2.0", method="notifications/tools/list_changed"),
    )
    assert (await guard.check(spoof)).decision is Decision.DENY
    upstream = Exchange(
        Direction.SERVER_TO_CLIENT,
        JSONRPCNotification(jsonrpc="2.0", method="notifications/tools/list_changed"),
    )
    assert (await guard.check(upstream)).decision is Decision.ALLOW


@pytest.mark.anyio
async def test_configured_deny_methods() -> None:
    guard = LimitsGuard(LimitsSettings(deny_methods=("completion/complete",)))
    assert (await guard.check(_request("completion/complete"))).code == METHOD_NOT_FOUND


@pytest.mark.anyio
@pytest.mark.parametrize(
    "arguments",
    [
        {"a": "x" * 101},
        {"a": list(range(11))},
        {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}},
        {"k" * 101: 1},
    ],
    ids=["long-string", "long-array", "deep", "long-key"],
)
async def test_structural_limits_on_params(arguments: dict[str, object]) -> None:
    attack = _request("tools/call", {"name": "t", "arguments": arguments})
    assert (await Chain([]).run(attack)).allowed
    verdict = await LimitsGuard(LIMITS).check(attack)
    assert verdict.decision is Decision.DENY
    assert verdict.code == INVALID_PARAMS


@pytest.mark.anyio
async def test_ordinary_call_passes() -> None:
    ok = _request("tools/call", {"name": "get_asset", "arguments": {"asset_id": "T1", "fields": ["a", "b"]}})
    assert (await LimitsGuard(LIMITS).check(ok)).decision is Decision.ALLOW
