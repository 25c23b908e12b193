"""The chain: order, first deny stops, MODIFY propagates, failures and timeouts deny."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from mcp_types import JSONRPCRequest

from mcp_bastion.config import parse_config
from mcp_bastion.errors import ConfigError, StoreUnavailableError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import Chain, build_chain, resolve_factory
from mcp_bastion.pipeline.guards import GUARD_FACTORIES
from mcp_bastion.pipeline.verdict import Decision, Verdict
from mcp_bastion.types import Direction

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bastion.yaml"


def _exchange(args: dict[str, object] | None = None) -> Exchange:
    msg = JSONRPCRequest(
        jsonrpc="2.0", id=1, method="tools/call", params={"name": "t", "arguments": args or {}}
    )
    return Exchange(direction=Direction.CLIENT_TO_SERVER, message=msg)


@dataclass
class Recorder:
    name: str
    verdict: Decision = Decision.ALLOW
    seen: list[Exchange] = field(default_factory=list)

    async def check(self, exchange: Exchange) -> Verdict:
        self.seen.append(exchange)
        if self.verdict is Decision.DENY:
            return Verdict.deny(self.name, "no")
        if self.verdict is Decision.ASK:
            return Verdict.ask(self.name, "ask a human")
        if self.verdict is Decision.MODIFY:
            msg = JSONRPCRequest(
                jsonrpc="2.0", id=1, method="tools/call", params={"name": "t", "arguments": {"x": "clean"}}
            )
            return Verdict.modify(self.name, msg, "sanitised")
        return Verdict.allow(self.name)


@dataclass
class Raiser:
    name: str
    exc: Exception

    async def check(self, exchange: Exchange) -> Verdict:
        raise self.exc


@dataclass
class Sleeper:
    name: str

    async def check(self, exchange: Exchange) -> Verdict:
        await anyio.sleep(10)
        return Verdict.allow(self.name)


async def test_all_allow() -> None:
    a, b = Recorder("a"), Recorder("b")
    result = await Chain([a, b]).run(_exchange())
    assert result.verdict.decision is Decision.ALLOW
    assert [v.guard for v in result.verdicts] == ["a", "b"]
    assert len(a.seen) == len(b.seen) == 1


@pytest.mark.parametrize("decision", [Decision.DENY, Decision.ASK])
async def test_first_deny_or_ask_stops(decision: Decision) -> None:
    a, b, c = Recorder("a"), Recorder("b", decision), Recorder("c")
    result = await Chain([a, b, c]).run(_exchange())
    assert result.verdict.decision is decision
    assert result.verdict.guard == "b"
    assert c.seen == []


async def test_modify_is_seen_by_later_guards() -> None:
    a, b = Recorder("a", Decision.MODIFY), Recorder("b")
    original = _exchange({"x": "dirty"})
    result = await Chain([a, b]).run(original)
    assert b.seen[0].params["arguments"] == {"x": "clean"}
    assert result.exchange.params["arguments"] == {"x": "clean"}
    assert result.verdict.decision is Decision.MODIFY
    assert result.verdict.message is result.exchange.message


@pytest.mark.parametrize(
    "exc", [RuntimeError("SELECT secret FROM /etc/passwd"), StoreUnavailableError("redis down")]
)
async def test_exception_denies_without_leaking(exc: Exception) -> None:
    after = Recorder("after")
    result = await Chain([Recorder("a"), Raiser("boom", exc), after]).run(_exchange())
    assert result.verdict.decision is Decision.DENY
    assert result.verdict.guard == "boom"
    assert "boom" in result.verdict.reason
    assert "SELECT" not in result.verdict.reason and "redis" not in result.verdict.reason
    assert after.seen == []


async def test_timeout_denies() -> None:
    result = await Chain([Recorder("a"), Sleeper("slow")], timeout_s=0.05).run(_exchange())
    assert result.verdict.decision is Decision.DENY
    assert result.verdict.guard == "slow"
    assert "timed out" in result.verdict.reason


async def test_modify_without_message_denies() -> None:
    @dataclass
    class Broken:
        name: str = "broken"

        async def check(self, exchange: Exchange) -> Verdict:
            return Verdict(Decision.MODIFY, guard=self.name)

    result = await Chain([Broken()]).run(_exchange())
    assert result.verdict.decision is Decision.DENY


async def test_build_chain_uses_configured_order_and_directions() -> None:
    built: list[str] = []

    @dataclass
    class Only:
        name: str
        directions: frozenset[Direction]

        async def check(self, exchange: Exchange) -> Verdict:
            return Verdict.allow(self.name)

    def make(name: str, dirs: frozenset[Direction]) -> object:
        def factory(settings: object, ctx: object) -> Only:
            built.append(name)
            return Only(name, dirs)

        return factory

    config = parse_config({"guards": [{"name": "output"}, {"name": "limits"}, {"name": "audit"}]})
    saved = dict(GUARD_FACTORIES)
    GUARD_FACTORIES["output"] = make("output", frozenset({Direction.SERVER_TO_CLIENT}))  # type: ignore[assignment]
    GUARD_FACTORIES["limits"] = make("limits", frozenset({Direction.CLIENT_TO_SERVER}))  # type: ignore[assignment]
    GUARD_FACTORIES["audit"] = make("audit", frozenset(Direction))  # type: ignore[assignment]
    try:
        inbound, outbound = build_chain(config, catalog=Catalog())
    finally:
        GUARD_FACTORIES.clear()
        GUARD_FACTORIES.update(saved)
    assert built == ["output", "limits", "audit"]
    assert inbound.names == ("limits", "audit")
    assert outbound.names == ("output", "audit")


def test_unknown_guard_module_fails_loudly() -> None:
    with pytest.raises(ConfigError, match="no guard named"):
        resolve_factory("nonexistent")


async def test_default_config_builds_every_guard(tmp_path: Path) -> None:
    from mcp_bastion.config import default_config
    from mcp_bastion.pipeline.chain import GuardStores
    from mcp_bastion.store.memory import (
        MemoryApprovalStore,
        MemoryPinStore,
        MemoryRateLimitStore,
        MemoryStateStore,
    )

    config = default_config(["true"], state_dir=tmp_path)
    config = config.model_copy(
        update={
            "guards": tuple(
                g.model_copy(update={"jsonl_path": tmp_path / "audit.jsonl"}) if g.name == "audit" else g
                for g in config.guards
            )
        }
    )
    stores = GuardStores(MemoryRateLimitStore(), MemoryPinStore(), MemoryStateStore(), MemoryApprovalStore())
    inbound, outbound = build_chain(config, catalog=Catalog(), stores=stores)
    assert inbound.names[:3] == ("authentication", "limits", "ratelimit")
    assert set(inbound.names) | set(outbound.names) == {g.name for g in config.guards}


async def test_the_documented_example_builds(tmp_path: Path) -> None:
    from mcp_bastion.config import load_config
    from mcp_bastion.pipeline.chain import GuardStores
    from mcp_bastion.store.memory import (
        MemoryApprovalStore,
        MemoryPinStore,
        MemoryRateLimitStore,
        MemoryStateStore,
    )

    config = load_config(EXAMPLE)
    # Keep the audit file out of the checkout.
    config = config.model_copy(
        update={
            "guards": tuple(
                g.model_copy(update={"jsonl_path": tmp_path / "audit.jsonl"}) if g.name == "audit" else g
                for g in config.guards
            )
        }
    )
    stores = GuardStores(MemoryRateLimitStore(), MemoryPinStore(), MemoryStateStore(), MemoryApprovalStore())
    inbound, _ = build_chain(config, catalog=Catalog(), stores=stores)
    assert inbound.names[0] == "authentication"
    anonymous = await inbound.run(_exchange())
    assert anonymous.verdict.guard == "authentication"


async def test_outer_cancellation_is_not_swallowed() -> None:
    # A caller that gives up (client disconnect) must see its cancellation, not a verdict.
    finished: list[object] = []
    with anyio.move_on_after(0.05) as scope:
        finished.append(await Chain([Sleeper("slow")], timeout_s=5.0).run(_exchange()))
    assert scope.cancelled_caught
    assert finished == []
