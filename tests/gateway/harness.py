"""Helpers for gateway tests: the gateway core with the full default chain over in-process servers."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp.client._memory import InMemoryTransport
from mcp.server.mcpserver import MCPServer
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.config import BastionConfig
from mcp_bastion.config.identities import Identities, LocalIdentity
from mcp_bastion.config.upstreams import Upstream
from mcp_bastion.gateway.runtime import GatewayRuntime
from mcp_bastion.pipeline.audit_sink import JsonlSink
from mcp_bastion.pipeline.chain import GuardStores
from mcp_bastion.store.memory import (
    MemoryApprovalStore,
    MemoryPinStore,
    MemoryRateLimitStore,
    MemoryStateStore,
)
from mcp_bastion.transports.downstream import Downstream
from mcp_bastion.types import AuthMethod, Principal

_ids = itertools.count(1)


def principal(*roles: str, subject: str = "alice") -> Principal:
    return Principal(subject=subject, roles=frozenset(roles), auth_method=AuthMethod.API_KEY)


def request(method: str, params: dict[str, Any] | None = None) -> JSONRPCRequest:
    return JSONRPCRequest(jsonrpc="2.0", id=next(_ids), method=method, params=params)


class Harness:
    """Send messages to a Gateway as a given principal, like a downstream transport does."""

    def __init__(self, runtime: GatewayRuntime, pins: MemoryPinStore | None) -> None:
        self.runtime = runtime
        self.pins = pins

    async def send(self, who: Principal, method: str, params: dict[str, Any] | None = None) -> JSONRPCMessage:
        reply = await self.runtime.gateway.handle(request(method, params), Downstream(principal=who))
        assert reply is not None
        return reply

    async def tools(self, who: Principal) -> list[str]:
        reply = await self.send(who, "tools/list")
        assert isinstance(reply, JSONRPCResponse), reply
        return [t["name"] for t in reply.result["tools"]]

    async def call(
        self, who: Principal, name: str, arguments: dict[str, Any]
    ) -> JSONRPCResponse | JSONRPCError:
        reply = await self.send(who, "tools/call", {"name": name, "arguments": arguments})
        assert isinstance(reply, JSONRPCResponse | JSONRPCError)
        return reply


GatewayFactory = Callable[..., Any]


def make_gateway_factory(tmp_path: Path) -> GatewayFactory:
    """``async with factory({"name": server, ...}) as harness``: default config, all guards."""

    @asynccontextmanager
    async def open_gateway(
        servers: dict[str, MCPServer[Any]], guards: list[dict[str, Any]] | None = None
    ) -> AsyncIterator[Harness]:
        config = BastionConfig(
            upstreams={name: Upstream(command=("unused-in-process",)) for name in servers},
            identities=Identities(local=LocalIdentity(subject="local", roles=("operator",))),
        )
        if guards is not None:
            config = BastionConfig.model_validate({**config.model_dump(), "guards": guards})
        pins = MemoryPinStore()
        stores = GuardStores(
            rate_limits=MemoryRateLimitStore(),
            pins=pins,
            state=MemoryStateStore(),
            approvals=MemoryApprovalStore(),
        )
        openers = {name: _in_process(server) for name, server in servers.items()}
        runtime = GatewayRuntime(
            config, stores=stores, openers=openers, extras={"audit_sink": JsonlSink(tmp_path / "audit.jsonl")}
        )
        async with runtime:
            await runtime.start()
            yield Harness(runtime, pins)

    return open_gateway


def _in_process(server: MCPServer[Any]) -> Callable[[], InMemoryTransport]:
    return lambda: InMemoryTransport(server)
