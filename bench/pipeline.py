"""Guard pipeline micro-benchmark: cost of the chain and of each guard per ``tools/call``.

Measures, in one process on the event loop (no transport, no upstream):

- the time-budget primitive: ``anyio.fail_after`` vs ``asyncio.timeout`` vs ``asyncio.wait_for``;
- an empty ``Chain.run`` (the chain's own overhead);
- each of the core guards alone on a typical read-only ``tools/call``;
- Cedar: one uncached ``cedarpy`` evaluation vs the engine's cached decision;
- the core chain (authentication, limits, ratelimit, authorization, arguments) and the
  full default chain from ``default_config`` (every guard, memory stores) on the
  client-to-server direction.

``python -m bench pipeline`` (or ``python bench/pipeline.py [--n N]``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp_types import JSONRPCRequest, JSONRPCResponse

from bench._report import report
from mcp_bastion.config import (
    ArgumentsSettings,
    AuthenticationSettings,
    AuthorizationSettings,
    LimitsSettings,
    RateLimitSettings,
    default_config,
)
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain, GuardStores, build_chain
from mcp_bastion.pipeline.guards import arguments, authentication, authorization, limits, ratelimit
from mcp_bastion.pipeline.interface import Guard
from mcp_bastion.policy import PolicyEngine, tool_resource
from mcp_bastion.store.memory import (
    MemoryApprovalStore,
    MemoryPinStore,
    MemoryRateLimitStore,
    MemoryStateStore,
)
from mcp_bastion.types import AuthMethod, Direction, Principal, UpstreamName

UPSTREAM = "server"
TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_asset",
        "description": "Details of one grid asset (line, transformer, switch, bus).",
        "inputSchema": {
            "type": "object",
            "properties": {
                "asset_id": {"type": "string", "maxLength": 64},
                "include_measurements": {"type": "boolean", "default": False},
            },
            "required": ["asset_id"],
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": True, "idempotentHint": True},
    },
    {
        "name": "operate_switch",
        "description": "Open or close a switch.",
        "inputSchema": {
            "type": "object",
            "properties": {"switch_id": {"type": "string"}, "closed": {"type": "boolean"}},
            "required": ["switch_id", "closed"],
        },
        "annotations": {"destructiveHint": True},
    },
]
PRINCIPAL = Principal("operator-1", frozenset({"operator"}), auth_method=AuthMethod.LOCAL)
CALL = Exchange(
    Direction.CLIENT_TO_SERVER,
    JSONRPCRequest(
        jsonrpc="2.0",
        id=1,
        method="tools/call",
        params={"name": "get_asset", "arguments": {"asset_id": "TR-0042", "include_measurements": True}},
    ),
    PRINCIPAL,
    UpstreamName(UPSTREAM),
)


async def _time(fn: Callable[[], Awaitable[Any]], n: int) -> dict[str, float]:
    for _ in range(min(n // 10, 2000)):  # warm caches (compiled schema, decisions)
        await fn()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        await fn()
        samples.append(clock() - start)
    samples.sort()
    return {
        "mean_us": sum(samples) / len(samples) / 1000,
        "p50_us": samples[len(samples) // 2] / 1000,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000,
    }


def _sync(fn: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        return fn()

    return run


def _core_guards(catalog: Catalog, config_ctx: BuildContext) -> list[Guard]:
    # Generous buckets so the benchmark measures the bucket arithmetic, not denials.
    bucket = {"capacity": 1e12, "refill_per_second": 1e12}
    return [
        authentication.factory(AuthenticationSettings(), config_ctx),
        limits.factory(LimitsSettings(), config_ctx),
        ratelimit.RateLimitGuard(
            RateLimitSettings.model_validate({"per_principal": bucket, "per_tool": bucket}),
            MemoryRateLimitStore(),
        ),
        authorization.factory(AuthorizationSettings(), config_ctx),
        arguments.factory(ArgumentsSettings(), config_ctx),
    ]


async def _run(n: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    meta: dict[str, Any] = {"n": n, "tool": "get_asset (read-only, 2 arguments)"}
    catalog = Catalog()
    catalog.set_tools(UPSTREAM, TOOLS)
    state = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    config = default_config(["true"], upstream=UPSTREAM, state_dir=state)
    ctx = BuildContext(config=config, catalog=catalog)
    bucket = {"capacity": 1e12, "refill_per_second": 1e12}  # measure the arithmetic, not denials

    async def noop() -> None:
        return None

    async def scope() -> None:
        with anyio.fail_after(2.0):
            await noop()

    async def wait_for() -> None:
        await asyncio.wait_for(noop(), 2.0)

    async def native() -> None:
        async with asyncio.timeout(2.0):
            await noop()

    # Calibration: the cost of one awaited no-op on this machine right now (2 shared cores).
    rows.append({"case": "calibration: await noop()", **await _time(noop, n)})
    rows.append({"case": "anyio.fail_after scope", **await _time(scope, n)})
    rows.append({"case": "asyncio.wait_for", **await _time(wait_for, n)})
    rows.append({"case": "asyncio.timeout scope", **await _time(native, n)})
    empty = Chain([])
    rows.append({"case": "Chain([]).run", **await _time(lambda: empty.run(CALL), n)})

    guards = _core_guards(catalog, ctx)
    for guard in guards:
        timing = await _time(lambda g=guard: g.check(CALL), n)  # type: ignore[misc]
        rows.append({"case": f"guard {guard.name}", **timing})

    core = Chain(guards)
    rows.append({"case": "core chain (5 guards)", **await _time(lambda: core.run(CALL), n)})
    assert (await core.run(CALL)).allowed, "the benchmark call must be allowed"

    engine = PolicyEngine.from_dir()
    uncached = PolicyEngine.from_dir(cache=False)
    resource = tool_resource(UPSTREAM, TOOLS[0], frozenset())
    rows.append(
        {
            "case": "cedar is_authorized uncached",
            **await _time(_sync(lambda: uncached.is_authorized(PRINCIPAL, "call_tool", resource)), n // 4),
        }
    )
    rows.append(
        {
            "case": "cedar is_authorized cached",
            **await _time(_sync(lambda: engine.is_authorized(PRINCIPAL, "call_tool", resource)), n),
        }
    )

    stores = GuardStores(
        rate_limits=MemoryRateLimitStore(),
        pins=MemoryPinStore(),
        state=MemoryStateStore(),
        approvals=MemoryApprovalStore(),
    )
    try:
        full = config.model_copy(
            update={
                "guards": tuple(
                    g.model_copy(update={"jsonl_path": state / "audit.jsonl"})
                    if g.name == "audit"
                    else RateLimitSettings.model_validate({"per_principal": bucket, "per_tool": bucket})
                    if g.name == "ratelimit"
                    else g
                    for g in config.guards
                )
            }
        )
        inbound, outbound = build_chain(full, catalog=catalog, stores=stores)
        meta["full_chain_inbound"] = list(inbound.names)
        # First contact: the tools/list result passes the server->client chain (pinning).
        listing = Exchange(
            Direction.SERVER_TO_CLIENT,
            JSONRPCResponse(jsonrpc="2.0", id=0, result={"tools": TOOLS}),
            PRINCIPAL,
            UpstreamName(UPSTREAM),
            request=Exchange(
                Direction.CLIENT_TO_SERVER,
                JSONRPCRequest(jsonrpc="2.0", id=0, method="tools/list"),
                PRINCIPAL,
            ),
        )
        await outbound.run(listing)
        outcome = await inbound.run(CALL)
        meta["full_chain_verdict"] = (
            f"{outcome.verdict.decision.value} {outcome.verdict.guard} {outcome.verdict.reason}"
        )
        rows.append({"case": "default chain, client->server", **await _time(lambda: inbound.run(CALL), n)})
        last = await inbound.run(CALL)
        meta["full_chain_verdict_after"] = f"{last.verdict.decision.value} {last.verdict.guard}"
        assert last.allowed, "the benchmark call must stay allowed (else we measure denials)"
    except Exception as exc:  # noqa: BLE001 - report what could not be built instead of failing the bench
        meta["full_chain_error"] = f"{type(exc).__name__}: {exc}"
    return rows, meta


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline micro-benchmark and report it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="iterations per case")
    args = parser.parse_args(argv)
    rows, meta = anyio.run(_run, args.n)
    report("pipeline", rows, meta=meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
