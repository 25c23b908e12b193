"""Notifications guard: unknown, malformed, oversized and flooding notifications are dropped."""

from __future__ import annotations

from typing import Any

import pytest
from mcp_types import JSONRPCNotification, JSONRPCRequest

from mcp_bastion.config import BastionConfig
from mcp_bastion.config.guards import NotificationsSettings
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards import notifications
from mcp_bastion.pipeline.guards.notifications import NotificationsGuard
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.types import Direction, UpstreamName

pytestmark = pytest.mark.anyio


def note(method: str, params: dict[str, Any] | None = None, **metadata: Any) -> Exchange:
    message = JSONRPCNotification(jsonrpc="2.0", method=method, params=params)
    return Exchange(Direction.SERVER_TO_CLIENT, message, upstream=UpstreamName("up"), metadata=metadata)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("method", "params", "version"),
    [
        ("notifications/tools/list_changed", None, None),
        ("notifications/progress", {"progressToken": "t1", "progress": 3, "total": 10}, "2025-11-25"),
        ("notifications/message", {"level": "info", "data": {"msg": "hello"}}, None),
        ("notifications/resources/updated", {"uri": "grid://assets/1"}, "2026-07-28"),
        ("notifications/subscriptions/acknowledged", {"notifications": {"toolsListChanged": True}}, None),
    ],
)
async def test_known_well_formed_notifications_pass(
    method: str, params: dict[str, Any] | None, version: str | None
) -> None:
    metadata = {} if version is None else {"protocol_version": version}
    verdict = await NotificationsGuard().check(note(method, params, **metadata))
    assert verdict.decision is Decision.ALLOW, verdict


@pytest.mark.parametrize(
    ("method", "params", "version", "rule"),
    [
        ("notifications/evil/exfiltrate", {"data": "x"}, None, "BST-NOTIF-001"),
        ("tools/call", {"name": "x"}, None, "BST-NOTIF-001"),
        # elicitation/complete exists in 2025-11-25 only.
        ("notifications/elicitation/complete", {"elicitationId": "e"}, "2026-07-28", "BST-NOTIF-001"),
        ("notifications/progress", {"progress": "lots"}, None, "BST-NOTIF-002"),
        ("notifications/message", {"level": "apocalyptic", "data": 1}, "2025-11-25", "BST-NOTIF-002"),
        ("notifications/resources/updated", {}, None, "BST-NOTIF-002"),
        ("notifications/message", {"level": "info", "data": "A" * 70_000}, None, "BST-NOTIF-003"),
    ],
)
async def test_bad_notifications_are_dropped(
    method: str, params: dict[str, Any], version: str | None, rule: str
) -> None:
    exchange = note(method, params, **({} if version is None else {"protocol_version": version}))
    # Without the guard the chain passes anything through to the client.
    assert (await Chain([]).run(exchange)).allowed
    verdict = await Chain([NotificationsGuard()]).run(exchange)
    assert verdict.verdict.decision is Decision.DENY
    assert verdict.verdict.rule_ids == (rule,)
    assert "A" * 100 not in verdict.verdict.detail  # values never copied into the record


async def test_flood_is_rate_limited_per_upstream_and_recovers() -> None:
    clock = FakeClock()
    guard = NotificationsGuard(capacity=5, refill_per_second=1, clock=clock)
    progress = {"progressToken": 1, "progress": 1}
    decisions = [(await guard.check(note("notifications/progress", progress))).decision for _ in range(20)]
    assert decisions.count(Decision.ALLOW) == 5
    flood = await guard.check(note("notifications/progress", progress))
    assert flood.rule_ids == ("BST-NOTIF-004",)
    other = Exchange(
        Direction.SERVER_TO_CLIENT,
        JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params=progress),
        upstream=UpstreamName("other"),
    )
    assert (await guard.check(other)).decision is Decision.ALLOW
    clock.now += 2.0
    assert (await guard.check(note("notifications/progress", progress))).decision is Decision.ALLOW


async def test_other_traffic_is_not_its_concern() -> None:
    guard = NotificationsGuard()
    request = JSONRPCRequest(jsonrpc="2.0", id=1, method="anything/at/all")
    assert (await guard.check(Exchange(Direction.CLIENT_TO_SERVER, request))).decision is Decision.ALLOW
    client_note = JSONRPCNotification(jsonrpc="2.0", method="notifications/whatever")
    assert (await guard.check(Exchange(Direction.CLIENT_TO_SERVER, client_note))).decision is Decision.ALLOW


def test_factory_uses_configured_limits() -> None:
    settings = NotificationsSettings(max_bytes=100)
    guard = notifications.factory(settings, BuildContext(BastionConfig(), Catalog()))
    assert isinstance(guard, NotificationsGuard)
    assert guard.directions == frozenset({Direction.SERVER_TO_CLIENT})
