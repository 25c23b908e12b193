"""Audit recorder and sinks: every verdict is an event; arguments redacted; durable writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from mcp_types import JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.audit import AuditLog, AuditRecord
from mcp_bastion.canonical import digest
from mcp_bastion.config import BastionConfig
from mcp_bastion.config.guards import AuditSettings
from mcp_bastion.errors import AuditError, ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.audit_sink import AuditLogSink, JsonlSink, VerdictEvent
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards import audit
from mcp_bastion.pipeline.guards.audit import AuditRecorder
from mcp_bastion.pipeline.guards.notifications import NotificationsGuard
from mcp_bastion.pipeline.guards.output import OutputGuard
from mcp_bastion.pipeline.guards.pinning import PinningGuard
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.store.memory import MemoryAuditStore, MemoryPinStore
from mcp_bastion.types import AuthMethod, Direction, Principal, SessionId, UpstreamName

pytestmark = pytest.mark.anyio

UP = UpstreamName("bank")
ALICE = Principal(subject="alice", roles=frozenset({"operator"}), auth_method=AuthMethod.JWT)
AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
ARGS = {"amount": 10, "memo": f"use key {AWS_KEY}"}


def call(name: str = "transfer", arguments: dict[str, Any] | None = None) -> Exchange:
    params = {"name": name, "arguments": ARGS if arguments is None else arguments}
    return Exchange(
        Direction.CLIENT_TO_SERVER,
        JSONRPCRequest(jsonrpc="2.0", id=11, method="tools/call", params=params),
        principal=ALICE,
        upstream=UP,
        session=SessionId("s-1"),
    )


def result_of(request: Exchange, result: dict[str, Any]) -> Exchange:
    return Exchange(
        Direction.SERVER_TO_CLIENT,
        JSONRPCResponse(jsonrpc="2.0", id=11, result=result),
        principal=ALICE,
        upstream=UP,
        session=request.session,
        request=request,
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_denied_call_is_recorded_with_redacted_arguments(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "events.jsonl"
    recorder = AuditRecorder(JsonlSink(path))
    request = call()
    outcome = await Chain([PinningGuard(MemoryPinStore()), recorder]).run(request)
    assert outcome.verdict.decision is Decision.DENY
    await recorder.record(outcome.exchange, outcome, latency_ms=0.42, durable=False)
    await recorder.close()

    (event,) = lines(path)
    assert AWS_KEY not in path.read_text(encoding="utf-8")  # the secret never reaches the log
    assert event["arguments"]["amount"] == 10 and "[REDACTED:aws_access_key" in event["arguments"]["memo"]
    assert event["arguments_digest"] == digest(ARGS)  # matches the original arguments
    assert (event["decision"], event["guard"], event["rule_ids"]) == ("deny", "pinning", ["BST-PIN-003"])
    assert event["detail"] == "pinning: not pinned"  # once, though the denial is also in verdicts
    assert (event["principal"], event["session"], event["upstream"]) == ("alice", "s-1", "bank")
    assert (event["method"], event["tool"], event["request_id"]) == ("tools/call", "transfer", 11)
    assert event["direction"] == "client_to_server" and event["latency_ms"] == 0.42
    assert event["result_digest"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_released_result_is_recorded_by_digest_with_its_rules(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    recorder = AuditRecorder(JsonlSink(path))
    catalog = Catalog()
    catalog.set_tools(UP, [{"name": "transfer", "inputSchema": {"type": "object"}}])
    reply = result_of(call(), {"content": [{"type": "text", "text": f"done with {AWS_KEY}"}]})
    outcome = await Chain([OutputGuard(catalog)]).run(reply)
    assert outcome.verdict.decision is Decision.MODIFY
    await recorder.record(outcome.exchange, outcome, latency_ms=1.0, durable=True)
    (event,) = lines(path)
    assert outcome.exchange.result is not None
    assert event["result_digest"] == digest(outcome.exchange.result)  # what was released, redacted
    assert event["decision"] == "modify" and "BST-SE-001" in event["rule_ids"]
    assert event["tool"] == "transfer" and event["direction"] == "server_to_client"
    assert AWS_KEY not in path.read_text(encoding="utf-8")


async def test_dropped_notification_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    recorder = AuditRecorder(JsonlSink(path))
    note = Exchange(
        Direction.SERVER_TO_CLIENT,
        JSONRPCNotification(jsonrpc="2.0", method="notifications/evil", params={"token": "hunter2"}),
        upstream=UP,
    )
    outcome = await Chain([NotificationsGuard()]).run(note)
    await recorder.record(note, outcome, latency_ms=0.0, durable=False)
    (event,) = lines(path)
    assert event["method"] == "notifications/evil" and event["rule_ids"] == ["BST-NOTIF-001"]
    assert "hunter2" not in path.read_text(encoding="utf-8")  # secret-named key redacted entirely


async def test_durability_rule_follows_read_only_hint() -> None:
    catalog = Catalog()
    catalog.set_tools(UP, [{"name": "transfer"}, {"name": "balance", "annotations": {"readOnlyHint": True}}])
    recorder = AuditRecorder(JsonlSink("unused.jsonl"), catalog=catalog)
    assert recorder.durable_for(call("transfer"))
    assert recorder.durable_for(result_of(call("transfer"), {"content": []}))
    assert not recorder.durable_for(call("balance"))
    assert recorder.durable_for(call("unknown_tool"))
    listing = Exchange(Direction.CLIENT_TO_SERVER, JSONRPCRequest(jsonrpc="2.0", id=1, method="tools/list"))
    assert not recorder.durable_for(listing)
    assert (await recorder.check(call())).decision is Decision.ALLOW  # never a decision maker


async def test_unwritable_sink_fails_loudly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    sink = JsonlSink(blocker / "events.jsonl")  # parent is a file: cannot create
    event = VerdictEvent(
        time=0.0, principal="a", direction="client_to_server", method="x", decision="allow", guard="g"
    )
    with pytest.raises(AuditError):
        await sink.write(event, durable=True)


async def test_audit_log_adapter_chains_events() -> None:
    store = MemoryAuditStore()
    log = AuditLog(store)
    recorder = AuditRecorder(AuditLogSink(log))
    outcome = await Chain([PinningGuard(MemoryPinStore())]).run(call())
    await recorder.record(outcome.exchange, outcome, latency_ms=2.5, durable=True)
    await recorder.close()
    records = [AuditRecord.from_stored(r) for batch in [b async for b in store.scan()] for r in batch]
    (record,) = [r for r in records if r.kind == "event"]
    assert record.data["verdict"] == "deny" and record.data["tool"] == "transfer"
    assert "BST-PIN-003" in record.data["reason"]
    assert record.data["arguments_digest"] == digest(ARGS)
    assert AWS_KEY not in json.dumps(record.data)


def test_factory_picks_a_sink(tmp_path: Path) -> None:
    config, catalog = BastionConfig(), Catalog()
    jsonl = audit.factory(AuditSettings(jsonl_path=tmp_path / "a.jsonl"), BuildContext(config, catalog))
    assert isinstance(jsonl.sink, JsonlSink)
    log = AuditLog(MemoryAuditStore())
    chained = audit.factory(
        AuditSettings(), BuildContext(config, catalog, extras={audit.EXTRA_AUDIT_LOG: log})
    )
    assert isinstance(chained.sink, AuditLogSink)
    given = JsonlSink(tmp_path / "b.jsonl")
    explicit = audit.factory(
        AuditSettings(), BuildContext(config, catalog, extras={audit.EXTRA_AUDIT_SINK: given})
    )
    assert explicit.sink is given
    with pytest.raises(ConfigError):
        audit.factory(AuditSettings(), BuildContext(config, catalog))
